//! Evaluation: a compiled [`Policy`] applied to loaded campaigns.
//!
//! Rules run in the policy's order. For each rule: if its `when` does not
//! hold, it is not reported; if a prerequisite failed or was skipped, it is
//! reported as skipped with the reason; otherwise its rule kind (one module
//! per kind under [`rules`]) returns violations, which become [`Finding`]s
//! carrying the campaign span, the rule's span, citations and help.

pub mod expr;
pub mod finding;
pub mod rules;

use jiff::Timestamp;

use crate::campaign::Campaign;
use crate::compile::Policy;
use crate::diag::{did_you_mean, Diag};

pub use finding::{CampaignReport, Finding, Status, Vars, Violation};

/// What evaluation needs besides the policy and the campaign.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// "Now", for consent ages (the `--at` flag; defaults to the clock).
    pub now: Timestamp,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            now: Timestamp::now(),
        }
    }
}

/// Everything a rule kind may look at.
pub struct Ctx<'a> {
    /// The compiled policy.
    pub policy: &'a Policy,
    /// The campaign under check.
    pub campaign: &'a Campaign,
    /// Other campaigns checked in the same run (the calendar), for caps.
    pub calendar: &'a [Campaign],
    /// Evaluation options.
    pub options: Options,
}

/// Checks one campaign alone.
pub fn check(policy: &Policy, campaign: &Campaign, options: Options) -> CampaignReport {
    check_in_calendar(policy, campaign, std::slice::from_ref(campaign), options)
}

/// Checks every campaign, each against the whole calendar (frequency caps
/// count sends of campaigns with overlapping audiences together).
pub fn check_all(policy: &Policy, campaigns: &[Campaign], options: Options) -> Vec<CampaignReport> {
    campaigns
        .iter()
        .map(|c| check_in_calendar(policy, c, campaigns, options))
        .collect()
}

fn check_in_calendar(
    policy: &Policy,
    campaign: &Campaign,
    calendar: &[Campaign],
    options: Options,
) -> CampaignReport {
    let cx = Ctx {
        policy,
        campaign,
        calendar,
        options,
    };
    let mut findings = Vec::new();
    // Outcome per rule index: true when it failed or was skipped.
    let mut failed = vec![false; policy.rules.len()];
    for (index, rule) in policy.rules.iter().enumerate() {
        if let Some(when) = &rule.when {
            if !expr::holds(when, &campaign.tree) {
                continue;
            }
        }
        if let Some(&prereq) = rule
            .requires
            .iter()
            .find(|&&r| failed.get(r) == Some(&true))
        {
            failed[index] = true;
            findings.push(Finding::skipped(rule, campaign, &policy.rules[prereq]));
            continue;
        }
        let violations = rules::run(rule, &cx);
        if !violations.is_empty() {
            failed[index] = true;
        }
        findings.extend(
            violations
                .into_iter()
                .map(|v| Finding::violation(rule, campaign, v)),
        );
    }
    CampaignReport {
        campaign: campaign.source.clone(),
        id: campaign.model.id.value.clone(),
        findings,
        diagnostics: vocabulary(policy, campaign),
    }
}

/// Warnings for campaign purposes the policy does not declare (usually a typo
/// that would otherwise make consent rules silently pass or fail).
fn vocabulary(policy: &Policy, campaign: &Campaign) -> Vec<Diag> {
    if policy.purposes.is_empty() {
        return Vec::new();
    }
    let declared = || policy.purposes.keys().map(String::as_str);
    let mut out = Vec::new();
    let used = campaign.model.purposes().map(|p| (p, "purposes")).chain(
        campaign
            .model
            .consented_purposes()
            .map(|p| (p, "consent.purposes")),
    );
    for (purpose, field) in used {
        if policy.purposes.contains_key(&purpose.value) {
            continue;
        }
        let help = match did_you_mean(&purpose.value, declared()) {
            Some(near) => format!("did you mean `{near}`?"),
            None => {
                let all: Vec<&str> = declared().collect();
                format!("purposes declared by the policy: {}", all.join(", "))
            }
        };
        out.push(
            Diag::warning(
                "scruple::check::unknown_purpose",
                format!(
                    "`{}` in `{field}` is not a purpose the policy declares",
                    purpose.value
                ),
            )
            .with_label(&campaign.source, purpose.span, "unknown purpose")
            .with_help(help),
        );
    }
    out
}
