//! Processing windows for opt-outs whose time is known (`unsubscribed_at`,
//! `objected_at`): how long each law or mailbox provider gives a sender to
//! act on the request, so that a suppression reason says which deadline
//! applies and whether it has passed (issue 12).
//!
//! The decision never waits for a window: `gate` suppresses from the moment
//! of the request, since a doubt about an opt-out must not let a message
//! through. The windows only say how late a send would already break the
//! law, which is what an audit of past sends needs.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// One window: who sets it, its citation, and its length.
struct Window {
    who: &'static str,
    cite: &'static str,
    length: Length,
}

enum Length {
    AtOnce,
    Days(i64),
    BusinessDays(i64),
}

/// The daily volume from which Google and Yahoo hold a sender to their bulk
/// sender requirements (Google's Email sender guidelines: "close to 5,000
/// messages" a day to personal Gmail accounts).
pub(super) const BULK_SENDER_DAILY_VOLUME: i64 = 5_000;

/// The windows that apply to an opt-out (`unsubscribed` or `objected`) of a
/// recipient in `jurisdiction` (all of them when unknown) reached on
/// `channels`. `bulk_sender`: whether the campaign's sender reaches the
/// bulk-sender volume (`None`: the campaign does not say, so the window is
/// named as conditional on it).
fn windows(
    opt_out: &str,
    jurisdiction: Option<&str>,
    channels: &[String],
    bulk_sender: Option<bool>,
) -> Vec<Window> {
    let within = |prefixes: &[&str]| {
        jurisdiction.is_none_or(|j| {
            prefixes
                .iter()
                .any(|p| j == *p || j.starts_with(&format!("{p}-")))
        })
    };
    let on = |c: &str| channels.iter().any(|x| x == c);
    let europe = within(&["EU", "IS", "LI", "NO", "GB"]);
    let mut out = Vec::new();
    if europe {
        out.push(Window {
            who: if opt_out == "objected" {
                "GDPR objection to direct marketing"
            } else {
                "GDPR / ePrivacy opt-out"
            },
            cite: "GDPR Art. 21(3)",
            length: Length::AtOnce,
        });
    }
    if within(&["US"]) && on("email") {
        out.push(Window {
            who: "CAN-SPAM",
            cite: "15 U.S.C. 7704(a)(4)(A)",
            length: Length::BusinessDays(10),
        });
    }
    if within(&["US"]) && on("sms") {
        out.push(Window {
            who: "TCPA revocation of consent",
            cite: "47 CFR 64.1200(a)(10)",
            length: Length::BusinessDays(10),
        });
    }
    if within(&["CA"]) && (on("email") || on("sms")) {
        out.push(Window {
            who: "CASL",
            cite: "S.C. 2010, c. 23, s. 11(3)",
            length: Length::BusinessDays(10),
        });
    }
    if on("email") && bulk_sender != Some(false) {
        out.push(Window {
            who: if bulk_sender == Some(true) {
                "Gmail and Yahoo bulk senders"
            } else {
                "Gmail and Yahoo bulk senders, if this sender sends 5,000 or more a day"
            },
            cite: "Google Email sender guidelines (unsubscribe within 2 days)",
            length: Length::Days(2),
        });
    }
    out
}

/// `date` plus `n` weekdays (Monday to Friday; public holidays are not
/// known, so the deadline may come a little early, never late).
fn add_business_days(date: Date, n: i64) -> Date {
    let mut d = date;
    let mut left = n;
    while left > 0 {
        d = d.tomorrow().unwrap_or(d);
        if !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) {
            left -= 1;
        }
    }
    d
}

/// The text added to an opt-out reason: when it was made, and per window
/// its deadline and whether the send time is past it.
pub(super) fn describe(
    opt_out: &str,
    since: i64,
    at: i64,
    jurisdiction: Option<&str>,
    channels: &[String],
    bulk_sender: Option<bool>,
) -> String {
    let Ok(made) = Timestamp::from_second(since) else {
        return String::new();
    };
    let day = made.to_zoned(TimeZone::UTC).date();
    let parts: Vec<String> = windows(opt_out, jurisdiction, channels, bulk_sender)
        .into_iter()
        .map(|w| {
            let (length, deadline) = match w.length {
                Length::AtOnce => ("at once".to_string(), since),
                Length::Days(n) => (format!("within {n} days"), since.saturating_add(n * 86_400)),
                Length::BusinessDays(n) => {
                    let end = add_business_days(day, n)
                        .to_zoned(TimeZone::UTC)
                        .map_or(i64::MAX, |z| z.timestamp().as_second());
                    (format!("within {n} business days"), end)
                }
            };
            let status = if at > deadline {
                "passed"
            } else {
                "not yet passed"
            };
            format!("{} ({}): {length}, {status}", w.who, w.cite)
        })
        .collect();
    let mut text = format!(" on {made}");
    if !parts.is_empty() {
        text.push_str(&format!(
            " (processing deadlines: {}; scruple suppresses from the request)",
            parts.join("; ")
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_days_skip_weekends() {
        // Friday 2026-11-27 + 10 business days = Friday 2026-12-11.
        let d = add_business_days(jiff::civil::date(2026, 11, 27), 10);
        assert_eq!(d, jiff::civil::date(2026, 12, 11));
    }

    #[test]
    fn windows_follow_the_recipient_and_the_channel() {
        let email = ["email".to_string()];
        let names = |j: Option<&str>, ch: &[String]| -> Vec<&str> {
            windows("unsubscribed", j, ch, Some(true))
                .iter()
                .map(|w| w.cite)
                .collect()
        };
        assert_eq!(
            names(Some("EU-FR"), &email),
            [
                "GDPR Art. 21(3)",
                "Google Email sender guidelines (unsubscribe within 2 days)"
            ]
        );
        assert_eq!(
            names(Some("US-CA"), &email),
            [
                "15 U.S.C. 7704(a)(4)(A)",
                "Google Email sender guidelines (unsubscribe within 2 days)"
            ]
        );
        assert_eq!(
            names(Some("CA-ON"), &["sms".to_string()]),
            ["S.C. 2010, c. 23, s. 11(3)"]
        );
        assert_eq!(
            names(Some("US-TX"), &["sms".to_string()]),
            ["47 CFR 64.1200(a)(10)"]
        );
    }

    #[test]
    fn a_send_after_the_deadline_says_so() {
        // Unsubscribed Monday 2026-11-02, send 2026-11-30: CAN-SPAM's 10
        // business days ended 2026-11-16.
        let since = "2026-11-02T00:00:00Z"
            .parse::<Timestamp>()
            .map_or(0, |t| t.as_second());
        let text = describe(
            "unsubscribed",
            since,
            since + 28 * 86_400,
            Some("US"),
            &["email".into()],
            Some(true),
        );
        assert!(
            text.contains("CAN-SPAM (15 U.S.C. 7704(a)(4)(A)): within 10 business days, passed"),
            "{text}"
        );
        let text = describe(
            "unsubscribed",
            since,
            since + 86_400,
            Some("US"),
            &["email".into()],
            Some(true),
        );
        assert!(text.contains("within 2 days, not yet passed"), "{text}");
    }

    /// Google's Email sender guidelines hold only senders of about 5,000 or
    /// more messages a day to the 2-day unsubscribe: a small sender's
    /// reason must not name it, and a sender whose volume is unknown is
    /// told it applies if it is a bulk sender.
    #[test]
    fn the_two_day_window_is_named_only_for_bulk_senders() {
        let email = ["email".to_string()];
        let cites = |bulk: Option<bool>| -> Vec<&str> {
            windows("unsubscribed", Some("US-NY"), &email, bulk)
                .iter()
                .map(|w| w.who)
                .collect()
        };
        assert_eq!(cites(Some(false)), ["CAN-SPAM"]);
        assert_eq!(
            cites(Some(true)),
            ["CAN-SPAM", "Gmail and Yahoo bulk senders"]
        );
        assert_eq!(
            cites(None),
            [
                "CAN-SPAM",
                "Gmail and Yahoo bulk senders, if this sender sends 5,000 or more a day"
            ]
        );
    }
}
