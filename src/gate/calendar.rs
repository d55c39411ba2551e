//! Calendar cap windows (issue 14 item 4): `cap 1 sends per calendar day
//! per recipient` counts the sends in the recipient's calendar day (ISO week
//! from Monday, or month) that holds the send, in the recipient's own time
//! zone, as Braze and Customer.io count "per day" limits, rather than in a
//! rolling 24 hours.
//!
//! The zone is the record's `timezone`, else the single zone of its
//! jurisdiction. When neither tells it (no `timezone`, and a jurisdiction
//! with several zones or none), the period is taken as the union of the
//! periods holding the send in every zone the recipient may be in: the
//! jurisdiction's zones, or every UTC offset from −12:00 to +14:00 (in
//! steps of 15 minutes, which every zone's offset is a multiple of). The
//! count over that union is at least the count in the recipient's real
//! period, so an unknown zone can suppress a lawful send but never let a
//! capped one through.

use jiff::civil::{Date, Weekday};
use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;

use crate::syntax::ast::TimeUnit;

/// How far from the send a calendar period can reach in any zone: a month
/// (31 days, and an hour of daylight saving) plus the 26 hours between
/// UTC−12 and UTC+14, rounded up to whole days. The ledger is read this
/// far either side of the send.
pub fn reach_seconds(unit: TimeUnit) -> i64 {
    let days = match unit {
        TimeUnit::Minutes | TimeUnit::Hours | TimeUnit::Days => 3,
        TimeUnit::Weeks => 9,
        TimeUnit::Months => 33,
        TimeUnit::Years => 368,
    };
    days * 86_400
}

/// The first day of the period of `unit` that holds `date`.
fn first_day(date: Date, unit: TimeUnit) -> Date {
    match unit {
        TimeUnit::Weeks => {
            let back = i64::from(date.weekday().since(Weekday::Monday));
            date.checked_sub(jiff::Span::new().days(back))
                .unwrap_or(date)
        }
        TimeUnit::Months => date.first_of_month(),
        TimeUnit::Years => date.first_of_year(),
        _ => date,
    }
}

/// The first day of the next period.
fn next_first_day(first: Date, unit: TimeUnit) -> Option<Date> {
    let step = match unit {
        TimeUnit::Weeks => jiff::Span::new().weeks(1),
        TimeUnit::Months => jiff::Span::new().months(1),
        TimeUnit::Years => jiff::Span::new().years(1),
        _ => jiff::Span::new().days(1),
    };
    first.checked_add(step).ok()
}

/// `[start, end)` in Unix seconds of the calendar period of `unit` that
/// holds `at` in `zone` (a day starts at local midnight, or at the first
/// instant after it on a day that skips midnight).
pub fn period_in(at: i64, unit: TimeUnit, zone: &TimeZone) -> Option<(i64, i64)> {
    let local = Timestamp::from_second(at).ok()?.to_zoned(zone.clone());
    let first = first_day(local.date(), unit);
    let next = next_first_day(first, unit)?;
    let start = first.to_zoned(zone.clone()).ok()?.timestamp().as_second();
    let end = next.to_zoned(zone.clone()).ok()?.timestamp().as_second();
    Some((start, end))
}

/// The period to count for a recipient: in `zone` when known; otherwise the
/// union over the zones of `jurisdiction` (or every UTC offset) — never
/// narrower than the recipient's real period. `None` only for a time out
/// of range, which the caller treats as a cap that cannot be checked.
pub fn period(
    at: i64,
    unit: TimeUnit,
    zone: Option<&TimeZone>,
    jurisdiction: Option<&str>,
) -> Option<(i64, i64)> {
    if let Some(zone) = zone {
        return period_in(at, unit, zone);
    }
    // The union depends on the send and the jurisdiction only, not on the
    // recipient: computed once per run rather than per record (it takes
    // ~100 zone conversions without a jurisdiction).
    let key = (at, unit, jurisdiction.map(str::to_string));
    if let Some(hit) = UNIONS.with(|u| {
        u.borrow()
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, span)| *span)
    }) {
        return hit;
    }
    let span = union(at, unit, jurisdiction);
    UNIONS.with(|u| {
        let mut unions = u.borrow_mut();
        if unions.len() >= 64 {
            unions.remove(0);
        }
        unions.push((key, span));
    });
    span
}

type UnionKey = (i64, TimeUnit, Option<String>);

/// A cached union: its key and the span it gave (`None`: no period).
type CachedUnion = (UnionKey, Option<(i64, i64)>);

thread_local! {
    /// Recently computed unions of periods (a run has one send time and a
    /// handful of jurisdictions).
    static UNIONS: std::cell::RefCell<Vec<CachedUnion>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The union over every zone the recipient may be in (see [`period`]).
fn union(at: i64, unit: TimeUnit, jurisdiction: Option<&str>) -> Option<(i64, i64)> {
    let mut zones: Vec<TimeZone> = jurisdiction
        .map(crate::geo::zones_of)
        .unwrap_or(&[])
        .iter()
        .filter_map(|name| crate::tz::get(name).ok())
        .collect();
    if zones.is_empty() {
        // Not only the extremes: at an offset in between the send may fall
        // on another date, whose period starts earlier or ends later.
        zones = (-12 * 4..=14 * 4)
            .filter_map(|quarters: i32| Offset::from_seconds(quarters * 900).ok())
            .map(TimeZone::fixed)
            .collect();
    }
    let mut span: Option<(i64, i64)> = None;
    for zone in &zones {
        let (start, end) = period_in(at, unit, zone)?;
        span = Some(match span {
            None => (start, end),
            Some((s, e)) => (s.min(start), e.max(end)),
        });
    }
    span
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(text: &str) -> i64 {
        text.parse::<Timestamp>()
            .map(|t| t.as_second())
            .unwrap_or(0)
    }

    #[test]
    fn a_calendar_day_is_the_recipients_local_day() {
        let paris = crate::tz::get("Europe/Paris").ok();
        // 23:30 UTC on 30 Nov is 00:30 on 1 Dec in Paris.
        let at = secs("2026-11-30T23:30:00Z");
        assert_eq!(
            period(at, TimeUnit::Days, paris.as_ref(), None),
            Some((secs("2026-11-30T23:00:00Z"), secs("2026-12-01T23:00:00Z")))
        );
        // The same instant in UTC is still 30 November.
        assert_eq!(
            period(at, TimeUnit::Days, Some(&TimeZone::UTC), None),
            Some((secs("2026-11-30T00:00:00Z"), secs("2026-12-01T00:00:00Z")))
        );
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        // Thursday 3 December 2026.
        let at = secs("2026-12-03T12:00:00Z");
        assert_eq!(
            period(at, TimeUnit::Weeks, Some(&TimeZone::UTC), None),
            Some((secs("2026-11-30T00:00:00Z"), secs("2026-12-07T00:00:00Z")))
        );
        assert_eq!(
            period(at, TimeUnit::Months, Some(&TimeZone::UTC), None),
            Some((secs("2026-12-01T00:00:00Z"), secs("2027-01-01T00:00:00Z")))
        );
    }

    #[test]
    fn a_day_with_a_clock_change_is_23_or_25_hours() {
        let paris = crate::tz::get("Europe/Paris").ok();
        let (start, end) = period(
            secs("2026-03-29T12:00:00Z"),
            TimeUnit::Days,
            paris.as_ref(),
            None,
        )
        .unwrap_or_default();
        assert_eq!(end - start, 23 * 3_600);
    }

    #[test]
    fn an_unknown_zone_counts_the_widest_period() {
        let at = secs("2026-12-03T12:00:00Z");
        // No zone, no jurisdiction: from the start of 3 December at
        // UTC+11:45 (where `at` is 23:45) to its end at UTC−12.
        assert_eq!(
            period(at, TimeUnit::Days, None, None),
            Some((secs("2026-12-02T12:15:00Z"), secs("2026-12-04T12:00:00Z")))
        );
        // A jurisdiction with several zones: the union of theirs only.
        let (start, end) = period(at, TimeUnit::Days, None, Some("US")).unwrap_or_default();
        assert!(start <= secs("2026-12-03T05:00:00Z"), "New York's midnight");
        assert!(end >= secs("2026-12-04T10:00:00Z"), "Honolulu's midnight");
        assert!(end - start < 2 * 86_400);
        for unit in [TimeUnit::Days, TimeUnit::Weeks, TimeUnit::Months] {
            let (start, end) = period(at, unit, None, None).unwrap_or_default();
            assert!(at - start <= reach_seconds(unit) && end - at <= reach_seconds(unit));
        }
    }
}
