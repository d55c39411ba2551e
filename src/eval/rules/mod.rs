//! One module per rule kind. Each checks one [`Check`] variant and returns
//! the places where the campaign violates it; the caller turns them into
//! findings. Adding a rule kind means a grammar alternative, an AST and
//! `Check` variant, and a module here.

pub mod allow_only_fields;
pub mod ensure;
pub mod forbid_fields;
pub mod forbid_targeting;
pub mod frequency_cap;
pub mod minimum_age;
pub mod quiet_hours;
pub mod require_consent;
pub mod require_field;
pub mod require_tcf;

use super::{Ctx, Violation};
use crate::compile::{Check, CompiledRule};

/// Runs the rule's check against the campaign in `cx`.
pub fn run(rule: &CompiledRule, cx: &Ctx<'_>) -> Vec<Violation> {
    match &rule.check {
        Check::ForbidTargeting {
            attributes,
            including_proxies,
        } => forbid_targeting::check(attributes, *including_proxies, cx),
        Check::ForbidFields { fields } => forbid_fields::check(fields, cx),
        Check::AllowOnlyFields { fields, purpose } => {
            allow_only_fields::check(fields, purpose.as_deref(), cx)
        }
        Check::RequireConsent {
            purposes,
            within,
            written,
        } => require_consent::check(purposes.as_deref(), within.as_ref(), *written, cx),
        Check::RequireTcf {
            legitimate_interest,
            ..
        } => require_tcf::check(*legitimate_interest, cx),
        Check::FrequencyCap {
            max,
            window,
            calendar,
            channels,
        } => frequency_cap::check(*max, window, *calendar, channels.as_deref(), cx),
        Check::QuietHours { from, to } => quiet_hours::check(*from, *to, cx),
        Check::MinimumAge {
            fixed,
            table,
            unless,
        } => minimum_age::check(
            *fixed,
            table.as_deref(),
            unless.as_ref(),
            rule.jurisdictions.as_ref(),
            cx,
        ),
        Check::RequireField { path } => require_field::check(path, cx),
        Check::Ensure { cond } => ensure::check(cond, rule, cx),
        // Judged on what was sent, by `scruple audit` (crate::audit): a
        // campaign file says nothing about who got the offer.
        Check::RequireParity { .. } | Check::LimitRate { .. } => Vec::new(),
    }
}
