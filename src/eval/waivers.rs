//! Waivers: accountable exceptions written in the campaign.
//!
//! A waiver names a rule, a justification, an approver, a reference (ticket)
//! and an expiry date. A valid waiver turns the rule's violations into
//! *waived* findings — still reported, with who approved them and until
//! when, but no longer failing the run. Everything else about a waiver is
//! itself reported: an expired or incomplete waiver is an error (and waives
//! nothing), a waiver of an `unwaivable` rule is an error, a waiver naming no
//! rule of the policy is an error, and a waiver whose rule did not fire is a
//! stale warning.

use jiff::tz::TimeZone;

use super::finding::{Finding, Status, WaiverInfo};
use crate::campaign::model::Waiver;
use crate::campaign::Campaign;
use crate::compile::Policy;
use crate::diag::{did_you_mean, Diag};
use crate::eval::Options;

/// The campaign's valid waivers, by rule id, and the diagnostics its invalid
/// waivers deserve.
pub struct Waivers {
    /// Rule id → who accepted it, for valid waivers.
    pub valid: Vec<(String, WaiverInfo, crate::source::Span)>,
    /// Problems with the waivers themselves.
    pub diags: Vec<Diag>,
}

impl Waivers {
    /// True if a valid waiver covers `rule`.
    pub fn covers(&self, rule: &str) -> bool {
        self.valid.iter().any(|(id, _, _)| id == rule)
    }

    /// Marks waived findings and warns about waivers that waived nothing.
    pub fn apply(mut self, campaign: &Campaign, findings: &mut [Finding]) -> Vec<Diag> {
        for (id, info, span) in &self.valid {
            let mut used = false;
            for finding in findings
                .iter_mut()
                .filter(|f| f.rule == *id && f.status == Status::Violation)
            {
                finding.status = Status::Waived(info.clone());
                used = true;
            }
            if !used {
                self.diags.push(
                    Diag::warning(
                        "scruple::waiver::stale",
                        format!("the waiver for `{id}` is not needed: the rule does not fire"),
                    )
                    .with_label(&campaign.source, *span, "nothing to waive")
                    .with_help(
                        "remove the waiver, so that a future violation is not silently accepted",
                    ),
                );
            }
        }
        self.diags
    }
}

/// Validates the campaign's waivers against the policy.
pub fn validate(policy: &Policy, campaign: &Campaign, options: Options) -> Waivers {
    let mut diags = Vec::new();
    let mut valid = Vec::new();
    let today = options.now.to_zoned(TimeZone::UTC).date();
    let source = &campaign.source;
    for waiver in campaign.model.waivers() {
        let id = &waiver.rule.value;
        let Some(rule) = policy.rule(id) else {
            let help = match did_you_mean(id, policy.rules.iter().map(|r| r.id.as_str())) {
                Some(near) => format!("did you mean `{near}`? `scruple rules` lists every rule"),
                None => "`scruple rules` lists every rule id".into(),
            };
            diags.push(
                Diag::error(
                    "scruple::waiver::unknown_rule",
                    format!("the waiver names `{id}`, which is not a rule of the policy"),
                )
                .with_label(source, waiver.rule.span, "no such rule")
                .with_help(help),
            );
            continue;
        };
        if let Some(unwaivable) = rule.decl.unwaivable {
            diags.push(
                Diag::error("scruple::waiver::unwaivable", format!("rule `{id}` cannot be waived"))
                    .with_label(source, waiver.rule.span, "this waiver is refused")
                    .with_label(&rule.source, unwaivable, "the policy marks the rule unwaivable")
                    .with_help("fix the campaign instead; this rule protects people in a way no business reason outweighs"),
            );
            continue;
        }
        let missing = missing_parts(waiver);
        if !missing.is_empty() {
            diags.push(
                Diag::error("scruple::waiver::incomplete", format!("the waiver for `{id}` lacks {}", missing.join(", ")))
                    .with_label(source, waiver.span, "incomplete waiver")
                    .with_help("a waiver needs `rule`, `justification`, `approver`, `reference` and `expires` so that someone is accountable for it"),
            );
            continue;
        }
        let Some(expires) = waiver.expires.as_ref() else {
            continue;
        };
        let expiry = expires.value.date();
        if expiry < today {
            diags.push(
                Diag::error(
                    "scruple::waiver::expired",
                    format!("the waiver for `{id}` expired on {expiry}"),
                )
                .with_label(
                    source,
                    expires.span,
                    format!("expired {} days ago", (today - expiry).get_days()),
                )
                .with_help("renew it with a new approval and expiry date, or fix the campaign"),
            );
            continue;
        }
        let info = WaiverInfo {
            approver: waiver
                .approver
                .as_ref()
                .map(|a| a.value.clone())
                .unwrap_or_default(),
            justification: waiver
                .justification
                .as_ref()
                .map(|j| j.value.clone())
                .unwrap_or_default(),
            reference: waiver
                .reference
                .as_ref()
                .map(|r| r.value.clone())
                .unwrap_or_default(),
            expires: expiry.to_string(),
        };
        valid.push((id.clone(), info, waiver.rule.span));
    }
    Waivers { valid, diags }
}

fn missing_parts(waiver: &Waiver) -> Vec<&'static str> {
    let blank = |s: &Option<crate::campaign::model::Spanned<String>>| {
        s.as_ref().is_none_or(|v| v.value.trim().is_empty())
    };
    let mut out = Vec::new();
    if blank(&waiver.justification) {
        out.push("a justification");
    }
    if blank(&waiver.approver) {
        out.push("an approver");
    }
    if blank(&waiver.reference) {
        out.push("a reference");
    }
    if waiver.expires.is_none() {
        out.push("an expiry date");
    }
    out
}
