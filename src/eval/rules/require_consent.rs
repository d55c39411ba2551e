//! `require consent for (each purpose | SET) [within DURATION]`: consent per
//! purpose, and fresh enough.
//!
//! **Checks** that every purpose the campaign declares (or every listed
//! purpose it declares) appears in `consent.purposes`; with `within`, that
//! `consent.collected_at` is no older than the duration at the time of the
//! check (`--at`, default now).
//!
//! **Why**: consent is specific to a purpose (GDPR Art. 6(1)(a), 4(11)):
//! consent to a newsletter is not consent to profiling. Regulators expect
//! consent to be refreshed (the CNIL and the EDPB guidelines 05/2020 speak of
//! renewing it at appropriate intervals); old consent is weak evidence.
//!
//! With `written` (`require written consent for [sms_marketing]`), every
//! listed purpose needs consent, declared or not (the rule's `when` names
//! the activity), and `consent.written` must be true: the TCPA's prior express written consent
//! (47 CFR 64.1200(a)(2), (f)(9)); `gate` then asks each recipient's consent
//! to be `written` too.
//!
//! **Fires**: `purposes: [email_marketing, profiling]` with
//! `consent: {purposes: [email_marketing]}`.
//!
//! **Passes**: `consent: {purposes: [email_marketing, profiling], collected_at: 2026-01-10}`.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;

use crate::compile::cond::SymbolSet;
use crate::eval::{Ctx, Violation};
use crate::syntax::ast::{Duration, TimeUnit};

/// Returns a violation per purpose without consent, and one when consent is
/// too old (or its date unknown).
pub fn check(
    listed: Option<&SymbolSet>,
    within: Option<&Duration>,
    written: bool,
    cx: &Ctx<'_>,
) -> Vec<Violation> {
    let campaign = cx.campaign;
    let model = &campaign.model;
    let consented: Vec<&str> = model
        .consented_purposes()
        .map(|p| p.value.as_str())
        .collect();
    let mut out = Vec::new();
    let mut checked_any = false;
    // A written consent is keyed to the activity the rule's `when` names
    // (marketing texts), not to what the campaign declares: every listed
    // purpose needs it, declared or not (an SMS campaign whose purposes say
    // `promotions` still sends marketing texts).
    if let (true, Some(set)) = (written, listed) {
        for purpose in set {
            checked_any = true;
            if consented.contains(&purpose.as_str()) {
                continue;
            }
            let span = model
                .purposes()
                .find(|p| &p.value == purpose)
                .map(|p| p.span)
                .or_else(|| campaign.key_span_of(&["consent"]))
                .unwrap_or(model.id.span);
            out.push(
                Violation::new(
                    span,
                    "no written consent recorded for this purpose",
                    format!("no consent for purpose `{purpose}`"),
                )
                .var("purpose", purpose.clone())
                .var("value", purpose.clone())
                .note(if consented.is_empty() {
                    "the campaign records no consent at all".to_string()
                } else {
                    format!("consent was given for: {}", consented.join(", "))
                }),
            );
        }
    }
    for purpose in model.purposes() {
        if listed.is_some_and(|set| written || !set.contains(&purpose.value)) {
            continue;
        }
        checked_any = true;
        if consented.contains(&purpose.value.as_str()) {
            continue;
        }
        let note = if consented.is_empty() {
            "the campaign records no consent at all".to_string()
        } else {
            format!("consent was given for: {}", consented.join(", "))
        };
        out.push(
            Violation::new(
                purpose.span,
                "no consent recorded for this purpose",
                format!("no consent for purpose `{}`", purpose.value),
            )
            .var("purpose", purpose.value.clone())
            .var("value", purpose.value.clone())
            .note(note),
        );
    }
    if written && checked_any {
        let consent = model.consent.as_ref();
        if !consent
            .and_then(|c| c.written.as_ref())
            .is_some_and(|w| w.value)
        {
            let span = consent
                .and_then(|c| c.written.as_ref().map(|w| w.span))
                .or_else(|| campaign.key_span_of(&["consent"]))
                .unwrap_or(model.id.span);
            out.push(
                Violation::new(
                    span,
                    "not recorded as written",
                    "the consent is not recorded as a signed written agreement (consent.written)",
                )
                .var("value", "consent.written"),
            );
        }
    }
    let Some(within) = within else { return out };
    if !checked_any {
        return out;
    }
    let consent = model.consent.as_ref();
    match consent.and_then(|c| c.collected_at.as_ref()) {
        Some(collected) => {
            let now = cx.options.now.to_zoned(TimeZone::UTC).datetime();
            let today = now.date();
            let date = collected.value.date();
            if expired(date, within, now) {
                out.push(
                    Violation::new(
                        collected.span,
                        format!("collected on {date}, more than {within} before {today}"),
                        format!("consent is older than {within}"),
                    )
                    .var("value", date.to_string())
                    .var("window", within.to_string()),
                );
            }
        }
        None => {
            let span = campaign
                .key_span_of(&["consent"])
                .or_else(|| campaign.span_of(&["consent", "collected_at"]))
                .unwrap_or(model.id.span);
            out.push(
                Violation::new(
                    span,
                    "no `collected_at` date",
                    format!("consent must be no older than {within}, but its date is not recorded"),
                )
                .var("window", within.to_string()),
            );
        }
    }
    out
}

fn expired(collected: Date, within: &Duration, now: DateTime) -> bool {
    let amount = i64::from(within.amount);
    let span = jiff::Span::new();
    let span = match within.unit {
        TimeUnit::Minutes => span.try_minutes(amount),
        TimeUnit::Hours => span.try_hours(amount),
        TimeUnit::Days => span.try_days(amount),
        TimeUnit::Weeks => span.try_weeks(amount),
        TimeUnit::Months => span.try_months(amount),
        TimeUnit::Years => span.try_years(amount),
    };
    let start = collected.to_datetime(Time::midnight());
    match span.ok().and_then(|s| start.checked_add(s).ok()) {
        Some(deadline) => deadline < now,
        None => false,
    }
}
