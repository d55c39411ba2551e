//! Consent signals that arrive with a recipient rather than as stored
//! consent records (issue 13): IAB TCF v2 TC strings ([`tcf`]), the facts the
//! gate reads from them ([`facts`]), and the US privacy facts a GPP string
//! carries ([`UsPrivacySignals`], filled by the GPP decoder).

mod bits;
pub mod facts;
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
}

/// What a recipient's `gpp` field says, as far as scruple can read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GppSignals {
    /// The string was decoded and its US sections folded into these facts
    /// (no US section: all `false`).
    Decoded(UsPrivacySignals),
    /// The string is present but not decoded. The gate treats it as every
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
            },
        }
    }
}

/// Reads the US privacy facts of a GPP string.
///
/// This is the seam for the GPP decoder (issue 13 item 1): until it lands,
/// only the string's alphabet is checked (base64url, `~` between sections,
/// `.` as in TCF segments), so that something that is no GPP string at all
/// is a bad record, and every well-formed string is [`GppSignals::NotDecoded`],
/// which the gate enforces as every US opt-out.
pub fn gpp_us_privacy(text: &str) -> Result<GppSignals, String> {
    if text.is_empty() {
        return Err("GPP string is empty".into());
    }
    if let Some((index, ch)) = text
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '~' | '.')))
    {
        return Err(format!(
            "GPP string: invalid character {ch:?} at character {index} (base64url, `~` and `.` only)"
        ));
    }
    Ok(GppSignals::NotDecoded)
}
