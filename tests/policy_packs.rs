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
