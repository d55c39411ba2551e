//! Unit tests of policy test loading, running and rendering, against the
//! shipped baseline pack and test files held in memory.

use super::*;
use crate::compile::{compile, Inputs};
use crate::diag::Diag;
use crate::source::SourceFile;

/// The shipped baseline pack.
fn policy() -> Policy {
    let mut inputs = Inputs::default();
    inputs.add_builtin(&["baseline".to_owned()]);
    match compile(inputs) {
        (Some(policy), _) => policy,
        (None, diags) => panic!("the baseline pack does not compile: {diags:#?}"),
    }
}

/// A compliant baseline campaign under `x-campaign`, then `tests`.
fn file(tests: &str) -> String {
    format!(
        "\
packs: [baseline]
x-campaign: &campaign
  id: unit
  jurisdictions: [EU-FR]
  message_type: marketing
  channels: [email]
  purposes: [email_marketing]
  audience: &audience
    age: {{ min: 18 }}
    suppressions: [unsubscribed]
  consent: {{ purposes: [email_marketing], collected_at: 2025-06-01 }}
  schedule: {{ timezone: recipient, send_at: 2026-02-03T10:00 }}
  message: {{ subject: Hello, unsubscribe: {{ link: u }} }}
tests:
{tests}"
    )
}

fn load_text(text: &str) -> Result<Suite, Vec<Diag>> {
    load_suite(&SourceFile::new("mem/unit.tests.yaml", text), &policy())
}

fn load_ok(tests: &str) -> Suite {
    match load_text(&file(tests)) {
        Ok(suite) => suite,
        Err(diags) => panic!("does not load: {diags:#?}"),
    }
}

fn load_err(tests: &str) -> Vec<Diag> {
    match load_text(&file(tests)) {
        Ok(_) => panic!("loads, but should not"),
        Err(diags) => diags,
    }
}

fn codes(diags: &[Diag]) -> Vec<&str> {
    diags.iter().map(|d| d.code.as_str()).collect()
}

/// Runs the tests and returns the one result.
fn run_one(tests: &str) -> TestResult {
    let run = run(&policy(), &[load_ok(tests)]);
    assert_eq!(run.total(), 1);
    let result = run.results().next().cloned();
    result.unwrap_or_else(|| unreachable!())
}

const NIGHT: &str = "    campaign_inline:
      <<: *campaign
      schedule: { timezone: recipient, send_at: 2026-02-03T23:00 }
";

#[test]
fn clean_passes_for_a_compliant_campaign() {
    let result = run_one("  - name: ok\n    campaign_inline: *campaign\n    expect: clean\n");
    assert!(result.passed(), "{result:#?}");
    assert_eq!(result.line, 15);
}

#[test]
fn clean_fails_with_every_rule_that_fires() {
    let result = run_one(&format!("  - name: night\n{NIGHT}    expect: clean\n"));
    assert!(!result.passed());
    assert_eq!(result.fires.len(), 1);
    assert_eq!(result.fires[0].rule, "baseline_quiet_hours");
    assert_eq!(result.fires[0].mark, Mark::Unexpected);
    assert!(matches!(
        result.fires[0].outcome,
        Outcome::Fired {
            severity: Severity::Warning,
            more: 0,
            ..
        }
    ));
}

#[test]
fn fires_lists_every_rule_that_fires_unless_only_is_false() {
    let both = "[baseline_quiet_hours, baseline_deceptive_subject]";
    let result = run_one(&format!(
        "  - name: night\n{NIGHT}    expect: {{ fires: {both} }}\n"
    ));
    let marks: Vec<(&str, Mark)> = result
        .fires
        .iter()
        .map(|l| (l.rule.as_str(), l.mark))
        .collect();
    assert_eq!(
        marks,
        [
            ("baseline_quiet_hours", Mark::Matched),
            ("baseline_deceptive_subject", Mark::Missing)
        ]
    );
    assert_eq!(result.fires[1].outcome, Outcome::Passed);

    // A second rule fires; with `only: false` it may.
    let tests = "  - name: night and reply
    campaign_inline:
      <<: *campaign
      schedule: { timezone: recipient, send_at: 2026-02-03T23:00 }
      message: { subject: 'Re: hello', unsubscribe: { link: u } }
";
    let exact = run_one(&format!(
        "{tests}    expect: {{ fires: [baseline_quiet_hours] }}\n"
    ));
    assert!(!exact.passed());
    assert_eq!(exact.fires[1].mark, Mark::Unexpected);
    let loose = run_one(&format!(
        "{tests}    expect: {{ fires: [baseline_quiet_hours], only: false }}\n"
    ));
    assert!(loose.passed(), "{loose:#?}");
}

#[test]
fn passes_skipped_waived_and_not_applicable_are_told_apart() {
    // Consent for another purpose: the consent rule fires, freshness is
    // skipped; a transactional message leaves the marketing rules out.
    let result = run_one(
        "  - name: outcomes
    campaign_inline:
      <<: *campaign
      purposes: [email_marketing, profiling]
    expect:
      passes: [baseline_consent_freshness, baseline_personalization_explanation]
      skipped: [baseline_consent_per_purpose]
      waived: [baseline_quiet_hours]
      not_applicable: [baseline_honour_unsubscribes]
",
    );
    let got: Vec<(&str, Kind, Kind)> = result
        .failures
        .iter()
        .filter_map(|f| match f {
            Failure::Mismatch {
                rule,
                expected,
                actual,
            } => Some((rule.as_str(), *expected, actual.kind())),
            _ => None,
        })
        .collect();
    assert_eq!(
        got,
        [
            ("baseline_consent_per_purpose", Kind::Skipped, Kind::Fires),
            ("baseline_consent_freshness", Kind::Passes, Kind::Skipped),
            ("baseline_quiet_hours", Kind::Waived, Kind::Passes),
            (
                "baseline_honour_unsubscribes",
                Kind::NotApplicable,
                Kind::Passes
            ),
            (
                "baseline_personalization_explanation",
                Kind::Passes,
                Kind::NotApplicable
            ),
        ]
    );
    // `fires` is not given: the consent rule firing is not itself a failure.
    assert!(result.fires.is_empty());
}

#[test]
fn waivers_and_campaign_diagnostics_are_expectations() {
    let waiver = "      waivers:
        - rule: baseline_quiet_hours
          justification: night shift workers asked for it
          approver: dpo@example.com
          reference: T-1
          expires: 2026-06-30
";
    let tests = format!(
        "  - name: waived
    campaign_inline:
      <<: *campaign
      schedule: {{ timezone: recipient, send_at: 2026-02-03T23:00 }}
{waiver}    expect: {{ waived: [baseline_quiet_hours] }}
  - name: expired
    at: 2026-07-01
    campaign_inline:
      <<: *campaign
      schedule: {{ timezone: recipient, send_at: 2026-02-03T23:00 }}
{waiver}    expect: {{ fires: [baseline_quiet_hours], diagnostics: [scruple::waiver::expired] }}
  - name: stale
    campaign_inline:
      <<: *campaign
{waiver}    expect: clean
"
    );
    let run = run(&policy(), &[load_ok(&tests)]);
    let results: Vec<&TestResult> = run.results().collect();
    assert!(results[0].passed(), "{:#?}", results[0]);
    assert!(results[1].passed(), "{:#?}", results[1]);
    assert_eq!(
        results[2].failures,
        [Failure::UnexpectedDiagnostic {
            code: "scruple::waiver::stale".into(),
            message: "the waiver for `baseline_quiet_hours` is not needed: the rule does not fire"
                .into()
        }]
    );
}

#[test]
fn time_comes_from_the_test_then_the_file_then_the_default() {
    let tests = "  - name: default
    campaign_inline: *campaign
    expect: clean
  - name: own time
    at: 2030-01-01T12:00:00Z
    campaign_inline: *campaign
    expect: { fires: [baseline_consent_freshness] }
";
    let suite = load_ok(tests);
    assert_eq!(suite.tests[0].at, default_at());
    assert_eq!(
        suite.tests[1].at.to_string(),
        "2030-01-01T12:00:00Z".to_owned()
    );
    let with_file_time = file(tests).replace("packs: [baseline]", "at: 2027-03-04");
    let suite = match load_text(&with_file_time) {
        Ok(suite) => suite,
        Err(diags) => panic!("{diags:#?}"),
    };
    assert_eq!(suite.packs, Vec::<String>::new());
    assert_eq!(suite.tests[0].at.to_string(), "2027-03-04T00:00:00Z");
    assert_eq!(suite.tests[1].at.to_string(), "2030-01-01T12:00:00Z");
    assert!(run(&policy(), &[suite]).results().all(TestResult::passed));
}

#[test]
fn inline_campaigns_point_into_the_test_file() {
    let suite = load_ok(
        "  - name: mapping
    campaign_inline: { <<: *campaign, id: own-id }
    expect: clean
  - name: text
    campaign_inline: |
      id: from-text
      channels: [sms]
    expect: clean
",
    );
    let Some(mapping) = &suite.tests[0].campaign else {
        panic!("the first test has a campaign")
    };
    assert_eq!(mapping.source.name, "mem/unit.tests.yaml");
    let id_span = mapping.model.id.span;
    assert_eq!(mapping.source.slice(id_span), "own-id");
    let Some(text) = &suite.tests[1].campaign else {
        panic!("the second test has a campaign")
    };
    assert_eq!(
        text.source.name,
        "mem/unit.tests.yaml (inline campaign of `text`)"
    );
    assert_eq!(text.model.id.value, "from-text");
}

#[test]
fn merged_keys_replace_the_copied_ones() {
    let suite = load_ok(
        "  - name: merged
    campaign_inline:
      <<: *campaign
      audience:
        <<: *audience
        suppressions: [objected]
    expect: { fires: [baseline_honour_unsubscribes] }
",
    );
    let result = run(&policy(), &[suite]);
    assert_eq!(result.failed(), 0, "{result:#?}");
}

#[test]
fn bad_test_files_are_reported_with_suggestions() {
    let diags = load_err(
        "  - name: one
    campain: x.yaml
    expect: { fires: [baseline_quiet_hour], pases: [baseline_quiet_hours] }
",
    );
    assert_eq!(
        codes(&diags),
        [codes::UNKNOWN_KEY, codes::UNKNOWN_RULE, codes::UNKNOWN_KEY]
    );
    let helps: Vec<&str> = diags.iter().filter_map(|d| d.help.as_deref()).collect();
    assert_eq!(diags[0].message, "unknown key `campain` in `tests[0]`");
    assert_eq!(helps[0], "did you mean `campaign`?");
    assert!(helps[1].starts_with("did you mean `baseline_quiet_hours`?"));
    assert_eq!(helps[2], "did you mean `passes`?");
    let label = &diags[1].labels[0];
    assert_eq!(label.source.slice(label.span), "baseline_quiet_hour");
}

#[test]
fn contradictions_are_errors() {
    let diags = load_err(
        "  - name: twice
    campaign_inline: *campaign
    expect: { fires: [baseline_quiet_hours], passes: [baseline_quiet_hours] }
  - name: twice
    campaign: a.yaml
    campaign_inline: *campaign
    expect: clean
  - name: only alone
    campaign_inline: *campaign
    expect: { only: false }
  - name: nothing
    campaign_inline: *campaign
    expect: {}
  - name: no campaign
    expect: clean
",
    );
    assert_eq!(
        codes(&diags),
        [
            codes::CONFLICT,
            codes::CONFLICT,
            codes::INVALID_VALUE,
            codes::INVALID_VALUE,
            codes::MISSING_KEY
        ]
    );
}

#[test]
fn duplicate_test_names_and_unknown_packs_are_errors() {
    let text = file(
        "  - name: same
    campaign_inline: *campaign
    expect: clean
  - name: same
    campaign_inline: *campaign
    expect: clean
",
    )
    .replace("packs: [baseline]", "packs: baselin");
    let diags = match load_text(&text) {
        Ok(_) => panic!("loads"),
        Err(diags) => diags,
    };
    assert_eq!(codes(&diags), [codes::UNKNOWN_PACK, codes::DUPLICATE_NAME]);
    assert!(diags[0]
        .help
        .as_deref()
        .is_some_and(|h| h.starts_with("did you mean `baseline`?")));
}

#[test]
fn missing_campaign_files_point_at_the_path() {
    let diags = load_err("  - name: file\n    campaign: nowhere.yaml\n    expect: clean\n");
    assert_eq!(codes(&diags), [codes::CAMPAIGN_NOT_FOUND]);
    assert!(diags[0].message.contains("`mem/nowhere.yaml`"));
    let label = &diags[0].labels[0];
    assert_eq!(label.source.slice(label.span), "nowhere.yaml");
}

#[test]
fn yaml_problems_use_test_codes() {
    let empty = load_text("# nothing\n").err().unwrap_or_default();
    assert_eq!(codes(&empty), [codes::EMPTY]);
    let syntax = load_text("tests: [\n").err().unwrap_or_default();
    assert_eq!(codes(&syntax), [codes::SYNTAX]);
    let duplicate = load_text("tests: []\ntests: []\n")
        .err()
        .unwrap_or_default();
    assert!(codes(&duplicate).contains(&codes::DUPLICATE_KEY));
    assert!(duplicate
        .iter()
        .any(|d| d.message == "duplicate key `tests` in the test file"));
    let not_a_map = load_text("- a\n").err().unwrap_or_default();
    assert_eq!(codes(&not_a_map), [codes::TYPE_ERROR]);
}

#[test]
fn times_are_dates_or_instants() {
    assert_eq!(
        parse_time("2026-11-23").map(|t| t.to_string()),
        Ok("2026-11-23T00:00:00Z".to_owned())
    );
    assert_eq!(
        parse_time("2026-11-23T10:00:00+01:00").map(|t| t.to_string()),
        Ok("2026-11-23T09:00:00Z".to_owned())
    );
    // The civil form campaigns use is accepted too (issue 10 item 18).
    assert_eq!(
        parse_time("2026-11-23T10:00").map(|t| t.to_string()),
        Ok("2026-11-23T10:00:00Z".to_owned())
    );
    assert!(parse_time("tomorrow").is_err());
    let diags =
        load_err("  - name: t\n    at: soon\n    campaign_inline: *campaign\n    expect: clean\n");
    assert_eq!(codes(&diags), [codes::INVALID_VALUE]);
}

#[test]
fn coverage_counts_rules_in_scope_both_ways() {
    let run = run(
        &policy(),
        &[load_ok(&format!(
            "  - name: clean\n    campaign_inline: *campaign\n    expect: clean\n  - name: night\n{NIGHT}    expect: {{ fires: [baseline_quiet_hours] }}\n"
        ))],
    );
    let quiet = run
        .coverage
        .rules
        .iter()
        .find(|r| r.rule == "baseline_quiet_hours");
    assert_eq!(
        quiet,
        Some(&RuleCoverage {
            rule: "baseline_quiet_hours".into(),
            pack: "baseline".into(),
            fired: 1,
            passed: 1
        })
    );
    assert_eq!(run.coverage.covered(), 1);
    assert_eq!(run.coverage.rules.len(), 16);
    assert!((run.coverage.percent() - 6.25).abs() < 1e-9);
    let packs = run.coverage.by_pack();
    assert_eq!(
        packs,
        [PackCoverage {
            pack: "baseline".into(),
            covered: 1,
            total: 16
        }]
    );
    assert_eq!(Coverage::default().percent(), 100.0);
}

#[test]
fn rules_outside_the_scope_are_neither_checked_nor_counted() {
    let mut inputs = Inputs::default();
    inputs.add_builtin(&["baseline".to_owned(), "bulk-sender".to_owned()]);
    let (Some(policy), _) = compile(inputs) else {
        panic!("does not compile");
    };
    let suite = match load_suite(
        &SourceFile::new(
            "mem/unit.tests.yaml",
            file("  - name: ok\n    campaign_inline: *campaign\n    expect: clean\n"),
        ),
        &policy,
    ) {
        Ok(suite) => suite,
        Err(diags) => panic!("{diags:#?}"),
    };
    // The campaign has no SPF record, so bulk_sender_spf fires, but the
    // suite is about the baseline pack.
    let run = run(&policy, &[suite]);
    assert_eq!(run.failed(), 0, "{run:#?}");
    let spf = run
        .coverage
        .rules
        .iter()
        .find(|r| r.rule == "bulk_sender_spf");
    assert_eq!(spf.map(|r| (r.fired, r.passed)), Some((0, 0)));
}

#[test]
fn human_output_marks_tests_and_explains_failures() {
    let run = run(
        &policy(),
        &[load_ok(&format!(
            "  - name: clean\n    campaign_inline: *campaign\n    expect: clean\n  - name: night\n{NIGHT}    expect: {{ fires: [baseline_deceptive_subject] }}\n"
        ))],
    );
    let text = render::human(&run, false);
    assert_eq!(
        text,
        "\
mem/unit.tests.yaml (packs: baseline)
  ✓ clean
  ✗ night
      at mem/unit.tests.yaml:18
      rules that fire (- expected, + actual):
        - baseline_deceptive_subject  did not fire: it passed
        + baseline_quiet_hours        fired (warning): A message would arrive at 23:00 in the recipient's local time, inside the quiet hours (21:00–08:00).

2 tests in 1 file: 1 passed, 1 failed
"
    );
    assert!(render::human(&run, true).contains("\x1b[31m✗\x1b[0m"));
}

#[test]
fn junit_escapes_names_and_messages() {
    let run = run(
        &policy(),
        &[load_ok(&format!(
            "  - name: \"<night> & 'day' \\\"quoted\\\"\"\n{NIGHT}    expect: clean\n"
        ))],
    );
    let xml = render::junit(&run);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"scruple test\" tests=\"1\" failures=\"1\" errors=\"0\">"));
    assert!(xml.contains(
        "<testcase name=\"&lt;night&gt; &amp; &apos;day&apos; &quot;quoted&quot;\" classname=\"mem/unit.tests.yaml\""
    ));
    assert!(xml.contains("message=\"1 expectation not met\">rules that fire (- expected, + actual):\n  + baseline_quiet_hours  fired (warning): A message would arrive at 23:00 in the recipient&apos;s local time"));
    assert!(xml.ends_with("</testsuites>\n"));
}

#[test]
fn coverage_table_lists_every_rule_and_pack() {
    let run = run(
        &policy(),
        &[load_ok(&format!(
            "  - name: night\n{NIGHT}    expect: {{ fires: [baseline_quiet_hours] }}\n"
        ))],
    );
    let table = render::coverage_table(&run.coverage);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("RULE "));
    assert_eq!(lines.len(), 1 + 16 + 1 + 2 + 1 + 1);
    assert!(table.contains(
        "baseline_quiet_hours                  baseline      1       0  no: never passes"
    ));
    assert!(table.contains(
        "baseline_deceptive_subject            baseline      0       1  no: never fires"
    ));
    assert!(table
        .ends_with("coverage: 0.0% (0 of 16 rules fired in some test and passed in some test)\n"));
}
