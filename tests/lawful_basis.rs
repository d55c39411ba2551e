//! Lawful bases other than consent (issue 12, item 1), checked on cases
//! written from published sources: `tests/cases/lawful-basis/*.yaml`.
//!
//! Each case file starts with a comment that names its source and states
//! what must happen:
//!
//! ```text
//! # Expect: pass | fail
//! # Decides: RULE fires|passes|not_applicable, cite "CITATION"
//! ```
//!
//! The case passes when the verdict is right (no error finding for `pass`,
//! an error finding for `fail`), the deciding rule had that outcome (for
//! `fires`, at error severity), and that rule cites the citation. Every
//! case is checked with all shipped packs loaded, as a user runs scruple.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use jiff::Timestamp;
use scruple::campaign::{self, Campaign};
use scruple::compile::{compile, Inputs, Policy};
use scruple::diag::{render_human, Severity};
use scruple::eval::{self, CampaignReport, Options, RuleOutcome};
use scruple::source::SourceFile;

const CASES: &str = "tests/cases/lawful-basis";

/// Every directory of cases this runner judges (issue 12: US messaging law,
/// the mailbox providers, Canada, minors).
const CASE_DIRS: &[&str] = &[
    CASES,
    "tests/cases/us-messaging",
    "tests/cases/mailbox-providers",
    "tests/cases/canada",
    "tests/cases/minors",
];

/// "Now" for every case: before the sends, after every consent and assessment.
const AT: &str = "2026-03-01T00:00:00Z";

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

fn load(path: &Path) -> (String, Campaign) {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{} is unreadable: {e}", path.display()));
    let source = SourceFile::new(path.display().to_string(), text.clone());
    match campaign::load(&source) {
        Ok(c) => (text, c),
        Err(diags) => panic!(
            "{} does not load:\n{}",
            path.display(),
            render_human(&diags, false, 100)
        ),
    }
}

fn check(policy: &Policy, campaign: &Campaign) -> CampaignReport {
    let now: Timestamp = AT.parse().expect("a valid constant time");
    eval::check(policy, campaign, Options { now })
}

/// What a case file's header expects.
#[derive(Debug)]
struct Expectation {
    pass: bool,
    rule: String,
    outcome: String,
    cite: String,
}

fn header_value<'t>(text: &'t str, key: &str) -> Option<&'t str> {
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .find_map(|l| l.strip_prefix(&format!("# {key}:")))
        .map(str::trim)
}

fn expectation(file: &Path, text: &str) -> Expectation {
    let name = file.display();
    assert!(
        header_value(text, "Source").is_some(),
        "{name}: the header names no source"
    );
    let pass = match header_value(text, "Expect") {
        Some("pass") => true,
        Some("fail") => false,
        other => panic!("{name}: `# Expect:` must be pass or fail, found {other:?}"),
    };
    let decides = header_value(text, "Decides")
        .unwrap_or_else(|| panic!("{name}: the header has no `# Decides:` line"));
    let (rule_part, cite_part) = decides
        .split_once(", cite ")
        .unwrap_or_else(|| panic!("{name}: `# Decides:` has no `, cite \"…\"`"));
    let mut words = rule_part.split_whitespace();
    let rule = words.next().unwrap_or_default().to_string();
    let outcome = words.next().unwrap_or_default().to_string();
    let cite = cite_part.trim().trim_matches('"').to_string();
    Expectation {
        pass,
        rule,
        outcome,
        cite,
    }
}

fn case_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = CASE_DIRS
        .iter()
        .flat_map(|dir| std::fs::read_dir(root().join(dir)).expect("the cases directory exists"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// Checks one case; returns what went wrong, if anything.
fn judge(policy: &Policy, file: &Path) -> Option<String> {
    let (text, campaign) = load(file);
    let want = expectation(file, &text);
    let report = check(policy, &campaign);
    let errors: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.fails(false))
        .map(|f| f.rule.as_str())
        .collect();
    let mut wrong = Vec::new();
    if report.passes(false) != want.pass {
        wrong.push(format!(
            "verdict: expected {}, errors from {errors:?}",
            if want.pass { "pass" } else { "fail" }
        ));
    }
    let Some(index) = policy.rules.iter().position(|r| r.id == want.rule) else {
        return Some(format!("no rule `{}` in the policy", want.rule));
    };
    let rule = &policy.rules[index];
    let outcome = report.outcomes.get(index).copied();
    let outcome_ok = match want.outcome.as_str() {
        "fires" => {
            outcome == Some(RuleOutcome::Violated)
                && report
                    .findings
                    .iter()
                    .any(|f| f.rule == want.rule && f.severity == Severity::Error)
        }
        "passes" => outcome == Some(RuleOutcome::Passed),
        "not_applicable" => outcome == Some(RuleOutcome::NotApplicable),
        other => return Some(format!("unknown outcome `{other}` in `# Decides:`")),
    };
    if !outcome_ok {
        wrong.push(format!(
            "`{}` should have {}, but its outcome is {outcome:?}",
            want.rule, want.outcome
        ));
    }
    if !rule.cites().any(|c| c == want.cite) {
        wrong.push(format!(
            "`{}` does not cite \"{}\" (it cites {:?})",
            want.rule,
            want.cite,
            rule.cites().collect::<Vec<_>>()
        ));
    }
    if want.outcome == "fires" {
        let finding_cites = report
            .findings
            .iter()
            .filter(|f| f.rule == want.rule)
            .all(|f| f.citations.contains(&want.cite));
        if !finding_cites {
            wrong.push(format!(
                "the finding of `{}` does not carry \"{}\"",
                want.rule, want.cite
            ));
        }
    }
    (!wrong.is_empty()).then(|| wrong.join("; "))
}

#[test]
fn every_case_gets_the_verdict_rule_and_citation_of_its_source() {
    let policy = shipped_policy();
    let files = case_files();
    assert!(files.len() >= 20, "only {} cases", files.len());
    let failures: Vec<String> = files
        .iter()
        .filter_map(|f| judge(&policy, f).map(|why| format!("{}: {why}", f.display())))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases are judged wrongly:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn at_least_40_percent_of_the_cases_are_lawful() {
    let files = case_files();
    let mut pass = 0;
    for file in &files {
        let (text, _) = load(file);
        if expectation(file, &text).pass {
            pass += 1;
        }
    }
    // Issue 12: at least 40 % lawful, since false positives are as
    // damaging as misses.
    assert!(
        pass * 5 >= files.len() * 2,
        "{pass} of {} cases pass",
        files.len()
    );
    let names: Vec<String> = files
        .iter()
        .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    assert!(names
        .iter()
        .all(|n| n.starts_with("pass_") || n.starts_with("fail_")));
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
        let report = eval::check(&policy, &test.campaign, Options { now: test.at });
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
        .join("pass_gb_soft_opt_in_customers_who_bought.yaml");
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
