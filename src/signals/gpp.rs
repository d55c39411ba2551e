//! IAB Global Privacy Platform (GPP) strings: the header (section id 3),
//! the EU TCF v2 section (id 2, decoded by [`super::tcf`]), the MSPA US
//! National section (`usnat`, id 7, versions 1 and 2) and the California
//! (8), Virginia (9), Colorado (10), Utah (11) and Connecticut (12)
//! sections with their optional GPC sub-sections. Any other section id is
//! kept undecoded ([`Section::Unknown`]), not an error.
//!
//! Field names follow the IAB "Consent String Specification" (GPP v1) and
//! the section technical specifications in
//! `InteractiveAdvertisingBureau/Global-Privacy-Platform`; each Rust
//! field's doc gives the spec's name and its values. The two-bit US fields
//! keep the spec's number (0, 1 or 2; 3 is rejected): in every section 0 is
//! "Not Applicable", 1 the restrictive answer ("Opted Out", "No Consent",
//! "Yes, notice was provided") and 2 the permissive one. [`UsPrivacySignals`]
//! turns them into what a policy needs.
//!
//! # Why a decoder of our own
//! For the same reasons as the TC string decoder (see [`super::tcf`]): the
//! `iab_gpp` crate renames fields and its errors name neither field nor bit
//! offset. This module is checked against the reference implementation,
//! `@iabgpp/cmpapi`, by `tests/gpp_reference.rs`.
//!
//! # Bounded work
//! The header's Fibonacci-coded section ids are checked against the
//! number of `~`-separated sections while they are read, so a range
//! 1–1,000,000 in a short string fails before anything is allocated;
//! every Fibonacci code word is bounded to ids below 65,536.

use std::fmt;

use super::bits::BitReader;
use super::tcf::{decode_tc_string, TcString, TcfError};

/// A decoded GPP string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GppString {
    /// The header section.
    pub header: Header,
    /// The discrete sections, in the order of the header's `SectionIds`.
    pub sections: Vec<Section>,
}

/// The GPP header section (the string's first `~`-separated part).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// `Type` (6 bits): always 3, the header's section id.
    pub r#type: u8,
    /// `Version` (6 bits): the GPP version, 1.
    pub version: u8,
    /// `SectionIds` (Range(Fibonacci)): the ids of the sections that
    /// follow, ascending.
    pub section_ids: Vec<u16>,
}

/// One discrete section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Section {
    /// Id 2, `tcfeuv2`: an IAB TCF v2 TC string.
    TcfEuV2(Box<TcString>),
    /// Id 7, `usnat`.
    UsNat(UsNat),
    /// Id 8, `usca`.
    UsCa(UsCa),
    /// Id 9, `usva`.
    UsVa(UsVa),
    /// Id 10, `usco`.
    UsCo(UsCo),
    /// Id 11, `usut`.
    UsUt(UsUt),
    /// Id 12, `usct`.
    UsCt(UsCt),
    /// Any other id (e.g. 5 `tcfcav1`, 6 `uspv1`, 13 and up other US
    /// states), kept as the section's text.
    Unknown {
        /// The section id from the header.
        id: u16,
        /// The section's text, undecoded.
        text: String,
    },
}

impl Section {
    /// The section's id.
    pub fn id(&self) -> u16 {
        match self {
            Section::TcfEuV2(_) => 2,
            Section::UsNat(_) => 7,
            Section::UsCa(_) => 8,
            Section::UsVa(_) => 9,
            Section::UsCo(_) => 10,
            Section::UsUt(_) => 11,
            Section::UsCt(_) => 12,
            Section::Unknown { id, .. } => *id,
        }
    }
}

/// MSPA US National section (id 7). Version 1 has 12
/// `SensitiveDataProcessing` and 2 `KnownChildSensitiveDataConsents`
/// entries, version 2 (August 2024) 16 and 3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsNat {
    /// `Version` (6 bits): 1 or 2.
    pub version: u8,
    /// `SharingNotice`: 0 n/a, 1 notice provided, 2 not provided.
    pub sharing_notice: u8,
    /// `SaleOptOutNotice`: 0 n/a, 1 notice provided, 2 not provided.
    pub sale_opt_out_notice: u8,
    /// `SharingOptOutNotice`: 0 n/a, 1 notice provided, 2 not provided.
    pub sharing_opt_out_notice: u8,
    /// `TargetedAdvertisingOptOutNotice`: 0 n/a, 1 provided, 2 not.
    pub targeted_advertising_opt_out_notice: u8,
    /// `SensitiveDataProcessingOptOutNotice`: 0 n/a, 1 provided, 2 not.
    pub sensitive_data_processing_opt_out_notice: u8,
    /// `SensitiveDataLimitUseNotice`: 0 n/a, 1 provided, 2 not.
    pub sensitive_data_limit_use_notice: u8,
    /// `SaleOptOut`: 0 n/a, 1 Opted Out, 2 Did Not Opt Out.
    pub sale_opt_out: u8,
    /// `SharingOptOut`: 0 n/a, 1 Opted Out, 2 Did Not Opt Out.
    pub sharing_opt_out: u8,
    /// `TargetedAdvertisingOptOut`: 0 n/a, 1 Opted Out, 2 Did Not Opt Out.
    pub targeted_advertising_opt_out: u8,
    /// `SensitiveDataProcessing` (12 or 16 × 2 bits): per category,
    /// 0 n/a, 1 No Consent, 2 Consent.
    pub sensitive_data_processing: Vec<u8>,
    /// `KnownChildSensitiveDataConsents` (2 or 3 × 2 bits): 0 n/a,
    /// 1 No Consent, 2 Consent.
    pub known_child_sensitive_data_consents: Vec<u8>,
    /// `PersonalDataConsents`: 0 n/a, 1 No Consent, 2 Consent.
    pub personal_data_consents: u8,
    /// `MspaCoveredTransaction`: 1 yes, 2 no.
    pub mspa_covered_transaction: u8,
    /// `MspaOptOutOptionMode`: 0 n/a, 1 yes, 2 no.
    pub mspa_opt_out_option_mode: u8,
    /// `MspaServiceProviderMode`: 0 n/a, 1 yes, 2 no.
    pub mspa_service_provider_mode: u8,
    /// `Gpc` from the GPC sub-section; `None` when it is absent.
    pub gpc: Option<bool>,
}

/// California section (id 8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsCa {
    /// `Version` (6 bits): 1.
    pub version: u8,
    /// `SaleOptOutNotice`: 0 n/a, 1 notice provided, 2 not provided.
    pub sale_opt_out_notice: u8,
    /// `SharingOptOutNotice`: 0 n/a, 1 notice provided, 2 not provided.
    pub sharing_opt_out_notice: u8,
    /// `SensitiveDataLimitUseNotice`: 0 n/a, 1 provided, 2 not.
    pub sensitive_data_limit_use_notice: u8,
    /// `SaleOptOut`: 0 n/a, 1 Opted Out, 2 Did Not Opt Out.
    pub sale_opt_out: u8,
    /// `SharingOptOut`: 0 n/a, 1 Opted Out, 2 Did Not Opt Out.
    pub sharing_opt_out: u8,
    /// `SensitiveDataProcessing` (9 × 2 bits): per category, 0 n/a,
    /// 1 Opted Out (of use or disclosure), 2 Did Not Opt Out.
    pub sensitive_data_processing: [u8; 9],
    /// `KnownChildSensitiveDataConsents` (2 × 2 bits: sell, share, under
    /// 16): 0 n/a, 1 No Consent, 2 Consent.
    pub known_child_sensitive_data_consents: [u8; 2],
    /// `PersonalDataConsents`: 0 n/a, 1 No Consent, 2 Consent.
    pub personal_data_consents: u8,
    /// `MspaCoveredTransaction`: 1 yes, 2 no.
    pub mspa_covered_transaction: u8,
    /// `MspaOptOutOptionMode`: 0 n/a, 1 yes, 2 no.
    pub mspa_opt_out_option_mode: u8,
    /// `MspaServiceProviderMode`: 0 n/a, 1 yes, 2 no.
    pub mspa_service_provider_mode: u8,
    /// `Gpc` from the GPC sub-section; `None` when it is absent.
    pub gpc: Option<bool>,
}

/// Virginia section (id 9); it has no GPC sub-section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsVa {
    /// `Version` (6 bits): 1.
    pub version: u8,
    /// `SharingNotice`: 0 n/a, 1 notice provided, 2 not provided.
    pub sharing_notice: u8,
    /// `SaleOptOutNotice`: 0 n/a, 1 notice provided, 2 not provided.
    pub sale_opt_out_notice: u8,
    /// `TargetedAdvertisingOptOutNotice`: 0 n/a, 1 provided, 2 not.
    pub targeted_advertising_opt_out_notice: u8,
    /// `SaleOptOut`: 0 n/a, 1 Opted Out, 2 Did Not Opt Out.
    pub sale_opt_out: u8,
    /// `TargetedAdvertisingOptOut`: 0 n/a, 1 Opted Out, 2 Did Not Opt Out.
    pub targeted_advertising_opt_out: u8,
    /// `SensitiveDataProcessing` (8 × 2 bits): 0 n/a, 1 No Consent,
    /// 2 Consent.
    pub sensitive_data_processing: [u8; 8],
    /// `KnownChildSensitiveDataConsents` (2 bits): 0 n/a, 1 No Consent,
    /// 2 Consent.
    pub known_child_sensitive_data_consents: u8,
    /// `MspaCoveredTransaction`: 1 yes, 2 no.
    pub mspa_covered_transaction: u8,
    /// `MspaOptOutOptionMode`: 0 n/a, 1 yes, 2 no.
    pub mspa_opt_out_option_mode: u8,
    /// `MspaServiceProviderMode`: 0 n/a, 1 yes, 2 no.
    pub mspa_service_provider_mode: u8,
}

/// Colorado section (id 10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsCo {
    /// `Version` (6 bits): 1.
    pub version: u8,
    /// `SharingNotice`: 0 n/a, 1 notice provided, 2 not provided.
    pub sharing_notice: u8,
    /// `SaleOptOutNotice`: 0 n/a, 1 notice provided, 2 not provided.
    pub sale_opt_out_notice: u8,
    /// `TargetedAdvertisingOptOutNotice`: 0 n/a, 1 provided, 2 not.
    pub targeted_advertising_opt_out_notice: u8,
    /// `SaleOptOut`: 0 n/a, 1 Opted Out, 2 Did Not Opt Out.
    pub sale_opt_out: u8,
    /// `TargetedAdvertisingOptOut`: 0 n/a, 1 Opted Out, 2 Did Not Opt Out.
    pub targeted_advertising_opt_out: u8,
    /// `SensitiveDataProcessing` (7 × 2 bits): 0 n/a, 1 No Consent,
    /// 2 Consent.
    pub sensitive_data_processing: [u8; 7],
    /// `KnownChildSensitiveDataConsents` (2 bits): 0 n/a, 1 No Consent,
    /// 2 Consent.
    pub known_child_sensitive_data_consents: u8,
    /// `MspaCoveredTransaction`: 1 yes, 2 no.
    pub mspa_covered_transaction: u8,
    /// `MspaOptOutOptionMode`: 0 n/a, 1 yes, 2 no.
    pub mspa_opt_out_option_mode: u8,
    /// `MspaServiceProviderMode`: 0 n/a, 1 yes, 2 no.
    pub mspa_service_provider_mode: u8,
    /// `Gpc` from the GPC sub-section; `None` when it is absent.
    pub gpc: Option<bool>,
}

/// Utah section (id 11); it has no GPC sub-section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsUt {
    /// `Version` (6 bits): 1.
    pub version: u8,
    /// `SharingNotice`: 0 n/a, 1 notice provided, 2 not provided.
    pub sharing_notice: u8,
    /// `SaleOptOutNotice`: 0 n/a, 1 notice provided, 2 not provided.
    pub sale_opt_out_notice: u8,
    /// `TargetedAdvertisingOptOutNotice`: 0 n/a, 1 provided, 2 not.
    pub targeted_advertising_opt_out_notice: u8,
    /// `SensitiveDataProcessingOptOutNotice`: 0 n/a, 1 provided, 2 not.
    pub sensitive_data_processing_opt_out_notice: u8,
    /// `SaleOptOut`: 0 n/a, 1 Opted Out, 2 Did Not Opt Out.
    pub sale_opt_out: u8,
    /// `TargetedAdvertisingOptOut`: 0 n/a, 1 Opted Out, 2 Did Not Opt Out.
    pub targeted_advertising_opt_out: u8,
    /// `SensitiveDataProcessing` (8 × 2 bits): 0 n/a, 1 Opted Out,
    /// 2 Did Not Opt Out (Utah is an opt-out state for sensitive data).
    pub sensitive_data_processing: [u8; 8],
    /// `KnownChildSensitiveDataConsents` (2 bits): 0 n/a, 1 No Consent,
    /// 2 Consent.
    pub known_child_sensitive_data_consents: u8,
    /// `MspaCoveredTransaction`: 1 yes, 2 no.
    pub mspa_covered_transaction: u8,
    /// `MspaOptOutOptionMode`: 0 n/a, 1 yes, 2 no.
    pub mspa_opt_out_option_mode: u8,
    /// `MspaServiceProviderMode`: 0 n/a, 1 yes, 2 no.
    pub mspa_service_provider_mode: u8,
}

/// Connecticut section (id 12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsCt {
    /// `Version` (6 bits): 1.
    pub version: u8,
    /// `SharingNotice`: 0 n/a, 1 notice provided, 2 not provided.
    pub sharing_notice: u8,
    /// `SaleOptOutNotice`: 0 n/a, 1 notice provided, 2 not provided.
    pub sale_opt_out_notice: u8,
    /// `TargetedAdvertisingOptOutNotice`: 0 n/a, 1 provided, 2 not.
    pub targeted_advertising_opt_out_notice: u8,
    /// `SaleOptOut`: 0 n/a, 1 Opted Out, 2 Did Not Opt Out.
    pub sale_opt_out: u8,
    /// `TargetedAdvertisingOptOut`: 0 n/a, 1 Opted Out, 2 Did Not Opt Out.
    pub targeted_advertising_opt_out: u8,
    /// `SensitiveDataProcessing` (8 × 2 bits): 0 n/a, 1 No Consent,
    /// 2 Consent.
    pub sensitive_data_processing: [u8; 8],
    /// `KnownChildSensitiveDataConsents` (3 × 2 bits): 0 n/a,
    /// 1 No Consent, 2 Consent.
    pub known_child_sensitive_data_consents: [u8; 3],
    /// `MspaCoveredTransaction`: 1 yes, 2 no.
    pub mspa_covered_transaction: u8,
    /// `MspaOptOutOptionMode`: 0 n/a, 1 yes, 2 no.
    pub mspa_opt_out_option_mode: u8,
    /// `MspaServiceProviderMode`: 0 n/a, 1 yes, 2 no.
    pub mspa_service_provider_mode: u8,
    /// `Gpc` from the GPC sub-section; `None` when it is absent.
    pub gpc: Option<bool>,
}

/// A malformed GPP string: which section, which sub-section, which field,
/// at which bit offset (counted from the start of that sub-section), and
/// what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GppError {
    /// `header`, or the section's API prefix and position, e.g.
    /// `usnat (section 2)`; the header is section 0.
    pub section: String,
    /// `core` or `gpc` (the sub-section), `string` for the whole string.
    pub segment: &'static str,
    /// The spec's field name, e.g. `SaleOptOut`.
    pub field: &'static str,
    /// The bit offset within the sub-section where the field starts.
    pub bit_offset: usize,
    /// What was wrong.
    pub kind: GppErrorKind,
}

/// What was wrong with a GPP string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GppErrorKind {
    /// The string, a section or a sub-section is empty.
    Empty,
    /// A character outside the base64url alphabet (`A–Z a–z 0–9 - _`).
    InvalidCharacter {
        /// The character.
        ch: char,
        /// Its index within the sub-section.
        index: usize,
    },
    /// The field needs more bits than are left.
    UnexpectedEnd {
        /// Bits the field needs.
        needed: usize,
        /// Bits left.
        left: usize,
    },
    /// The header's `Type` is not 3 (a bare TC string starts with `C`,
    /// Type 2).
    NotAHeader(u8),
    /// A `Version` this decoder does not know.
    UnsupportedVersion(u8),
    /// A two-bit field holds 3, which no specification defines.
    InvalidValue(u8),
    /// A Fibonacci-coded section id above 65,535.
    SectionIdTooLarge,
    /// The header lists a different number of sections than follow it.
    SectionCountMismatch {
        /// Ids in `SectionIds` (counted so far when the count is exceeded).
        declared: usize,
        /// `~`-separated sections after the header.
        found: usize,
    },
    /// A sub-section the section's specification does not define (a GPC
    /// sub-section in Virginia or Utah, a third sub-section anywhere).
    UnexpectedSubsection(usize),
    /// `SubsectionType` is not 1 (GPC).
    InvalidSubsectionType(u8),
    /// The TCF EU v2 section is not a valid TC string.
    Tcf(Box<TcfError>),
}

impl fmt::Display for GppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let GppErrorKind::Tcf(e) = &self.kind {
            return write!(f, "GPP {}: {e}", self.section);
        }
        write!(
            f,
            "GPP {} {} sub-section, field {} at bit {}: ",
            self.section, self.segment, self.field, self.bit_offset
        )?;
        match &self.kind {
            GppErrorKind::Empty => write!(f, "empty"),
            GppErrorKind::InvalidCharacter { ch, index } => {
                write!(f, "invalid base64url character {ch:?} at character {index}")
            }
            GppErrorKind::UnexpectedEnd { needed, left } => {
                write!(f, "needs {needed} bits, only {left} left")
            }
            GppErrorKind::NotAHeader(t) => write!(
                f,
                "Type is {t}, not 3: this is not a GPP string{}",
                if *t == 2 {
                    " (it looks like a bare TC string; give it as `tcf`)"
                } else {
                    ""
                }
            ),
            GppErrorKind::UnsupportedVersion(v) => write!(f, "unsupported version {v}"),
            GppErrorKind::InvalidValue(v) => {
                write!(f, "value {v} is not defined (expected 0, 1 or 2)")
            }
            GppErrorKind::SectionIdTooLarge => write!(f, "section id above 65535"),
            GppErrorKind::SectionCountMismatch { declared, found } => write!(
                f,
                "the header lists {declared} section ids but {found} sections follow"
            ),
            GppErrorKind::UnexpectedSubsection(n) => {
                write!(f, "sub-section {n} is not defined for this section")
            }
            GppErrorKind::InvalidSubsectionType(t) => {
                write!(f, "SubsectionType {t} is not 1 (GPC)")
            }
            GppErrorKind::Tcf(_) => Ok(()),
        }
    }
}

impl std::error::Error for GppError {}

/// Where a sub-section is: its section's id and position (the header is
/// position 0). Names are only written when an error needs them, so a
/// good string costs no allocation for them.
#[derive(Clone, Copy)]
struct Place {
    id: u16,
    index: usize,
}

impl Place {
    const HEADER: Place = Place { id: 3, index: 0 };

    fn name(self) -> String {
        if self.index == 0 {
            "header".to_owned()
        } else {
            format!("{} (section {})", section_name(self.id), self.index)
        }
    }
}

/// Reads fields from one sub-section, naming it in its errors.
struct Fields {
    bits: BitReader,
    section: Place,
    segment: &'static str,
}

impl Fields {
    fn new(text: &str, section: Place, segment: &'static str) -> Result<Self, GppError> {
        let err = |kind| GppError {
            section: section.name(),
            segment,
            field: if segment == "gpc" {
                "SubsectionType"
            } else {
                "Version"
            },
            bit_offset: 0,
            kind,
        };
        if text.is_empty() {
            return Err(err(GppErrorKind::Empty));
        }
        let bits = BitReader::new(text).map_err(|b| {
            err(GppErrorKind::InvalidCharacter {
                ch: b.ch,
                index: b.index,
            })
        })?;
        Ok(Self {
            bits,
            section,
            segment,
        })
    }

    fn err(&self, field: &'static str, at: usize, kind: GppErrorKind) -> GppError {
        GppError {
            section: self.section.name(),
            segment: self.segment,
            field,
            bit_offset: at,
            kind,
        }
    }

    fn int(&mut self, field: &'static str, n: usize) -> Result<u64, GppError> {
        let at = self.bits.pos();
        let left = self.bits.remaining();
        self.bits
            .read(n)
            .ok_or_else(|| self.err(field, at, GppErrorKind::UnexpectedEnd { needed: n, left }))
    }

    fn u6(&mut self, field: &'static str) -> Result<u8, GppError> {
        // Six bits always fit.
        Ok(self.int(field, 6)? as u8)
    }

    /// An `Int(2)` US field: 0, 1 or 2.
    fn int2(&mut self, field: &'static str) -> Result<u8, GppError> {
        let at = self.bits.pos();
        let v = self.int(field, 2)? as u8;
        if v == 3 {
            return Err(self.err(field, at, GppErrorKind::InvalidValue(v)));
        }
        Ok(v)
    }

    /// An `N-Bitfield(2, N)`: N two-bit values.
    fn int2_list<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], GppError> {
        let mut out = [0u8; N];
        for slot in &mut out {
            *slot = self.int2(field)?;
        }
        Ok(out)
    }

    fn version(&mut self, known: &[u8]) -> Result<u8, GppError> {
        let v = self.u6("Version")?;
        if !known.contains(&v) {
            return Err(self.err("Version", 0, GppErrorKind::UnsupportedVersion(v)));
        }
        Ok(v)
    }

    /// One Fibonacci code word (Zeckendorf bits, weights 1, 2, 3, 5, …,
    /// ended by an extra 1 after a 1), bounded to 65,535.
    fn fibonacci(&mut self, field: &'static str) -> Result<u32, GppError> {
        let start = self.bits.pos();
        let (mut value, mut weight, mut next) = (0u32, 1u32, 2u32);
        let mut last = false;
        loop {
            let bit = self.int(field, 1)? == 1;
            if bit && last {
                return Ok(value);
            }
            if weight > u32::from(u16::MAX) {
                // Every later 1 weighs more still: the value cannot fit.
                return Err(self.err(field, start, GppErrorKind::SectionIdTooLarge));
            }
            if bit {
                value += weight;
            }
            last = bit;
            (weight, next) = (next, weight + next);
        }
    }
}

/// A US section's GPC sub-section (`SubsectionType` 1, then `Gpc`).
fn gpc(text: &str, section: Place) -> Result<bool, GppError> {
    let mut f = Fields::new(text, section, "gpc")?;
    let t = f.int("SubsectionType", 2)? as u8;
    if t != 1 {
        return Err(f.err("SubsectionType", 0, GppErrorKind::InvalidSubsectionType(t)));
    }
    Ok(f.int("Gpc", 1)? == 1)
}

/// Splits a US section into its core and optional GPC sub-sections.
fn subsections(
    text: &str,
    section: Place,
    has_gpc: bool,
) -> Result<(&str, Option<&str>), GppError> {
    let mut parts = text.split('.');
    let core = parts.next().unwrap_or("");
    let second = parts.next();
    let extra = if has_gpc {
        parts.next().map(|_| 3)
    } else {
        second.map(|_| 2)
    };
    if let Some(n) = extra {
        return Err(GppError {
            section: section.name(),
            segment: "string",
            field: "SubsectionType",
            bit_offset: 0,
            kind: GppErrorKind::UnexpectedSubsection(n),
        });
    }
    Ok((core, second))
}

fn decode_usnat(text: &str, section: Place) -> Result<UsNat, GppError> {
    let (core, gpc_text) = subsections(text, section, true)?;
    let mut f = Fields::new(core, section, "core")?;
    let version = f.version(&[1, 2])?;
    // Version 1 has 12 + 2 entries (60 bits). Some encoders wrote version
    // 1 strings in the 16 + 3 layout of version 2 (70 bits); like the
    // reference library, a version 1 core longer than 66 bits (60 padded
    // to 64, then to a multiple of 6) is read in that layout and the
    // entries version 1 does not define are dropped.
    let legacy = version == 1 && f.bits.remaining() + 6 > 66;
    let (sensitive, child) = if version == 1 && !legacy {
        (12, 2)
    } else {
        (16, 3)
    };
    let mut out = UsNat {
        version,
        sharing_notice: f.int2("SharingNotice")?,
        sale_opt_out_notice: f.int2("SaleOptOutNotice")?,
        sharing_opt_out_notice: f.int2("SharingOptOutNotice")?,
        targeted_advertising_opt_out_notice: f.int2("TargetedAdvertisingOptOutNotice")?,
        sensitive_data_processing_opt_out_notice: f.int2("SensitiveDataProcessingOptOutNotice")?,
        sensitive_data_limit_use_notice: f.int2("SensitiveDataLimitUseNotice")?,
        sale_opt_out: f.int2("SaleOptOut")?,
        sharing_opt_out: f.int2("SharingOptOut")?,
        targeted_advertising_opt_out: f.int2("TargetedAdvertisingOptOut")?,
        sensitive_data_processing: (0..sensitive)
            .map(|_| f.int2("SensitiveDataProcessing"))
            .collect::<Result<_, _>>()?,
        known_child_sensitive_data_consents: (0..child)
            .map(|_| f.int2("KnownChildSensitiveDataConsents"))
            .collect::<Result<_, _>>()?,
        personal_data_consents: f.int2("PersonalDataConsents")?,
        mspa_covered_transaction: f.int2("MspaCoveredTransaction")?,
        mspa_opt_out_option_mode: f.int2("MspaOptOutOptionMode")?,
        mspa_service_provider_mode: f.int2("MspaServiceProviderMode")?,
        gpc: None,
    };
    if legacy {
        out.sensitive_data_processing.truncate(12);
        out.known_child_sensitive_data_consents.truncate(2);
    }
    out.gpc = gpc_text.map(|t| gpc(t, section)).transpose()?;
    Ok(out)
}

fn decode_usca(text: &str, section: Place) -> Result<UsCa, GppError> {
    let (core, gpc_text) = subsections(text, section, true)?;
    let mut f = Fields::new(core, section, "core")?;
    Ok(UsCa {
        version: f.version(&[1])?,
        sale_opt_out_notice: f.int2("SaleOptOutNotice")?,
        sharing_opt_out_notice: f.int2("SharingOptOutNotice")?,
        sensitive_data_limit_use_notice: f.int2("SensitiveDataLimitUseNotice")?,
        sale_opt_out: f.int2("SaleOptOut")?,
        sharing_opt_out: f.int2("SharingOptOut")?,
        sensitive_data_processing: f.int2_list("SensitiveDataProcessing")?,
        known_child_sensitive_data_consents: f.int2_list("KnownChildSensitiveDataConsents")?,
        personal_data_consents: f.int2("PersonalDataConsents")?,
        mspa_covered_transaction: f.int2("MspaCoveredTransaction")?,
        mspa_opt_out_option_mode: f.int2("MspaOptOutOptionMode")?,
        mspa_service_provider_mode: f.int2("MspaServiceProviderMode")?,
        gpc: gpc_text.map(|t| gpc(t, section)).transpose()?,
    })
}

fn decode_usva(text: &str, section: Place) -> Result<UsVa, GppError> {
    let (core, _) = subsections(text, section, false)?;
    let mut f = Fields::new(core, section, "core")?;
    Ok(UsVa {
        version: f.version(&[1])?,
        sharing_notice: f.int2("SharingNotice")?,
        sale_opt_out_notice: f.int2("SaleOptOutNotice")?,
        targeted_advertising_opt_out_notice: f.int2("TargetedAdvertisingOptOutNotice")?,
        sale_opt_out: f.int2("SaleOptOut")?,
        targeted_advertising_opt_out: f.int2("TargetedAdvertisingOptOut")?,
        sensitive_data_processing: f.int2_list("SensitiveDataProcessing")?,
        known_child_sensitive_data_consents: f.int2("KnownChildSensitiveDataConsents")?,
        mspa_covered_transaction: f.int2("MspaCoveredTransaction")?,
        mspa_opt_out_option_mode: f.int2("MspaOptOutOptionMode")?,
        mspa_service_provider_mode: f.int2("MspaServiceProviderMode")?,
    })
}

fn decode_usco(text: &str, section: Place) -> Result<UsCo, GppError> {
    let (core, gpc_text) = subsections(text, section, true)?;
    let mut f = Fields::new(core, section, "core")?;
    Ok(UsCo {
        version: f.version(&[1])?,
        sharing_notice: f.int2("SharingNotice")?,
        sale_opt_out_notice: f.int2("SaleOptOutNotice")?,
        targeted_advertising_opt_out_notice: f.int2("TargetedAdvertisingOptOutNotice")?,
        sale_opt_out: f.int2("SaleOptOut")?,
        targeted_advertising_opt_out: f.int2("TargetedAdvertisingOptOut")?,
        sensitive_data_processing: f.int2_list("SensitiveDataProcessing")?,
        known_child_sensitive_data_consents: f.int2("KnownChildSensitiveDataConsents")?,
        mspa_covered_transaction: f.int2("MspaCoveredTransaction")?,
        mspa_opt_out_option_mode: f.int2("MspaOptOutOptionMode")?,
        mspa_service_provider_mode: f.int2("MspaServiceProviderMode")?,
        gpc: gpc_text.map(|t| gpc(t, section)).transpose()?,
    })
}

fn decode_usut(text: &str, section: Place) -> Result<UsUt, GppError> {
    let (core, _) = subsections(text, section, false)?;
    let mut f = Fields::new(core, section, "core")?;
    Ok(UsUt {
        version: f.version(&[1])?,
        sharing_notice: f.int2("SharingNotice")?,
        sale_opt_out_notice: f.int2("SaleOptOutNotice")?,
        targeted_advertising_opt_out_notice: f.int2("TargetedAdvertisingOptOutNotice")?,
        sensitive_data_processing_opt_out_notice: f.int2("SensitiveDataProcessingOptOutNotice")?,
        sale_opt_out: f.int2("SaleOptOut")?,
        targeted_advertising_opt_out: f.int2("TargetedAdvertisingOptOut")?,
        sensitive_data_processing: f.int2_list("SensitiveDataProcessing")?,
        known_child_sensitive_data_consents: f.int2("KnownChildSensitiveDataConsents")?,
        mspa_covered_transaction: f.int2("MspaCoveredTransaction")?,
        mspa_opt_out_option_mode: f.int2("MspaOptOutOptionMode")?,
        mspa_service_provider_mode: f.int2("MspaServiceProviderMode")?,
    })
}

fn decode_usct(text: &str, section: Place) -> Result<UsCt, GppError> {
    let (core, gpc_text) = subsections(text, section, true)?;
    let mut f = Fields::new(core, section, "core")?;
    Ok(UsCt {
        version: f.version(&[1])?,
        sharing_notice: f.int2("SharingNotice")?,
        sale_opt_out_notice: f.int2("SaleOptOutNotice")?,
        targeted_advertising_opt_out_notice: f.int2("TargetedAdvertisingOptOutNotice")?,
        sale_opt_out: f.int2("SaleOptOut")?,
        targeted_advertising_opt_out: f.int2("TargetedAdvertisingOptOut")?,
        sensitive_data_processing: f.int2_list("SensitiveDataProcessing")?,
        known_child_sensitive_data_consents: f.int2_list("KnownChildSensitiveDataConsents")?,
        mspa_covered_transaction: f.int2("MspaCoveredTransaction")?,
        mspa_opt_out_option_mode: f.int2("MspaOptOutOptionMode")?,
        mspa_service_provider_mode: f.int2("MspaServiceProviderMode")?,
        gpc: gpc_text.map(|t| gpc(t, section)).transpose()?,
    })
}

/// The header: `Type`, `Version`, then `SectionIds` as a Fibonacci range
/// (`NumEntries` Int(12); per entry `IsRange`, then one offset from the
/// previous id, or a start offset and an end offset from the start).
/// `found` is how many sections follow: more ids than that fail at once.
fn decode_header(text: &str, found: usize) -> Result<Header, GppError> {
    let mut f = Fields::new(text, Place::HEADER, "core")?;
    let r#type = f.u6("Type")?;
    if r#type != 3 {
        return Err(f.err("Type", 0, GppErrorKind::NotAHeader(r#type)));
    }
    let version = f.version(&[1])?;
    let entries_at = f.bits.pos();
    let entries = f.int("NumEntries", 12)? as usize;
    let mut ids: Vec<u16> = Vec::new();
    let mut last = 0u32;
    let too_many = |f: &Fields, declared| {
        f.err(
            "SectionIds",
            entries_at,
            GppErrorKind::SectionCountMismatch { declared, found },
        )
    };
    let fits = |f: &Fields, v: u32, at| {
        u16::try_from(v).map_err(|_| f.err("SectionIds", at, GppErrorKind::SectionIdTooLarge))
    };
    for _ in 0..entries {
        let is_range = f.int("IsRange", 1)? == 1;
        let at = f.bits.pos();
        let offset = f.fibonacci("SectionIds")?;
        let start = fits(&f, last + offset, at)?;
        let end = if is_range {
            let offset = f.fibonacci("SectionIds")?;
            fits(&f, u32::from(start) + offset, at)?
        } else {
            start
        };
        let declared = ids.len() + usize::from(end - start) + 1;
        if declared > found {
            return Err(too_many(&f, declared));
        }
        ids.extend(start..=end);
        last = u32::from(end);
    }
    if ids.len() != found {
        return Err(too_many(&f, ids.len()));
    }
    Ok(Header {
        r#type,
        version,
        section_ids: ids,
    })
}

/// The API prefix of a section id, for messages.
pub fn section_name(id: u16) -> &'static str {
    match id {
        2 => "tcfeuv2",
        5 => "tcfcav1",
        6 => "uspv1",
        7 => "usnat",
        8 => "usca",
        9 => "usva",
        10 => "usco",
        11 => "usut",
        12 => "usct",
        _ => "section",
    }
}

/// Decodes a GPP string: the header, then one `~`-separated section per
/// id in the header's `SectionIds`, in that order.
pub fn decode_gpp_string(text: &str) -> Result<GppString, GppError> {
    if text.is_empty() {
        return Err(GppError {
            section: "header".to_owned(),
            segment: "string",
            field: "Type",
            bit_offset: 0,
            kind: GppErrorKind::Empty,
        });
    }
    // Counted first so the header can be checked against it while read.
    let found = text.bytes().filter(|&b| b == b'~').count();
    let mut parts = text.split('~');
    let header_text = parts.next().unwrap_or("");
    let header = decode_header(header_text, found)?;
    let mut sections = Vec::with_capacity(found);
    for (i, (&id, body)) in header.section_ids.iter().zip(parts).enumerate() {
        let at = Place { id, index: i + 1 };
        if body.is_empty() {
            return Err(GppError {
                section: at.name(),
                segment: "string",
                field: "Version",
                bit_offset: 0,
                kind: GppErrorKind::Empty,
            });
        }
        let section = match id {
            2 => Section::TcfEuV2(Box::new(decode_tc_string(body).map_err(|e| GppError {
                section: at.name(),
                segment: "string",
                field: e.field,
                bit_offset: e.bit_offset,
                kind: GppErrorKind::Tcf(Box::new(e)),
            })?)),
            7 => Section::UsNat(decode_usnat(body, at)?),
            8 => Section::UsCa(decode_usca(body, at)?),
            9 => Section::UsVa(decode_usva(body, at)?),
            10 => Section::UsCo(decode_usco(body, at)?),
            11 => Section::UsUt(decode_usut(body, at)?),
            12 => Section::UsCt(decode_usct(body, at)?),
            _ => Section::Unknown {
                id,
                text: body.to_owned(),
            },
        };
        sections.push(section);
    }
    Ok(GppString { header, sections })
}

/// What a US opt-out (or sensitive-data choice) amounts to across the US
/// sections of one string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsChoice {
    /// Every section carrying the field says 0, Not Applicable.
    NotApplicable,
    /// At least one section says 1: Opted Out (or, for consent-based
    /// sensitive data, No Consent).
    OptedOut,
    /// No section says 1 and at least one says 2: Did Not Opt Out (or
    /// Consent).
    DidNotOptOut,
}

/// What the known-child fields amount to across the US sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnownChild {
    /// Every entry is 0: the business has no actual knowledge that it
    /// processes a known child's data.
    NotApplicable,
    /// At least one entry is 1, No Consent.
    NoConsent,
    /// No entry is 1 and at least one is 2, Consent.
    Consent,
}

/// The US opt-outs of one GPP string, for policy use. Each field is
/// `None` when no US section in the string carries it. Sections combine
/// protectively: one section saying 1 (opted out / no consent) decides,
/// whatever the others say, so a doubt never lets a message through.
///
/// | field | from |
/// |---|---|
/// | `sale_opt_out` | `SaleOptOut` (usnat, usca, usva, usco, usut, usct) |
/// | `sharing_opt_out` | `SharingOptOut` (usnat, usca) |
/// | `targeted_advertising_opt_out` | `TargetedAdvertisingOptOut` (usnat, usva, usco, usut, usct) |
/// | `sensitive_data_limit` | `SensitiveDataProcessing`, any category (all six) |
/// | `known_child` | `KnownChildSensitiveDataConsents`, any entry (all six) |
/// | `gpc` | `Gpc` of the GPC sub-sections (usnat, usca, usco, usct) |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsPrivacySignals {
    /// Opt-out of the sale of personal data.
    pub sale_opt_out: Option<UsChoice>,
    /// Opt-out of sharing (California's cross-context behavioural
    /// advertising).
    pub sharing_opt_out: Option<UsChoice>,
    /// Opt-out of processing for targeted advertising.
    pub targeted_advertising_opt_out: Option<UsChoice>,
    /// Sensitive data: `OptedOut` when any category is 1 (opted out of,
    /// or no consent to, its processing or use).
    pub sensitive_data_limit: Option<UsChoice>,
    /// Known-child consents.
    pub known_child: Option<KnownChild>,
    /// `Some(true)` when any GPC sub-section has `Gpc` set; `None` when
    /// there is no GPC sub-section.
    pub gpc: Option<bool>,
    /// The US section ids these were derived from, in string order.
    pub sections: Vec<u16>,
}

/// Two-bit values seen so far for one summary field: none, any 1, any 2.
/// Kept as flags rather than lists, so summarising allocates nothing but
/// the list of section ids.
#[derive(Default, Clone, Copy)]
struct Fold {
    any: bool,
    one: bool,
    two: bool,
}

impl Fold {
    fn add(&mut self, values: &[u8]) {
        for &v in values {
            self.any = true;
            self.one |= v == 1;
            self.two |= v == 2;
        }
    }

    fn choice(self) -> Option<UsChoice> {
        self.any.then_some(if self.one {
            UsChoice::OptedOut
        } else if self.two {
            UsChoice::DidNotOptOut
        } else {
            UsChoice::NotApplicable
        })
    }
}

impl GppString {
    /// The EU TCF v2 section, if present.
    pub fn tcf_eu_v2(&self) -> Option<&TcString> {
        self.sections.iter().find_map(|s| match s {
            Section::TcfEuV2(tc) => Some(tc.as_ref()),
            _ => None,
        })
    }

    /// The US signals, or `None` when the string has no US section this
    /// module decodes.
    pub fn us_privacy_signals(&self) -> Option<UsPrivacySignals> {
        let [mut sale, mut sharing, mut targeted, mut sensitive, mut child] = [Fold::default(); 5];
        let mut gpc: Option<bool> = None;
        let mut add_gpc = |g: Option<bool>| {
            if let Some(g) = g {
                gpc = Some(gpc.unwrap_or(false) || g);
            }
        };
        let mut sections = vec![];
        for s in &self.sections {
            match s {
                Section::UsNat(x) => {
                    sale.add(&[x.sale_opt_out]);
                    sharing.add(&[x.sharing_opt_out]);
                    targeted.add(&[x.targeted_advertising_opt_out]);
                    sensitive.add(&x.sensitive_data_processing);
                    child.add(&x.known_child_sensitive_data_consents);
                    add_gpc(x.gpc);
                }
                Section::UsCa(x) => {
                    sale.add(&[x.sale_opt_out]);
                    sharing.add(&[x.sharing_opt_out]);
                    sensitive.add(&x.sensitive_data_processing);
                    child.add(&x.known_child_sensitive_data_consents);
                    add_gpc(x.gpc);
                }
                Section::UsVa(x) => {
                    sale.add(&[x.sale_opt_out]);
                    targeted.add(&[x.targeted_advertising_opt_out]);
                    sensitive.add(&x.sensitive_data_processing);
                    child.add(&[x.known_child_sensitive_data_consents]);
                }
                Section::UsCo(x) => {
                    sale.add(&[x.sale_opt_out]);
                    targeted.add(&[x.targeted_advertising_opt_out]);
                    sensitive.add(&x.sensitive_data_processing);
                    child.add(&[x.known_child_sensitive_data_consents]);
                    add_gpc(x.gpc);
                }
                Section::UsUt(x) => {
                    sale.add(&[x.sale_opt_out]);
                    targeted.add(&[x.targeted_advertising_opt_out]);
                    sensitive.add(&x.sensitive_data_processing);
                    child.add(&[x.known_child_sensitive_data_consents]);
                }
                Section::UsCt(x) => {
                    sale.add(&[x.sale_opt_out]);
                    targeted.add(&[x.targeted_advertising_opt_out]);
                    sensitive.add(&x.sensitive_data_processing);
                    child.add(&x.known_child_sensitive_data_consents);
                    add_gpc(x.gpc);
                }
                Section::TcfEuV2(_) | Section::Unknown { .. } => continue,
            }
            sections.push(s.id());
        }
        if sections.is_empty() {
            return None;
        }
        Some(UsPrivacySignals {
            sale_opt_out: sale.choice(),
            sharing_opt_out: sharing.choice(),
            targeted_advertising_opt_out: targeted.choice(),
            sensitive_data_limit: sensitive.choice(),
            known_child: child.choice().map(|c| match c {
                UsChoice::NotApplicable => KnownChild::NotApplicable,
                UsChoice::OptedOut => KnownChild::NoConsent,
                UsChoice::DidNotOptOut => KnownChild::Consent,
            }),
            gpc,
            sections,
        })
    }
}

#[cfg(test)]
mod tests;
