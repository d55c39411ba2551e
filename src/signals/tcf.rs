//! IAB TCF v2 TC strings (policy versions 2 to 5, i.e. TCF 2.0 to 2.3):
//! the core segment and the optional DisclosedVendors (1), AllowedVendors
//! (2, deprecated since 2.2 but still produced by older CMPs) and
//! PublisherTC (3) segments, decoded into scruple's own typed value.
//!
//! Field names follow the IAB "Consent string and vendor list formats v2"
//! specification; each Rust field's doc gives the spec's name.
//!
//! # Why a decoder of our own
//! The one maintained Rust crate, `iab_gpp` (Apache-2.0, 0.1.x), decodes the
//! TCF EU v2 section of GPP, but it expands every vendor list into a set and
//! so loses the spec's `MaxVendorId`, `IsRangeEncoding` and range entries,
//! renames fields (`policy_version`, `use_non_standard_stacks`), and its
//! errors name neither the field nor the bit offset (an `io::Error` for a
//! short read), which issue 13 requires for bad records. The format is
//! small; this module is checked against the reference implementation,
//! `@iabtechlabtcf/core`, by `tests/tcf_reference.rs`.
//!
//! # Bounded work
//! Every count in the string (`NumEntries`, `NumPubRestrictions`,
//! `MaxVendorId` of a bitfield) is only trusted as far as the bits that are
//! left: entries are read one at a time and each needs at least 17 bits, and
//! a bitfield is checked against the remaining bits before it is allocated.
//! Ranges are kept as ranges, never expanded, so a range 1–65535 costs 33
//! bits and 4 bytes.

use std::fmt;

use super::bits::BitReader;

/// A decoded TC string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcString {
    /// The core segment (implicit SegmentType 0, always first).
    pub core: Core,
    /// SegmentType 1, `DisclosedVendors`: the vendors the CMP disclosed to
    /// the user (mandatory from TCF 2.3 on; its presence is policy, not
    /// syntax, so decoding does not require it).
    pub disclosed_vendors: Option<VendorSet>,
    /// SegmentType 2, `AllowedVendors` (deprecated in TCF 2.2).
    pub allowed_vendors: Option<VendorSet>,
    /// SegmentType 3, the publisher purposes transparency and consent.
    pub publisher_tc: Option<PublisherTc>,
}

/// The core segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Core {
    /// `Version` (6 bits): always 2 for these strings.
    pub version: u8,
    /// `Created` (36 bits): deciseconds since the Unix epoch.
    pub created: u64,
    /// `LastUpdated` (36 bits): deciseconds since the Unix epoch.
    pub last_updated: u64,
    /// `CmpId` (12 bits).
    pub cmp_id: u16,
    /// `CmpVersion` (12 bits).
    pub cmp_version: u16,
    /// `ConsentScreen` (6 bits).
    pub consent_screen: u8,
    /// `ConsentLanguage` (12 bits): two letters A–Z, e.g. `EN`.
    pub consent_language: [u8; 2],
    /// `VendorListVersion` (12 bits).
    pub vendor_list_version: u16,
    /// `TcfPolicyVersion` (6 bits): 4 is TCF 2.2, 5 is TCF 2.3.
    pub tcf_policy_version: u8,
    /// `IsServiceSpecific` (1 bit).
    pub is_service_specific: bool,
    /// `UseNonStandardTexts` (1 bit; `UseNonStandardStacks` before 2.2).
    pub use_non_standard_texts: bool,
    /// `SpecialFeatureOptIns` (12 bits): bit 1 is special feature 1.
    pub special_feature_opt_ins: IdBits,
    /// `PurposesConsent` (24 bits).
    pub purposes_consent: IdBits,
    /// `PurposesLITransparency` (24 bits).
    pub purposes_li_transparency: IdBits,
    /// `PurposeOneTreatment` (1 bit).
    pub purpose_one_treatment: bool,
    /// `PublisherCC` (12 bits): two letters A–Z.
    pub publisher_cc: [u8; 2],
    /// The Vendor Consent Section.
    pub vendor_consents: VendorSet,
    /// The Vendor Legitimate Interest Section.
    pub vendor_legitimate_interests: VendorSet,
    /// The Publisher Restrictions Section (`NumPubRestrictions` entries).
    pub pub_restrictions: Vec<PubRestriction>,
}

impl Core {
    /// `ConsentLanguage` as text.
    pub fn consent_language_str(&self) -> &str {
        letters_str(&self.consent_language)
    }

    /// `PublisherCC` as text.
    pub fn publisher_cc_str(&self) -> &str {
        letters_str(&self.publisher_cc)
    }
}

fn letters_str(letters: &[u8; 2]) -> &str {
    // Only A–Z is ever stored (see `read_letters`), so this cannot fail.
    std::str::from_utf8(letters).unwrap_or("")
}

/// A fixed-length bitfield of ids (purposes, special features, custom
/// purposes): the spec's first bit is id 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IdBits {
    /// The bits as read, the first bit of the field the most significant.
    pub bits: u64,
    /// The field's length in bits (at most 64).
    pub len: u8,
}

impl IdBits {
    /// Whether id `id` (1-based) is set.
    pub fn contains(&self, id: u32) -> bool {
        id >= 1 && id <= u32::from(self.len) && (self.bits >> (u32::from(self.len) - id)) & 1 == 1
    }

    /// The ids that are set, ascending.
    pub fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        (1..=u32::from(self.len)).filter(|&id| self.contains(id))
    }
}

/// A vendor section: `MaxVendorId`, `IsRangeEncoding` and either the
/// bitfield or the range entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorSet {
    /// `MaxVendorId` (16 bits).
    pub max_vendor_id: u16,
    /// `IsRangeEncoding` (1 bit) and what follows it.
    pub encoding: VendorEncoding,
}

/// The two encodings of a vendor section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VendorEncoding {
    /// `IsRangeEncoding` 0: `MaxVendorId` bits, the first one vendor 1,
    /// packed most significant bit first.
    BitField(Vec<u8>),
    /// `IsRangeEncoding` 1: `NumEntries` (12 bits) range entries.
    Range(Vec<RangeEntry>),
}

/// One range entry (vendor sections and publisher restrictions alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeEntry {
    /// `IsARange` (1 bit).
    pub is_a_range: bool,
    /// `StartOrOnlyVendorId` (16 bits).
    pub start_or_only_vendor_id: u16,
    /// `EndVendorId` (16 bits, only when `IsARange`); equal to the start
    /// for a single id.
    pub end_vendor_id: u16,
}

impl RangeEntry {
    fn contains(&self, id: u32) -> bool {
        u32::from(self.start_or_only_vendor_id) <= id && id <= u32::from(self.end_vendor_id)
    }
}

impl VendorSet {
    /// `IsRangeEncoding`.
    pub fn is_range_encoding(&self) -> bool {
        matches!(self.encoding, VendorEncoding::Range(_))
    }

    /// Whether vendor `id` is in the set.
    pub fn contains(&self, id: u32) -> bool {
        match &self.encoding {
            VendorEncoding::BitField(bytes) => bitfield_has(bytes, self.max_vendor_id, id),
            VendorEncoding::Range(entries) => entries.iter().any(|e| e.contains(id)),
        }
    }

    /// The vendor ids in the set, ascending and without duplicates (ranges
    /// may overlap; the reference library takes their union).
    pub fn ids(&self) -> Vec<u32> {
        match &self.encoding {
            VendorEncoding::BitField(bytes) => (1..=u32::from(self.max_vendor_id))
                .filter(|&id| bitfield_has(bytes, self.max_vendor_id, id))
                .collect(),
            VendorEncoding::Range(entries) => ranges_ids(entries),
        }
    }
}

fn bitfield_has(bytes: &[u8], max: u16, id: u32) -> bool {
    if id == 0 || id > u32::from(max) {
        return false;
    }
    let bit = (id - 1) as usize;
    bytes
        .get(bit / 8)
        .is_some_and(|b| (b >> (7 - bit % 8)) & 1 == 1)
}

fn ranges_ids(entries: &[RangeEntry]) -> Vec<u32> {
    // Merge the ranges first, so overlapping entries (a hostile string may
    // repeat 1–65535 four thousand times) cost nothing more: the work is
    // bounded by the entries plus the ids, at most 65,535.
    let mut spans: Vec<(u32, u32)> = entries
        .iter()
        .map(|e| {
            (
                u32::from(e.start_or_only_vendor_id),
                u32::from(e.end_vendor_id),
            )
        })
        .collect();
    spans.sort_unstable();
    let mut ids = Vec::new();
    let mut next = 0u32;
    for (start, end) in spans {
        let from = start.max(next);
        if from <= end {
            ids.extend(from..=end);
            next = end + 1;
        }
    }
    ids
}

/// One publisher restriction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PubRestriction {
    /// `PurposeId` (6 bits).
    pub purpose_id: u8,
    /// `RestrictionType` (2 bits): 0 not allowed, 1 require consent,
    /// 2 require legitimate interest, 3 undefined.
    pub restriction_type: u8,
    /// `NumEntries` (12 bits) range entries of the restricted vendors.
    pub entries: Vec<RangeEntry>,
}

impl PubRestriction {
    /// The restricted vendor ids, ascending.
    pub fn vendor_ids(&self) -> Vec<u32> {
        ranges_ids(&self.entries)
    }
}

/// SegmentType 3, the publisher TC segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublisherTc {
    /// `PubPurposesConsent` (24 bits).
    pub pub_purposes_consent: IdBits,
    /// `PubPurposesLITransparency` (24 bits).
    pub pub_purposes_li_transparency: IdBits,
    /// `NumCustomPurposes` (6 bits).
    pub num_custom_purposes: u8,
    /// `CustomPurposesConsent` (`NumCustomPurposes` bits).
    pub custom_purposes_consent: IdBits,
    /// `CustomPurposesLITransparency` (`NumCustomPurposes` bits).
    pub custom_purposes_li_transparency: IdBits,
}

/// A malformed TC string: which segment, which field, at which bit offset
/// (counted from the start of that segment), and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcfError {
    /// `core`, `DisclosedVendors`, `AllowedVendors`, `PublisherTC`, or the
    /// segment's position when its type is unknown (`segment 2`).
    pub segment: String,
    /// The spec's field name, e.g. `MaxVendorId`.
    pub field: &'static str,
    /// The bit offset within the segment where the field starts.
    pub bit_offset: usize,
    /// What was wrong.
    pub kind: TcfErrorKind,
}

/// What was wrong with a TC string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcfErrorKind {
    /// The string or one of its segments is empty.
    Empty,
    /// A character outside the base64url alphabet (`A–Z a–z 0–9 - _`).
    InvalidCharacter {
        /// The character.
        ch: char,
        /// Its index within the segment.
        index: usize,
    },
    /// The field needs more bits than are left.
    UnexpectedEnd {
        /// Bits the field needs.
        needed: usize,
        /// Bits left.
        left: usize,
    },
    /// `Version` is not 2.
    UnsupportedVersion(u8),
    /// A letter field holds a value above 25 (Z).
    InvalidLetter(u8),
    /// A range entry whose end is before its start.
    InvalidRange {
        /// `StartOrOnlyVendorId`.
        start: u16,
        /// `EndVendorId`.
        end: u16,
    },
    /// The first segment is not the core segment.
    CoreNotFirst(u8),
    /// A SegmentType other than 1, 2 or 3 after the core segment.
    UnknownSegmentType(u8),
    /// The same SegmentType twice.
    DuplicateSegment(u8),
}

impl fmt::Display for TcfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TC string {} segment, field {} at bit {}: ",
            self.segment, self.field, self.bit_offset
        )?;
        match &self.kind {
            TcfErrorKind::Empty => write!(f, "empty"),
            TcfErrorKind::InvalidCharacter { ch, index } => {
                write!(f, "invalid base64url character {ch:?} at character {index}")
            }
            TcfErrorKind::UnexpectedEnd { needed, left } => {
                write!(f, "needs {needed} bits, only {left} left")
            }
            TcfErrorKind::UnsupportedVersion(v) => {
                write!(f, "unsupported version {v} (expected 2)")
            }
            TcfErrorKind::InvalidLetter(v) => write!(f, "letter value {v} is not A-Z (0-25)"),
            TcfErrorKind::InvalidRange { start, end } => {
                write!(f, "range end {end} is before its start {start}")
            }
            TcfErrorKind::CoreNotFirst(t) => {
                write!(
                    f,
                    "the first segment must be the core segment, found SegmentType {t}"
                )
            }
            TcfErrorKind::UnknownSegmentType(t) => write!(f, "unknown SegmentType {t}"),
            TcfErrorKind::DuplicateSegment(t) => write!(f, "SegmentType {t} appears twice"),
        }
    }
}

impl std::error::Error for TcfError {}

/// Reads fields from one segment, naming the segment in its errors.
struct Fields {
    bits: BitReader,
    segment: &'static str,
}

impl Fields {
    fn err(&self, field: &'static str, at: usize, kind: TcfErrorKind) -> TcfError {
        TcfError {
            segment: self.segment.to_owned(),
            field,
            bit_offset: at,
            kind,
        }
    }

    fn int(&mut self, field: &'static str, n: usize) -> Result<u64, TcfError> {
        let at = self.bits.pos();
        let left = self.bits.remaining();
        self.bits
            .read(n)
            .ok_or_else(|| self.err(field, at, TcfErrorKind::UnexpectedEnd { needed: n, left }))
    }

    fn u8(&mut self, field: &'static str, n: usize) -> Result<u8, TcfError> {
        // n ≤ 8 at every call site, so the value fits.
        Ok(self.int(field, n)? as u8)
    }

    fn u16(&mut self, field: &'static str, n: usize) -> Result<u16, TcfError> {
        // n ≤ 16 at every call site, so the value fits.
        Ok(self.int(field, n)? as u16)
    }

    fn flag(&mut self, field: &'static str) -> Result<bool, TcfError> {
        Ok(self.int(field, 1)? == 1)
    }

    fn id_bits(&mut self, field: &'static str, n: u8) -> Result<IdBits, TcfError> {
        Ok(IdBits {
            bits: self.int(field, usize::from(n))?,
            len: n,
        })
    }

    fn letters(&mut self, field: &'static str) -> Result<[u8; 2], TcfError> {
        let at = self.bits.pos();
        let mut out = [0u8; 2];
        for slot in &mut out {
            let v = self.u8(field, 6)?;
            if v > 25 {
                return Err(self.err(field, at, TcfErrorKind::InvalidLetter(v)));
            }
            *slot = b'A' + v;
        }
        Ok(out)
    }

    /// `NumEntries` range entries. Each entry is read before it is stored,
    /// so a count larger than the input fails at the end of the input.
    fn range_entries(&mut self) -> Result<Vec<RangeEntry>, TcfError> {
        let n = self.u16("NumEntries", 12)?;
        let mut entries = Vec::new();
        for _ in 0..n {
            let is_a_range = self.flag("IsARange")?;
            let start_at = self.bits.pos();
            let start = self.u16("StartOrOnlyVendorId", 16)?;
            let end = if is_a_range {
                self.u16("EndVendorId", 16)?
            } else {
                start
            };
            if end < start {
                return Err(self.err(
                    "EndVendorId",
                    start_at + 16,
                    TcfErrorKind::InvalidRange { start, end },
                ));
            }
            entries.push(RangeEntry {
                is_a_range,
                start_or_only_vendor_id: start,
                end_vendor_id: end,
            });
        }
        Ok(entries)
    }

    fn vendor_set(&mut self) -> Result<VendorSet, TcfError> {
        let max_vendor_id = self.u16("MaxVendorId", 16)?;
        let encoding = if self.flag("IsRangeEncoding")? {
            VendorEncoding::Range(self.range_entries()?)
        } else {
            let at = self.bits.pos();
            let n = usize::from(max_vendor_id);
            let left = self.bits.remaining();
            // Checked against the remaining bits before allocating.
            let bytes = self.bits.read_bytes(n).ok_or_else(|| {
                self.err(
                    "BitField",
                    at,
                    TcfErrorKind::UnexpectedEnd { needed: n, left },
                )
            })?;
            VendorEncoding::BitField(bytes)
        };
        Ok(VendorSet {
            max_vendor_id,
            encoding,
        })
    }
}

fn segment_name(segment_type: u8) -> &'static str {
    match segment_type {
        0 => "core",
        1 => "DisclosedVendors",
        2 => "AllowedVendors",
        3 => "PublisherTC",
        _ => "unknown",
    }
}

fn reader(text: &str, segment: &'static str) -> Result<Fields, TcfError> {
    let err = |kind| TcfError {
        segment: segment.to_owned(),
        field: "SegmentType",
        bit_offset: 0,
        kind,
    };
    if text.is_empty() {
        return Err(err(TcfErrorKind::Empty));
    }
    let bits = BitReader::new(text).map_err(|b| {
        err(TcfErrorKind::InvalidCharacter {
            ch: b.ch,
            index: b.index,
        })
    })?;
    Ok(Fields { bits, segment })
}

/// Decodes a TC string: base64url segments separated by `.`, the core
/// segment first, then at most one of each optional segment in any order.
/// Bits after the last field of a segment are padding and ignored.
pub fn decode_tc_string(text: &str) -> Result<TcString, TcfError> {
    let mut segments = text.split('.');
    let core_text = segments.next().unwrap_or("");
    let core = decode_core(core_text)?;
    let mut out = TcString {
        core,
        disclosed_vendors: None,
        allowed_vendors: None,
        publisher_tc: None,
    };
    for (i, seg) in segments.enumerate() {
        // The segment's type is in its first 3 bits; a first look names the
        // segment in the errors that follow.
        let mut f = reader(seg, "unknown").map_err(|mut e| {
            e.segment = format!("segment {}", i + 2);
            e
        })?;
        let segment_type = f.u8("SegmentType", 3)?;
        f.segment = segment_name(segment_type);
        let dup = || {
            f.err(
                "SegmentType",
                0,
                TcfErrorKind::DuplicateSegment(segment_type),
            )
        };
        match segment_type {
            1 if out.disclosed_vendors.is_some() => return Err(dup()),
            2 if out.allowed_vendors.is_some() => return Err(dup()),
            3 if out.publisher_tc.is_some() => return Err(dup()),
            1 => out.disclosed_vendors = Some(f.vendor_set()?),
            2 => out.allowed_vendors = Some(f.vendor_set()?),
            3 => out.publisher_tc = Some(decode_publisher_tc(&mut f)?),
            0 => return Err(dup()),
            t => {
                let mut e = f.err("SegmentType", 0, TcfErrorKind::UnknownSegmentType(t));
                e.segment = format!("segment {}", i + 2);
                return Err(e);
            }
        }
    }
    Ok(out)
}

fn decode_core(text: &str) -> Result<Core, TcfError> {
    let mut f = reader(text, "core")?;
    // The core segment has no SegmentType: its first field is Version (2,
    // so 000010), whose first three bits read as SegmentType 0.
    let version = f.u8("Version", 6)?;
    if version != 2 {
        let kind = if version >> 3 != 0 {
            TcfErrorKind::CoreNotFirst(version >> 3)
        } else {
            TcfErrorKind::UnsupportedVersion(version)
        };
        return Err(f.err("Version", 0, kind));
    }
    Ok(Core {
        version,
        created: f.int("Created", 36)?,
        last_updated: f.int("LastUpdated", 36)?,
        cmp_id: f.u16("CmpId", 12)?,
        cmp_version: f.u16("CmpVersion", 12)?,
        consent_screen: f.u8("ConsentScreen", 6)?,
        consent_language: f.letters("ConsentLanguage")?,
        vendor_list_version: f.u16("VendorListVersion", 12)?,
        tcf_policy_version: f.u8("TcfPolicyVersion", 6)?,
        is_service_specific: f.flag("IsServiceSpecific")?,
        use_non_standard_texts: f.flag("UseNonStandardTexts")?,
        special_feature_opt_ins: f.id_bits("SpecialFeatureOptIns", 12)?,
        purposes_consent: f.id_bits("PurposesConsent", 24)?,
        purposes_li_transparency: f.id_bits("PurposesLITransparency", 24)?,
        purpose_one_treatment: f.flag("PurposeOneTreatment")?,
        publisher_cc: f.letters("PublisherCC")?,
        vendor_consents: f.vendor_set()?,
        vendor_legitimate_interests: f.vendor_set()?,
        pub_restrictions: {
            let n = f.u16("NumPubRestrictions", 12)?;
            let mut out = Vec::new();
            for _ in 0..n {
                out.push(PubRestriction {
                    purpose_id: f.u8("PurposeId", 6)?,
                    restriction_type: f.u8("RestrictionType", 2)?,
                    entries: f.range_entries()?,
                });
            }
            out
        },
    })
}

fn decode_publisher_tc(f: &mut Fields) -> Result<PublisherTc, TcfError> {
    let pub_purposes_consent = f.id_bits("PubPurposesConsent", 24)?;
    let pub_purposes_li_transparency = f.id_bits("PubPurposesLITransparency", 24)?;
    let num_custom_purposes = f.u8("NumCustomPurposes", 6)?;
    Ok(PublisherTc {
        pub_purposes_consent,
        pub_purposes_li_transparency,
        num_custom_purposes,
        custom_purposes_consent: f.id_bits("CustomPurposesConsent", num_custom_purposes)?,
        custom_purposes_li_transparency: f
            .id_bits("CustomPurposesLITransparency", num_custom_purposes)?,
    })
}

#[cfg(test)]
mod tests;
