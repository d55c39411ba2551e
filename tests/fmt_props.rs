//! Properties of `scruple fmt` (`scruple::syntax::format::format`), checked
//! here independently of the check the formatter makes itself:
//!
//! - it accepts every valid policy;
//! - it is idempotent: formatting the output again changes nothing;
//! - the output parses to the same AST as the input, spans aside;
//! - it keeps every comment, each as often as it was written.
//!
//! They are checked on every shipped pack, every valid fixture, hand-written
//! cases with comments in awkward places, and a few hundred policies made by
//! a small deterministic generator (fixed seeds, no dependency) that uses
//! every construct of the grammar and puts comments and line breaks between
//! random tokens.

use std::path::{Path, PathBuf};

use scruple::diag::render_human;
use scruple::source::SourceFile;
use scruple::syntax::ast::PolicyFile;
use scruple::syntax::format::format;
use scruple::syntax::parse;

/// Parses text that must be free of diagnostics.
fn parse_clean(name: &str, text: &str) -> PolicyFile {
    let (file, diags) = parse(&SourceFile::new(name, text));
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

/// Comment texts (`#` or `//` to the end of the line, outside strings,
/// trailing blanks trimmed), sorted.
fn comments(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in text.lines() {
        let mut in_string = false;
        let mut chars = line.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => in_string = !in_string,
                '\\' if in_string => {
                    chars.next();
                }
                '#' if !in_string => {
                    found.push(line[i..].trim_end().to_string());
                    break;
                }
                '/' if !in_string && chars.peek().is_some_and(|&(_, n)| n == '/') => {
                    found.push(line[i..].trim_end().to_string());
                    break;
                }
                _ => {}
            }
        }
    }
    found.sort();
    found
}

/// Formats `text` and asserts every property; returns the formatted text.
fn check(name: &str, text: &str) -> String {
    let original = parse_clean(name, text);
    let formatted = format(&SourceFile::new(name, text)).unwrap_or_else(|diags| {
        panic!(
            "{name} does not format:\n{}\n{text}",
            render_human(&diags, false, 100)
        )
    });
    let again = format(&SourceFile::new(name, formatted.as_str()))
        .unwrap_or_else(|_| panic!("{name}: the formatted text does not format:\n{formatted}"));
    assert_eq!(
        again, formatted,
        "{name}: formatting is not idempotent\ninput:\n{text}"
    );
    let reparsed = parse_clean(&format!("{name} (formatted)"), &formatted);
    let (before, after) = (normalised(&original), normalised(&reparsed));
    if before != after {
        let at = before
            .lines()
            .zip(after.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "{name}: the formatted text means something else (AST line {at}: {:?} vs {:?})\ninput:\n{text}\nformatted:\n{formatted}",
            before.lines().nth(at),
            after.lines().nth(at)
        );
    }
    assert_eq!(
        comments(text),
        comments(&formatted),
        "{name}: comments changed\ninput:\n{text}\nformatted:\n{formatted}"
    );
    assert!(
        formatted.ends_with('\n') && !formatted.ends_with("\n\n"),
        "{name}: the output does not end with exactly one line break"
    );
    for line in formatted.lines() {
        assert_eq!(line, line.trim_end(), "{name}: trailing blanks in {line:?}");
    }
    formatted
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

fn check_tree(dir: &str) -> usize {
    let mut files = Vec::new();
    scruple_files(Path::new(dir), &mut files);
    for path in &files {
        let text = std::fs::read_to_string(path).expect("read");
        check(&path.display().to_string(), &text);
    }
    files.len()
}

#[test]
fn shipped_packs() {
    assert!(check_tree("policies") >= 10, "shipped packs missing");
}

/// The shipped packs are kept formatted (`scruple fmt --check policies`).
#[test]
fn shipped_packs_are_formatted() {
    let mut files = Vec::new();
    scruple_files(Path::new("policies"), &mut files);
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read");
        let formatted =
            format(&SourceFile::new(path.display().to_string(), text.as_str())).expect("formats");
        assert!(
            formatted == text,
            "{} is not formatted: run `scruple fmt policies`",
            path.display()
        );
    }
}

#[test]
fn valid_fixtures() {
    assert!(check_tree("tests/fixtures/policies/valid") >= 4);
}

/// Comments in every kind of place, and layouts the canonical form undoes.
const CASES: &[(&str, &str)] = &[
    (
        "header fields",
        "# file\npolicy \"p\" # name\n  # before owner\n  owner \"o\" // o\n  version \"1\" # v\n# end\n",
    ),
    (
        "header on one line with a trailing comment",
        "policy \"p\" version \"1\" owner \"o\" # last field written\n",
    ),
    (
        "comment inside a field",
        "policy \"p\" version # inside\n \"1\"\n",
    ),
    (
        "rule head, statements, close and after",
        "rule r { # head\n  help \"h\" # help\n  # severity\n  severity info\n  minimum age 3 # age\n  # last\n} # after\nrule s { minimum age 1 }",
    ),
    (
        "merged statements with trailing comments",
        "rule r {\n  cite \"a\" # one\n  tags x # t\n  cite \"b\" # two\n  cite \"c\" # three\n  minimum age 3\n}\n",
    ),
    (
        "comments inside statements move before them",
        "rule r {\n  when a # inside when\n    and b\n  forbid fields [x, # inside list\n    y]\n}\n",
    ),
    (
        "one-line rule with comments between tokens",
        "rule # before the id\n r # after the id\n { minimum # between words\n age 3 }",
    ),
    (
        "set lists",
        "set s \"d\" = [\n  # first group\n  a, b, # after b\n  c,\n  # second group\n  d\n  # before the bracket\n] # after\nset t = [ # on the bracket line\n  x ]\nset u = [ # nothing in it\n]\nset v = a + # between terms\n b",
    ),
    (
        "tables",
        "table t default 16 { # head\n  # group\n  A = 1 # a\n  BB-CC = 2, # b\n\n  # another group\n  D = \"x\" # d\n  # last\n}\ntable e { # empty\n}\ntable f { }  # after",
    ),
    (
        "grouped declarations keep blank lines",
        "import \"a.scruple\"\n\nimport \"b.scruple\" # b\nattribute a proxy_for b\n# about c\nattribute c\n\n\n# after two blank lines\nattribute d derived_from # inside\n e\npurpose p \"P\"\n\npurpose q \"Q\"",
    ),
    (
        "section comments",
        "# ---- one\n\n# more about one\n\nrule a { minimum age 1 }\n# ---- two\nrule b { minimum age 2 }\n\n\n\n# trailing section\n",
    ),
    (
        "double-slash comments and strings with comment marks",
        "// top\npolicy \"a # b // c\" // d\nrule r { message \"x # y\" // z\n minimum age 1 }\n",
    ),
    (
        "no final line break",
        "rule r { minimum age 3 } # end",
    ),
    (
        "CRLF, tabs and a byte order mark",
        "\u{FEFF}# crlf\r\nrule r {\r\n\tseverity warning\t# tab\r\n\tminimum age 3\r\n}\r\n",
    ),
    (
        "long conditions wrap",
        "rule r { when aaaaaaaaaa.bbbbbbbbbb is present and (cccccccccc.dddddddddd == 1 or eeeeeeeeee.ffffffffff == 2 or gggggggggg.hhhhhhhhhh == 3 # why\n or iiiiiiiiii is absent) and jjjjjjjjjj.kkkkkkkkkk is true # end\n ensure x }",
    ),
    (
        "long sets",
        "set s \"a description long enough to push the list start past the end of the line, which is one hundred\" = x + [a, b]\nset t \"and a union of names that does not fit on one line with its long description here\" = alpha + beta",
    ),
];

#[test]
fn hand_written_cases() {
    for (name, text) in CASES {
        check(name, text);
    }
}

/// How the comments of the cases above come out, for review.
#[test]
fn comments_in_awkward_places() {
    let mut all = String::new();
    for (name, text) in CASES {
        all.push_str(&format!("==== {name}\n{}", check(name, text)));
    }
    insta::assert_snapshot!(all);
}

// ------------------------------------------------------------ generator

/// xorshift64*: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent`%.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const NAMES: &[&str] = &[
    "alpha",
    "beta",
    "gamma_2",
    "delta",
    "email",
    "sms",
    "health",
    "zip_code",
    "x",
    "_hidden",
    "very_long_attribute_name_for_wrapping",
    "another_quite_long_member_name",
    "age",
];
const SYMBOLS: &[&str] = &["EU", "EU-FR", "US-CA", "a-b-c", "email", "none", "x_1"];
const FIELDS: &[&str] = &[
    "channel",
    "message_type",
    "audience.age.min",
    "message.subject",
    "personalization.attributes",
    "a.b.c",
    "jurisdiction",
];
const UNITS: &[&str] = &[
    "minute", "minutes", "hours", "day", "days", "weeks", "month", "years",
];
const REGEXES: &[&str] = &[
    "^[a-z]+$",
    "(?i)^(re|fwd?):",
    "#\\\\d+",
    "a//b",
    "\\\"quoted\\\"",
];

/// Builds one policy as tokens, then joins them with random spacing and
/// comments.
struct Gen {
    rng: Rng,
    tokens: Vec<String>,
    /// Percent chance of a comment between two tokens.
    comment_rate: usize,
    counter: usize,
}

impl Gen {
    fn tok(&mut self, token: impl Into<String>) {
        self.tokens.push(token.into());
    }

    fn fresh(&mut self, stem: &str) -> String {
        self.counter += 1;
        format!("{stem}_{}", self.counter)
    }

    fn name(&mut self) -> String {
        self.rng.pick(NAMES).to_string()
    }

    /// A string literal with escapes, comment marks and non-ASCII text.
    fn string(&mut self) -> String {
        let pieces = [
            "plain", " ", "\"", "\\", "\n", "\t", "#", "//", "é", "😀", "\u{1}", "{x}", "a,b",
        ];
        let mut value = String::new();
        for _ in 0..self.rng.below(6) {
            value.push_str(pieces[self.rng.below(pieces.len())]);
        }
        let mut out = String::from("\"");
        for c in value.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
                'é' if self.rng.chance(50) => out.push_str("\\u{e9}"),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    fn list(&mut self, long: bool) {
        self.tok("[");
        let n = if long {
            8 + self.rng.below(20)
        } else {
            self.rng.below(4)
        };
        for i in 0..n {
            if i > 0 {
                self.tok(",");
            }
            let item = if self.rng.chance(50) {
                self.name()
            } else {
                self.rng.pick(SYMBOLS).to_string()
            };
            self.tok(item);
        }
        if n > 0 && self.rng.chance(30) {
            self.tok(",");
        }
        self.tok("]");
    }

    fn set_expr(&mut self) {
        let terms = 1 + self.rng.below(3);
        for i in 0..terms {
            if i > 0 {
                self.tok("+");
            }
            if self.rng.chance(40) {
                let name = self.name();
                self.tok(name);
            } else {
                let long = self.rng.chance(20);
                self.list(long);
            }
        }
    }

    fn duration(&mut self) {
        let amount = 1 + self.rng.below(30);
        self.tok(amount.to_string());
        let unit = self.rng.pick(UNITS);
        self.tok(unit);
    }

    fn operand(&mut self) {
        match self.rng.below(7) {
            0 => {
                let s = self.string();
                self.tok(s);
            }
            1 => {
                let n = ["0", "42", "-2.5", "100"][self.rng.below(4)];
                self.tok(n);
            }
            2 => {
                let b = self.rng.pick(&["true", "false"]);
                self.tok(b);
            }
            3 => self.list(false),
            4 => {
                // A bare name (no `-`: that is only for list members).
                let s = self.rng.pick(&["EU", "email", "none", "x_1"]);
                self.tok(s);
            }
            _ => {
                let f = self.rng.pick(FIELDS);
                self.tok(f);
            }
        }
    }

    fn comparison(&mut self) {
        let field = self.rng.pick(FIELDS);
        self.tok(field);
        match self.rng.below(8) {
            0 => {}
            1 => {
                self.tok("is");
                let word = self.rng.pick(&["present", "absent"]);
                self.tok(word);
            }
            2 => {
                if self.rng.chance(50) {
                    self.tok("not");
                }
                self.tok("in");
                self.set_expr();
            }
            3 => {
                self.tok("matches");
                let re = self.rng.pick(REGEXES);
                self.tok(format!("\"{re}\""));
            }
            4 => {
                self.tok("is");
                if self.rng.chance(50) {
                    self.tok("not");
                }
                self.operand();
            }
            _ => {
                let op = self.rng.pick(&["==", "!=", "<", "<=", ">", ">="]);
                self.tok(op);
                self.operand();
            }
        }
    }

    fn expr(&mut self, depth: usize) {
        let parts = if depth < 3 { 1 + self.rng.below(3) } else { 1 };
        for i in 0..parts {
            if i > 0 {
                let word = self.rng.pick(&["and", "or"]);
                self.tok(word);
            }
            for _ in 0..self.rng.below(4).saturating_sub(1) {
                self.tok("not");
            }
            match self.rng.below(if depth < 3 { 6 } else { 1 }) {
                0..=2 => self.comparison(),
                3 | 4 => {
                    self.tok("(");
                    self.expr(depth + 1);
                    self.tok(")");
                }
                _ => {
                    let quantifier = self.rng.pick(&["any", "all"]);
                    self.tok(quantifier);
                    let var = self.rng.pick(&["s", "t", "item"]);
                    self.tok(var);
                    self.tok("in");
                    let list = self.rng.pick(&["audience.segments", "items", "a.b"]);
                    self.tok(list);
                    self.tok("satisfies");
                    if self.rng.chance(50) {
                        self.tok("(");
                        self.expr(depth + 1);
                        self.tok(")");
                    } else {
                        self.comparison();
                    }
                }
            }
        }
    }

    fn constraint(&mut self) {
        match self.rng.below(9) {
            0 => {
                self.tok("forbid targeting on");
                self.set_expr();
                if self.rng.chance(50) {
                    self.tok("including proxies");
                }
            }
            1 => {
                self.tok("forbid fields");
                self.set_expr();
            }
            2 => {
                self.tok("allow only fields");
                self.set_expr();
                if self.rng.chance(50) {
                    self.tok("for");
                    let purpose = self.name();
                    self.tok(purpose);
                }
            }
            3 => {
                self.tok("require consent for");
                if self.rng.chance(50) {
                    self.tok("each purpose");
                } else {
                    self.set_expr();
                }
                if self.rng.chance(50) {
                    self.tok("within");
                    self.duration();
                }
            }
            4 => {
                let max = 1 + self.rng.below(9);
                self.tok(format!("cap {max} sends per"));
                self.duration();
                self.tok("per recipient");
                if self.rng.chance(50) {
                    self.tok("on");
                    self.set_expr();
                }
            }
            5 => {
                let from = self.rng.below(12);
                let to = 12 + self.rng.below(12);
                self.tok(format!("quiet hours from {from}:00 to {to}:30"));
            }
            6 => {
                self.tok("minimum age");
                if self.rng.chance(50) {
                    let age = self.rng.below(21);
                    self.tok(age.to_string());
                } else {
                    let table = self.name();
                    self.tok(table);
                }
            }
            7 => {
                self.tok("require");
                let field = self.rng.pick(FIELDS);
                self.tok(field);
            }
            _ => {
                self.tok("ensure");
                self.expr(0);
            }
        }
    }

    fn rule(&mut self) {
        let id = self.fresh("rule");
        self.tok(format!("rule {id}"));
        self.tok("{");
        // Statements in random order; single ones at most once.
        let mut statements: Vec<usize> = (0..10).filter(|_| self.rng.chance(45)).collect();
        for _ in 0..self.rng.below(3) {
            statements.push(10 + self.rng.below(3)); // repeated cite / tags / requires
        }
        statements.push(99); // the constraint
        for i in (1..statements.len()).rev() {
            let j = self.rng.below(i + 1);
            statements.swap(i, j);
        }
        for statement in statements {
            match statement {
                0 => {
                    let level = self.rng.pick(&["error", "warning", "info"]);
                    self.tok(format!("severity {level}"));
                }
                1 | 10 => {
                    self.tok("cite");
                    for i in 0..1 + self.rng.below(3) {
                        if i > 0 {
                            self.tok(",");
                        }
                        let s = self.string();
                        self.tok(s);
                    }
                }
                2 | 11 => {
                    self.tok("tags");
                    for i in 0..1 + self.rng.below(3) {
                        if i > 0 {
                            self.tok(",");
                        }
                        let s = self.rng.pick(SYMBOLS);
                        self.tok(s);
                    }
                }
                3 => {
                    self.tok("when");
                    self.expr(0);
                }
                4 | 12 => {
                    self.tok("requires");
                    for i in 0..1 + self.rng.below(2) {
                        if i > 0 {
                            self.tok(",");
                        }
                        let name = self.name();
                        self.tok(name);
                    }
                }
                5..=7 => {
                    let keyword = ["message", "help", "description"][statement - 5];
                    let s = self.string();
                    self.tok(format!("{keyword} {s}"));
                }
                8 => self.tok("unwaivable"),
                9 => {}
                _ => self.constraint(),
            }
        }
        self.tok("}");
    }

    fn item(&mut self) {
        match self.rng.below(10) {
            0 => {
                self.tok("import");
                let s = self.string();
                self.tok(s);
            }
            1 | 2 => {
                let name = self.fresh("set");
                self.tok(format!("set {name}"));
                if self.rng.chance(50) {
                    let s = self.string();
                    self.tok(s);
                }
                self.tok("=");
                self.set_expr();
            }
            3 => {
                let name = self.fresh("attr");
                self.tok(format!("attribute {name}"));
                if self.rng.chance(50) {
                    let s = self.string();
                    self.tok(s);
                }
                for _ in 0..self.rng.below(3) {
                    let kind = self.rng.pick(&["proxy_for", "derived_from"]);
                    self.tok(kind);
                    for i in 0..1 + self.rng.below(2) {
                        if i > 0 {
                            self.tok(",");
                        }
                        let name = self.name();
                        self.tok(name);
                    }
                }
            }
            4 => {
                let name = self.fresh("purpose");
                let s = self.string();
                self.tok(format!("purpose {name} {s}"));
            }
            5 => {
                let name = self.fresh("table");
                self.tok(format!("table {name}"));
                if self.rng.chance(50) {
                    let s = self.string();
                    self.tok(s);
                }
                if self.rng.chance(50) {
                    self.tok("default 16");
                }
                self.tok("{");
                for i in 0..self.rng.below(5) {
                    let value = match self.rng.below(3) {
                        0 => (10 + i).to_string(),
                        1 => self.string(),
                        _ => self.rng.pick(SYMBOLS).to_string(),
                    };
                    self.tok(format!("K{i}-X = {value}"));
                    if self.rng.chance(50) {
                        self.tok(",");
                    }
                }
                self.tok("}");
            }
            _ => self.rule(),
        }
    }

    /// The separator written between two tokens.
    fn separator(&mut self) -> String {
        let roll = self.rng.below(100);
        if roll < self.comment_rate {
            self.counter += 1;
            let marker = self.rng.pick(&["#", "//", "# ---", "#"]);
            let text = self
                .rng
                .pick(&["", " note", " \"quoted\" # inner", " // inner", " é"]);
            let trailing = self.rng.pick(&["", "  ", "\t"]);
            let before = self.rng.pick(&[" ", "\n", "\n\n", "\n  "]);
            let after = self.rng.pick(&["\n", "\n\n", "\n    "]);
            return format!("{before}{marker}{text} {}{trailing}{after}", self.counter);
        }
        match roll - self.comment_rate {
            0..=59 => " ".into(),
            60..=74 => "\n  ".into(),
            75..=84 => "\n".into(),
            85..=89 => "\n\n".into(),
            _ => "\t".into(),
        }
    }

    fn policy(seed: u64) -> String {
        let mut rng = Rng::new(seed);
        let comment_rate = [0, 5, 15, 30][rng.below(4)];
        let mut gen = Gen {
            rng,
            tokens: Vec::new(),
            comment_rate,
            counter: 0,
        };
        if gen.rng.chance(60) {
            gen.tok("policy");
            let s = gen.string();
            gen.tok(s);
            let mut fields = vec!["version", "owner", "description"];
            for i in (1..fields.len()).rev() {
                let j = gen.rng.below(i + 1);
                fields.swap(i, j);
            }
            for field in fields {
                if gen.rng.chance(60) {
                    let s = gen.string();
                    gen.tok(format!("{field} {s}"));
                }
            }
        }
        for _ in 0..1 + gen.rng.below(8) {
            gen.item();
        }
        let tokens = std::mem::take(&mut gen.tokens);
        let mut text = String::new();
        if gen.rng.chance(30) {
            text.push_str("# leading comment\n");
        }
        for (i, token) in tokens.iter().enumerate() {
            if i > 0 {
                let separator = gen.separator();
                text.push_str(&separator);
            }
            text.push_str(token);
        }
        if gen.rng.chance(30) {
            text.push_str(" # final comment");
        }
        if gen.rng.chance(80) {
            text.push('\n');
        }
        text
    }
}

#[test]
fn generated_policies() {
    let mut with_comments = 0;
    for seed in 0..400 {
        let text = Gen::policy(seed);
        if !comments(&text).is_empty() {
            with_comments += 1;
        }
        check(&format!("generated policy #{seed}"), &text);
    }
    assert!(with_comments > 200, "the generator writes too few comments");
}

/// A look at what the generator writes, so that a change in it is seen.
#[test]
fn generator_is_deterministic() {
    assert_eq!(Gen::policy(7), Gen::policy(7));
    assert_ne!(Gen::policy(7), Gen::policy(8));
}
