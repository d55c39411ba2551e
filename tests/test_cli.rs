//! End-to-end tests of `scruple test`: the real binary on the fixtures in
//! `tests/fixtures/policytest` (see the README there). Output is captured
//! without colour at 100 columns and snapshotted; each test also asserts
//! the exit code and, where a snapshot alone would hide it, the key lines.

use std::process::Output;

use assert_cmd::Command;

const DIR: &str = "tests/fixtures/policytest";

/// `scruple test --policy <fixture policy> ARGS…`, run from the crate root.
fn scruple_test(args: &[&str]) -> Output {
    let mut cmd = Command::cargo_bin("scruple").expect("the scruple binary is built");
    cmd.env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .arg("test")
        .arg("--policy")
        .arg(format!("{DIR}/policy"))
        .args(args);
    cmd.output().expect("scruple runs")
}

fn fixture(name: &str) -> String {
    format!("{DIR}/{name}")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn passing_suite_found_next_to_the_policy() {
    let out = scruple_test(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    insta::assert_snapshot!(stdout(&out), @r"
    tests/fixtures/policytest/policy/tests/house.tests.yaml (packs: house)
      ✓ a compliant email passes every rule
      ✓ a night send without an unsubscribe link fires two rules
      ✓ a purpose without consent skips the freshness rule
      ✓ a year later the consent is stale

    4 tests in 1 file: 4 passed, 0 failed
    ");
}

#[test]
fn failing_suite_shows_expected_and_actual_rules() {
    let out = scruple_test(&[&fixture("failing.tests.yaml")]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("        - house_consent      did not fire: it passed\n"));
    assert!(text.contains("        + house_unsubscribe  fired (error): "));
    insta::assert_snapshot!("failing_human", text);
}

#[test]
fn junit_output_for_ci() {
    let out = scruple_test(&["--format", "junit", &fixture("failing.tests.yaml")]);
    assert_eq!(out.status.code(), Some(1));
    let xml = stdout(&out);
    assert!(xml.contains(r#"<testcase name="consent stays fresh &lt;for ever&gt; &amp; a day""#));
    assert_eq!(xml.matches("<testcase ").count(), 3);
    assert_eq!(xml.matches("<failure ").count(), 2);
    insta::assert_snapshot!("failing_junit", xml);
}

#[test]
fn coverage_table() {
    let out = scruple_test(&["--coverage"]);
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!("coverage_table", stdout(&out));
}

#[test]
fn coverage_goes_to_stderr_with_junit() {
    let out = scruple_test(&["--format", "junit", "--coverage"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).starts_with("<?xml"));
    assert!(stderr(&out)
        .ends_with("coverage: 100.0% (4 of 4 rules fired in some test and passed in some test)\n"));
}

#[test]
fn min_coverage_met() {
    let out = scruple_test(&["--min-coverage", "100%"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).ends_with(
        "\ncoverage: 100.0% (4 of 4 rules fired in some test and passed in some test)\n"
    ));
}

#[test]
fn min_coverage_not_met() {
    let out = scruple_test(&["--min-coverage", "50", &fixture("partial.tests.yaml")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("1 test in 1 file: 1 passed, 0 failed"));
    assert_eq!(
        stderr(&out),
        "error: rule coverage 0.0% is below the minimum of 50%\n"
    );
}

#[test]
fn min_coverage_must_be_a_percentage() {
    let out = scruple_test(&["--min-coverage", "150"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("expected a percentage from 0 to 100"));
}

#[test]
fn malformed_test_file() {
    let out = scruple_test(&[&fixture("malformed.tests.yaml")]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    for code in [
        "scruple::test::missing_key",
        "scruple::test::unknown_key",
        "scruple::test::unknown_rule",
        "scruple::test::campaign_not_found",
        "scruple::test::type_error",
    ] {
        assert!(err.contains(code), "{code} missing from:\n{err}");
    }
    insta::assert_snapshot!("malformed", err);
}

#[test]
fn missing_test_path() {
    let out = scruple_test(&[&fixture("nowhere.tests.yaml")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("scruple::test::not_found"));
}

#[test]
fn a_policy_without_tests() {
    let mut cmd = Command::cargo_bin("scruple").expect("the scruple binary is built");
    let out = cmd
        .env("NO_COLOR", "1")
        .args(["test", "--policy", "tests/fixtures/check-policy"])
        .output()
        .expect("scruple runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("scruple::test::no_tests"));
}

#[test]
fn shipped_packs_pass_with_full_coverage() {
    let mut cmd = Command::cargo_bin("scruple").expect("the scruple binary is built");
    let out = cmd
        .env("NO_COLOR", "1")
        .args(["test", "--min-coverage", "100"])
        .output()
        .expect("scruple runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains(" 0 failed\n"));
}
