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
//! **Why**: over-messaging is the most common complaint about marketing; it
//! drives unsubscribes and spam reports, which bulk-sender rules (Gmail and
//! Yahoo, 2024) penalise. A cap is the simplest respect for attention.
//!
//! **Fires**: `cap 3 sends per 7 days per recipient` with a daily repeat of
//! count 5 on email; or two overlapping campaigns with 2 sends each in the
//! same week.
//!
//! **Passes**: `repeat: {every: 3 days, count: 3}` (at most 3 in any 7 days).

use crate::campaign::model::Send;
use crate::campaign::Campaign;
use crate::compile::cond::SymbolSet;
use crate::eval::{Ctx, Violation};
use crate::syntax::ast::{Duration, TimeUnit};

/// A send on the calendar: its time in seconds, and whose it is.
struct Slot<'a> {
    seconds: i64,
    send: &'a Send,
    campaign: &'a Campaign,
}

/// Returns at most one violation per channel: the fullest window over the
/// cap that contains a send of this campaign (the earliest, on a tie).
pub fn check(
    max: u32,
    window: &Duration,
    channels: Option<&SymbolSet>,
    cx: &Ctx<'_>,
) -> Vec<Violation> {
    let me = cx.campaign;
    let window_seconds = seconds(window);
    let mut out = Vec::new();
    for (channel, _) in me.model.channels() {
        let name = channel.as_str();
        if channels.is_some_and(|set| !set.contains(name)) {
            continue;
        }
        let mut slots: Vec<Slot<'_>> = Vec::new();
        for other in cx.overlapping.iter().copied() {
            if !is_same(other, me) && !other.model.channels().any(|(ch, _)| ch == channel) {
                continue;
            }
            slots.extend(other.model.sends().iter().map(|send| Slot {
                seconds: send_seconds(send),
                send,
                campaign: other,
            }));
        }
        slots.sort_by_key(|s| s.seconds);
        if let Some(v) = fullest_excess(&slots, max, window_seconds, window, name, me) {
            out.push(v);
        }
    }
    out
}

fn fullest_excess(
    slots: &[Slot<'_>],
    max: u32,
    window_seconds: i64,
    window: &Duration,
    channel: &str,
    me: &Campaign,
) -> Option<Violation> {
    let max = max as usize;
    // The window ending at each send holds every send since `window` before
    // it; the fullest of these is the most any recipient gets in a window.
    let mut fullest: Option<(usize, usize)> = None;
    let mut start = 0;
    for end in 0..slots.len() {
        while slots[end].seconds - slots[start].seconds >= window_seconds {
            start += 1;
        }
        let count = end + 1 - start;
        if count <= max || !slots[start..=end].iter().any(|s| is_same(s.campaign, me)) {
            continue;
        }
        if fullest.is_none_or(|(s, e)| count > e + 1 - s) {
            fullest = Some((start, end));
        }
    }
    let (start, end) = fullest?;
    let in_window = &slots[start..=end];
    // Report on this campaign's latest send in the window.
    let mine = in_window.iter().rev().find(|s| is_same(s.campaign, me))?;
    let mut others: Vec<&str> = Vec::new();
    for slot in in_window.iter().filter(|s| !is_same(s.campaign, me)) {
        let id = slot.campaign.model.id.value.as_str();
        if !others.contains(&id) {
            others.push(id);
        }
    }
    let listed: Vec<String> = in_window
        .iter()
        .map(|s| format!("{} ({})", s.send.at, s.campaign.model.id.value))
        .collect();
    let mut v = Violation::new(
        mine.send.span,
        format!("{} {channel} sends within {window}", in_window.len()),
        format!(
            "recipients would get {} {channel} messages within {window}, over the cap of {max}",
            in_window.len()
        ),
    )
    .var("channel", channel)
    .var("count", in_window.len().to_string())
    .var("limit", max.to_string())
    .var("window", window.to_string())
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
