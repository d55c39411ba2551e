//! `quiet hours from HH:MM to HH:MM`: no sends at night, recipient's time.
//!
//! **Checks** each send of the schedule. With `timezone: recipient`, the send
//! time is each recipient's local time and is checked directly. With a fixed
//! zone (`Europe/London`), the send instant is converted to every zone of
//! every campaign jurisdiction (`US` spans six zones) and checked there: a
//! 20:00 London send reaches Helsinki at 22:00. A period whose end is before
//! its start wraps midnight (`from 21:00 to 08:00`).
//!
//! **Why**: messages at night intrude; several jurisdictions restrict
//! telemarketing and SMS hours (e.g. the US TCPA, 47 CFR 64.1200(c)(1):
//! no calls before 8 a.m. or after 9 p.m. local time), and respecting sleep
//! is basic courtesy.
//!
//! **Fires**: `send_at: 2026-12-01T20:00`, `timezone: Europe/London`,
//! `jurisdictions: [EU-FI]` (22:00 in Helsinki).
//!
//! **Passes**: `send_at: 2026-12-01T10:00`, `timezone: recipient`.
//!
//! **Triggered flows** (`schedule.trigger`) send when the event happens, at
//! any hour, unless `trigger.window` holds them to hours of the recipient's
//! local time: a flow without a window fires, and so does one whose window
//! reaches into the quiet period.

use jiff::civil::Time;

use crate::eval::{Ctx, Violation};
use crate::geo::zones_of;
use crate::syntax::ast::TimeOfDay;

/// Returns one violation per `send_at` item with a send in quiet hours.
pub fn check(from: TimeOfDay, to: TimeOfDay, cx: &Ctx<'_>) -> Vec<Violation> {
    let model = &cx.campaign.model;
    let period = format!("{from}–{to}");
    let mut out: Vec<Violation> = Vec::new();
    if let Some(v) = triggered(from, to, &period, model) {
        out.push(v);
    }
    let mut reported = Vec::new();
    for send in model.sends() {
        if reported.contains(&send.span) {
            continue;
        }
        let hits: Vec<String> = match &send.zoned {
            None => {
                if quiet(send.at.time(), from, to) {
                    vec![format!(
                        "{} in the recipient's local time",
                        hhmm(send.at.time())
                    )]
                } else {
                    Vec::new()
                }
            }
            Some(zoned) => {
                let mut zones: Vec<(String, &str)> = Vec::new();
                for j in model.jurisdictions() {
                    for zone in zones_of(j.value.as_str()) {
                        if !zones.iter().any(|(_, z)| z == zone) {
                            zones.push((j.value.to_string(), zone));
                        }
                    }
                }
                if zones.is_empty() {
                    let own = zoned
                        .time_zone()
                        .iana_name()
                        .unwrap_or("the schedule's zone");
                    if quiet(zoned.time(), from, to) {
                        vec![format!("{} in {own}", hhmm(zoned.time()))]
                    } else {
                        Vec::new()
                    }
                } else {
                    zones
                        .iter()
                        .filter_map(|(j, zone)| {
                            let tz = crate::tz::get(zone).ok()?;
                            let local = zoned.timestamp().to_zoned(tz).time();
                            quiet(local, from, to)
                                .then(|| format!("{} in {zone} ({j})", hhmm(local)))
                        })
                        .collect()
                }
            }
        };
        let Some(first) = hits.first() else { continue };
        reported.push(send.span);
        // How a send is shown: its local time, with the zone when fixed.
        let shown = |s: &crate::campaign::model::Send| match &s.zoned {
            Some(z) => format!("{} {}", s.at, z.time_zone().iana_name().unwrap_or("")),
            None => s.at.to_string(),
        };
        let mut v = Violation::new(
            send.span,
            format!("arrives at {first}"),
            format!("a send falls in quiet hours ({period}): {first}"),
        )
        .var("value", first.clone())
        .var("limit", period.clone());
        if send.occurrence > 0 {
            // The time written at this line is the first occurrence's.
            let written = model
                .sends()
                .iter()
                .find(|s| s.span == send.span && s.occurrence == 0)
                .map_or_else(|| shown(send), shown);
            v = v.note(format!(
                "this is repeat #{} of the send written here ({written}); it goes out at {}",
                send.occurrence,
                shown(send)
            ));
        }
        if hits.len() > 1 {
            v = v.note(format!("also quiet there: {}", hits[1..].join(", ")));
        }
        out.push(v);
    }
    out
}

/// The violation of a triggered flow, if it may send in the quiet period.
fn triggered(
    from: TimeOfDay,
    to: TimeOfDay,
    period: &str,
    model: &crate::campaign::model::CampaignModel,
) -> Option<Violation> {
    let trigger = model.schedule.as_ref()?.value.trigger.as_ref()?;
    let event = trigger.value.event.value.as_str();
    let Some(window) = &trigger.value.window else {
        return Some(
            Violation::new(
                trigger.span,
                "sends whenever the event happens",
                format!(
                    "the {event} flow sends whenever the event happens, at any hour, including quiet hours ({period})"
                ),
            )
            .var("value", format!("any hour ({event} flow without a send window)"))
            .var("limit", period.to_owned())
            .note("add schedule.trigger.window to hold messages to daytime hours in the recipient's time zone"),
        );
    };
    let (open, close) = (window.value.from.value, window.value.to.value);
    // The first minute of the window that is quiet, if any.
    let first_quiet = (0..24 * 60).find_map(|m: i32| {
        let t = Time::new(i8::try_from(m / 60).ok()?, i8::try_from(m % 60).ok()?, 0, 0).ok()?;
        (in_window(t, open, close) && quiet(t, from, to)).then_some(t)
    })?;
    Some(
        Violation::new(
            window.span,
            format!("may send at {}", hhmm(first_quiet)),
            format!(
                "the {event} flow's send window {}–{} reaches into quiet hours ({period})",
                hhmm(open),
                hhmm(close)
            ),
        )
        .var(
            "value",
            format!(
                "{} in the recipient's local time ({event} flow window)",
                hhmm(first_quiet)
            ),
        )
        .var("limit", period.to_owned()),
    )
}

/// True if `t` is in the window from `open` to `close` (wrapping midnight
/// when `close` is before `open`; equal ends mean all day).
fn in_window(t: Time, open: Time, close: Time) -> bool {
    if open < close {
        open <= t && t < close
    } else {
        t >= open || t < close
    }
}

fn hhmm(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// True if `t` lies in the quiet period (which wraps midnight when `to` < `from`).
pub fn quiet(t: Time, from: TimeOfDay, to: TimeOfDay) -> bool {
    let minutes =
        u32::try_from(t.hour()).unwrap_or(0) * 60 + u32::try_from(t.minute()).unwrap_or(0);
    let (start, end) = (from.minutes(), to.minutes());
    if start < end {
        (start..end).contains(&minutes)
    } else {
        minutes >= start || minutes < end
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    fn tod(hour: u8, minute: u8) -> TimeOfDay {
        TimeOfDay {
            hour,
            minute,
            span: Span::default(),
        }
    }

    #[test]
    fn wraps_midnight() {
        let (from, to) = (tod(21, 0), tod(8, 0));
        assert!(quiet(Time::constant(22, 0, 0, 0), from, to));
        assert!(quiet(Time::constant(3, 0, 0, 0), from, to));
        assert!(!quiet(Time::constant(8, 0, 0, 0), from, to));
        assert!(!quiet(Time::constant(20, 59, 0, 0), from, to));
        assert!(quiet(Time::constant(12, 30, 0, 0), tod(12, 0), tod(14, 0)));
    }
}
