//! The dependency graph: evaluation order, cycle reports, and the DOT,
//! Mermaid and JSON renderings (`scruple graph --format …`).

use std::path::{Path, PathBuf};

use scruple::compile::graph::{to_dot, to_json, to_mermaid};
use scruple::compile::{compile, Inputs, Policy};
use scruple::diag::{render_human, Diag};

const SMALL: &str = "tests/fixtures/policies/valid/graph/small.scruple";

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn with_files(files: &[(&str, &str)]) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "scruple-graph-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn compile_path(path: &Path) -> (Option<Policy>, Vec<Diag>) {
    let mut inputs = Inputs::default();
    inputs.add_path(path);
    compile(inputs)
}

/// Compiles one policy text that must compile without errors.
fn compile_ok(text: &str) -> Policy {
    let dir = TempDir::with_files(&[("p.scruple", text)]);
    let (policy, diags) = compile_path(&dir.path("p.scruple"));
    assert!(
        !diags.iter().any(Diag::is_error),
        "{}",
        render_human(&diags, false, 100)
    );
    policy.expect("compiles")
}

/// Compiles files that must fail; returns the diagnostics.
fn compile_err(files: &[(&str, &str)], root: &str) -> Vec<Diag> {
    let dir = TempDir::with_files(files);
    let (policy, diags) = compile_path(&dir.path(root));
    assert!(
        policy.is_none(),
        "compiled: {}",
        render_human(&diags, false, 100)
    );
    diags
}

fn ids(policy: &Policy) -> Vec<&str> {
    policy.rules.iter().map(|r| r.id.as_str()).collect()
}

fn rule(id: &str, requires: &[&str]) -> String {
    let requires = if requires.is_empty() {
        String::new()
    } else {
        format!("  requires {}\n", requires.join(", "))
    };
    format!("rule {id} {{\n{requires}  minimum age 13\n}}\n")
}

// ---------------------------------------------------------------- order

#[test]
fn without_requires_the_order_is_declaration_order() {
    let text: String = ["e", "b", "d", "a", "c"]
        .iter()
        .map(|id| rule(id, &[]))
        .collect();
    assert_eq!(ids(&compile_ok(&text)), ["e", "b", "d", "a", "c"]);
}

#[test]
fn prerequisites_come_first_and_the_rest_keeps_declaration_order() {
    // `a` needs `d`; `c` needs `a` and `e`. At each step the earliest-declared
    // rule whose prerequisites are done goes next.
    let text = [
        rule("a", &["d"]),
        rule("b", &[]),
        rule("c", &["a", "e"]),
        rule("d", &[]),
        rule("e", &[]),
        rule("f", &[]),
    ]
    .concat();
    let policy = compile_ok(&text);
    assert_eq!(ids(&policy), ["b", "d", "a", "e", "c", "f"]);
    // `requires` holds positions in the evaluated order, all earlier.
    for (i, rule) in policy.rules.iter().enumerate() {
        for &r in &rule.requires {
            assert!(r < i, "{} requires a later rule", rule.id);
        }
    }
    let c = policy.rule("c").expect("c");
    let required: Vec<&str> = c
        .requires
        .iter()
        .map(|&r| policy.rules[r].id.as_str())
        .collect();
    assert_eq!(required, ["a", "e"]);
}

#[test]
fn a_chain_declared_backwards_is_reversed() {
    let text = [
        rule("third", &["second"]),
        rule("second", &["first"]),
        rule("first", &[]),
    ]
    .concat();
    assert_eq!(ids(&compile_ok(&text)), ["first", "second", "third"]);
}

#[test]
fn prerequisites_in_an_imported_file_come_first() {
    let dir = TempDir::with_files(&[
        (
            "main.scruple",
            &format!(
                "import \"lib/base.scruple\"\n{}{}",
                rule("main_first", &[]),
                rule("main_second", &["base_rule"])
            ),
        ),
        ("lib/base.scruple", &rule("base_rule", &[])),
    ]);
    let (policy, diags) = compile_path(&dir.path("main.scruple"));
    assert!(diags.is_empty(), "{}", render_human(&diags, false, 100));
    // Files load roots first, then imports: `base_rule` is declared last but
    // must precede `main_second`.
    assert_eq!(
        ids(&policy.expect("compiles")),
        ["main_first", "base_rule", "main_second"]
    );
}

// ---------------------------------------------------------------- cycles

/// (text under the label, label) for each label of a diagnostic.
fn labels(diag: &Diag) -> Vec<(String, String)> {
    diag.labels
        .iter()
        .map(|l| (l.source.slice(l.span).to_string(), l.text.clone()))
        .collect()
}

fn only(diags: &[Diag], code: &str) -> Diag {
    let found: Vec<&Diag> = diags.iter().filter(|d| d.code == code).collect();
    assert_eq!(found.len(), 1, "{}", render_human(diags, false, 100));
    assert_eq!(diags.len(), 1, "{}", render_human(diags, false, 100));
    found[0].clone()
}

#[test]
fn a_set_cycle_is_reported_once_on_every_edge() {
    let diags = compile_err(
        &[(
            "p.scruple",
            "set a = b + [x]\nset b = [y] + c\nset c = a\nset d = a\nrule r { forbid fields d }\n",
        )],
        "p.scruple",
    );
    let diag = only(&diags, "scruple::resolve::set_cycle");
    assert_eq!(diag.message, "sets form a cycle: `a` → `b` → `c` → `a`");
    // `d = a` uses the cycle but is not part of it: no label.
    assert_eq!(
        labels(&diag),
        [
            ("b".into(), "`a` is built from `b`".into()),
            ("c".into(), "`b` is built from `c`".into()),
            ("a".into(), "`c` is built from `a`".into()),
        ]
    );
}

#[test]
fn a_set_that_contains_itself_is_a_cycle_of_one() {
    let diags = compile_err(
        &[("p.scruple", "set a = [x] + a\nrule r { forbid fields a }\n")],
        "p.scruple",
    );
    let diag = only(&diags, "scruple::resolve::set_cycle");
    assert_eq!(
        labels(&diag),
        [("a".into(), "`a` is built from `a`".into())]
    );
}

#[test]
fn two_cycles_through_one_rule_are_one_report_with_every_edge() {
    // a → b → a and a → c → a form one strongly connected component.
    let text = [
        rule("a", &["b", "c"]),
        rule("b", &["a"]),
        rule("c", &["a"]),
        rule("d", &["a"]),
    ]
    .concat();
    let diags = compile_err(&[("p.scruple", &text)], "p.scruple");
    let diag = only(&diags, "scruple::resolve::requires_cycle");
    let mut got = labels(&diag);
    got.sort();
    assert_eq!(
        got,
        [
            ("a".to_string(), "`b` requires `a`".to_string()),
            ("a".into(), "`c` requires `a`".into()),
            ("b".into(), "`a` requires `b`".into()),
            ("c".into(), "`a` requires `c`".into()),
        ]
    );
}

#[test]
fn a_rule_requiring_itself_is_a_cycle() {
    let diags = compile_err(&[("p.scruple", &rule("a", &["a"]))], "p.scruple");
    let diag = only(&diags, "scruple::resolve::requires_cycle");
    assert_eq!(labels(&diag), [("a".into(), "`a` requires `a`".into())]);
}

#[test]
fn an_import_cycle_of_three_files_labels_each_import() {
    let diags = compile_err(
        &[
            (
                "a.scruple",
                "import \"sub/b.scruple\"\nrule r { minimum age 1 }\n",
            ),
            ("sub/b.scruple", "import \"c.scruple\"\n"),
            ("sub/c.scruple", "import \"../a.scruple\"\n"),
        ],
        "a.scruple",
    );
    let diag = only(&diags, "scruple::import::cycle");
    assert_eq!(
        diag.message,
        "imports form a cycle: `a.scruple` → `sub/b.scruple` → `sub/c.scruple` → `a.scruple`"
    );
    assert_eq!(
        labels(&diag),
        [
            (
                "import \"sub/b.scruple\"".into(),
                "`a.scruple` imports `sub/b.scruple`".into()
            ),
            (
                "import \"c.scruple\"".into(),
                "`sub/b.scruple` imports `sub/c.scruple`".into()
            ),
            (
                "import \"../a.scruple\"".into(),
                "`sub/c.scruple` imports `a.scruple`".into()
            ),
        ]
    );
    // Each label is in the file that holds the import.
    let files: Vec<&str> = diag
        .labels
        .iter()
        .map(|l| {
            l.source
                .name
                .rsplit_once("scruple-graph-")
                .map_or("", |(_, f)| f)
        })
        .map(|f| f.split_once('/').map_or("", |(_, f)| f))
        .collect();
    assert_eq!(files, ["a.scruple", "sub/b.scruple", "sub/c.scruple"]);
}

#[test]
fn a_lineage_cycle_through_proxy_and_derivation_is_reported() {
    let diags = compile_err(
        &[(
            "p.scruple",
            "attribute a derived_from b\nattribute b proxy_for c\nattribute c derived_from a, d\n\
             rule r { minimum age 1 }\n",
        )],
        "p.scruple",
    );
    let diag = only(&diags, "scruple::resolve::lineage_cycle");
    assert_eq!(
        labels(&diag),
        [
            ("b".into(), "`a` comes from `b`".into()),
            ("c".into(), "`b` comes from `c`".into()),
            ("a".into(), "`c` comes from `a`".into()),
        ]
    );
}

#[test]
fn separate_cycles_are_reported_separately() {
    let text = format!(
        "set s1 = s2\nset s2 = s1\nattribute x derived_from y\nattribute y derived_from x\n{}{}",
        rule("a", &["b"]),
        rule("b", &["a"])
    );
    let diags = compile_err(&[("p.scruple", &text)], "p.scruple");
    let mut codes: Vec<&str> = diags.iter().map(|d| d.code.as_str()).collect();
    codes.sort();
    assert_eq!(
        codes,
        [
            "scruple::resolve::lineage_cycle",
            "scruple::resolve::requires_cycle",
            "scruple::resolve::set_cycle",
        ]
    );
    assert!(diags.iter().all(|d| d.labels.len() == 2));
}

// ---------------------------------------------------------------- renderings

fn small() -> Policy {
    let (policy, diags) = compile_path(Path::new(SMALL));
    assert!(diags.is_empty(), "{}", render_human(&diags, false, 100));
    policy.expect("compiles")
}

#[test]
fn dot_of_a_small_policy() {
    let dot = to_dot(&small().graph);
    assert!(dot.starts_with("digraph scruple {\n") && dot.ends_with("}\n"));
    insta::assert_snapshot!(dot);
}

#[test]
fn mermaid_of_a_small_policy() {
    let mermaid = to_mermaid(&small().graph);
    assert!(mermaid.starts_with("flowchart LR\n"));
    insta::assert_snapshot!(mermaid);
}

#[test]
fn json_of_a_small_policy() {
    let policy = small();
    let json = to_json(&policy.graph);
    assert_eq!(json["version"], 1);
    let nodes = json["nodes"].as_array().expect("nodes");
    let edges = json["edges"].as_array().expect("edges");
    assert_eq!(nodes.len(), policy.graph.node_count());
    assert_eq!(edges.len(), policy.graph.edge_count());
    for (i, node) in nodes.iter().enumerate() {
        assert_eq!(node["id"], i);
        assert!(node["name"].is_string());
        let kind = node["kind"].as_str().expect("kind");
        assert!(
            ["file", "set", "attribute", "purpose", "table", "rule"].contains(&kind),
            "{kind}"
        );
    }
    for edge in edges {
        for end in ["from", "to"] {
            let id = edge[end].as_u64().expect("id") as usize;
            assert!(id < nodes.len());
        }
        let kind = edge["kind"].as_str().expect("kind");
        assert!(
            ["imports", "uses", "requires", "proxy_for", "derived_from"].contains(&kind),
            "{kind}"
        );
    }
    // One edge of every kind in this policy.
    let mut kinds: Vec<&str> = edges.iter().filter_map(|e| e["kind"].as_str()).collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(
        kinds,
        ["derived_from", "imports", "proxy_for", "requires", "uses"]
    );
    insta::assert_json_snapshot!(json);
}

#[test]
fn cli_graph_formats() {
    use assert_cmd::Command;
    for (format, first_line) in [
        ("dot", "digraph scruple {"),
        ("mermaid", "flowchart LR"),
        ("json", "{"),
    ] {
        let output = Command::cargo_bin("scruple")
            .expect("binary")
            .args(["graph", "--format", format, SMALL])
            .env("NO_COLOR", "1")
            .output()
            .expect("runs");
        assert!(output.status.success(), "{format}: {output:?}");
        let stdout = String::from_utf8(output.stdout).expect("utf-8");
        assert_eq!(stdout.lines().next(), Some(first_line), "{format}");
        let expected = match format {
            "dot" => to_dot(&small().graph),
            "mermaid" => to_mermaid(&small().graph),
            _ => serde_json::to_string_pretty(&to_json(&small().graph)).expect("json") + "\n",
        };
        assert_eq!(
            stdout, expected,
            "{format}: the CLI prints the library's rendering"
        );
    }
}

// ---------------------------------------------------------------- precedence

/// `defers to` is drawn as its own edge kind in every format, and does not
/// change the evaluation order (it is not a prerequisite).
#[test]
fn deferrals_are_drawn_in_every_format() {
    let policy = compile_ok(
        "rule specific { when jurisdiction in [EU-FR] minimum age 15 }\n\
         rule generic { when jurisdiction in [EU, US] defers to specific minimum age 13 }\n",
    );
    assert_eq!(ids(&policy), ["specific", "generic"]);
    let dot = to_dot(&policy.graph);
    assert!(
        dot.contains("-> rule_specific [label=\"defers to\", style=bold, color=gray40];"),
        "{dot}"
    );
    let mermaid = to_mermaid(&policy.graph);
    assert!(
        mermaid.contains(" -.->|defers to| rule_specific"),
        "{mermaid}"
    );
    let json = to_json(&policy.graph);
    let edges = json["edges"].as_array().expect("edges");
    assert_eq!(
        edges.iter().filter(|e| e["kind"] == "defers_to").count(),
        1,
        "{json}"
    );
}

/// Issue 11 item 3: the data dictionary is drawn, each attribute or value
/// with a `means` edge to its category.
#[test]
fn the_data_dictionary_is_drawn() {
    let policy = compile_ok(
        "attribute care_pathway category health.treatment\nattribute hc_flag category none because \"a newsletter opt-in\"\n\nvalues [IVF] category health.reproductive\n\nrule r {\n  forbid targeting on law gdpr_art9\n}\n",
    );
    let json = to_json(&policy.graph);
    let name = |i: &serde_json::Value| {
        let n = &json["nodes"][i.as_u64().expect("index") as usize];
        format!(
            "{} {}",
            n["kind"].as_str().unwrap_or(""),
            n["name"].as_str().unwrap_or("")
        )
    };
    let mut means: Vec<String> = json["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter(|e| e["kind"] == "means")
        .map(|e| format!("{} -> {}", name(&e["from"]), name(&e["to"])))
        .collect();
    means.sort();
    assert_eq!(
        means,
        [
            "attribute care_pathway -> category health.treatment",
            "attribute hc_flag -> category none",
            "value IVF -> category health.reproductive",
        ]
    );
    assert!(to_dot(&policy.graph).contains("[label=\"means\", style=dashed, color=gray40]"));
    assert!(
        to_mermaid(&policy.graph).contains("value_IVF -.->|means| category_health_reproductive")
    );
}
