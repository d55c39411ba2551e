//! The published-case corpus (issue 12): every directory under
//! `tests/cases/` (lawful bases, and whatever directories are added), each
//! case a campaign written from a published source whose header states the
//! verdict, the deciding rule and its citation (tests/cases/README.md).
//!
//! The judging and scoring is the library's (`scruple::policytest::cases`,
//! also behind `scruple test --cases tests/cases`); this test fails on any
//! wrongly judged case that `tests/cases/KNOWN_GAPS.md` does not list, on a
//! listed case that is now judged rightly, and prints the score by pack and
//! by direction.

use std::path::Path;

use assert_cmd::Command;
use scruple::compile::{compile, Inputs, Policy};
use scruple::diag::render_human;
use scruple::eval::{self, Options};
use scruple::policytest::cases;

const CASES: &str = "tests/cases";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// All shipped packs, compiled from `policies/`.
fn shipped_policy() -> Policy {
    let mut inputs = Inputs::default();
    inputs.add_path(&root().join("policies"));
    let (policy, diags) = compile(inputs);
    match policy {
        Some(policy) => policy,
        None => panic!(
            "the shipped packs do not compile:\n{}",
            render_human(&diags, false, 100)
        ),
    }
}

#[test]
fn every_case_gets_the_verdict_rule_and_citation_of_its_source() {
    let policy = shipped_policy();
    let run = cases::run(&policy, &root().join(CASES), None).expect("the corpus is readable");
    let report = cases::render_human_report(&run);
    println!("{report}");
    assert!(run.cases.len() >= 20, "only {} cases", run.cases.len());
    assert!(run.ok(), "{report}");
}

#[test]
fn at_least_forty_percent_of_the_cases_are_lawful() {
    let policy = shipped_policy();
    let run = cases::run(&policy, &root().join(CASES), None).expect("the corpus is readable");
    let lawful = run.cases.iter().filter(|c| c.expect == "pass").count();
    assert!(
        lawful * 10 >= run.cases.len() * 4,
        "{lawful} of {} cases are lawful",
        run.cases.len()
    );
}

/// The command prints the same score, and its JSON carries it.
#[test]
fn scruple_test_cases_prints_the_score() {
    let out = Command::cargo_bin("scruple")
        .expect("binary built")
        .current_dir(root())
        .env("NO_COLOR", "1")
        .args(["test", "--no-config", "--cases", CASES, "--format", "json"])
        .output()
        .expect("scruple runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(json["ok"], true, "{stdout}");
    assert_eq!(out.status.code(), Some(0));
    assert!(json["score"]["by_pack"]["gdpr"]["cases"].as_u64() > Some(0));
    assert!(json["score"]["by_direction"]["pass"]["right"].as_u64() > Some(0));
    let human = Command::cargo_bin("scruple")
        .expect("binary built")
        .current_dir(root())
        .env("NO_COLOR", "1")
        .args(["test", "--no-config", "--cases", CASES])
        .output()
        .expect("scruple runs");
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("by pack of the deciding rule:"), "{text}");
    assert!(text.contains("pass (lawful)"), "{text}");
}

/// Issue 12: the compliant housing ad of the special-ad-categories suite
/// failed once every pack was loaded (the consent rule demanded consent a
/// US ad does not need). Every campaign that suite expects clean must now
/// pass with all packs.
#[test]
fn the_clean_special_ad_categories_campaigns_pass_with_all_packs() {
    let policy = shipped_policy();
    let path = root().join("policies/tests/special-ad-categories.tests.yaml");
    let (suites, diags) = scruple::policytest::load(&[path], &policy);
    assert!(diags.is_empty(), "{}", render_human(&diags, false, 100));
    let clean: Vec<_> = suites[0]
        .tests
        .iter()
        .filter(|t| t.name.value.contains("compliant"))
        .collect();
    assert!(!clean.is_empty(), "the suite has no compliant campaign");
    for test in clean {
        let Some(campaign) = &test.campaign else {
            continue;
        };
        let report = eval::check(&policy, campaign, Options { now: test.at });
        let errors: Vec<(&str, &str)> = report
            .findings
            .iter()
            .filter(|f| f.fails(false))
            .map(|f| (f.rule.as_str(), f.message.as_str()))
            .collect();
        assert!(
            report.passes(false),
            "`{}` fails with all packs: {errors:?}",
            test.name.value
        );
    }
}

/// In `gate`, a lawful campaign on the soft opt-in is no longer rejected as
/// a whole: recipients are decided one by one, and the per-recipient
/// opt-outs are enforced with their citations.
#[test]
fn gate_decides_recipients_of_a_soft_opt_in_campaign() {
    let campaign = root()
        .join(CASES)
        .join("lawful-basis/pass_gb_soft_opt_in_customers_who_bought.yaml");
    let records = concat!(
        r#"{"id":"customer","jurisdiction":"GB","timezone":"Europe/London","age":41}"#,
        "\n",
        r#"{"id":"unsubscribed","jurisdiction":"GB","timezone":"Europe/London","age":35,"opt_outs":{"unsubscribed":true}}"#,
        "\n",
    );
    let out = Command::cargo_bin("scruple")
        .expect("binary built")
        .current_dir(root())
        .env("NO_COLOR", "1")
        .arg("gate")
        .arg(&campaign)
        .args(["--recipients", "-", "--no-config"])
        .args(["--at", "2026-03-10T10:00:00Z"])
        .write_stdin(records)
        .output()
        .expect("scruple runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON lines"))
        .collect();
    assert_eq!(lines.len(), 2, "stdout: {stdout}\nstderr: {stderr}");
    assert_eq!(lines[0]["recipient"], "customer");
    assert_eq!(lines[0]["decision"], "allow", "{stdout}");
    assert_eq!(lines[1]["recipient"], "unsubscribed");
    assert_eq!(lines[1]["decision"], "suppress", "{stdout}");
    let reasons = lines[1]["reasons"].as_array().cloned().unwrap_or_default();
    assert!(
        reasons
            .iter()
            .any(|r| r["rule"] == "baseline_honour_unsubscribes"
                && r["citations"].as_array().is_some_and(|c| !c.is_empty())),
        "{stdout}"
    );
}

/// Issue 12: in a campaign for the EU and the US, GDPR Art. 8 (a rule
/// confined to the EU/EEA) decides the EU recipients only. A 15-year-old in
/// New York was suppressed under the table's default of 16; now only the
/// baseline's COPPA floor (13) applies to them, and a 14-year-old in France
/// is still suppressed under France's 15.
#[test]
fn gate_applies_gdpr_art8_only_to_recipients_in_the_eu() {
    let campaign = root()
        .join(CASES)
        .join("consent/pass_eu_fr_us_ny_newsletter_consent_from_15.yaml");
    let consent = r#""consents":{"email_marketing":{"granted_at":"2025-11-02"}}"#;
    let records = [
        format!(r#"{{"id":"ny15","jurisdiction":"US-NY","timezone":"America/New_York","age":15,{consent}}}"#),
        format!(r#"{{"id":"fr14","jurisdiction":"FR","timezone":"Europe/Paris","age":14,{consent}}}"#),
        format!(r#"{{"id":"ny12","jurisdiction":"US-NY","timezone":"America/New_York","age":12,{consent}}}"#),
        format!(r#"{{"id":"fr15","jurisdiction":"EU-FR","timezone":"Europe/Paris","age":15,{consent}}}"#),
    ]
    .join("\n");
    let out = Command::cargo_bin("scruple")
        .expect("binary built")
        .current_dir(root())
        .env("NO_COLOR", "1")
        .arg("gate")
        .arg(&campaign)
        .args(["--recipients", "-", "--no-config"])
        .args(["--at", "2026-03-10T15:00:00Z"])
        .write_stdin(records)
        .output()
        .expect("scruple runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON lines"))
        .collect();
    assert_eq!(lines.len(), 4, "stdout: {stdout}\nstderr: {stderr}");
    let decision = |id: &str| {
        lines
            .iter()
            .find(|l| l["recipient"] == id)
            .map(|l| (l["decision"].clone(), l["reasons"].clone()))
            .unwrap_or_default()
    };
    assert_eq!(decision("ny15").0, "allow", "{stdout}");
    assert_eq!(decision("fr15").0, "allow", "{stdout}");
    let (fr14, reasons) = decision("fr14");
    assert_eq!(fr14, "suppress", "{stdout}");
    assert!(
        reasons
            .to_string()
            .contains("gdpr_art8_digital_age_of_consent"),
        "{stdout}"
    );
    let (ny12, reasons) = decision("ny12");
    assert_eq!(ny12, "suppress", "{stdout}");
    let reasons = reasons.to_string();
    assert!(
        reasons.contains("baseline_marketing_minimum_age"),
        "{stdout}"
    );
    assert!(!reasons.contains("gdpr_art8"), "{stdout}");
}
