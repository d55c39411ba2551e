//! The facts US messaging law, the mailbox providers, ad platforms and CASL
//! turn on (issue 12): the sender's volume and spam rate, how an ad is
//! placed, what a text message says about its sender and opting out, and
//! triggered flows. Kept apart from the rest of the builder because only the
//! rules of those packs, caps and quiet hours read them.

use super::{Cx, Obj};
use crate::campaign::model::Spanned;
use crate::campaign::model::{Ads, SendWindow, Sending, SmsMessage, SpamRate, Trigger};

/// `sending`.
pub(super) fn sending(cx: &mut Cx<'_>, o: Obj<'_>) -> Option<Sending> {
    Some(Sending {
        max_daily_volume: cx.field(&o, "max_daily_volume", Cx::int),
        spam_rate: cx.map(&o, "spam_rate", spam_rate),
    })
}

/// `sending.spam_rate`; `None` when `percent` is missing or bad.
fn spam_rate(cx: &mut Cx<'_>, o: Obj<'_>) -> Option<SpamRate> {
    let period = cx.field(&o, "period", Cx::every);
    let source = cx.text(&o, "source");
    let percent: Spanned<f64> = cx.field(&o, "percent", Cx::percent)?;
    Some(SpamRate {
        percent,
        period,
        source,
    })
}

/// `ads`.
pub(super) fn ads(cx: &mut Cx<'_>, o: Obj<'_>) -> Option<Ads> {
    Some(Ads {
        placement: cx.keyword(&o, "placement"),
        platform: cx.keyword(&o, "platform"),
        special_ad_category: cx.keyword(&o, "special_ad_category"),
    })
}

/// `message.sms`.
pub(super) fn sms(cx: &mut Cx<'_>, o: Obj<'_>) -> Option<SmsMessage> {
    Some(SmsMessage {
        sender_name: cx.text(&o, "sender_name"),
        opt_out_instructions: cx.text(&o, "opt_out_instructions"),
        help_instructions: cx.text(&o, "help_instructions"),
    })
}

/// `schedule.trigger`; `None` when `event` is missing or unknown.
pub(super) fn trigger(cx: &mut Cx<'_>, o: Obj<'_>) -> Option<Trigger> {
    let delay = cx.field(&o, "delay", Cx::every);
    let window = cx.map(&o, "window", |cx, o| {
        let from = cx.field(&o, "from", Cx::time_of_day);
        let to = cx.field(&o, "to", Cx::time_of_day);
        Some(SendWindow {
            from: from?,
            to: to?,
        })
    });
    Some(Trigger {
        event: cx.keyword(&o, "event")?,
        delay,
        window,
    })
}
