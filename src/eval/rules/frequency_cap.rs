//! `cap N sends per DURATION per recipient [on CHANNELS]`: frequency caps.
//!
//! **Checks** that no recipient gets more than N messages on a channel in any
//! window of the given length. Sends are the campaign's schedule expanded
//! (`send_at` × `repeat`). When several campaigns are checked in one run (a
//! calendar), sends of campaigns whose audiences overlap count together:
//! two campaigns overlap when they target a segment of the same name, or
//! when neither names a segment (both go to the whole list). Without `on`,
//! each channel is capped separately. Times in `recipient` zones are compared
//! as written; months count as 30 days and years as 365.
//!
//! **Calendar caps** (`per calendar day|week|month`) count the sends that
//! fall on one calendar day, ISO week (from Monday) or month of the send
//! times as written, instead of any rolling window (issue 14 item 4).
//!
//! **Why**: over-messaging is the most common complaint about marketing; it
//! drives unsubscribes and spam reports, which bulk-sender rules (Gmail and
//! Yahoo, 2024) penalise. A cap is the simplest respect for attention.
//!
//! **Fires**: `cap 3 sends per 7 days per recipient` with a daily repeat of
//! count 5 on email; or two overlapping campaigns with 2 sends each in the
//! same week.
//!
//! **Passes**: `repeat: {every: 3 days, count: 3}` (at most 3 in any 7 days).
//!
//! **Triggered flows** (`schedule.trigger`) send once per recipient when an
//! event happens, so they have no calendar: each overlapping flow on the
//! channel counts as one send that may land in any window, added to the
//! fullest window of calendar sends (never multiplied by the audience).

use crate::campaign::model::{CampaignModel, Send, Trigger};
use crate::campaign::Campaign;
use crate::compile::cond::SymbolSet;
use crate::eval::{Ctx, Violation};
use crate::syntax::ast::{Duration, TimeUnit};

/// A send on the calendar: its time in seconds, its calendar period (for a
/// calendar cap; 0 otherwise), and whose it is.
struct Slot<'a> {
    seconds: i64,
    period: i64,
    send: &'a Send,
    campaign: &'a Campaign,
}

/// Returns at most one violation per channel: the fullest window over the
/// cap that contains a send of this campaign (the earliest, on a tie).
pub fn check(
    max: u32,
    window: &Duration,
    calendar: bool,
    channels: Option<&SymbolSet>,
    cx: &Ctx<'_>,
) -> Vec<Violation> {
    let me = cx.campaign;
    let window_seconds = seconds(window);
    let calendar = calendar.then_some(window.unit);
    let label = match calendar {
        Some(unit) => {
            let unit = unit.as_str();
            format!("one calendar {}", &unit[..unit.len() - 1])
        }
        None => window.to_string(),
    };
    let mut out = Vec::new();
    for (channel, _) in me.model.channels() {
        let name = channel.as_str();
        if channels.is_some_and(|set| !set.contains(name)) {
            continue;
        }
        let mut slots: Vec<Slot<'_>> = Vec::new();
        let mut flows: Vec<&Campaign> = Vec::new();
        for other in cx.overlapping.iter().copied() {
            if !is_same(other, me) && !other.model.channels().any(|(ch, _)| ch == channel) {
                continue;
            }
            // A transactional campaign (or a service one that opts out)
            // counts toward no cap, as in the gate's ledger.
            if !is_same(other, me) && !other.model.counts_toward_caps() {
                continue;
            }
            if trigger(&other.model).is_some() {
                flows.push(other);
            }
            slots.extend(other.model.sends().iter().map(|send| Slot {
                seconds: send_seconds(send),
                period: calendar.map_or(0, |unit| period_of(send, unit)),
                send,
                campaign: other,
            }));
        }
        slots.sort_by_key(|s| (s.period, s.seconds));
        let window = Window {
            seconds: window_seconds,
            calendar: calendar.is_some(),
            label: &label,
        };
        if let Some(v) = fullest_excess(&slots, &flows, max, &window, name, me) {
            out.push(v);
        }
    }
    out
}

fn trigger(model: &CampaignModel) -> Option<&crate::campaign::model::Spanned<Trigger>> {
    model.schedule.as_ref()?.value.trigger.as_ref()
}

/// The window a cap counts in, and how messages name it.
struct Window<'a> {
    seconds: i64,
    calendar: bool,
    label: &'a str,
}

fn fullest_excess(
    slots: &[Slot<'_>],
    flows: &[&Campaign],
    max: u32,
    window: &Window<'_>,
    channel: &str,
    me: &Campaign,
) -> Option<Violation> {
    let max = max as usize;
    // Each flow may send once to a recipient in any window.
    let extra = flows.len();
    let me_flow = flows.iter().any(|f| is_same(f, me));
    // The window ending at each send holds every send since `window` before
    // it; the fullest of these is the most any recipient gets in a window.
    let mut fullest: Option<(usize, usize)> = None;
    let mut start = 0;
    for end in 0..slots.len() {
        while if window.calendar {
            slots[end].period != slots[start].period
        } else {
            slots[end].seconds - slots[start].seconds >= window.seconds
        } {
            start += 1;
        }
        let count = end + 1 - start + extra;
        if count <= max || !(me_flow || slots[start..=end].iter().any(|s| is_same(s.campaign, me)))
        {
            continue;
        }
        if fullest.is_none_or(|(s, e)| count > e + 1 - s + extra) {
            fullest = Some((start, end));
        }
    }
    let in_window: &[Slot<'_>] = match fullest {
        Some((start, end)) => &slots[start..=end],
        // Flows alone over the cap (or a flow beside no calendar send).
        None if me_flow && extra > max => &[],
        None => return None,
    };
    let count = in_window.len() + extra;
    // Report on this campaign's latest send in the window, or its trigger.
    let span = match in_window.iter().rev().find(|s| is_same(s.campaign, me)) {
        Some(mine) => mine.send.span,
        None => trigger(&me.model)?.span,
    };
    let mut others: Vec<&str> = Vec::new();
    let ids = in_window
        .iter()
        .map(|s| s.campaign)
        .chain(flows.iter().copied());
    for campaign in ids.filter(|c| !is_same(c, me)) {
        let id = campaign.model.id.value.as_str();
        if !others.contains(&id) {
            others.push(id);
        }
    }
    let listed: Vec<String> = in_window
        .iter()
        .map(|s| format!("{} ({})", s.send.at, s.campaign.model.id.value))
        .chain(flows.iter().map(|f| {
            let event = trigger(&f.model).map_or("an event", |t| t.value.event.value.as_str());
            format!("{event} flow ({})", f.model.id.value)
        }))
        .collect();
    let mut v = Violation::new(
        span,
        format!("{count} {channel} sends within {}", window.label),
        format!(
            "recipients would get {count} {channel} messages within {}, over the cap of {max}",
            window.label
        ),
    )
    .var("channel", channel)
    .var("count", count.to_string())
    .var("limit", max.to_string())
    .var("window", window.label.to_string())
    .note(format!("sends in the window: {}", listed.join(", ")));
    if !others.is_empty() {
        v = v.note(format!(
            "counted together with {} (overlapping audience)",
            others
                .iter()
                .map(|o| format!("`{o}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Some(v)
}

fn is_same(a: &Campaign, b: &Campaign) -> bool {
    std::ptr::eq(a, b) || std::sync::Arc::ptr_eq(&a.source, &b.source)
}

fn send_seconds(send: &Send) -> i64 {
    match &send.zoned {
        Some(z) => z.timestamp().as_second(),
        None => send
            .at
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp().as_second())
            .unwrap_or(0),
    }
}

/// The calendar period of a send's time as written: days since the epoch,
/// or the Monday of its ISO week, or months since year 0.
fn period_of(send: &Send, unit: TimeUnit) -> i64 {
    let date = send.at.date();
    let days = i64::from(
        date.since(jiff::civil::date(1970, 1, 1))
            .map(|s| s.get_days())
            .unwrap_or(0),
    );
    match unit {
        TimeUnit::Weeks => days - i64::from(date.weekday().to_monday_zero_offset()),
        TimeUnit::Months => i64::from(date.year()) * 12 + i64::from(date.month()),
        TimeUnit::Years => i64::from(date.year()),
        _ => days,
    }
}

fn seconds(d: &Duration) -> i64 {
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
