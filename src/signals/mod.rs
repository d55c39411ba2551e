//! Consent signals that arrive with a recipient rather than as stored
//! consent records (issue 13): IAB TCF v2 TC strings ([`tcf`]), the facts the
//! gate reads from them ([`facts`]), and the US privacy facts a GPP string
//! carries ([`UsPrivacySignals`], filled by the GPP decoder).

mod bits;
pub mod facts;
pub mod fast;
pub mod gpp;
pub mod tcf;

pub use facts::{TcfFacts, TCF_LI_FORBIDDEN};
pub use tcf::{
    decode_tc_string, Core, IdBits, PubRestriction, PublisherTc, RangeEntry, TcString, TcfError,
    TcfErrorKind, VendorEncoding, VendorSet,
};

/// The US opt-outs a GPP string's US national or state section carries, in
/// the terms the gate enforces (the GPP field names are given per field).
/// `true` means the person opted out (or, for `known_child`, that the
/// section says the person is a known child).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsPrivacySignals {
    /// `SaleOptOut` = 1 (opted out).
    pub sale_opt_out: bool,
    /// `SharingOptOut` = 1 (US national and California sections).
    pub sharing_opt_out: bool,
    /// `TargetedAdvertisingOptOut` = 1.
    pub targeted_advertising_opt_out: bool,
    /// Any `SensitiveDataProcessingOptOuts` / `SensitiveDataLimitUseNotice`
    /// entry that limits or refuses the processing of sensitive data.
    pub sensitive_data_limit: bool,
    /// `KnownChildSensitiveDataConsents` says the person is a child.
    pub known_child: bool,
    /// Some `KnownChildSensitiveDataConsents` entry is 1 (No Consent): the
    /// person is a known child (under 13, or 13 to 16 as the entry says) who
    /// has not consented (or whose parent has not) to the processing, sale
    /// or sharing of their data. The gate enforces it where a rule needs a
    /// minor's consent (`minimum age … unless consent to …`).
    pub known_child_no_consent: bool,
}

/// What a recipient's `gpp` field says, as far as scruple can read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GppSignals {
    /// The string was decoded and its US sections folded into these facts
    /// (no US section: all `false`).
    Decoded(UsPrivacySignals),
    /// The string holds a section scruple does not decode that may carry US
    /// choices. The gate treats it as every
    /// US opt-out at once ([`GppSignals::effective`]): a signal that cannot
    /// be read must never let a message through.
    NotDecoded,
}

impl GppSignals {
    /// The opt-outs to enforce: the decoded ones, or all of them for a
    /// string that was not decoded (never `known_child`, which is a fact
    /// about age, not an opt-out, and is not guessed).
    pub fn effective(&self) -> UsPrivacySignals {
        match self {
            GppSignals::Decoded(s) => *s,
            GppSignals::NotDecoded => UsPrivacySignals {
                sale_opt_out: true,
                sharing_opt_out: true,
                targeted_advertising_opt_out: true,
                sensitive_data_limit: true,
                known_child: false,
                known_child_no_consent: false,
            },
        }
    }
}

/// Reads the US privacy facts of a GPP string with the GPP decoder
/// ([`gpp::decode_gpp_string`]).
///
/// A malformed string is an error naming section, field and bit offset (a
/// bad record). The decoded US sections fold protectively
/// ([`gpp::GppString::us_privacy_signals`]: one section saying "opted out"
/// decides), and a GPC sub-section with `Gpc` set counts as the opt-out of
/// sale and sharing it signals (11 CCR 7025). A string carrying a section
/// scruple does not decode that may hold US choices (6 `uspv1`, 13 and up:
/// further US states) is [`GppSignals::NotDecoded`], which the gate enforces
/// as every US opt-out: a choice that cannot be read must never let a
/// message through. Only the Canadian TCF section (5) is known to hold none.
///
/// The answer comes from the allocation-free reader ([`fast::gpp_signals`])
/// when it can give one; a malformed string (or one with more sections than
/// it follows) goes through the full decoder, whose error names the field.
pub fn gpp_us_privacy(text: &str) -> Result<GppSignals, String> {
    if let Some(signals) = fast::gpp_signals(text) {
        return Ok(signals);
    }
    let decoded = gpp::decode_gpp_string(text).map_err(|e| e.to_string())?;
    Ok(gpp_us_privacy_of(&decoded))
}

/// [`gpp_us_privacy`] of a string the full decoder has decoded: the
/// reference the fast path is tested against.
pub fn gpp_us_privacy_of(decoded: &gpp::GppString) -> GppSignals {
    use gpp::{KnownChild, Section, UsChoice};
    let unread_us_section = decoded
        .sections
        .iter()
        .any(|s| matches!(s, Section::Unknown { id, .. } if *id != 5));
    if unread_us_section {
        return GppSignals::NotDecoded;
    }
    let Some(us) = decoded.us_privacy_signals() else {
        return GppSignals::Decoded(UsPrivacySignals::default());
    };
    let opted_out = |c: Option<UsChoice>| c == Some(UsChoice::OptedOut);
    let gpc = us.gpc == Some(true);
    GppSignals::Decoded(UsPrivacySignals {
        sale_opt_out: opted_out(us.sale_opt_out) || gpc,
        sharing_opt_out: opted_out(us.sharing_opt_out) || gpc,
        targeted_advertising_opt_out: opted_out(us.targeted_advertising_opt_out),
        sensitive_data_limit: opted_out(us.sensitive_data_limit),
        known_child: matches!(
            us.known_child,
            Some(KnownChild::NoConsent | KnownChild::Consent)
        ),
        known_child_no_consent: us.known_child == Some(KnownChild::NoConsent),
    })
}
