//! What each audit rule did in an audit, as `scruple test` names it:
//! fired, passed, insufficient data, or not applicable.
//!
//! Checks: per rule of [`Thresholds::rules`](super::Thresholds), whether it
//! produced a finding; if not, whether some comparison or rate it covers
//! could not be judged (too few people in the groups, too few deliveries
//! for the limit); if not, whether it covered anything at all.
//!
//! Why: a fairness test must be able to say "this small group is
//! insufficient data", not only "no finding": a rule that saw too few
//! people has not shown that the campaign is fair.
//!
//! Fires: a rule with at least one finding, or a rate rule whose limit was
//! reached but reported once under a higher limit of the same metric.
//! Passes: a rule that judged at
//! least one comparison or rate and found nothing, with no comparison it
//! covers left undecided.

use super::{deliveries_needed, AuditCheck, AuditResult, Status};
use crate::diag::Severity;

/// What one audit rule did.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// It produced findings.
    Fired {
        /// The rule's severity.
        severity: Severity,
        /// The first finding's message.
        message: String,
        /// How many more findings.
        more: usize,
    },
    /// It judged what it covers and found nothing.
    Passed,
    /// Something it covers could not be judged: too few people or messages.
    InsufficientData {
        /// What was missing, in one sentence.
        why: String,
    },
    /// Nothing in the audit is covered by it (no campaign with its offer
    /// categories, no delivery on its channels).
    NotApplicable,
}

/// True when a parity rule on `attributes` (empty: all) limited to
/// `offers` covers `attribute` in a campaign whose outcome rows name
/// `categories`. A campaign naming no category is covered: an unknown
/// category must not exempt a credit offer.
pub(super) fn parity_covers(
    attributes: &[String],
    offers: Option<&[String]>,
    attribute: &str,
    categories: &[String],
) -> bool {
    (attributes.is_empty() || attributes.iter().any(|a| a == attribute))
        && offers.is_none_or(|o| categories.is_empty() || categories.iter().any(|c| o.contains(c)))
}

/// True when a rate rule limited to `channels` covers `channel` (`""`:
/// outcomes that name none, covered by every rule).
pub(super) fn rate_covers(channels: Option<&[String]>, channel: &str) -> bool {
    channels.is_none_or(|c| channel.is_empty() || c.iter().any(|x| x == channel))
}

/// The verdict of every rule of `result.thresholds.rules`, in order.
pub fn verdicts(result: &AuditResult) -> Vec<Verdict> {
    let t = &result.thresholds;
    t.rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let mut findings = result.findings.iter().filter(|f| f.rule_index == i);
            if let Some(first) = findings.next() {
                return Verdict::Fired {
                    severity: first.severity,
                    message: first.message.clone(),
                    more: findings.count(),
                };
            }
            let mut judged = false;
            let mut undecided = None;
            for campaign in &result.campaigns {
                match &rule.check {
                    AuditCheck::Parity {
                        attributes, offers, ..
                    } => {
                        for a in &campaign.attributes {
                            if !parity_covers(
                                attributes,
                                offers.as_deref(),
                                &a.attribute,
                                &campaign.categories,
                            ) {
                                continue;
                            }
                            for c in a.comparisons.iter().filter(|c| t.stages.contains(&c.stage)) {
                                if c.status == Status::InsufficientData {
                                    undecided.get_or_insert_with(|| {
                                        format!(
                                            "in campaign `{}`, fewer than two {} groups have {} or more people at `{}`",
                                            campaign.campaign,
                                            a.attribute,
                                            t.min_group,
                                            c.stage.as_str()
                                        )
                                    });
                                } else {
                                    judged = true;
                                }
                            }
                        }
                    }
                    AuditCheck::Rate {
                        metric,
                        limit,
                        channels,
                    } => {
                        for r in &campaign.channels {
                            if !rate_covers(channels.as_deref(), &r.key) {
                                continue;
                            }
                            let rate = if metric == "complaint_rate" {
                                r.complained
                            } else {
                                r.unsubscribed
                            };
                            if rate.n == 0 {
                                continue;
                            }
                            let needed = deliveries_needed(*limit);
                            let value = rate.value().unwrap_or(0.0);
                            if rate.n >= needed && value >= *limit {
                                // Reached, but reported once under a higher
                                // limit of the same metric (0.35% is one
                                // error, not also a 0.1% warning): the rule
                                // still fired for the test.
                                return Verdict::Fired {
                                    severity: rule.severity,
                                    message: format!(
                                        "campaign `{}`: {metric} {:.2}% is not below {:.2}% (reported under a higher limit)",
                                        campaign.campaign,
                                        value * 100.0,
                                        limit * 100.0
                                    ),
                                    more: 0,
                                };
                            }
                            if rate.n < needed {
                                undecided.get_or_insert_with(|| {
                                    format!(
                                        "campaign `{}` has {} delivered messages that report it; {needed} are needed to judge a rate against {limit}",
                                        campaign.campaign, rate.n
                                    )
                                });
                            } else {
                                judged = true;
                            }
                        }
                    }
                }
            }
            match undecided {
                Some(why) => Verdict::InsufficientData { why },
                None if judged => Verdict::Passed,
                None => Verdict::NotApplicable,
            }
        })
        .collect()
}
