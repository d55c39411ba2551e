//! The pre-send gate: a decision per recipient.
//!
//! A campaign must first pass `check` (campaign-level violations stop the
//! gate, unless waived). Then the rules that can be decided per recipient are
//! compiled into a [`GatePlan`]: consent per purpose (granted, not withdrawn,
//! fresh enough), opt-outs (unsubscribed, objected, GPC, limited sensitive
//! use), minimum age per the recipient's jurisdiction, quiet hours in the
//! recipient's time zone at the send time, and frequency caps against the
//! send history. Deciding a recipient walks that flat plan; nothing is
//! looked up by name.

pub mod calendar;
pub mod command;
mod direct;
pub use direct::BadRecord;
mod plan;
pub mod progress;
pub mod recipient;
pub mod stream;
mod windows;

use std::sync::Arc;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::syntax::ast::{Duration, TimeUnit};

pub use plan::{GatePlan, Moment, Prepared, MAX_CHECKS, MAX_PURPOSES};

/// Sends already made, per recipient and channel (the ledger).
///
/// A frequency cap of N sends per window W means: at most N sends in any
/// window of W seconds (`[s, s + W)`, whole seconds). A send at `t` is
/// allowed only if every such window that contains `t` holds fewer than N
/// other sends, so it looks at the sends in `(t − W, t + W)`: later sends
/// count too, since sends are scheduled out of order and the cap must hold
/// whatever the order ([`History::busiest_window`]).
pub trait History {
    /// Appends to `out` the times (seconds since the Unix epoch) of the
    /// messages `recipient` got on `channel` strictly after `after` and
    /// strictly before `before`, leaving out the send being decided.
    fn sends_between(
        &self,
        recipient: &str,
        channel: &str,
        after: i64,
        before: i64,
        out: &mut Vec<i64>,
    ) -> Result<(), String>;

    /// The most sends in one window of `window` seconds that contains `at`:
    /// a send at `at` keeps a cap of N if this is below N. Every decision,
    /// one record at a time or prepared in bulk, counts through this one
    /// definition.
    fn busiest_window(
        &self,
        recipient: &str,
        channel: &str,
        at: i64,
        window: i64,
    ) -> Result<u32, String> {
        let window = window.max(1);
        let mut times = Vec::new();
        self.sends_between(
            recipient,
            channel,
            at.saturating_sub(window),
            at.saturating_add(window),
            &mut times,
        )?;
        // Already sorted when read from the ledger's index: linear then.
        times.sort_unstable();
        Ok(busiest_window(&times, at, window))
    }
}

/// The most of the sorted `times` in one window `[s, s + window)` with
/// `s <= at < s + window`. Only times in `(at − window, at + window)` can
/// be in such a window; others are ignored.
pub fn busiest_window(times: &[i64], at: i64, window: i64) -> u32 {
    let window = window.max(1);
    let lo = times.partition_point(|&t| t <= at.saturating_sub(window));
    let hi = times.partition_point(|&t| t < at.saturating_add(window));
    let times = times.get(lo..hi).unwrap_or_default();
    let (before, after) = times.split_at(times.partition_point(|&t| t <= at));
    // The count of a window only grows when its end reaches a later send,
    // so the busiest one starts as early as possible (holding every earlier
    // send) or ends on a later send: a sweep over the later sends.
    let mut best = before.len();
    let mut left_out = 0;
    for (i, &end) in after.iter().enumerate() {
        let start = end - (window - 1);
        while left_out < before.len() && before[left_out] < start {
            left_out += 1;
        }
        best = best.max(before.len() - left_out + i + 1);
    }
    u32::try_from(best).unwrap_or(u32::MAX)
}

/// No history at all: every cap starts from zero.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHistory;

impl History for NoHistory {
    fn sends_between(
        &self,
        _: &str,
        _: &str,
        _: i64,
        _: i64,
        _: &mut Vec<i64>,
    ) -> Result<(), String> {
        Ok(())
    }
}

/// Why a recipient is suppressed. At send time every per-recipient rule
/// suppresses, whatever its severity: severity ranks findings in `check`, but
/// a message that breaks a rule for this person is not sent.
#[derive(Clone, Debug, PartialEq)]
pub struct Reason {
    /// Rule id (or `scruple::gate::…` for checks of the record itself).
    /// Shared with the plan: a suppression does not copy it.
    pub rule: Arc<str>,
    /// The rule's severity.
    pub severity: crate::diag::Severity,
    /// What is wrong for this recipient.
    pub message: String,
    /// Citations of the rule, shared with the plan.
    pub citations: Arc<[String]>,
    /// When a consent signal (`tcf`, `gpp`, `gpc`) overrides a stored
    /// consent in force: which consent and which signal.
    pub conflict: Option<String>,
}

/// The outcome for one recipient.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Send.
    Allow,
    /// Do not send, for these reasons.
    Suppress(Vec<Reason>),
}

/// The opt-outs a recipient can express.
pub const OPT_OUTS: [&str; 4] = ["unsubscribed", "objected", "gpc", "limit_sensitive"];

/// Parses an RFC 3339 time, or a date (midnight UTC).
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts);
    }
    // jiff reads the date part of `2026-11-23T10:00`: accept bare dates only,
    // so a time without an offset is an error rather than silently midnight.
    let date: Option<Date> = if text.contains(['T', 't', ' ']) {
        None
    } else {
        text.parse().ok()
    };
    date.and_then(|d| d.to_zoned(TimeZone::UTC).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| format!("`{text}` is not a date or an RFC 3339 time"))
}

/// Seconds since the epoch of a time written as in [`parse_time`], with a
/// fast path for the two forms records use most (`2026-06-01T09:00:00Z` and
/// `2026-06-01`); anything else goes through [`parse_time`].
pub fn parse_time_seconds(text: &str) -> Result<i64, String> {
    fast_seconds(text.as_bytes()).map_or_else(|| parse_time(text).map(|t| t.as_second()), Ok)
}

fn fast_seconds(b: &[u8]) -> Option<i64> {
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let mut n = 0i64;
        for &c in b.get(range)? {
            if !c.is_ascii_digit() {
                return None;
            }
            n = n * 10 + i64::from(c - b'0');
        }
        Some(n)
    };
    let (time, ok_len) = match b.len() {
        10 => (0, true),
        20 if b[10] == b'T' && b[13] == b':' && b[16] == b':' && b[19] == b'Z' => {
            let (h, m, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
            if h > 23 || m > 59 || s > 59 {
                return None;
            }
            (h * 3600 + m * 60 + s, true)
        }
        _ => (0, false),
    };
    if !ok_len || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let second = days * 86_400 + time;
    // jiff's timestamps end on 9999-12-30 (room for any offset): a later
    // time is refused there, so it must be refused here too, or the two
    // paths would accept different texts (and its date could not be shown).
    (Timestamp::MIN.as_second()..=Timestamp::MAX.as_second())
        .contains(&second)
        .then_some(second)
}

/// Window length in seconds (months as 30 days, years as 365).
pub fn window_seconds(d: &Duration) -> i64 {
    let unit = match d.unit {
        TimeUnit::Minutes => 60,
        TimeUnit::Hours => 3_600,
        TimeUnit::Days => 86_400,
        TimeUnit::Weeks => 7 * 86_400,
        TimeUnit::Months => 30 * 86_400,
        TimeUnit::Years => 365 * 86_400,
    };
    i64::from(d.amount).saturating_mul(unit)
}

#[cfg(test)]
mod time_tests {
    use super::*;

    #[test]
    fn fast_path_agrees_with_jiff() {
        for text in [
            "2026-06-01T09:00:00Z",
            "2026-06-01",
            "2024-02-29",
            "1999-12-31T23:59:59Z",
            "2000-03-01T00:00:00Z",
        ] {
            let slow = parse_time(text).map(|t| t.as_second());
            assert_eq!(fast_seconds(text.as_bytes()), slow.clone().ok(), "{text}");
            assert_eq!(parse_time_seconds(text), slow, "{text}");
        }
        // Invalid dates fall back to jiff, which rejects them.
        assert!(parse_time_seconds("2025-02-29").is_err());
        assert!(parse_time_seconds("2026-13-01").is_err());
        // Other forms still parse through jiff.
        assert!(parse_time_seconds("2026-06-01T09:00:00+02:00").is_ok());
        // A local time without an offset is an error, not midnight.
        assert!(parse_time_seconds("2026-06-01T09:00").is_err());
    }

    /// Issue 10 item 10b: `9999-12-31T23:59:59Z` passed the fast path but
    /// not jiff (and its date then printed empty). Whatever the text, the
    /// fast path either declines it or gives jiff's answer.
    #[test]
    fn fast_timestamp_path_accepts_exactly_what_jiff_accepts() {
        let jiff = |text: &str| parse_time(text).map(|t| t.as_second()).ok();
        let agree = |text: &str| {
            let slow = jiff(text);
            if let Some(fast) = fast_seconds(text.as_bytes()) {
                assert_eq!(Some(fast), slow, "fast path on {text:?}");
            }
            assert_eq!(parse_time_seconds(text).ok(), slow, "{text:?}");
        };
        let edge_cases = [
            "9999-12-31T23:59:59Z",
            "9999-12-31",
            "9999-12-30",
            "9999-12-30T21:59:59Z",
            "9999-12-30T22:00:00Z",
            "9999-12-30T22:00:01Z",
            "0000-01-01",
            "0000-01-01T00:00:00Z",
            "0000-02-29",
            "0001-01-01T00:00:00Z",
            "2016-12-31T23:59:60Z",
            "2026-06-01T23:59:60Z",
            "2026-06-01T24:00:00Z",
            "2026-06-01T09:00:00+25:00",
            "2026-06-01T09:00:00-25:00",
            "2026-06-01T09:00:00+24:00",
            "2026-06-01T09:00:00-24:00",
            "2026-06-01T09:00:00+23:59",
            "2026-06-01T09:00:00-23:59",
            "9999-12-30T21:00:00-23:59",
            "2026-06-01t09:00:00z",
            "2026-06-01T09:00:00z",
            "2026-06-01t09:00:00Z",
            "2026-06-01T09:00:00.123456789Z",
            "2026-06-01T09:00:00.1234567891234Z",
            "2026-06-01T09:00:00.Z",
            "2026-06-01T09:00Z",
            "2026-06-01T09Z",
            "2026-06-01 09:00:00Z",
            "+2026-06-01",
            "-0001-01-01",
            "2026-6-01",
            "2026-06-1",
            "20260601",
            "2026-02-29",
            "2024-02-29T12:00:00Z",
            "1900-02-29",
            "2000-02-29",
            "2026-00-10",
            "2026-12-32",
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "",
            "2026-06-01T09:00:00Zjunk",
        ];
        for text in edge_cases {
            agree(text);
        }
        // Every month end of the years at the edges, as dates and as times.
        for y in [
            "0000", "0001", "1969", "1970", "2000", "2100", "9998", "9999",
        ] {
            for m in 1..=12 {
                for d in 27..=32 {
                    let date = format!("{y}-{m:02}-{d:02}");
                    agree(&date);
                    agree(&format!("{date}T00:00:00Z"));
                    agree(&format!("{date}T23:59:59Z"));
                }
            }
        }
        // The date of any accepted time can be shown.
        let latest = parse_time_seconds("9999-12-30").unwrap_or(0);
        assert_eq!(plan_date(latest), "9999-12-30");
    }

    fn plan_date(second: i64) -> String {
        Timestamp::from_second(second)
            .map(|t| t.to_zoned(TimeZone::UTC).date().to_string())
            .unwrap_or_default()
    }
}
