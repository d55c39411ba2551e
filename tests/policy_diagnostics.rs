//! Diagnostics for broken policies: one fixture per problem in
//! `tests/fixtures/policies/`, compiled through the library exactly as the
//! CLI does, rendered as the user sees them (no colour, 100 columns) and
//! snapshotted. Each test also asserts the diagnostic codes and, where the
//! snapshot alone would hide it, which text each label points at.
//!
//! Paths are relative to the crate root (the working directory of
//! integration tests), so file names in the snapshots are stable.

use std::path::Path;

use scruple::compile::{compile, Inputs};
use scruple::diag::{render_human, Diag, Severity};

const DIR: &str = "tests/fixtures/policies";

struct Outcome {
    compiled: bool,
    diags: Vec<Diag>,
    rendered: String,
}

impl Outcome {
    fn codes(&self) -> Vec<&str> {
        self.diags.iter().map(|d| d.code.as_str()).collect()
    }

    /// (text under the label, label) for every label of diagnostic `i`.
    fn labels(&self, i: usize) -> Vec<(&str, &str)> {
        self.diags[i]
            .labels
            .iter()
            .map(|l| (l.source.slice(l.span), l.text.as_str()))
            .collect()
    }

    fn help(&self, i: usize) -> &str {
        self.diags[i].help.as_deref().unwrap_or("")
    }
}

/// Compiles one fixture file (relative to the fixtures directory).
fn run(name: &str) -> Outcome {
    let path = Path::new(DIR).join(name);
    assert!(path.exists(), "missing fixture {}", path.display());
    let mut inputs = Inputs::default();
    inputs.add_path(&path);
    let (policy, diags) = compile(inputs);
    let rendered = render_human(&diags, false, 100);
    Outcome {
        compiled: policy.is_some(),
        diags,
        rendered,
    }
}

/// A fixture that must fail with exactly these codes, in this order.
fn fails(name: &str, codes: &[&str]) -> Outcome {
    let out = run(name);
    assert!(!out.compiled, "{name} compiled:\n{}", out.rendered);
    assert_eq!(out.codes(), codes, "{}", out.rendered);
    out
}

// ---------------------------------------------------------------- syntax

#[test]
fn syntax_missing_brace() {
    let out = fails("syntax_missing_brace.scruple", &["scruple::parse::syntax"]);
    assert_eq!(out.labels(0), [("rule", "unexpected here")]);
    assert!(out.help(0).contains("is not closed: add `}`"));
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn syntax_unclosed_rule_at_eof() {
    let out = fails(
        "syntax_unclosed_rule_at_eof.scruple",
        &["scruple::parse::syntax"],
    );
    // The label points just after the last token, where `}` is missing.
    let label = &out.diags[0].labels[0];
    assert!(label.span.is_empty());
    assert!(label.source.text[..label.span.start as usize].ends_with("minimum age 18"));
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn syntax_keyword_typo() {
    let out = fails("syntax_keyword_typo.scruple", &["scruple::parse::syntax"]);
    assert_eq!(out.labels(0), [("severty", "unexpected here")]);
    assert!(out.help(0).starts_with("did you mean `severity`?"));
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn syntax_unclosed_string() {
    let out = fails(
        "syntax_unclosed_string.scruple",
        &["scruple::parse::syntax"],
    );
    assert_eq!(
        out.labels(0),
        [(
            "\"The audience must be adults",
            "no closing `\"` on this line"
        )]
    );
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn syntax_error_in_import() {
    // The unknown set is reported, with a note that the file that should
    // declare it did not parse.
    let out = fails(
        "syntax_error_in_import/main.scruple",
        &["scruple::parse::syntax", "scruple::resolve::unknown_set"],
    );
    assert_eq!(out.labels(0), [("[", "unexpected here")]);
    assert_eq!(out.labels(1), [("sensitive_data", "no set has this name")]);
    assert!(out.diags[1].notes[0].contains("could not be read or parsed"));
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn too_deep_nesting() {
    let out = fails("too_deep_nesting.scruple", &["scruple::parse::too_deep"]);
    // The 65th open bracket (the rule's `{` counts) is the first too deep.
    let label = &out.diags[0].labels[0];
    let before = &label.source.text[..label.span.start as usize];
    assert_eq!(before.matches(['(', '[', '{']).count(), 64);
    assert_eq!(out.labels(0), [("(", "this bracket is too deep")]);
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn empty_file() {
    let out = fails("empty.scruple", &["scruple::parse::empty"]);
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn comments_only_file() {
    let out = fails("comments_only.scruple", &["scruple::parse::empty"]);
    // Only the first line is labelled, however long the comment block.
    assert_eq!(
        out.labels(0),
        [(
            "# This file was emptied while the rules moved to baseline.scruple.",
            "this file holds only comments"
        )]
    );
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn invalid_utf8() {
    let out = fails("invalid_utf8.scruple", &["scruple::parse::encoding"]);
    // The bad byte shows as U+FFFD, and the label covers that whole character.
    assert_eq!(out.labels(0), [("\u{FFFD}", "byte 0xE9 is not UTF-8")]);
    insta::assert_snapshot!(out.rendered);
}

// ---------------------------------------------------------------- lowering checks

#[test]
fn bad_duration_unit() {
    let out = fails(
        "bad_duration_unit.scruple",
        &["scruple::parse::bad_duration"],
    );
    assert_eq!(out.labels(0), [("fortnights", "not a time unit")]);
    insta::assert_snapshot!(out.rendered);
}

/// Issue 14 item 4: a calendar cap counts per day, week or month only.
#[test]
fn bad_calendar_period() {
    let out = fails(
        "bad_calendar_period.scruple",
        &["scruple::parse::bad_duration"],
    );
    assert_eq!(out.labels(0), [("hour", "not day, week or month")]);
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn bad_duration_zero() {
    let out = fails(
        "bad_duration_zero.scruple",
        &["scruple::parse::bad_duration"],
    );
    assert_eq!(out.labels(0), [("0 days", "zero-length duration")]);
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn bad_time_of_day() {
    let out = fails("bad_time_of_day.scruple", &["scruple::parse::bad_time"]);
    assert_eq!(out.labels(0), [("25:00", "hours run from 00 to 23")]);
    insta::assert_snapshot!(out.rendered);
}

/// Issue 13: TCF v2.2 removed legitimate interest for purposes 3 to 6.
#[test]
fn tcf_legitimate_interest_for_purposes_3_to_6_is_an_error() {
    let out = fails(
        "tcf_legitimate_interest.scruple",
        &["scruple::parse::tcf_legitimate_interest"],
    );
    assert_eq!(out.labels(0), [("4", "consent only")]);
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn tcf_ids_out_of_range_or_repeated() {
    let out = fails(
        "tcf_ids_out_of_range.scruple",
        &[
            "scruple::parse::tcf_id",
            "scruple::parse::tcf_id",
            "scruple::parse::tcf_id",
        ],
    );
    assert_eq!(out.labels(0), [("12", "out of range")]);
    assert_eq!(out.labels(1), [("2", "listed again here")]);
    assert_eq!(out.labels(2), [("3", "out of range")]);
}

#[test]
fn quiet_hours_empty() {
    let out = fails("quiet_hours_empty.scruple", &["scruple::parse::bad_time"]);
    assert_eq!(
        out.labels(0),
        [("quiet hours from 21:00 to 21:00", "empty quiet period")]
    );
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn rule_without_constraint() {
    let out = fails(
        "rule_without_constraint.scruple",
        &["scruple::parse::missing_constraint"],
    );
    assert_eq!(
        out.labels(0),
        [("explain_yourself", "this rule has no constraint")]
    );
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn rule_with_two_constraints() {
    let out = fails(
        "rule_with_two_constraints.scruple",
        &["scruple::parse::two_constraints"],
    );
    // Spans end at the constraint, not at the next statement.
    assert_eq!(
        out.labels(0),
        [
            ("quiet hours from 21:00 to 08:00", "second constraint"),
            (
                "cap 3 sends per 7 days per recipient on [email]",
                "first constraint"
            ),
        ]
    );
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn duplicate_when() {
    let out = fails(
        "duplicate_when.scruple",
        &["scruple::parse::duplicate_statement"],
    );
    assert_eq!(
        out.labels(0),
        [
            ("when channel is email", "given again here"),
            ("when message_type is marketing", "first given here"),
        ]
    );
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn bad_regex() {
    let out = fails("bad_regex.scruple", &["scruple::parse::bad_regex"]);
    assert_eq!(
        out.labels(0),
        [("\"(?i)^(re|fwd?:\"", "error: unclosed group")]
    );
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn regex_too_big_is_reported_when_compiled() {
    // The syntax check in lowering passes; the size limit is only known once
    // the pattern is compiled, in resolve, which must report it (not drop the
    // rule silently).
    let out = fails("regex_too_big.scruple", &["scruple::parse::bad_regex"]);
    assert_eq!(out.labels(0)[0].0, "\"\\\\w{1000}\"");
    assert!(
        out.labels(0)[0].1.contains("size limit"),
        "{}",
        out.rendered
    );
    assert!(out.help(0).contains("1 MiB"));
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn bad_escape() {
    let out = fails("bad_escape.scruple", &["scruple::parse::bad_escape"]);
    assert_eq!(out.labels(0), [("\\s", "unknown escape")]);
    insta::assert_snapshot!(out.rendered);
}

// ---------------------------------------------------------------- names

#[test]
fn unknown_set_did_you_mean() {
    // No "unused set" warning for `special_categories`: it is the name the
    // reference was meant to be.
    let out = fails(
        "unknown_set_did_you_mean.scruple",
        &["scruple::resolve::unknown_set"],
    );
    assert_eq!(
        out.labels(0),
        [("special_catgories", "no set has this name")]
    );
    assert!(out
        .help(0)
        .starts_with("did you mean `special_categories`?"));
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn unknown_purpose() {
    let out = fails(
        "unknown_purpose.scruple",
        &[
            "scruple::resolve::unknown_purpose",
            "scruple::resolve::unknown_purpose",
            "scruple::resolve::unused_purpose",
        ],
    );
    assert_eq!(
        out.labels(0),
        [("email_marketting", "no purpose has this name")]
    );
    assert!(out.help(0).starts_with("did you mean `email_marketing`?"));
    assert_eq!(out.labels(1), [("analytics", "no purpose has this name")]);
    assert_eq!(out.diags[2].severity, Severity::Warning);
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn unknown_rule_in_requires() {
    let out = fails(
        "unknown_rule_in_requires.scruple",
        &["scruple::resolve::unknown_rule"],
    );
    assert_eq!(
        out.labels(0),
        [("consent_per_purpos", "no rule has this name")]
    );
    assert_eq!(out.help(0), "did you mean `consent_per_purpose`?");
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn unknown_table() {
    let out = fails(
        "unknown_table.scruple",
        &["scruple::resolve::unknown_table"],
    );
    assert_eq!(
        out.labels(0),
        [("digital_age_of_consnt", "no table has this name")]
    );
    assert_eq!(out.help(0), "did you mean `digital_age_of_consent`?");
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn unknown_channel() {
    let out = fails(
        "unknown_channel.scruple",
        &["scruple::resolve::unknown_channel"],
    );
    assert_eq!(out.labels(0), [("emial", "no channel has this name")]);
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn table_value_not_a_number() {
    let out = fails(
        "table_value_not_a_number.scruple",
        &["scruple::resolve::bad_table_value"],
    );
    assert_eq!(
        out.labels(0),
        [
            ("fourteen", "not a number"),
            ("age_of_consent", "used as an age here"),
        ]
    );
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn duplicate_set() {
    let out = fails(
        "duplicate_set.scruple",
        &["scruple::resolve::duplicate_name"],
    );
    let label_lines: Vec<usize> = out.diags[0]
        .labels
        .iter()
        .map(|l| l.source.line_col(l.span.start).0)
        .collect();
    assert_eq!(label_lines, [4, 3], "again here, then first here");
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn duplicate_rule_across_import() {
    let out = fails(
        "duplicate_rule_across_import/main.scruple",
        &["scruple::resolve::duplicate_rule"],
    );
    let files: Vec<&str> = out.diags[0]
        .labels
        .iter()
        .map(|l| l.source.name.as_str())
        .collect();
    assert_eq!(
        files,
        [
            "tests/fixtures/policies/duplicate_rule_across_import/other.scruple",
            "tests/fixtures/policies/duplicate_rule_across_import/main.scruple",
        ]
    );
    insta::assert_snapshot!(out.rendered);
}

// ---------------------------------------------------------------- imports

#[test]
fn import_outside_root() {
    let out = fails(
        "import_outside_root.scruple",
        &["scruple::import::outside_root"],
    );
    assert_eq!(
        out.labels(0),
        [(
            "\"../../x.scruple\"",
            "this path climbs above the policy directory"
        )]
    );
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn import_missing_file() {
    let out = fails(
        "import_missing_file.scruple",
        &["scruple::import::not_found"],
    );
    assert_eq!(
        out.labels(0),
        [(
            "\"sets/special-categories.scruple\"",
            "looked for `sets/special-categories.scruple`"
        )]
    );
    insta::assert_snapshot!(out.rendered);
}

// ---------------------------------------------------------------- cycles

#[test]
fn import_cycle() {
    let out = fails("import_cycle/a.scruple", &["scruple::import::cycle"]);
    assert_eq!(
        out.labels(0),
        [
            ("import \"b.scruple\"", "`a.scruple` imports `b.scruple`"),
            ("import \"a.scruple\"", "`b.scruple` imports `a.scruple`"),
        ]
    );
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn import_cycle_three() {
    let out = fails("import_cycle_three/a.scruple", &["scruple::import::cycle"]);
    assert_eq!(out.diags[0].labels.len(), 3);
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn set_cycle() {
    let out = fails("set_cycle.scruple", &["scruple::resolve::set_cycle"]);
    assert_eq!(
        out.labels(0),
        [
            ("medical", "`health_data` is built from `medical`"),
            ("sensitive", "`medical` is built from `sensitive`"),
            ("health_data", "`sensitive` is built from `health_data`"),
        ]
    );
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn defers_to_errors() {
    let out = fails(
        "defers_errors.scruple",
        &[
            "scruple::resolve::defers_to_itself",
            "scruple::resolve::unknown_rule",
            "scruple::resolve::defers_across_jurisdictions",
            "scruple::resolve::defers_cycle",
        ],
    );
    assert_eq!(out.labels(0), [("eu_age", "the rule's own id")]);
    assert!(out.help(1).starts_with("did you mean `eu_age`?"));
    assert_eq!(
        out.labels(2),
        [
            ("eu_age", "`eu_age` applies only in EU"),
            ("us_age", "`us_age` applies only in US"),
        ]
    );
    assert_eq!(
        out.labels(3),
        [
            ("second", "`first` defers to `second`"),
            ("first", "`second` defers to `first`"),
        ]
    );
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn defers_to_valid() {
    let out = run("valid/defers.scruple");
    assert!(out.compiled, "{}", out.rendered);
    assert!(out.diags.is_empty(), "{}", out.rendered);
}

#[test]
fn requires_cycle() {
    let out = fails(
        "requires_cycle.scruple",
        &["scruple::resolve::requires_cycle"],
    );
    assert_eq!(out.diags[0].labels.len(), 2);
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn lineage_cycle() {
    let out = fails(
        "lineage_cycle.scruple",
        &["scruple::resolve::lineage_cycle"],
    );
    assert_eq!(
        out.labels(0),
        [
            (
                "likely_parent",
                "`baby_products_score` comes from `likely_parent`"
            ),
            (
                "baby_products_score",
                "`likely_parent` comes from `baby_products_score`"
            ),
        ]
    );
    insta::assert_snapshot!(out.rendered);
}

// ---------------------------------------------------------------- warnings

#[test]
fn unknown_placeholder() {
    let out = run("unknown_placeholder.scruple");
    assert!(out.compiled, "a warning does not stop compilation");
    assert_eq!(out.codes(), ["scruple::resolve::unknown_placeholder"]);
    assert_eq!(out.diags[0].severity, Severity::Warning);
    // The label is on the placeholder itself, not the whole message.
    assert_eq!(out.labels(0), [("{limt}", "no such placeholder")]);
    assert!(out.help(0).starts_with("did you mean `{limit}`?"));
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn unused_set() {
    let out = run("unused_set.scruple");
    assert!(out.compiled, "a warning does not stop compilation");
    assert_eq!(out.codes(), ["scruple::resolve::unused_set"]);
    assert_eq!(out.diags[0].severity, Severity::Warning);
    assert_eq!(
        out.labels(0),
        [("legacy_channels", "declared here, used by no rule or set")]
    );
    insta::assert_snapshot!(out.rendered);
}

// ---------------------------------------------------------------- collection

#[test]
fn several_errors_in_one_file() {
    // Every problem is reported in one run. `night_sms_cap` requires
    // `quiet_nights`, whose own error is reported once: no "unknown rule".
    let out = fails(
        "several_errors.scruple",
        &[
            "scruple::parse::bad_duration",
            "scruple::parse::bad_time",
            "scruple::resolve::unknown_set",
            "scruple::resolve::unknown_rule",
            "scruple::resolve::unknown_table",
        ],
    );
    assert_eq!(
        out.labels(3),
        [("consent_per_purpose", "no rule has this name")]
    );
    insta::assert_snapshot!(out.rendered);
}

/// Every fixture outside `valid/` produces at least one diagnostic, so a
/// fixture that stops showing its problem is noticed even without a test.
#[test]
fn every_broken_fixture_reports_something() {
    let mut checked = 0;
    for entry in std::fs::read_dir(DIR).expect("fixtures directory") {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let target = if path.is_dir() {
            if name == "valid" {
                continue;
            }
            ["a.scruple", "main.scruple"]
                .iter()
                .map(|f| format!("{name}/{f}"))
                .find(|f| Path::new(DIR).join(f).exists())
                .unwrap_or_else(|| panic!("{name}/ has no a.scruple or main.scruple"))
        } else {
            name
        };
        let out = run(&target);
        assert!(!out.diags.is_empty(), "{target} reports nothing");
        checked += 1;
    }
    assert!(checked >= 18, "only {checked} broken fixtures");
}

/// The valid fixtures compile without any diagnostic.
#[test]
fn valid_fixtures_compile_cleanly() {
    let mut inputs = Inputs::default();
    inputs.add_path(&Path::new(DIR).join("valid/minimal.scruple"));
    inputs.add_path(&Path::new(DIR).join("valid/every_construct.scruple"));
    inputs.add_path(&Path::new(DIR).join("valid/pack/pack.scruple"));
    let (policy, diags) = compile(inputs);
    assert!(diags.is_empty(), "{}", render_human(&diags, false, 100));
    let policy = policy.expect("compiles");
    assert_eq!(policy.files.len(), 4, "three roots and one import");
}

/// A syntax error past column 65,535 (miette's widths are `u16`) renders as
/// a bounded window with the real line and column, instead of panicking.
#[test]
fn diagnostic_past_column_65535_does_not_panic() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("wide.scruple");
    std::fs::write(&path, format!("{}bogus\n", " ".repeat(65_600))).expect("written");
    let mut inputs = Inputs::default();
    inputs.add_path(&path);
    let (policy, diags) = compile(inputs);
    assert!(policy.is_none());
    let rendered = render_human(&diags, false, 100);
    assert!(rendered.contains("wide.scruple:1:65601]"), "{rendered}");
    assert!(
        rendered.contains("…") && rendered.contains("bogus"),
        "{rendered}"
    );
    assert!(rendered.len() < 2_000, "{rendered}");
}

#[test]
fn unknown_category_and_law_did_you_mean() {
    let out = fails(
        "unknown_category_and_law.scruple",
        &[
            "scruple::resolve::unknown_category",
            "scruple::resolve::unknown_law",
            "scruple::resolve::unknown_category",
        ],
    );
    assert_eq!(
        out.labels(0),
        [("helth.condition", "no category has this name")]
    );
    assert!(out.help(0).starts_with("did you mean `health.condition`?"));
    assert!(out.help(1).starts_with("did you mean `gdpr_art9`?"));
    assert!(out.help(2).starts_with("did you mean `disability`?"));
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn unknown_targeting_name_did_you_mean() {
    let out = fails(
        "unknown_targeting_name.scruple",
        &[
            "scruple::resolve::unknown_targeting_name",
            "scruple::resolve::unknown_targeting_name",
        ],
    );
    assert_eq!(out.labels(0), [("helth", "not known")]);
    assert!(out.help(0).starts_with("did you mean `health`?"));
    assert_eq!(out.labels(1), [("xq_flag_7", "not known")]);
    assert!(out
        .help(1)
        .contains("`attribute xq_flag_7 category CATEGORY`"));
    insta::assert_snapshot!(out.rendered);
}

#[test]
fn known_targeting_names_compile() {
    // Declared attributes, sets, categories, aliases and names the
    // vocabulary places are all meaningful.
    let out = run("valid/known_targeting_names.scruple");
    assert!(out.compiled, "{}", out.rendered);
    assert!(out.diags.is_empty(), "{}", out.rendered);
}

#[test]
fn data_dictionary_is_checked() {
    let out = fails(
        "dictionary_errors.scruple",
        &[
            "scruple::resolve::override_without_reason",
            "scruple::resolve::unknown_category",
            "scruple::resolve::duplicate_value",
        ],
    );
    assert_eq!(out.labels(0), [("none", "overrides the classifier")]);
    assert_eq!(
        out.labels(1),
        [("helth.condition", "no category has this name")]
    );
    assert!(out.help(1).starts_with("did you mean `health.condition`?"));
    assert_eq!(
        out.labels(2),
        [
            ("COPD", "declared again here"),
            ("copd", "first declared here")
        ]
    );
    insta::assert_snapshot!(out.rendered);
}
