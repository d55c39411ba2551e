//! Round trips through the canonical printer (`scruple::syntax::print`):
//! for every policy in the corpus, printing is a fixed point
//! (`print(parse(print(parse(src)))) == print(parse(src))`) and the printed
//! text lowers to the same AST as the original, spans aside.

use std::path::{Path, PathBuf};

use scruple::diag::render_human;
use scruple::source::SourceFile;
use scruple::syntax::ast::PolicyFile;
use scruple::syntax::parse;
use scruple::syntax::print::print;

/// Parses text that must be free of diagnostics.
fn parse_clean(name: &str, text: &str) -> PolicyFile {
    let source = SourceFile::new(name, text);
    let (file, diags) = parse(&source);
    assert!(
        diags.is_empty(),
        "{name} does not parse cleanly:\n{}\n{text}",
        render_human(&diags, false, 100)
    );
    file.unwrap_or_else(|| panic!("{name} has no AST"))
}

/// The AST's meaning, spans left out: the library's own comparison, the one
/// `scruple fmt` relies on.
fn normalised(file: &PolicyFile) -> String {
    scruple::syntax::format::meaning(file)
}

/// Asserts both round-trip properties for one source text and returns the
/// canonical text.
fn round_trip(name: &str, text: &str) -> String {
    let original = parse_clean(name, text);
    let printed = print(&original);
    let reparsed = parse_clean(&format!("{name} (printed)"), &printed);
    let reprinted = print(&reparsed);
    assert_eq!(printed, reprinted, "{name}: printing is not a fixed point");
    let (before, after) = (normalised(&original), normalised(&reparsed));
    if before != after {
        // Show the first differing line rather than two huge dumps.
        let at = before
            .lines()
            .zip(after.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "{name}: the printed text means something else (AST line {at}: {:?} vs {:?})\nprinted:\n{printed}",
            before.lines().nth(at),
            after.lines().nth(at)
        );
    }
    printed
}

fn scruple_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            scruple_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "scruple") {
            out.push(path);
        }
    }
}

#[test]
fn valid_fixtures_round_trip() {
    let mut files = Vec::new();
    scruple_files(Path::new("tests/fixtures/policies/valid"), &mut files);
    assert!(files.len() >= 4, "valid fixtures missing: {files:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read");
        round_trip(&path.display().to_string(), &text);
    }
}

#[test]
fn shipped_policies_round_trip() {
    let mut files = Vec::new();
    scruple_files(Path::new("policies"), &mut files);
    assert!(!files.is_empty(), "no shipped policies found");
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read");
        round_trip(&path.display().to_string(), &text);
    }
}

/// The canonical form of the fixture that uses every construct, for review:
/// statement order, grouping of one-line declarations, wrapping of long sets,
/// merged clauses, `is` / `==`, parentheses.
#[test]
fn canonical_form_of_every_construct() {
    let text = std::fs::read_to_string("tests/fixtures/policies/valid/every_construct.scruple")
        .expect("read");
    let printed = round_trip("every_construct.scruple", &text);
    insta::assert_snapshot!(printed);
}

/// Small sources, one construct (or one precedence case) each, so a failure
/// names the construct.
const CASES: &[(&str, &str)] = &[
    // header and declarations
    ("header alone", r#"policy "p""#),
    (
        "header fields in any order",
        r#"policy "p" description "d" owner "o" version "1""#,
    ),
    (
        "header escapes",
        r#"policy "a \"b\" \\ \t \r \n \u{1F600} \u{1} é""#,
    ),
    ("imports", "import \"a.scruple\"\nimport \"../b/c.scruple\""),
    ("set of a list", "set s = [a, b-c, D_e]"),
    ("set with description", r#"set s "described" = [a]"#),
    ("empty set", "set s = []"),
    ("trailing comma", "set s = [a, b,]"),
    ("union", "set s = a + [b] + c + []"),
    ("attribute", "attribute a"),
    ("attribute with description", r#"attribute a "desc""#),
    (
        "attribute with interleaved lineage",
        "attribute a derived_from b proxy_for c, d derived_from e proxy_for f",
    ),
    (
        "attribute with a meaning and a reason",
        r#"attribute a "desc" category health.condition proxy_for c because "why""#,
    ),
    ("attribute with category none", r#"attribute a category none because "why""#),
    (
        "values",
        r#"values [a, "b c", EU-FR, "é", ] category disability because "why""#,
    ),
    ("values without reason", "values [] category health"),
    ("purpose", r#"purpose p "desc""#),
    ("purpose with tcf purposes", r#"purpose p "desc" tcf [1, 3,4,]"#),
    (
        "purpose with tcf special features",
        r#"purpose p "desc" tcf [2, 4] special_features [1]"#,
    ),
    ("empty table", "table t {}"),
    (
        "table",
        r#"table t "desc" default 16 { EU-FR = 15, EU = 16.5 US = -1 X = "s" Y = sym }"#,
    ),
    (
        "table with symbol default",
        "table t default none { a = 1 }",
    ),
    // rule statements
    (
        "every statement",
        r#"rule r { help "h" message "m {field}" ensure a unwaivable requires x, y requires z
            when b cite "c1" cite "c2", "c3" tags t1 tags t2, t-3 severity warning description "d" }
           rule x { minimum age 1 } rule y { minimum age 2 } rule z { minimum age 3 }"#,
    ),
    ("severity info", "rule r { severity info minimum age 3 }"),
    (
        "defers to",
        "rule r { defers to x defers to y, z minimum age 3 } rule x { minimum age 1 } rule y { minimum age 2 } rule z { minimum age 3 }",
    ),
    ("severity error", "rule r { severity error minimum age 3 }"),
    // constraints
    ("forbid targeting", "rule r { forbid targeting on s + [a] }"),
    (
        "forbid targeting including proxies",
        "rule r { forbid targeting on [a] including proxies }",
    ),
    ("forbid fields", "rule r { forbid fields [a, b] }"),
    ("allow only fields", "rule r { allow only fields s }"),
    (
        "allow only fields for",
        "rule r { allow only fields [a] for p }",
    ),
    (
        "consent each",
        "rule r { require consent for each purpose }",
    ),
    (
        "consent each within",
        "rule r { require consent for each purpose within 1 year }",
    ),
    (
        "consent listed within",
        "rule r { require consent for [p, q] + s within 18 months }",
    ),
    ("cap", "rule r { cap 3 sends per 7 days per recipient }"),
    // audit constructs (issue 15)
    (
        "require parity",
        "rule r { require parity on [gender, age_band] at least 0.8 }",
    ),
    (
        "require parity for offers",
        "rule r { require parity on protected at least 0.75 for offers in [credit, housing] + jobs }",
    ),
    ("limit rate", "rule r { limit complaint_rate below 0.1% }"),
    (
        "limit rate on channels",
        "rule r { limit unsubscribe_rate below 12.5% on [email, sms] }",
    ),
    ("limit whole percent", "rule r { limit complaint_rate below 3% }"),
    (
        "cap on channels",
        "rule r { cap 1 sends per 1 hour per recipient on [email, sms] }",
    ),
    (
        "cap minutes",
        "rule r { cap 2 sends per 1 minute per recipient on s }",
    ),
    (
        "cap weeks",
        "rule r { cap 2 sends per 2 weeks per recipient }",
    ),
    (
        "cap calendar day",
        "rule r { cap 1 sends per calendar day per recipient on [email] }",
    ),
    (
        "cap calendar week",
        "rule r { cap 3 sends per calendar week per recipient }",
    ),
    (
        "cap calendar month",
        "rule r { cap 8 sends per calendar month per recipient on [sms] }",
    ),
    ("quiet hours", "rule r { quiet hours from 21:00 to 8:05 }"),
    ("minimum age", "rule r { minimum age 16 }"),
    ("minimum age table", "rule r { minimum age t }"),
    // minors' consent and written consent (issue 12)
    (
        "minimum age unless consent by self",
        "rule r { minimum age 16 unless consent to sale_sharing by self from 13 else parent }",
    ),
    (
        "minimum age table unless consent by parent",
        "rule r { minimum age t unless consent to p by parent }",
    ),
    (
        "written consent listed",
        "rule r { require written consent for [sms_marketing] }",
    ),
    (
        "written consent each within",
        "rule r { require written consent for each purpose within 2 years }",
    ),
    (
        "a field named written is still a field",
        "rule r { require written.signature }",
    ),
    ("require field", "rule r { require message.postal_address }"),
    ("require top-level field", "rule r { require sender }"),
    // expressions: operators and operands
    (
        "comparisons",
        r#"rule r { ensure a == 1 and b != -2.5 and c < 3 and d <= 4 and e > 5 and f >= 6 }"#,
    ),
    (
        "is and is not",
        "rule r { ensure a is b and a is not b and a == true and a is false and a != \"x\" }",
    ),
    (
        "paths and symbols on the right",
        "rule r { ensure a.b == c.d and a == c and a == [x, y] }",
    ),
    (
        "membership",
        "rule r { ensure a in [x] and b not in s + [y] and not c in s }",
    ),
    (
        "matches",
        r#"rule r { ensure message.subject matches "(?i)^\\s*re:\t\"x\"" }"#,
    ),
    (
        "presence",
        "rule r { ensure a is present and b.c is absent }",
    ),
    (
        "truthy operands",
        r#"rule r { ensure a and a.b and "s" and 3 and true and [x] }"#,
    ),
    // expressions: precedence and grouping
    (
        "and binds tighter than or",
        "rule r { ensure a or b and c }",
    ),
    ("or inside and", "rule r { ensure (a or b) and c }"),
    (
        "and group inside and",
        "rule r { ensure (a and b) and c and (d and e) }",
    ),
    ("or group inside or", "rule r { ensure a or (b or c) }"),
    ("parenthesised whole", "rule r { ensure ((a or b)) }"),
    (
        "not of a group",
        "rule r { ensure not (a and b) or not (c or d) }",
    ),
    ("not of a comparison", "rule r { ensure not a == b }"),
    ("double negation kept", "rule r { ensure not (not a) }"),
    ("double negation dropped", "rule r { ensure not not a }"),
    ("triple negation", "rule r { ensure not not not a }"),
    (
        "negated parenthesised not",
        "rule r { ensure not (not (not a)) }",
    ),
    (
        "quantifier with a comparison body",
        "rule r { ensure any s in a.b satisfies s.c is present and d }",
    ),
    (
        "quantifier with a group body",
        "rule r { ensure all s in a satisfies (s.x or s.y) }",
    ),
    (
        "quantifier with a negated body",
        "rule r { ensure all s in a satisfies (not s.x) }",
    ),
    (
        "nested quantifiers",
        "rule r { ensure any s in a satisfies (all t in s.b satisfies t == 1) }",
    ),
    (
        "negated quantifier",
        "rule r { ensure not any s in a satisfies s in [x] }",
    ),
    (
        "quantifier inside or",
        "rule r { ensure a or any s in b satisfies s or c }",
    ),
    (
        "when and ensure",
        "rule r { when channel is email ensure a }",
    ),
    ("require tcf", "rule r { require tcf consent for each purpose }"),
    (
        "require tcf with legitimate interest, if signalled",
        "rule r { require tcf consent for each purpose or legitimate interest for [2, 7] if signalled }",
    ),
    (
        "require tcf, a path named tcf",
        "rule r { require tcf.vendor }",
    ),
];

#[test]
fn every_construct_round_trips() {
    for (name, text) in CASES {
        round_trip(name, text);
    }
}

/// Canonical forms of a few cases, spelled out.
#[test]
fn canonical_forms() {
    let cases = [
        ("rule r { ensure not not not a }", "ensure not a"),
        ("rule r { ensure not (not a) }", "ensure not (not a)"),
        ("rule r { ensure ((a or b)) }", "ensure a or b"),
        ("rule r { ensure (a or b) and c }", "ensure (a or b) and c"),
        ("rule r { ensure a or (b and c) }", "ensure a or b and c"),
        (
            "rule r { ensure a == b and a != c }",
            "ensure a is b and a is not c",
        ),
        ("rule r { ensure a is 3 }", "ensure a == 3"),
        (
            "rule r { limit complaint_rate below 0.10% }",
            "limit complaint_rate below 0.1%",
        ),
        (
            "rule r { require parity on [g] at least 0.80 }",
            "require parity on [g] at least 0.8",
        ),
        (
            "rule r { quiet hours from 9:00 to 8:05 }",
            "quiet hours from 09:00 to 08:05",
        ),
        (
            "rule r { cap 1 sends per 1 days per recipient }",
            "cap 1 sends per 1 day per recipient",
        ),
        (
            "rule r { cap 1 sends per   calendar   day per recipient }",
            "cap 1 sends per calendar day per recipient",
        ),
        (
            "rule r { ensure all s in a satisfies (s) }",
            "ensure all s in a satisfies s",
        ),
        (
            "attribute a derived_from b proxy_for c derived_from d",
            "attribute a proxy_for c derived_from b, d",
        ),
        (r#"policy "a\u{41}\u{1}""#, r#"policy "aA\u{1}""#),
        (
            "rule r { minimum age 3 defers to x, y when a requires z }",
            "defers to x, y",
        ),
    ];
    for (text, expected) in cases {
        let printed = round_trip(text, text);
        assert!(
            printed.lines().any(|l| l.trim() == expected),
            "{text}: expected a line `{expected}` in\n{printed}"
        );
    }
}
