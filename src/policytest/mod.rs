//! Policy unit tests (`scruple test`).
//!
//! Tests live next to the policies, in YAML files named `*.tests.yaml` (by
//! convention `policies/tests/PACK.tests.yaml`). Each test names a campaign
//! (a file, or written inline) and what it expects of the rules: which fire,
//! which pass, which are skipped, waived or do not apply. The format is
//! documented in `docs/testing.md`.
//!
//! [`load`] reads test files into [`Suite`]s, checking every rule id and
//! pack name against the compiled policy; [`run`] checks each test's
//! campaign, compares the outcome of every rule with the expectation and
//! measures [`Coverage`]; [`render`] formats a [`TestRun`] (human text,
//! JUnit XML, the coverage table); [`command`] is the command line.

pub mod cases;
mod cli;
mod load;
pub mod render;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;

use crate::campaign::model::Spanned;
use crate::campaign::Campaign;
use crate::compile::Policy;
use crate::diag::Severity;
use crate::eval::{self, expr, CampaignReport, Options, Status};
use crate::source::Source;

pub use cli::{command, Executed, TestArgs, TestFormat};
pub use load::{discover, load, load_suite, parse_time};

/// Diagnostic codes for test files and test discovery.
pub mod codes {
    /// The test file is not YAML.
    pub const SYNTAX: &str = "scruple::test::syntax";
    /// The test file holds nothing.
    pub const EMPTY: &str = "scruple::test::empty";
    /// A mapping repeats a key.
    pub const DUPLICATE_KEY: &str = "scruple::test::duplicate_key";
    /// A key the test file format does not have.
    pub const UNKNOWN_KEY: &str = "scruple::test::unknown_key";
    /// A required key is absent.
    pub const MISSING_KEY: &str = "scruple::test::missing_key";
    /// A value of the wrong kind.
    pub const TYPE_ERROR: &str = "scruple::test::type_error";
    /// A value of the right kind in the wrong form: a time, an `expect` word.
    pub const INVALID_VALUE: &str = "scruple::test::invalid_value";
    /// An expectation names a rule the policy does not have.
    pub const UNKNOWN_RULE: &str = "scruple::test::unknown_rule";
    /// `packs` names a pack the policy does not have.
    pub const UNKNOWN_PACK: &str = "scruple::test::unknown_pack";
    /// A test's `campaign` file does not exist.
    pub const CAMPAIGN_NOT_FOUND: &str = "scruple::test::campaign_not_found";
    /// A file an `audit` test names cannot be read.
    pub const AUDIT_INPUT_NOT_FOUND: &str = "scruple::test::audit_input_not_found";
    /// Two tests of one file share a name.
    pub const DUPLICATE_NAME: &str = "scruple::test::duplicate_name";
    /// Contradictory statements: a rule expected twice, or both `campaign`
    /// and `campaign_inline`.
    pub const CONFLICT: &str = "scruple::test::conflict";
    /// A test file cannot be read (missing permissions, not UTF-8).
    pub const UNREADABLE: &str = "scruple::test::unreadable";
    /// A path on the command line does not exist.
    pub const NOT_FOUND: &str = "scruple::test::not_found";
    /// No test file was found.
    pub const NO_TESTS: &str = "scruple::test::no_tests";
}

/// The time a test is evaluated at when neither the test nor its file says
/// (`at:`): fixed, so that consent ages and waiver expiries do not change
/// from one day to the next.
pub const DEFAULT_AT: &str = "2026-01-01T00:00:00Z";

/// [`DEFAULT_AT`] as a timestamp.
pub fn default_at() -> Timestamp {
    DEFAULT_AT.parse().unwrap_or(Timestamp::UNIX_EPOCH)
}

/// One test file.
#[derive(Clone, Debug)]
pub struct Suite {
    /// The file.
    pub source: Source,
    /// The packs whose rules the suite is about (its *scope*); empty means
    /// every rule of the policy.
    pub packs: Vec<String>,
    /// The tests, in file order.
    pub tests: Vec<TestCase>,
}

/// One test: a campaign, a time, and the expected outcome.
#[derive(Clone, Debug)]
pub struct TestCase {
    /// The test's name, where it is written.
    pub name: Spanned<String>,
    /// The campaign checked (shared by the tests that name the same file);
    /// `None` for an audit test.
    pub campaign: Option<Arc<Campaign>>,
    /// For an audit test (`audit:`), the audit of its inputs against the
    /// policy's audit rules, computed when the file is loaded.
    pub audit: Option<Arc<crate::audit::AuditResult>>,
    /// "Now" for the check.
    pub at: Timestamp,
    /// What the test expects.
    pub expect: Expect,
}

/// What a test expects.
#[derive(Clone, Debug, Default)]
pub struct Expect {
    /// Expected outcome of each rule the test names.
    pub rules: Vec<Expected>,
    /// True when the test lists every rule that fires (`expect: clean`, or
    /// `fires` without `only: false`): a rule of the suite's scope that fires
    /// without being listed fails the test.
    pub only_listed_fire: bool,
    /// Diagnostic codes the campaign check must report (waiver problems,
    /// unknown purposes). Any other campaign diagnostic fails the test.
    pub diagnostics: Vec<Spanned<String>>,
}

/// A rule and the outcome a test expects of it.
#[derive(Clone, Debug)]
pub struct Expected {
    /// The rule id, where it is written.
    pub rule: Spanned<String>,
    /// The expected outcome.
    pub kind: Kind,
}

/// The outcome of a rule for one campaign, as a test names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// The rule reported a violation (at any severity).
    Fires,
    /// The rule applied (its `when` held, no prerequisite failed) and found nothing.
    Passes,
    /// The rule was skipped because a prerequisite failed.
    Skipped,
    /// The rule deferred to a more specific rule that applied (`defers to`).
    Deferred,
    /// The rule fired and a valid waiver accepted every violation.
    Waived,
    /// The rule's `when` does not hold for the campaign (or, for audit
    /// rules, nothing in the audit is covered by them; for campaign rules
    /// in an audit test, always).
    NotApplicable,
    /// An audit rule could not judge something it covers: a group below
    /// the minimum size, or too few deliveries for a rate.
    InsufficientData,
}

impl Kind {
    /// Every kind, in the order of the `expect` keys.
    pub const ALL: [Kind; 7] = [
        Kind::Fires,
        Kind::Passes,
        Kind::Skipped,
        Kind::Deferred,
        Kind::Waived,
        Kind::NotApplicable,
        Kind::InsufficientData,
    ];

    /// The key listing rules of this kind under `expect`.
    pub fn key(self) -> &'static str {
        match self {
            Kind::Fires => "fires",
            Kind::Passes => "passes",
            Kind::Skipped => "skipped",
            Kind::Deferred => "deferred",
            Kind::Waived => "waived",
            Kind::NotApplicable => "not_applicable",
            Kind::InsufficientData => "insufficient_data",
        }
    }

    /// The outcome as a verb phrase after "expected to" ("fire", "pass").
    pub fn infinitive(self) -> &'static str {
        match self {
            Kind::Fires => "fire",
            Kind::Passes => "pass",
            Kind::Skipped => "be skipped",
            Kind::Deferred => "be deferred",
            Kind::Waived => "be waived",
            Kind::NotApplicable => "not apply",
            Kind::InsufficientData => "have insufficient data",
        }
    }
}

/// What a rule actually did for a test's campaign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It reported at least one violation.
    Fired {
        /// The rule's severity.
        severity: Severity,
        /// The first violation's message.
        message: String,
        /// How many more violations it reported.
        more: usize,
    },
    /// It fired and a waiver accepted it.
    Waived,
    /// A prerequisite failed.
    Skipped {
        /// The prerequisite.
        because: String,
    },
    /// A more specific rule it defers to applied.
    Deferred {
        /// That rule.
        to: String,
    },
    /// It applied and found nothing.
    Passed,
    /// Its `when` does not hold.
    NotApplicable,
    /// An audit rule could not judge something it covers.
    InsufficientData {
        /// What was missing.
        why: String,
    },
}

impl Outcome {
    /// The kind a test would name this outcome by.
    pub fn kind(&self) -> Kind {
        match self {
            Outcome::Fired { .. } => Kind::Fires,
            Outcome::Waived => Kind::Waived,
            Outcome::Skipped { .. } => Kind::Skipped,
            Outcome::Deferred { .. } => Kind::Deferred,
            Outcome::Passed => Kind::Passes,
            Outcome::NotApplicable => Kind::NotApplicable,
            Outcome::InsufficientData { .. } => Kind::InsufficientData,
        }
    }

    /// The outcome in words, after "it" ("passed", "was skipped (…)").
    pub fn describe(&self) -> String {
        match self {
            Outcome::Fired {
                severity,
                message,
                more,
            } => {
                let more = match more {
                    0 => String::new(),
                    n => format!(" (and {n} more)"),
                };
                format!("fired ({severity}): {message}{more}")
            }
            Outcome::Waived => "fired and was waived".into(),
            Outcome::Skipped { because } => {
                format!("was skipped (its prerequisite `{because}` failed)")
            }
            Outcome::Deferred { to } => format!("deferred to `{to}`, which applies"),
            Outcome::Passed => "passed".into(),
            Outcome::NotApplicable => "did not apply (its `when` condition is false)".into(),
            Outcome::InsufficientData { why } => format!("had insufficient data ({why})"),
        }
    }
}

/// One line of the comparison of the rules expected to fire with the rules
/// that fired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FireLine {
    /// The rule.
    pub rule: String,
    /// Whether it was expected, fired, or both.
    pub mark: Mark,
    /// What it did.
    pub outcome: Outcome,
}

/// Where a rule stands in the `fires` comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// Expected to fire, and fired.
    Matched,
    /// Expected to fire, and did not.
    Missing,
    /// Fired without being expected to.
    Unexpected,
}

/// An expectation other than `fires` that was not met.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A rule listed under `passes`, `skipped`, `waived` or `not_applicable`
    /// did something else.
    Mismatch {
        /// The rule.
        rule: String,
        /// What the test expected.
        expected: Kind,
        /// What happened.
        actual: Outcome,
    },
    /// An expected campaign diagnostic was not reported.
    MissingDiagnostic {
        /// Its code.
        code: String,
    },
    /// The campaign check reported a diagnostic the test does not expect.
    UnexpectedDiagnostic {
        /// Its code.
        code: String,
        /// Its message.
        message: String,
    },
}

/// The result of one test.
#[derive(Clone, Debug)]
pub struct TestResult {
    /// The test's name.
    pub name: String,
    /// The 1-based line of its name in the test file.
    pub line: usize,
    /// The time it was evaluated at.
    pub at: Timestamp,
    /// Rules expected to fire and rules that fired unexpectedly, in policy
    /// order.
    pub fires: Vec<FireLine>,
    /// Other expectations not met.
    pub failures: Vec<Failure>,
}

impl TestResult {
    /// True when every expectation was met.
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.fires.iter().all(|l| l.mark == Mark::Matched)
    }
}

/// The results of one test file.
#[derive(Clone, Debug)]
pub struct SuiteResult {
    /// The file's display name.
    pub file: String,
    /// Its scope (empty: every rule).
    pub packs: Vec<String>,
    /// One result per test, in file order.
    pub tests: Vec<TestResult>,
}

/// How often one rule fired and passed in the tests whose scope includes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleCoverage {
    /// The rule id.
    pub rule: String,
    /// Its pack.
    pub pack: String,
    /// Tests in which it fired (waived violations included).
    pub fired: usize,
    /// Tests in which it applied and passed.
    pub passed: usize,
}

impl RuleCoverage {
    /// A rule is covered when some test made it fire and some test made it pass.
    pub fn covered(&self) -> bool {
        self.fired > 0 && self.passed > 0
    }
}

/// Coverage of one pack.
#[derive(Clone, Debug, PartialEq)]
pub struct PackCoverage {
    /// The pack.
    pub pack: String,
    /// Its covered rules.
    pub covered: usize,
    /// Its rules.
    pub total: usize,
}

/// Rule coverage: for every rule of the policy, whether the tests made it
/// both fire and pass.
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    /// One row per rule, in policy order.
    pub rules: Vec<RuleCoverage>,
}

impl Coverage {
    /// Rules that fired in some test and passed in some test.
    pub fn covered(&self) -> usize {
        self.rules.iter().filter(|r| r.covered()).count()
    }

    /// Covered rules as a percentage of all rules (100 for a policy without rules).
    pub fn percent(&self) -> f64 {
        percent(self.covered(), self.rules.len())
    }

    /// Coverage per pack, in order of first appearance.
    pub fn by_pack(&self) -> Vec<PackCoverage> {
        let mut packs: Vec<PackCoverage> = Vec::new();
        for row in &self.rules {
            let index = match packs.iter().position(|p| p.pack == row.pack) {
                Some(i) => i,
                None => {
                    packs.push(PackCoverage {
                        pack: row.pack.clone(),
                        covered: 0,
                        total: 0,
                    });
                    packs.len() - 1
                }
            };
            packs[index].total += 1;
            packs[index].covered += usize::from(row.covered());
        }
        packs
    }
}

impl PackCoverage {
    /// Covered rules as a percentage of the pack's rules.
    pub fn percent(&self) -> f64 {
        percent(self.covered, self.total)
    }
}

fn percent(part: usize, total: usize) -> f64 {
    if total == 0 {
        100.0
    } else {
        part as f64 * 100.0 / total as f64
    }
}

/// Everything `scruple test` found.
#[derive(Clone, Debug, Default)]
pub struct TestRun {
    /// One entry per test file, in load order.
    pub suites: Vec<SuiteResult>,
    /// Rule coverage over all tests.
    pub coverage: Coverage,
}

impl TestRun {
    /// Every test result.
    pub fn results(&self) -> impl Iterator<Item = &TestResult> {
        self.suites.iter().flat_map(|s| s.tests.iter())
    }

    /// Number of tests run.
    pub fn total(&self) -> usize {
        self.results().count()
    }

    /// Number of failed tests.
    pub fn failed(&self) -> usize {
        self.results().filter(|t| !t.passed()).count()
    }
}

/// Runs every test of every suite against `policy`, and measures coverage.
pub fn run(policy: &Policy, suites: &[Suite]) -> TestRun {
    let index: HashMap<&str, usize> = policy
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let mut coverage = Coverage {
        rules: policy
            .rules
            .iter()
            .map(|r| RuleCoverage {
                rule: r.id.clone(),
                pack: r.pack.clone(),
                fired: 0,
                passed: 0,
            })
            .collect(),
    };
    let mut results = Vec::with_capacity(suites.len());
    for suite in suites {
        let scope: Vec<bool> = policy
            .rules
            .iter()
            .map(|r| suite.packs.is_empty() || suite.packs.contains(&r.pack))
            .collect();
        let mut tests = Vec::with_capacity(suite.tests.len());
        for test in &suite.tests {
            let (outcomes, report) = match (&test.audit, &test.campaign) {
                (Some(audit), _) => (audit_outcomes(policy, audit), None),
                (None, Some(campaign)) => {
                    let report = eval::check(policy, campaign, Options { now: test.at });
                    (outcomes(policy, &index, campaign, &report), Some(report))
                }
                // The loader gives every test a campaign or an audit.
                (None, None) => continue,
            };
            for ((row, outcome), in_scope) in coverage.rules.iter_mut().zip(&outcomes).zip(&scope) {
                if !in_scope {
                    continue;
                }
                match outcome.kind() {
                    Kind::Fires | Kind::Waived => row.fired += 1,
                    Kind::Passes => row.passed += 1,
                    Kind::Skipped
                    | Kind::Deferred
                    | Kind::NotApplicable
                    | Kind::InsufficientData => {}
                }
            }
            let (line, _) = suite.source.line_col(test.name.span.start);
            tests.push(compare(
                policy,
                &scope,
                test,
                line,
                &outcomes,
                report.as_ref(),
            ));
        }
        results.push(SuiteResult {
            file: suite.source.name.clone(),
            packs: suite.packs.clone(),
            tests,
        });
    }
    TestRun {
        suites: results,
        coverage,
    }
}

/// The outcome of every rule of the policy (by index) for one campaign.
fn outcomes(
    policy: &Policy,
    index: &HashMap<&str, usize>,
    campaign: &Campaign,
    report: &CampaignReport,
) -> Vec<Outcome> {
    let mut out: Vec<Option<Outcome>> = vec![None; policy.rules.len()];
    for finding in &report.findings {
        let Some(slot) = index
            .get(finding.rule.as_str())
            .and_then(|&i| out.get_mut(i))
        else {
            continue;
        };
        match (slot.as_mut(), &finding.status) {
            (Some(Outcome::Fired { more, .. }), Status::Violation) => *more += 1,
            (_, Status::Violation) => {
                *slot = Some(Outcome::Fired {
                    severity: finding.severity,
                    message: finding.message.clone(),
                    more: 0,
                });
            }
            (None, Status::Waived(_)) => *slot = Some(Outcome::Waived),
            (None, Status::Deferred { to, .. }) => {
                *slot = Some(Outcome::Deferred { to: to.clone() });
            }
            (None, Status::Skipped { because }) => {
                *slot = Some(Outcome::Skipped {
                    because: because.clone(),
                });
            }
            _ => {}
        }
    }
    out.into_iter()
        .zip(&policy.rules)
        .map(|(outcome, rule)| {
            outcome.unwrap_or_else(|| match &rule.when {
                // Judged by `scruple audit` on what was sent: a campaign
                // file has nothing to judge them on.
                _ if rule.check.is_audit() => Outcome::NotApplicable,
                Some(when) if !expr::holds(when, &campaign.tree) => Outcome::NotApplicable,
                _ => Outcome::Passed,
            })
        })
        .collect()
}

/// The outcome of every rule of the policy for an audit test: audit rules
/// by what they did in the audit, the others not applicable.
fn audit_outcomes(policy: &Policy, audit: &crate::audit::AuditResult) -> Vec<Outcome> {
    use crate::audit::verdict::{verdicts, Verdict};
    let verdicts = verdicts(audit);
    policy
        .rules
        .iter()
        .map(|rule| {
            let Some(i) = audit.thresholds.rules.iter().position(|r| r.id == rule.id) else {
                return Outcome::NotApplicable;
            };
            match verdicts.get(i) {
                Some(Verdict::Fired {
                    severity,
                    message,
                    more,
                }) => Outcome::Fired {
                    severity: *severity,
                    message: message.clone(),
                    more: *more,
                },
                Some(Verdict::Passed) => Outcome::Passed,
                Some(Verdict::InsufficientData { why }) => {
                    Outcome::InsufficientData { why: why.clone() }
                }
                Some(Verdict::NotApplicable) | None => Outcome::NotApplicable,
            }
        })
        .collect()
}

/// Compares a test's expectation with the outcomes.
fn compare(
    policy: &Policy,
    scope: &[bool],
    test: &TestCase,
    line: usize,
    outcomes: &[Outcome],
    report: Option<&CampaignReport>,
) -> TestResult {
    let expected: HashMap<&str, Kind> = test
        .expect
        .rules
        .iter()
        .map(|e| (e.rule.value.as_str(), e.kind))
        .collect();
    let mut fires = Vec::new();
    let mut failures = Vec::new();
    for ((rule, outcome), &in_scope) in policy.rules.iter().zip(outcomes).zip(scope) {
        let fired = outcome.kind() == Kind::Fires;
        match expected.get(rule.id.as_str()) {
            Some(Kind::Fires) => fires.push(FireLine {
                rule: rule.id.clone(),
                mark: if fired { Mark::Matched } else { Mark::Missing },
                outcome: outcome.clone(),
            }),
            Some(&kind) if kind != outcome.kind() => failures.push(Failure::Mismatch {
                rule: rule.id.clone(),
                expected: kind,
                actual: outcome.clone(),
            }),
            Some(_) => {}
            None if fired && in_scope && test.expect.only_listed_fire => fires.push(FireLine {
                rule: rule.id.clone(),
                mark: Mark::Unexpected,
                outcome: outcome.clone(),
            }),
            None => {}
        }
    }
    let diagnostics = report.map_or(&[][..], |r| &r.diagnostics[..]);
    for code in &test.expect.diagnostics {
        if !diagnostics.iter().any(|d| d.code == code.value) {
            failures.push(Failure::MissingDiagnostic {
                code: code.value.clone(),
            });
        }
    }
    for diag in diagnostics {
        // A test's `at` is when rules are evaluated (a year on, to see
        // consent go stale), not a planning date: a schedule it has passed
        // is expected, and only checked when listed.
        if diag.code == crate::campaign::advice::codes::PAST_SEND {
            continue;
        }
        if !test.expect.diagnostics.iter().any(|c| c.value == diag.code) {
            failures.push(Failure::UnexpectedDiagnostic {
                code: diag.code.clone(),
                message: diag.message.clone(),
            });
        }
    }
    TestResult {
        name: test.name.value.clone(),
        line,
        at: test.at,
        fires,
        failures,
    }
}
