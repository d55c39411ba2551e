//! The shipped packs are tested: every pack in `policies/` has a suite
//! `policies/tests/PACK.tests.yaml` scoped to it, every test passes, and the
//! suite alone makes every rule of its pack both fire and pass (100%
//! coverage). Runs through the library, as `scruple test` does.

use std::path::{Path, PathBuf};

use scruple::compile::load::builtin_pack_names;
use scruple::compile::{compile, Inputs, Policy};
use scruple::diag::render_human;
use scruple::policytest::{self, render};

const POLICIES: &str = "policies";

/// The policy in `policies/`, compiled from disk.
fn shipped_policy() -> Policy {
    let mut inputs = Inputs::default();
    inputs.add_path(Path::new(POLICIES));
    let (policy, diags) = compile(inputs);
    match policy {
        Some(policy) => policy,
        None => panic!(
            "the shipped packs do not compile:\n{}",
            render_human(&diags, false, 100)
        ),
    }
}

fn suite_path(pack: &str) -> PathBuf {
    Path::new(POLICIES)
        .join("tests")
        .join(format!("{pack}.tests.yaml"))
}

/// Loads test files, failing the test on any problem.
fn load(policy: &Policy, paths: &[PathBuf]) -> Vec<policytest::Suite> {
    let (suites, diags) = policytest::load(paths, policy);
    assert!(
        diags.is_empty(),
        "the test files have problems:\n{}",
        render_human(&diags, false, 100)
    );
    suites
}

#[test]
fn every_shipped_pack_has_a_suite_scoped_to_it() {
    let policy = shipped_policy();
    let packs = builtin_pack_names();
    assert!(packs.len() >= 7, "shipped packs: {packs:?}");
    for pack in packs {
        let path = suite_path(pack);
        assert!(
            path.is_file(),
            "pack `{pack}` has no suite at {}",
            path.display()
        );
        let suites = load(&policy, &[path]);
        assert_eq!(
            suites[0].packs,
            [pack],
            "the suite of `{pack}` is not scoped to it"
        );
    }
}

#[test]
fn default_discovery_finds_exactly_the_pack_suites() {
    let (found, diags) = policytest::discover(&[], &[PathBuf::from(POLICIES)], &[]);
    assert!(diags.is_empty(), "{diags:#?}");
    let mut expected: Vec<PathBuf> = builtin_pack_names().into_iter().map(suite_path).collect();
    expected.sort();
    assert_eq!(found, expected);
}

#[test]
fn each_suite_passes_and_covers_its_pack() {
    let policy = shipped_policy();
    for pack in builtin_pack_names() {
        let run = policytest::run(&policy, &load(&policy, &[suite_path(pack)]));
        assert_eq!(
            run.failed(),
            0,
            "the `{pack}` suite fails:\n{}",
            render::human(&run, false)
        );
        let coverage = run.coverage.by_pack();
        let own = coverage.iter().find(|p| p.pack == pack);
        assert!(
            own.is_some_and(|p| p.total > 0 && p.covered == p.total),
            "the `{pack}` suite does not make every rule of the pack fire and pass:\n{}",
            render::coverage_table(&run.coverage)
        );
    }
}

#[test]
fn all_suites_together_cover_every_rule() {
    let policy = shipped_policy();
    let (paths, diags) = policytest::discover(&[], &[PathBuf::from(POLICIES)], &[]);
    assert!(diags.is_empty(), "{diags:#?}");
    let run = policytest::run(&policy, &load(&policy, &paths));
    assert_eq!(run.failed(), 0, "{}", render::human(&run, false));
    assert_eq!(run.coverage.rules.len(), policy.rules.len());
    assert_eq!(
        run.coverage.covered(),
        policy.rules.len(),
        "{}",
        render::coverage_table(&run.coverage)
    );
}

/// The `scruple::check::unknown_purpose` warnings of checking `inputs`
/// (files or directories) against the shipped packs, as (file, message).
fn unknown_purposes(inputs: &[&str]) -> Vec<(String, String, Option<String>)> {
    let policy = shipped_policy();
    let args: Vec<String> = inputs.iter().map(|s| s.to_string()).collect();
    let (sources, _invalid, usage) = scruple::check::read_inputs(&args);
    assert!(usage.is_empty(), "{}", render_human(&usage, false, 100));
    let run = scruple::check::run(&policy, sources, scruple::eval::Options::default());
    run.reports
        .iter()
        .flat_map(|r| {
            r.diagnostics
                .iter()
                .filter(|d| d.code == "scruple::check::unknown_purpose")
                .map(|d| (r.campaign.name.clone(), d.message.clone(), d.help.clone()))
        })
        .collect()
}

#[test]
fn a_misspelt_purpose_is_caught_by_the_shipped_vocabulary() {
    let dir = tempfile::tempdir().expect("temp dir");
    let campaign = dir.path().join("typo.yaml");
    let text = std::fs::read_to_string("tests/fixtures/campaigns/unknown_purpose_typo.yaml")
        .expect("fixture")
        .replace(
            "purposes: [email_marketting]",
            "purposes: [emial_marketing]",
        );
    assert!(text.contains("emial_marketing"), "the fixture changed");
    std::fs::write(&campaign, text).expect("write campaign");
    let found = unknown_purposes(&[&campaign.display().to_string()]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].1.contains("`emial_marketing`"), "{found:?}");
    assert_eq!(
        found[0].2.as_deref(),
        Some("did you mean `email_marketing`?"),
        "{found:?}"
    );
}

#[test]
fn every_purpose_the_repository_uses_is_in_the_vocabulary() {
    let found = unknown_purposes(&[
        "examples/campaigns",
        "tests/fixtures/campaigns",
        "tests/fixtures/gate",
        // The published cases, one directory per theme.
        "tests/cases/*/*.yaml",
    ]);
    // The one deliberate typo (checked against its own policy in check_cli).
    let unexpected: Vec<_> = found
        .iter()
        .filter(|(file, _, _)| !file.ends_with("unknown_purpose_typo.yaml"))
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:#?}");
    assert!(!found.is_empty(), "the typo fixture is still caught");
}
