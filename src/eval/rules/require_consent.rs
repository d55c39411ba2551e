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
    for purpose in model.purposes() {
        if listed.is_some_and(|set| !set.contains(&purpose.value)) {
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
