//! Parsing: policy source text → AST.
//!
//! pest pairs never leave this module. [`parse`] runs the pest grammar in
//! `grammar/scruple.pest`, then [`lower`] walks the pairs once and builds the
//! [`ast`] with spans, checking what the grammar cannot say (durations, times
//! of day, escapes, regexes, one constraint per rule).

pub mod ast;
mod comments;
pub mod format;
mod lower;
pub mod print;

use pest::Parser as _;

use crate::diag::Diag;
use crate::source::{Source, Span};

pub use lower::lower;

/// The pest parser generated from `grammar/scruple.pest`.
#[derive(pest_derive::Parser)]
#[grammar = "../grammar/scruple.pest"]
pub(crate) struct PolicyParser;

/// Deepest nesting of brackets accepted; deeper input is rejected before
/// pest sees it, so recursion in the parser and evaluator stays bounded.
pub const MAX_NESTING: usize = 64;

/// Parses and lowers one policy file. Returns the AST when the file parsed
/// (possibly with diagnostics about parts that were skipped) and every
/// diagnostic found.
pub fn parse(source: &Source) -> (Option<ast::PolicyFile>, Vec<Diag>) {
    if let Some(diag) = check_nesting(source) {
        return (None, vec![diag]);
    }
    match PolicyParser::parse(Rule::file, &source.text) {
        Ok(mut pairs) => match pairs.next() {
            Some(file) => lower(source, file),
            None => (
                None,
                vec![Diag::error("scruple::parse::syntax", "empty parse")],
            ),
        },
        Err(err) => (None, vec![syntax_error(source, &err)]),
    }
}

/// Finds the first bracket that opens deeper than [`MAX_NESTING`], skipping
/// strings and comments.
fn check_nesting(source: &Source) -> Option<Diag> {
    let bytes = source.text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(
                        Diag::error(
                            "scruple::parse::too_deep",
                            format!("brackets are nested more than {MAX_NESTING} deep"),
                        )
                        .with_label(source, Span::new(i, i + 1), "this bracket is too deep")
                        .with_help(
                            "split the condition into smaller rules, or name parts of it as sets",
                        ),
                    );
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Words that start a declaration.
const DECLARATION_WORDS: [&str; 7] = [
    "policy",
    "import",
    "set",
    "attribute",
    "purpose",
    "table",
    "rule",
];

/// Words that start a rule statement.
const STATEMENT_WORDS: [&str; 17] = [
    "severity",
    "cite",
    "tags",
    "when",
    "requires",
    "defers",
    "message",
    "help",
    "description",
    "unwaivable",
    "forbid",
    "allow",
    "require",
    "cap",
    "quiet",
    "minimum",
    "ensure",
];

/// Turns a pest error into a diagnostic that names what was expected in words.
fn syntax_error(source: &Source, err: &pest::error::Error<Rule>) -> Diag {
    let at = match err.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let text = &source.text;
    let found = found_token(text, at);
    let positives: &[Rule] = match &err.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => positives,
        pest::error::ErrorVariant::CustomError { .. } => &[],
    };
    // A string that does not close stops the parse at its opening quote.
    if found == "\"" && positives.contains(&Rule::string) {
        let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        let line_end = at + text[at..line_end].trim_end().len();
        return Diag::error("scruple::parse::syntax", "this string is not closed")
            .with_label(source, Span::new(at, line_end), "no closing `\"` on this line")
            .with_help("end the string with `\"` on the same line; inside a string, write a quote as `\\\"` and a line break as `\\n`");
    }
    let mut expected = match &err.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => describe_expected(positives),
        pest::error::ErrorVariant::CustomError { message } => message.clone(),
    };
    // pest names rules, not literal punctuation: after `set NAME` only the
    // optional description is reported, though `=` is what is usually missing.
    let mut last_words = text[..at].split_whitespace().rev();
    if positives == [Rule::string] && last_words.nth(1) == Some("set") {
        expected = "`=` or a quoted description".into();
    }
    let (message, label, span) = if found.is_empty() {
        // Point just after the last thing written: a label past the final
        // newline would not be shown.
        let end = text[..at.min(text.len())].trim_end().len();
        (
            format!("expected {expected}, found the end of the file"),
            format!("expected {expected} after this"),
            Span::new(end, end),
        )
    } else {
        (
            format!("expected {expected}, found `{found}`"),
            "unexpected here".to_string(),
            Span::new(at, at + found.len()),
        )
    };
    Diag::error("scruple::parse::syntax", message)
        .with_label(source, span, label)
        .with_help(help_for(&expected, found, text[..at].trim_end()))
}

/// The word or symbol starting at `at`, for "found …".
fn found_token(text: &str, at: usize) -> &str {
    let rest = text.get(at..).unwrap_or("");
    let word_len = rest
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '-'))
        .map_or(rest.len(), |(i, _)| i);
    if word_len > 0 {
        // At most 40 bytes, cut on a character boundary.
        let mut end = word_len.min(40);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        return &rest[..end];
    }
    rest.chars().next().map_or("", |c| &rest[..c.len_utf8()])
}

fn help_for(expected: &str, found: &str, before: &str) -> String {
    let is_word = found.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
    let keyword = |w: &str| DECLARATION_WORDS.contains(&w) || STATEMENT_WORDS.contains(&w);
    let mut help = String::new();
    if expected.starts_with("`=`") {
        return "declare a set as `set name = [a, b]` or `set name \"description\" = [a, b]`"
            .into();
    }
    if expected.contains("rule statement") && DECLARATION_WORDS.contains(&found) {
        return format!(
            "the rule before this `{found}` is not closed: add `}}` after its last statement"
        );
    }
    if matches!(found, "present" | "absent") && before.ends_with(" not") {
        return "to test that a field is missing, write `is absent`; for the opposite, `is present`"
            .into();
    }
    if expected == "a name" && (keyword(found) || is_reserved(found)) {
        return format!(
            "`{found}` is a reserved word and cannot be used as a name; pick another name"
        );
    }
    if is_word {
        let candidates: &[&str] = if expected.contains("declaration") {
            &DECLARATION_WORDS
        } else if expected.contains("rule statement") {
            &STATEMENT_WORDS
        } else {
            &[]
        };
        if let Some(near) = crate::diag::did_you_mean(found, candidates.iter().copied()) {
            help = format!("did you mean `{near}`? ");
        }
    }
    if expected.contains("declaration") {
        help.push_str("a policy file holds `policy`, `import`, `set`, `attribute`, `purpose`, `table` and `rule` declarations; see docs/language.md");
    } else if expected.contains("rule statement") {
        help.push_str("a rule holds `severity`, `cite`, `tags`, `when`, `requires`, `defers to`, `message`, `help`, `description`, `unwaivable` and one constraint (`forbid`, `allow only`, `require`, `cap`, `quiet hours`, `minimum age`, `ensure`), and ends with `}`");
    } else {
        help.push_str("see docs/language.md for the syntax of each statement");
    }
    help
}

/// Words the grammar reserves in conditions (they cannot be names).
fn is_reserved(word: &str) -> bool {
    [
        "and",
        "or",
        "not",
        "in",
        "is",
        "matches",
        "any",
        "all",
        "satisfies",
        "true",
        "false",
        "present",
        "absent",
    ]
    .contains(&word)
}

/// Words for what the grammar wanted next, without pest rule names.
fn describe_expected(positives: &[Rule]) -> String {
    // Where any value may stand, name that once rather than each kind of
    // value the grammar tried.
    let value_position = positives
        .iter()
        .any(|r| matches!(r, Rule::number | Rule::boolean | Rule::path));
    let mut words: Vec<&'static str> = Vec::new();
    for rule in positives {
        let word = match rule {
            Rule::list | Rule::number | Rule::boolean | Rule::string | Rule::ident | Rule::path
                if value_position =>
            {
                "a value (a campaign field, a name, a number, a quoted string or a list)"
            }
            _ => rule_in_words(*rule),
        };
        if !words.contains(&word) {
            words.push(word);
        }
    }
    match words.len() {
        0 => "something else".into(),
        1 => words[0].into(),
        n => format!("{} or {}", words[..n - 1].join(", "), words[n - 1]),
    }
}

fn rule_in_words(rule: Rule) -> &'static str {
    use Rule::*;
    match rule {
        EOI => "the end of the file",
        header => "a `policy` header",
        header_field | header_key => "`version`, `owner` or `description`",
        import | kw_import | set_decl | kw_set | attribute_decl | kw_attribute | purpose_decl
        | kw_purpose | table_decl | kw_table | rule_decl | kw_rule | values_decl | kw_values => {
            "a declaration (`import`, `set`, `attribute`, `values`, `purpose`, `table` or `rule`)"
        }
        meaning => "`category` and a taxonomy category (or `none`)",
        because | kw_because => "`because` and a reason in quotes",
        value_list | value_item => "a list of values like `[asthma, \"type 2 diabetes\"]`",
        severity_stmt | kw_severity | cite_stmt | kw_cite | tags_stmt | kw_tags | when_stmt
        | kw_when | requires_stmt | kw_requires | defers_stmt | kw_defers | message_stmt | kw_message | help_stmt
        | kw_help | description_stmt | kw_description | kw_unwaivable | unwaivable_stmt
        | forbid_targeting | forbid_fields | kw_forbid | allow_fields | kw_allow
        | require_consent | require_tcf | require_field | kw_require | frequency_cap | kw_cap | quiet_hours
        | kw_quiet | minimum_age | kw_minimum | ensure | kw_ensure | require_parity | limit_rate
        | kw_limit => "a rule statement or `}`",
        kw_parity => "`parity`",
        kw_at | kw_least => "`at least`",
        parity_offers | kw_offers => "`for offers in` and a set of offer categories",
        kw_below => "`below`",
        percent => "a percentage such as `0.5%`",
        severity_level | kw_error | kw_warning | kw_info => "`error`, `warning` or `info`",
        lineage | lineage_kind | kw_proxy_for | kw_derived_from => {
            "`proxy_for`, `derived_from` or `because`"
        }
        set_expr | list => "a set (a set name or a list like `[a, b]`)",
        category_term | kw_category | category_id => "`category` and a taxonomy category",
        law_term | kw_law => "`law` and a law view such as `gdpr_art9`",
        ident | symbol => "a name",
        string => "a quoted string",
        integer => "a whole number",
        number | scalar => "a value",
        duration => "a duration such as `7 days`",
        calendar_period | kw_calendar => "`calendar day`, `calendar week` or `calendar month`",
        unit => "a time unit (`minutes`, `hours`, `days`, `weeks`, `months` or `years`)",
        time_of_day => "a time of day such as `21:00`",
        expr | and_expr | not_expr | negation | paren | quantified | quantifier | comparison => {
            "a condition"
        }
        presence | membership | matching | compare | compare_op | is_not => {
            "a comparison (`==`, `!=`, `<`, `in`, `matches`, `is present`, …)"
        }
        path | boolean => "a value or a campaign field",
        including_proxies | kw_including => "`including proxies`",
        each_purpose | kw_each => "`each purpose`",
        purpose_tcf => "`tcf` and a list of TCF purposes such as `[1, 3, 4]`",
        kw_tcf => "`tcf`",
        kw_special_features => "`special_features`",
        id_list => "a list of numbers such as `[1, 3, 4]`",
        tcf_li | kw_legitimate | kw_interest => "`or legitimate interest for [...]`",
        tcf_signalled | kw_if | kw_signalled => "`if signalled`",
        consent_written | kw_written => "`written`",
        age_unless | kw_unless => "`unless consent to` a purpose",
        kw_by => "`by`",
        age_by_self | kw_self => "`self from` an age `else parent`",
        kw_else => "`else`",
        kw_parent => "`parent`",
        table_default | kw_default => "`default`",
        table_entry => "a table entry such as `EU-FR = 15`",
        kw_and => "`and`",
        kw_or => "`or`",
        kw_not => "`not`",
        kw_in => "`in`",
        kw_is => "`is`",
        kw_matches => "`matches`",
        kw_satisfies => "`satisfies`",
        kw_present => "`present`",
        kw_absent => "`absent`",
        kw_on => "`on`",
        kw_targeting => "`targeting`",
        kw_fields => "`fields`",
        kw_only => "`only`",
        kw_for => "`for`",
        kw_consent => "`consent`",
        kw_within => "`within`",
        kw_sends => "`sends`",
        kw_per => "`per`",
        kw_recipient => "`recipient`",
        kw_hours => "`hours`",
        kw_from => "`from`",
        kw_to => "`to`",
        kw_age => "`age`",
        kw_proxies => "`proxies`",
        kw_any | kw_all => "`any` or `all`",
        kw_true | kw_false => "`true` or `false`",
        kw_policy => "`policy`",
        kw_version | kw_owner => "`version`, `owner` or `description`",
        item | statement => "a declaration or a rule statement",
        set_term | constraint | primary | operand => "a value",
        file => "a `policy` header or a declaration (`import`, `set`, `attribute`, `purpose`, `table` or `rule`)",
        keyword | WHITESPACE | COMMENT | ident_char => "something else",
    }
}

#[cfg(test)]
mod found_token_tests {
    use super::*;
    use crate::source::SourceFile;

    #[test]
    fn a_long_non_ascii_word_is_cut_on_a_character_boundary() {
        for text in ["xéééééééééééééééééééé", "规则规则规则规则规则规则规则"]
        {
            assert!(found_token(text, 0).len() <= 40);
            let (ast, diags) = parse(&SourceFile::new("u.scruple", text));
            assert!(ast.is_none());
            assert_eq!(diags[0].code, "scruple::parse::syntax");
        }
    }
}
