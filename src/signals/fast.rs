//! The gate's fast path through a consent signal: the facts a policy reads
//! from a TC string ([`tcf_facts`]) or a GPP string ([`gpp_signals`]),
//! taken straight from the base64url text.
//!
//! # Why
//! The full decoders ([`super::decode_tc_string`],
//! [`super::gpp::decode_gpp_string`]) copy every segment into a bit buffer,
//! every vendor bitfield into its own bytes and every range entry into a
//! vector, and fill every field with its specification name: what
//! `explain`, diagnostics and the differential tests need, and four to
//! six times what a gate deciding 500,000 records a second can spend
//! (issue 13). Here nothing is allocated or copied: a field is read from
//! the text six bits per character through a 256-entry table, the vendor
//! sections are looked up for the one vendor id the campaign declares (a
//! bit, or a walk over the range entries), and the US sections are read
//! two-bit field runs at a time from a table of their layouts.
//!
//! # Agreement with the full decoders
//! Validation is not skipped: every character of every segment is checked,
//! and every field the full decoder would reject (a short segment, a
//! version, a letter, a range whose end is before its start, a duplicate
//! or unknown segment, a two-bit 3, a header whose section ids do not match
//! its sections, a bad GPC sub-section) makes these functions return
//! `None`. The caller then runs the full decoder, which names the segment,
//! field and bit offset of the error, so messages are the full decoder's
//! word for word, and a string the fast path does not handle (more than
//! [`MAX_SECTIONS`] GPP sections) is still decided correctly. A `Some` is
//! the same value the full decoder's facts give: `src/signals/fast/tests.rs`
//! holds the two equal on generated and mutated strings, the differential
//! tests (`tests/tcf_reference.rs`, `tests/gpp_reference.rs`) on 10,000
//! reference strings each, and the fuzz targets on any input.

use super::bits::SEXTET;
use super::{GppSignals, TcfFacts, UsPrivacySignals};

/// The base64url text of one segment, read as bits (six per character,
/// most significant first) without being copied.
#[derive(Clone, Copy)]
struct Sextets<'a> {
    text: &'a [u8],
    /// Bits in the text.
    len: usize,
}

impl<'a> Sextets<'a> {
    /// `None` when the text is empty or holds a character outside
    /// base64url (the full decoder rejects both).
    #[inline]
    fn new(text: &'a str) -> Option<Self> {
        let text = text.as_bytes();
        // Valid values are below 64: one test of the high bits of all of
        // them at the end, no branch per character.
        let bad = text
            .iter()
            .fold(0u8, |acc, &b| acc | SEXTET[usize::from(b)]);
        (!text.is_empty() && bad & 0xC0 == 0).then_some(Sextets {
            text,
            len: text.len() * 6,
        })
    }

    /// `n` bits (1 to 48) from bit `pos`, or `None` past the end.
    #[inline]
    fn get(&self, pos: usize, n: usize) -> Option<u64> {
        debug_assert!((1..=48).contains(&n));
        if pos.checked_add(n)? > self.len {
            return None;
        }
        let first = pos / 6;
        let last = (pos + n - 1) / 6;
        let chars = self.text.get(first..=last)?;
        let acc = chars.iter().fold(0u64, |acc, &c| {
            (acc << 6) | u64::from(SEXTET[usize::from(c)])
        });
        let after = chars.len() * 6 - pos % 6 - n;
        Some((acc >> after) & ((1u64 << n) - 1))
    }

    /// One bit as a flag.
    #[inline]
    fn flag(&self, pos: usize) -> Option<bool> {
        self.get(pos, 1).map(|b| b == 1)
    }
}

/// A fixed-length id bitfield (first bit id 1) as a mask with bit `n` for
/// id `n`, like [`TcfFacts`] keeps them. `len` is 12 or 24.
#[inline]
fn id_mask(bits: u64, len: u32) -> u32 {
    // The field's first bit moved to bit 31, reversed to bit 0, then to
    // bit 1 (id 1).
    ((bits as u32) << (32 - len)).reverse_bits() << 1
}

// Bit offsets of the core segment's fixed fields (the specification's
// table; `Version` is at 0).
const CONSENT_LANGUAGE: usize = 108;
const SPECIAL_FEATURE_OPT_INS: usize = 140;
const PURPOSES_CONSENT: usize = 152;
const PURPOSES_LI_TRANSPARENCY: usize = 176;
const PUBLISHER_CC: usize = 201;
const VENDOR_CONSENTS: usize = 213;

/// Whether two six-bit letters at `pos` are A–Z (0–25).
#[inline]
fn letters_ok(s: &Sextets, pos: usize) -> bool {
    s.get(pos, 12)
        .is_some_and(|v| (v >> 6) <= 25 && (v & 63) <= 25)
}

/// `NumEntries` range entries from `pos`: whether `vendor` is in one of
/// them, and the position after the last. `None` when an entry is cut short
/// or ends before it starts.
#[inline]
fn range_entries(s: &Sextets, mut pos: usize, vendor: Option<u32>) -> Option<(bool, usize)> {
    let n = s.get(pos, 12)?;
    pos += 12;
    let mut found = false;
    for _ in 0..n {
        let (start, end) = if s.flag(pos)? {
            let v = s.get(pos + 1, 32)?;
            pos += 33;
            (v >> 16, v & 0xFFFF)
        } else {
            let v = s.get(pos + 1, 16)?;
            pos += 17;
            (v, v)
        };
        if end < start {
            return None;
        }
        found |= vendor.is_some_and(|v| start <= u64::from(v) && u64::from(v) <= end);
    }
    Some((found, pos))
}

/// A vendor section (`MaxVendorId`, `IsRangeEncoding`, then a bitfield or
/// range entries) from `pos`: whether `vendor` is in it, and the position
/// after it.
#[inline]
fn vendor_set(s: &Sextets, pos: usize, vendor: Option<u32>) -> Option<(bool, usize)> {
    let max = s.get(pos, 16)? as usize;
    if s.flag(pos + 16)? {
        return range_entries(s, pos + 17, vendor);
    }
    let start = pos + 17;
    let end = start + max;
    if end > s.len {
        return None;
    }
    let found = match vendor {
        Some(v) if v >= 1 && v as usize <= max => s.flag(start + v as usize - 1)?,
        _ => false,
    };
    Some((found, end))
}

/// The facts of a TC string for `vendor`, or `None` when the string is
/// malformed (the full decoder then names the error). Equal to
/// `TcfFacts::of(&decode_tc_string(text)?, vendor)` whenever it is `Some`.
pub fn tcf_facts(text: &str, vendor: Option<u16>) -> Option<TcfFacts> {
    let vendor = vendor.map(u32::from);
    let mut segments = text.split('.');
    let core = Sextets::new(segments.next()?)?;
    // Version 2; a string shorter than the fixed fields fails here.
    if core.get(0, 6)? != 2 || core.len < VENDOR_CONSENTS {
        return None;
    }
    if !letters_ok(&core, CONSENT_LANGUAGE) || !letters_ok(&core, PUBLISHER_CC) {
        return None;
    }
    let mut facts = TcfFacts {
        special_feature_opt_ins: id_mask(core.get(SPECIAL_FEATURE_OPT_INS, 12)?, 12),
        purposes_consent: id_mask(core.get(PURPOSES_CONSENT, 24)?, 24),
        purposes_li_transparency: id_mask(core.get(PURPOSES_LI_TRANSPARENCY, 24)?, 24),
        ..TcfFacts::default()
    };
    let (consent, pos) = vendor_set(&core, VENDOR_CONSENTS, vendor)?;
    let (li, mut pos) = vendor_set(&core, pos, vendor)?;
    facts.vendor_consent = consent;
    facts.vendor_legitimate_interest = li;
    let restrictions = core.get(pos, 12)?;
    pos += 12;
    for _ in 0..restrictions {
        let head = core.get(pos, 8)?;
        let (purpose, kind) = ((head >> 2) as u32, head & 3);
        let (restricted, next) = range_entries(&core, pos + 8, vendor)?;
        pos = next;
        if restricted && purpose < 32 {
            let bit = 1u32 << purpose;
            match kind {
                1 => facts.restricted_require_consent |= bit,
                2 => facts.restricted_require_li |= bit,
                // 0 not allowed; 3 is undefined and not honoured as a
                // permission (as in `TcfFacts::of`).
                _ => facts.restricted_not_allowed |= bit,
            }
        }
    }
    // The optional segments are validated, not read: no fact comes from
    // them, but a malformed one makes the string a bad record.
    let mut seen = 0u8;
    for segment in segments {
        let s = Sextets::new(segment)?;
        let kind = s.get(0, 3)?;
        if kind == 0 || kind > 3 || seen & (1 << kind) != 0 {
            return None;
        }
        seen |= 1 << kind;
        if kind == 3 {
            // PubPurposesConsent, PubPurposesLITransparency, then
            // NumCustomPurposes and its two bitfields.
            let custom = s.get(51, 6)? as usize;
            if s.len < 57 + 2 * custom {
                return None;
            }
        } else {
            vendor_set(&s, 3, None)?;
        }
    }
    Some(facts)
}

/// How many GPP sections the fast path follows; a string with more is left
/// to the full decoder (no allocation here, so the ids live on the stack).
pub const MAX_SECTIONS: usize = 16;

/// What a two-bit field of a US section counts towards.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A notice, a consent or an MSPA mode: validated only.
    Other,
    /// `SaleOptOut`.
    Sale,
    /// `SharingOptOut`.
    Sharing,
    /// `TargetedAdvertisingOptOut`.
    Targeted,
    /// `SensitiveDataProcessing` entries.
    Sensitive,
    /// `KnownChildSensitiveDataConsents` entries.
    Child,
}

/// A run of consecutive two-bit fields with one role.
type Run = (Role, u8);

/// The core sub-section of one US section after its `Version`: runs of
/// two-bit fields, in the specification's order (the field names are in
/// the full decoder, `super::gpp`).
struct UsLayout {
    id: u16,
    has_gpc: bool,
    runs: &'static [Run],
}

use Role::{Child, Other, Sale, Sensitive, Sharing, Targeted};

/// `usnat` version 2 (and version 1 strings written in its layout): six
/// notices, the three opt-outs, 16 sensitive categories, 3 known-child
/// entries, `PersonalDataConsents` and the three MSPA fields.
const USNAT_V2: &[Run] = &[
    (Other, 6),
    (Sale, 1),
    (Sharing, 1),
    (Targeted, 1),
    (Sensitive, 16),
    (Child, 3),
    (Other, 4),
];
/// `usnat` version 1: 12 sensitive categories, 2 known-child entries.
const USNAT_V1: &[Run] = &[
    (Other, 6),
    (Sale, 1),
    (Sharing, 1),
    (Targeted, 1),
    (Sensitive, 12),
    (Child, 2),
    (Other, 4),
];
/// A version 1 `usnat` core longer than 66 bits is read in the version 2
/// layout, and the entries version 1 does not define are validated but
/// dropped (the full decoder's compatibility rule).
const USNAT_V1_LEGACY: &[Run] = &[
    (Other, 6),
    (Sale, 1),
    (Sharing, 1),
    (Targeted, 1),
    (Sensitive, 12),
    (Other, 4),
    (Child, 2),
    (Other, 1),
    (Other, 4),
];

const US_STATES: [UsLayout; 5] = [
    UsLayout {
        id: 8, // usca
        has_gpc: true,
        runs: &[
            (Other, 3),
            (Sale, 1),
            (Sharing, 1),
            (Sensitive, 9),
            (Child, 2),
            (Other, 4),
        ],
    },
    UsLayout {
        id: 9, // usva
        has_gpc: false,
        runs: &[
            (Other, 3),
            (Sale, 1),
            (Targeted, 1),
            (Sensitive, 8),
            (Child, 1),
            (Other, 3),
        ],
    },
    UsLayout {
        id: 10, // usco
        has_gpc: true,
        runs: &[
            (Other, 3),
            (Sale, 1),
            (Targeted, 1),
            (Sensitive, 7),
            (Child, 1),
            (Other, 3),
        ],
    },
    UsLayout {
        id: 11, // usut
        has_gpc: false,
        runs: &[
            (Other, 4),
            (Sale, 1),
            (Targeted, 1),
            (Sensitive, 8),
            (Child, 1),
            (Other, 3),
        ],
    },
    UsLayout {
        id: 12, // usct
        has_gpc: true,
        runs: &[
            (Other, 3),
            (Sale, 1),
            (Targeted, 1),
            (Sensitive, 8),
            (Child, 3),
            (Other, 3),
        ],
    },
];

/// Pairs of bits, the low bit of each pair set: `0b0101…`.
const PAIRS: u64 = 0x5555_5555_5555_5555;

/// The protective fold of the US sections read so far (`Some` in the
/// full decoder's summary is "any field of this kind was present";
/// only "any 1" and, for known-child, "any 1 or 2" decide).
#[derive(Default)]
struct UsFold {
    sale: bool,
    sharing: bool,
    targeted: bool,
    sensitive: bool,
    child: bool,
    /// Some known-child entry holds 1 (No Consent).
    child_no_consent: bool,
    gpc: bool,
}

/// Reads one US section's core (and GPC sub-section) into the fold.
fn us_section(
    text: &str,
    runs_for: impl Fn(u64, usize) -> Option<&'static [Run]>,
    has_gpc: bool,
    fold: &mut UsFold,
) -> Option<()> {
    let mut parts = text.split('.');
    let core = Sextets::new(parts.next()?)?;
    let gpc = parts.next();
    if (has_gpc && parts.next().is_some()) || (!has_gpc && gpc.is_some()) {
        return None;
    }
    let runs = runs_for(core.get(0, 6)?, core.len)?;
    let mut pos = 6;
    for &(role, count) in runs {
        let width = 2 * usize::from(count);
        let v = core.get(pos, width)?;
        pos += width;
        let pairs = PAIRS & ((1u64 << width) - 1);
        let ones = v & !(v >> 1) & pairs; // fields holding 1
        let set = (v | (v >> 1)) & pairs; // fields holding 1 or 2
        if v & (v >> 1) & pairs != 0 {
            return None; // a 3
        }
        match role {
            Other => {}
            Sale => fold.sale |= ones != 0,
            Sharing => fold.sharing |= ones != 0,
            Targeted => fold.targeted |= ones != 0,
            Sensitive => fold.sensitive |= ones != 0,
            Child => {
                fold.child |= set != 0;
                fold.child_no_consent |= ones != 0;
            }
        }
    }
    if let Some(gpc) = gpc {
        let g = Sextets::new(gpc)?;
        if g.get(0, 2)? != 1 {
            return None;
        }
        fold.gpc |= g.flag(2)?;
    }
    Some(())
}

/// What a GPP string says for the gate, or `None` when it is malformed or
/// has more than [`MAX_SECTIONS`] sections (the full decoder then decides,
/// and names any error). Equal to [`super::gpp_us_privacy_of`] of the full
/// decoder's value whenever it is `Some`.
pub fn gpp_signals(text: &str) -> Option<GppSignals> {
    let found = text.bytes().filter(|&b| b == b'~').count();
    let mut parts = text.split('~');
    let header = Sextets::new(parts.next()?)?;
    // Type 3, Version 1, NumEntries.
    let head = header.get(0, 24)?;
    if head >> 12 != (3 << 6 | 1) {
        return None;
    }
    let entries = head & 0xFFF;
    let mut ids = [0u16; MAX_SECTIONS];
    let mut count = 0usize;
    let mut pos = 24;
    let mut last = 0u32;
    for _ in 0..entries {
        let is_range = header.flag(pos)?;
        let (offset, next) = fibonacci(&header, pos + 1)?;
        pos = next;
        let start = u16::try_from(last + offset).ok()?;
        let end = if is_range {
            let (offset, next) = fibonacci(&header, pos)?;
            pos = next;
            u16::try_from(u32::from(start) + offset).ok()?
        } else {
            start
        };
        for id in start..=end {
            *ids.get_mut(count)? = id;
            count += 1;
        }
        last = u32::from(end);
    }
    if count != found {
        return None;
    }
    let mut fold = UsFold::default();
    let (mut us, mut unread) = (false, false);
    for (&id, body) in ids[..count].iter().zip(parts) {
        match id {
            2 => {
                tcf_facts(body, None)?;
            }
            7 => {
                let runs = |version, len| match version {
                    2 => Some(USNAT_V2),
                    1 if len > 66 => Some(USNAT_V1_LEGACY),
                    1 => Some(USNAT_V1),
                    _ => None,
                };
                us_section(body, runs, true, &mut fold)?;
                us = true;
            }
            8..=12 => {
                let layout = US_STATES.iter().find(|l| l.id == id)?;
                let runs = |version, _| (version == 1).then_some(layout.runs);
                us_section(body, runs, layout.has_gpc, &mut fold)?;
                us = true;
            }
            // Sections the full decoder keeps undecoded: only an empty one
            // is an error. All but the Canadian TCF section (5) may hold US
            // choices that cannot be read here.
            _ => {
                if body.is_empty() {
                    return None;
                }
                unread |= id != 5;
            }
        }
    }
    if unread {
        return Some(GppSignals::NotDecoded);
    }
    if !us {
        return Some(GppSignals::Decoded(UsPrivacySignals::default()));
    }
    Some(GppSignals::Decoded(UsPrivacySignals {
        sale_opt_out: fold.sale || fold.gpc,
        sharing_opt_out: fold.sharing || fold.gpc,
        targeted_advertising_opt_out: fold.targeted,
        sensitive_data_limit: fold.sensitive,
        known_child: fold.child,
        known_child_no_consent: fold.child_no_consent,
    }))
}

/// One Fibonacci code word from `pos` (as the full decoder reads it,
/// bounded to 65,535): its value and the position after it.
fn fibonacci(s: &Sextets, mut pos: usize) -> Option<(u32, usize)> {
    let (mut value, mut weight, mut next) = (0u32, 1u32, 2u32);
    let mut last = false;
    loop {
        let bit = s.flag(pos)?;
        pos += 1;
        if bit && last {
            return Some((value, pos));
        }
        if weight > u32::from(u16::MAX) {
            return None;
        }
        if bit {
            value += weight;
        }
        last = bit;
        (weight, next) = (next, weight + next);
    }
}

#[cfg(test)]
mod tests;
