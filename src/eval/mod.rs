//! Evaluation: a compiled [`Policy`] applied to loaded campaigns.
//!
//! Rules run in the policy's order. For each rule: if its `when` does not
//! hold, it is not reported; if a prerequisite failed or was skipped, it is
//! reported as skipped with the reason; otherwise its rule kind (one module
//! per kind under [`rules`]) returns violations, which become [`Finding`]s
//! carrying the campaign span, the rule's span, citations and help.

pub mod census;
pub mod expr;
pub mod finding;
pub mod rules;
pub mod unknown;
pub mod waivers;

use jiff::Timestamp;

use crate::campaign::Campaign;
use crate::compile::{CompiledRule, Policy};
use crate::diag::{did_you_mean, Diag};

pub use finding::{CampaignReport, Finding, RuleOutcome, Status, Vars, Violation, WaiverInfo};

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
    /// Campaigns whose audiences overlap this one's (itself included), from
    /// the calendar checked in the same run, for frequency caps.
    pub overlapping: &'a [&'a Campaign],
    /// Evaluation options.
    pub options: Options,
}

/// Checks one campaign alone.
pub fn check(policy: &Policy, campaign: &Campaign, options: Options) -> CampaignReport {
    check_with(policy, campaign, &[campaign], options)
}

/// Checks every campaign, each against the whole calendar (frequency caps
/// count sends of campaigns with overlapping audiences together).
pub fn check_all(policy: &Policy, campaigns: &[Campaign], options: Options) -> Vec<CampaignReport> {
    let groups = overlap_groups(campaigns);
    campaigns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let overlapping: Vec<&Campaign> = groups[i].iter().map(|&j| &campaigns[j]).collect();
            check_with(policy, c, &overlapping, options)
        })
        .collect()
}

/// For each campaign, the campaigns reaching the same people (itself
/// included): those sharing a segment name, or, for a campaign naming no
/// segment (the whole list), the others naming none. Indexed by segment name
/// so a calendar of unrelated campaigns costs linear time.
fn overlap_groups(campaigns: &[Campaign]) -> Vec<Vec<usize>> {
    use std::collections::BTreeMap;
    let mut by_segment: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut whole_list = Vec::new();
    for (i, c) in campaigns.iter().enumerate() {
        let mut any = false;
        for segment in c.model.segments() {
            any = true;
            let members = by_segment.entry(segment.name.value.as_str()).or_default();
            if members.last() != Some(&i) {
                members.push(i);
            }
        }
        if !any {
            whole_list.push(i);
        }
    }
    let mut groups: Vec<Vec<usize>> = (0..campaigns.len()).map(|i| vec![i]).collect();
    for members in by_segment.values().chain(std::iter::once(&whole_list)) {
        if members.len() < 2 {
            continue;
        }
        for &i in members {
            groups[i].extend(members.iter().copied().filter(|&j| j != i));
        }
    }
    for group in &mut groups {
        group.sort_unstable();
        group.dedup();
    }
    groups
}

fn check_with(
    policy: &Policy,
    campaign: &Campaign,
    overlapping: &[&Campaign],
    options: Options,
) -> CampaignReport {
    let cx = Ctx {
        policy,
        campaign,
        overlapping,
        options,
    };
    let waivers = waivers::validate(policy, campaign, options);
    let mut findings = Vec::new();
    // Outcome per rule index, in policy order.
    let mut outcomes = vec![RuleOutcome::NotApplicable; policy.rules.len()];
    for (index, rule) in policy.rules.iter().enumerate() {
        // Disabled in scruple.toml: not run, and counts as passing for the
        // rules that require it.
        if rule.disabled.is_some() {
            outcomes[index] = RuleOutcome::Disabled;
            continue;
        }
        if let Some(when) = &rule.when {
            if !expr::holds(when, &campaign.tree) {
                continue;
            }
        }
        // Lex specialis: a more specific rule that applies decides instead.
        if let Some(to) = rule
            .defers_to
            .iter()
            .filter_map(|&j| policy.rules.get(j))
            .find(|to| decides(to, campaign))
        {
            outcomes[index] = RuleOutcome::Deferred;
            findings.push(Finding::deferred(rule, campaign, to));
            continue;
        }
        if let Some(&prereq) = rule
            .requires
            .iter()
            .find(|&&r| outcomes.get(r).is_some_and(|o| o.blocks_dependents()))
        {
            outcomes[index] = RuleOutcome::Skipped;
            findings.push(Finding::skipped(rule, campaign, &policy.rules[prereq]));
            continue;
        }
        let violations = rules::run(rule, &cx);
        // A waived violation is accepted, so rules that require it still run.
        outcomes[index] = if violations.is_empty() {
            RuleOutcome::Passed
        } else if waivers.covers(&rule.id) {
            RuleOutcome::Waived
        } else {
            RuleOutcome::Violated
        };
        findings.extend(
            violations
                .into_iter()
                .map(|v| Finding::violation(rule, campaign, v)),
        );
    }
    let mut diagnostics = vocabulary(policy, campaign);
    diagnostics.extend(unknown::unknown_attributes(policy, campaign));
    diagnostics.extend(crate::campaign::advice::past_sends(campaign, options.now));
    diagnostics.extend(crate::campaign::advice::uncovered_jurisdictions(
        policy, campaign,
    ));
    diagnostics.extend(waivers.apply(campaign, &mut findings));
    CampaignReport {
        campaign: campaign.source.clone(),
        id: campaign.model.id.value.clone(),
        findings,
        diagnostics,
        outcomes,
        targeting: census::census(policy, &campaign.model),
    }
}

/// True when `to`, a rule another rule `defers to`, decides for this
/// campaign: it is enabled, its `when` holds, and, if its `when` confines it
/// to jurisdictions, every jurisdiction of the campaign lies within them. A
/// campaign aimed at EU-FR and US-CA is not decided by an EU-only rule, so
/// the generic rule still runs for it (its US part keeps its own citation).
pub fn decides(to: &CompiledRule, campaign: &Campaign) -> bool {
    to.disabled.is_none()
        && to
            .when
            .as_ref()
            .is_none_or(|w| expr::holds(w, &campaign.tree))
        && to.jurisdictions.as_ref().is_none_or(|set| {
            campaign
                .model
                .jurisdictions()
                .all(|j| crate::compile::cond::set_contains(set, j.value.as_str()))
        })
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
