//! Warnings about a loaded campaign that depend on more than its text: the
//! time it is checked at, and the policy it is checked against.

use jiff::Timestamp;

use super::Campaign;
use crate::diag::Diag;

/// Diagnostic codes of this module.
pub mod codes {
    /// A `send_at` that is already past when the campaign is checked.
    pub const PAST_SEND: &str = "scruple::campaign::past_send";
}

/// A warning for each `send_at` whose first send is before `now` (`--at`, or
/// the clock): checking a schedule that already went out, or a typo in the
/// year, is worth saying. Without a named `schedule.timezone` the time is
/// local to each recipient, so it counts as past only once it has passed
/// everywhere (UTC−12).
pub fn past_sends(campaign: &Campaign, now: Timestamp) -> Vec<Diag> {
    let mut out = Vec::new();
    let sends = campaign.model.sends();
    let mut i = 0;
    while i < sends.len() {
        let span = sends[i].span;
        let group: Vec<_> = sends[i..].iter().take_while(|s| s.span == span).collect();
        i += group.len();
        let instant = |s: &super::Send| match &s.zoned {
            Some(z) => Some(z.timestamp()),
            None => {
                s.at.checked_add(jiff::Span::new().hours(12))
                    .ok()
                    .and_then(|latest| latest.to_zoned(jiff::tz::TimeZone::UTC).ok())
                    .map(|z| z.timestamp())
            }
        };
        let is_past = |s: &super::Send| instant(s).is_some_and(|t| t < now);
        if group.first().is_none_or(|s| !is_past(s)) {
            continue;
        }
        let past = group.iter().filter(|s| is_past(s)).count();
        let what = if group.len() == 1 {
            "this send is".to_owned()
        } else {
            format!("{past} of its {} sends are", group.len())
        };
        let now_text = now.strftime("%Y-%m-%dT%H:%M:%SZ");
        out.push(
            Diag::warning(
                codes::PAST_SEND,
                format!("`send_at` is in the past: {what} before {now_text}"),
            )
            .with_label(&campaign.source, span, "already past")
            .with_help(
                "check the date (the year especially); to check the campaign as of another \
                 time, pass `--at`",
            ),
        );
    }
    out
}

/// Code of [`uncovered_jurisdictions`]' warning.
pub const UNCOVERED_JURISDICTION: &str = "scruple::campaign::uncovered_jurisdiction";

/// A warning for each campaign jurisdiction that no loaded rule is specific
/// to, when some rules are specific to jurisdictions: `[JP]` checked
/// against GDPR and CCPA gets only the rules that apply everywhere, and
/// nothing else would say so.
pub fn uncovered_jurisdictions(policy: &crate::compile::Policy, campaign: &Campaign) -> Vec<Diag> {
    use crate::compile::cond::within;
    let mut named: Vec<String> = Vec::new();
    for rule in policy.rules.iter().filter(|r| r.disabled.is_none()) {
        if let Some(when) = &rule.when {
            jurisdictions_named(when, &mut named);
        }
    }
    if named.is_empty() {
        return Vec::new();
    }
    named.sort();
    named.dedup();
    let mut out = Vec::new();
    for j in campaign.model.jurisdictions() {
        let code = j.as_str();
        if named.iter().any(|n| within(code, n) || within(n, code)) {
            continue;
        }
        let mut shown: Vec<&str> = named.iter().map(String::as_str).take(10).collect();
        if named.len() > 10 {
            shown.push("…");
        }
        out.push(
            Diag::warning(
                UNCOVERED_JURISDICTION,
                format!("no loaded policy has rules for `{code}`"),
            )
            .with_label(
                &campaign.source,
                j.span,
                "no rule is specific to this jurisdiction",
            )
            .with_help(format!(
                "only the rules that apply everywhere were checked for it; load a pack for \
                 `{code}`, or check the code (rules here name: {})",
                shown.join(", ")
            )),
        );
    }
    out
}

/// Jurisdiction codes a condition tests for (`jurisdiction in [EU]`,
/// `jurisdiction is US-CA`), negated tests left out.
fn jurisdictions_named(cond: &crate::compile::Cond, out: &mut Vec<String>) {
    use crate::compile::{Cond, Term};
    let is_jurisdiction = |t: &Term| matches!(t, Term::Path(p) if p.dotted() == "jurisdictions");
    match cond {
        Cond::Or(parts) | Cond::And(parts) => {
            parts.iter().for_each(|c| jurisdictions_named(c, out));
        }
        Cond::In {
            lhs,
            negated: false,
            set,
        } if is_jurisdiction(lhs) => out.extend(set.iter().cloned()),
        Cond::Compare {
            lhs,
            rhs: Term::Symbol(s) | Term::Str(s),
            ..
        } if is_jurisdiction(lhs) => out.push(s.clone()),
        Cond::Quantified { body, .. } => jurisdictions_named(body, out),
        _ => {}
    }
}
