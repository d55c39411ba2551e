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

pub mod command;
mod plan;
pub mod progress;
pub mod recipient;
pub mod stream;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::syntax::ast::{Duration, TimeUnit};

pub use plan::{GatePlan, Moment, Prepared, MAX_CHECKS, MAX_PURPOSES};

/// Sends already made, per recipient and channel (the ledger).
pub trait History {
    /// How many messages `recipient` got on `channel` at or after `since`
    /// (seconds since the Unix epoch).
    fn sends_since(&self, recipient: &str, channel: &str, since: i64) -> Result<u32, String>;
}

/// No history at all: every cap starts from zero.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHistory;

impl History for NoHistory {
    fn sends_since(&self, _: &str, _: &str, _: i64) -> Result<u32, String> {
        Ok(0)
    }
}

/// Why a recipient is suppressed. At send time every per-recipient rule
/// suppresses, whatever its severity: severity ranks findings in `check`, but
/// a message that breaks a rule for this person is not sent.
#[derive(Clone, Debug, PartialEq)]
pub struct Reason {
    /// Rule id (or `scruple::gate::…` for checks of the record itself).
    pub rule: String,
    /// The rule's severity.
    pub severity: crate::diag::Severity,
    /// What is wrong for this recipient.
    pub message: String,
    /// Citations of the rule.
    pub citations: Vec<String>,
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
    let date: Date = text
        .parse()
        .map_err(|_| format!("`{text}` is not a date or an RFC 3339 time"))?;
    date.to_zoned(TimeZone::UTC)
        .map(|z| z.timestamp())
        .map_err(|e| e.to_string())
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
