//! The examples of README.md and docs/*.md that are marked for testing run
//! here, so the docs cannot drift from the program (issue 10 item 20).
//!
//! A fenced block is tested when the word `test` follows its language in
//! the info string (```` ```scruple test ````); docs/testing.md describes
//! the convention:
//!
//! - `scruple test`: a whole policy file. Saved in a copy of `policies/`
//!   (so `import "sets/…"` resolves as next to the shipped packs), it
//!   compiles without errors or warnings and is in `scruple fmt` form.
//! - `yaml test`: a campaign file; it loads without errors.
//! - `jsonl test`: recipient records of `scruple gate`, one per line; each
//!   line reads as a record.
//! - `csv test`: a recipients CSV (header and rows); each row reads.
//! - `sh test`: `scruple` commands, one per line (a trailing `\` continues
//!   it), run from the repository root with `--no-config` semantics (no
//!   scruple.toml there). Each exits 0, or `N` when the line ends with the
//!   comment `# exit N`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One fenced block.
struct Block {
    /// `file:line` of the opening fence.
    at: String,
    /// The first word of the info string.
    lang: String,
    text: String,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn doc_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// The fenced blocks whose info string has the word `test` after the language.
fn marked_blocks() -> Vec<Block> {
    let mut blocks = Vec::new();
    for file in doc_files() {
        let text = std::fs::read_to_string(&file).expect("a doc file");
        let name = file
            .strip_prefix(root())
            .unwrap_or(&file)
            .display()
            .to_string();
        let mut lines = text.lines().enumerate();
        while let Some((n, line)) = lines.next() {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            let fence_len = trimmed.chars().take_while(|&c| c == '`').count();
            if fence_len < 3 {
                continue;
            }
            let fence = &trimmed[..fence_len];
            let mut words = trimmed[fence_len..].split_whitespace();
            let lang = words.next().unwrap_or("").to_string();
            let tested = words.any(|w| w == "test");
            let mut body = String::new();
            for (_, inner) in lines.by_ref() {
                if inner.trim_start().starts_with(fence) && inner.trim() == fence {
                    break;
                }
                // Blocks inside list items are indented like their fence.
                let cut = inner.len() - inner.trim_start().len();
                body.push_str(&inner[cut.min(indent)..]);
                body.push('\n');
            }
            if tested {
                blocks.push(Block {
                    at: format!("{name}:{}", n + 1),
                    lang,
                    text: body,
                });
            }
        }
    }
    blocks
}

fn blocks_of(lang: &str) -> Vec<Block> {
    let blocks: Vec<Block> = marked_blocks()
        .into_iter()
        .filter(|b| b.lang == lang)
        .collect();
    // A marker dropped by an edit would otherwise pass silently.
    assert!(!blocks.is_empty(), "no `{lang} test` block in the docs");
    blocks
}

fn scruple() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scruple"));
    cmd.current_dir(root()).env("NO_COLOR", "1");
    cmd
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

#[test]
fn doc_policy_examples_compile_and_are_in_fmt_form() {
    let mut failures = Vec::new();
    for block in blocks_of("scruple") {
        let dir = tempfile::tempdir().expect("temp dir");
        let policies = dir.path().join("policies");
        copy_dir(&root().join("policies"), &policies);
        let file = policies.join("example-from-docs.scruple");
        std::fs::write(&file, &block.text).expect("write");
        let out = scruple()
            .args(["compile", "--no-config"])
            .arg(&file)
            .output()
            .expect("scruple runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() != Some(0) || !stderr.contains("(0 warnings)") {
            failures.push(format!("{}: does not compile cleanly:\n{stderr}", block.at));
        }
        let out = scruple()
            .args(["fmt", "--no-config", "--check"])
            .arg(&file)
            .output()
            .expect("scruple runs");
        if out.status.code() != Some(0) {
            failures.push(format!(
                "{}: not in `scruple fmt` form:\n{}",
                block.at,
                String::from_utf8_lossy(&out.stdout)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn doc_campaign_examples_load() {
    let mut failures = Vec::new();
    for block in blocks_of("yaml") {
        let source = scruple::source::SourceFile::new(block.at.clone(), block.text.as_str());
        if let Err(diags) = scruple::campaign::load(&source) {
            failures.push(format!(
                "{}: the campaign does not load:\n{}",
                block.at,
                scruple::diag::render_human(&diags, false, 100)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn doc_jsonl_examples_are_one_valid_record_per_line() {
    let mut failures = Vec::new();
    for block in blocks_of("jsonl") {
        for (i, line) in block.text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            if let Err(e) = scruple::gate::recipient::from_json(line) {
                failures.push(format!("{} line {}: {e}: {line}", block.at, i + 1));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn doc_csv_examples_read_as_recipients() {
    let mut failures = Vec::new();
    for block in blocks_of("csv") {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(block.text.as_bytes());
        let layout = reader
            .headers()
            .map_err(|e| e.to_string())
            .and_then(scruple::gate::recipient::CsvLayout::new);
        let layout = match layout {
            Ok(layout) => layout,
            Err(e) => {
                failures.push(format!("{}: header: {e}", block.at));
                continue;
            }
        };
        let mut rows = 0;
        for row in reader.records() {
            rows += 1;
            let result = row
                .map_err(|e| e.to_string())
                .and_then(|row| layout.recipient(&row).map(|_| ()));
            if let Err(e) = result {
                failures.push(format!("{} row {rows}: {e}", block.at));
            }
        }
        if rows == 0 {
            failures.push(format!("{}: no row", block.at));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The commands of a `sh test` block with their expected exit codes.
fn commands(text: &str) -> Vec<(String, i32)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || (current.is_empty() && line.starts_with('#')) {
            continue;
        }
        if let Some(start) = line.strip_suffix('\\') {
            current.push_str(start);
            current.push(' ');
            continue;
        }
        current.push_str(line);
        let (command, expected) = match current.rsplit_once("# exit ") {
            Some((command, code)) => (
                command.trim().to_string(),
                code.trim().parse().unwrap_or(-1),
            ),
            None => (current.trim().to_string(), 0),
        };
        out.push((command, expected));
        current.clear();
    }
    out
}

#[test]
fn doc_shell_examples_exit_as_documented() {
    let bin = Path::new(env!("CARGO_BIN_EXE_scruple"))
        .parent()
        .expect("the binary's directory")
        .to_path_buf();
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH");
    let mut failures = Vec::new();
    for block in blocks_of("sh") {
        for (command, expected) in commands(&block.text) {
            assert!(
                command.starts_with("scruple "),
                "{}: only `scruple` commands run in tests: {command}",
                block.at
            );
            let out = Command::new("sh")
                .args(["-c", &command])
                .current_dir(root())
                .env("PATH", &path)
                .env("NO_COLOR", "1")
                .output()
                .expect("sh runs");
            if out.status.code() != Some(expected) {
                failures.push(format!(
                    "{}: `{command}` exited {:?}, the doc says {expected}:\n{}",
                    block.at,
                    out.status.code(),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A policy that does not compile, written to a temporary directory.
fn broken_policy(dir: &Path) -> PathBuf {
    let file = dir.join("broken.scruple");
    std::fs::write(
        &file,
        "rule r {\n  severity error\n  requires nosuch\n  forbid fields [a]\n}\n",
    )
    .expect("write");
    file
}

/// The line of an `Exit codes:` list that gives `code`, and those that continue it.
fn exit_code_text(help: &str, code: u8) -> String {
    let start = format!("  {code}  ");
    let mut lines = help.lines().skip_while(|l| !l.starts_with(&start));
    let mut text: String = lines.next().unwrap_or("").to_string();
    for line in lines.take_while(|l| l.starts_with("     ")) {
        text.push(' ');
        text.push_str(line.trim());
    }
    text
}

#[test]
fn help_states_the_exit_code_of_a_policy_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let broken = broken_policy(dir.path());
    let campaign = root().join("examples/campaigns/spring-sale.yaml");
    let policy_error = regex::Regex::new("policy (has|with) errors").expect("regex");
    for (command, expected) in [("check", 2u8), ("compile", 1u8)] {
        let mut run = scruple();
        run.args([command, "--no-config"]);
        if command == "check" {
            run.arg("--policy").arg(&broken).arg(&campaign);
        } else {
            run.arg(&broken);
        }
        let out = run.output().expect("scruple runs");
        assert_eq!(out.status.code(), Some(i32::from(expected)), "{command}");
        let help = scruple().args([command, "--help"]).output().expect("help");
        let help = String::from_utf8_lossy(&help.stdout);
        let says_policy_error = |text: &str| policy_error.is_match(text);
        let text = exit_code_text(&help, expected);
        assert!(
            says_policy_error(&text),
            "`{command} --help` must say that a policy error exits {expected}: {text:?}\n{help}"
        );
        for other in [0u8, 1, 2].into_iter().filter(|c| *c != expected) {
            assert!(
                !says_policy_error(&exit_code_text(&help, other)),
                "`{command} --help` gives policy errors another exit code than {expected}:\n{help}"
            );
        }
    }
}

#[test]
fn compile_help_and_behaviour_agree_on_deny_warnings() {
    let help = scruple()
        .args(["compile", "--help"])
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&help.stdout);
    let accepted = scruple()
        .args(["compile", "--no-config", "--deny-warnings", "--help"])
        .output()
        .expect("scruple runs")
        .status
        .success();
    assert_eq!(
        help.contains("--deny-warnings"),
        accepted,
        "`compile --help` and `compile --deny-warnings` disagree:\n{help}"
    );
}

#[test]
fn init_points_to_the_campaign_and_its_example_passes_every_pack() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = scruple()
        .arg("init")
        .arg(dir.path())
        .output()
        .expect("scruple runs");
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let next = stderr
        .lines()
        .find(|l| l.starts_with("next:"))
        .unwrap_or("");
    assert!(next.contains("campaigns/example.yaml"), "{stderr}");
    let example = dir.path().join("campaigns/example.yaml");
    let text = std::fs::read_to_string(&example).expect("the example campaign");
    // Its first line says which packs it passes: all fourteen, without the
    // configuration that enables only some.
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.contains("all fourteen")),
        "{text}"
    );
    assert_eq!(scruple::compile::load::builtin_pack_names().len(), 14);
    let out = scruple()
        .args(["check", "--no-config", "--at", "2026-11-23"])
        .arg(&example)
        .output()
        .expect("scruple runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
