//! The facts the gate reads from a TC string, for one campaign: a few bit
//! masks instead of the decoded string, so that a prepared record stays
//! small and a string shared by many recipients is decoded once
//! ([`TcfFacts::decode_cached`]).
//!
//! Semantics follow the IAB TCF v2.2 "Consent string and vendor list
//! formats" specification: bit `n` of a purpose mask is TCF purpose `n`;
//! publisher restrictions are kept only for the campaign's vendor.

use std::cell::RefCell;
use std::collections::HashMap;

use super::tcf::{decode_tc_string, TcString};

/// TCF purposes for which the TCF Policies allow no legitimate interest:
/// purpose 1 (store and/or access information on a device) never, and,
/// since TCF v2.2, purposes 3, 4, 5 and 6 (personalised advertising and
/// content profiles). A mask: bit `n` is purpose `n`.
pub const TCF_LI_FORBIDDEN: u32 = (1 << 1) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6);

/// What one TC string says, as the gate needs it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcfFacts {
    /// `PurposesConsent`: bit `n` for purpose `n`.
    pub purposes_consent: u32,
    /// `PurposesLITransparency`: bit `n` for purpose `n`.
    pub purposes_li_transparency: u32,
    /// `SpecialFeatureOptIns`: bit `n` for special feature `n`.
    pub special_feature_opt_ins: u32,
    /// The campaign's vendor is in the Vendor Consent Section.
    pub vendor_consent: bool,
    /// The campaign's vendor is in the Vendor Legitimate Interest Section.
    pub vendor_legitimate_interest: bool,
    /// Purposes the publisher does not allow the vendor (`RestrictionType` 0).
    pub restricted_not_allowed: u32,
    /// Purposes for which the publisher requires consent (`RestrictionType` 1).
    pub restricted_require_consent: u32,
    /// Purposes for which the publisher requires legitimate interest (`RestrictionType` 2).
    pub restricted_require_li: u32,
}

fn mask(bits: &super::IdBits) -> u32 {
    bits.ids()
        .filter(|&id| id < 32)
        .fold(0, |m, id| m | (1 << id))
}

impl TcfFacts {
    /// The facts of a decoded string for `vendor` (no vendor: the vendor
    /// fields stay `false`, restrictions empty).
    pub fn of(tc: &TcString, vendor: Option<u16>) -> TcfFacts {
        let core = &tc.core;
        let mut facts = TcfFacts {
            purposes_consent: mask(&core.purposes_consent),
            purposes_li_transparency: mask(&core.purposes_li_transparency),
            special_feature_opt_ins: mask(&core.special_feature_opt_ins),
            ..TcfFacts::default()
        };
        if let Some(v) = vendor.map(u32::from) {
            facts.vendor_consent = core.vendor_consents.contains(v);
            facts.vendor_legitimate_interest = core.vendor_legitimate_interests.contains(v);
            for r in &core.pub_restrictions {
                if r.purpose_id >= 32
                    || !r.entries.iter().any(|e| {
                        u32::from(e.start_or_only_vendor_id) <= v && v <= u32::from(e.end_vendor_id)
                    })
                {
                    continue;
                }
                let bit = 1u32 << r.purpose_id;
                match r.restriction_type {
                    0 => facts.restricted_not_allowed |= bit,
                    1 => facts.restricted_require_consent |= bit,
                    2 => facts.restricted_require_li |= bit,
                    // Type 3 is undefined in the spec: not honoured as a
                    // permission, so treated as "not allowed".
                    _ => facts.restricted_not_allowed |= bit,
                }
            }
        }
        facts
    }

    /// Decodes `text` and takes its facts for `vendor`, through a
    /// per-thread cache keyed by the string: recipients of one CMP often
    /// share a string (same choices, timestamps rounded to the day), and a
    /// lookup costs less than a decode. When strings are not shared (under a
    /// quarter of the lookups of a full cache hit), the cache steps aside for
    /// the next [`BYPASS`] strings: hashing and storing every string would
    /// only add to the decode. The error is the decoder's, naming segment,
    /// field and bit offset.
    pub fn decode_cached(text: &str, vendor: Option<u16>) -> Result<TcfFacts, String> {
        // The allocation-free reader first; a malformed string goes through
        // the full decoder, whose error names segment, field and offset.
        let decode = || match super::fast::tcf_facts(text, vendor) {
            Some(facts) => Ok(facts),
            None => decode_tc_string(text)
                .map(|tc| TcfFacts::of(&tc, vendor))
                .map_err(|e| e.to_string()),
        };
        CACHE.with(|cache| {
            let mut cache = cache.borrow_mut();
            if cache.vendor != vendor {
                *cache = Cache {
                    vendor,
                    ..Cache::default()
                };
            }
            if cache.bypass > 0 {
                cache.bypass -= 1;
                return decode();
            }
            cache.lookups += 1;
            if let Some(hit) = cache.entries.get(text) {
                let hit = hit.clone();
                cache.hits += 1;
                return hit;
            }
            let result = decode();
            if cache.entries.len() >= CACHE_ENTRIES {
                // Bounded memory: start over rather than track recency.
                if cache.hits.saturating_mul(4) < cache.lookups {
                    cache.bypass = BYPASS;
                }
                cache.entries.clear();
                cache.lookups = 0;
                cache.hits = 0;
            }
            // Only strings of plausible size are kept.
            if text.len() <= 4096 && cache.bypass == 0 {
                cache.entries.insert(text.into(), result.clone());
            }
            result
        })
    }
}

/// Strings the per-thread cache holds before it starts over.
const CACHE_ENTRIES: usize = 4096;

/// Strings decoded without the cache once it found them not shared.
const BYPASS: u32 = 65_536;

#[derive(Default)]
struct Cache {
    vendor: Option<u16>,
    /// A fast non-cryptographic hash: the keys are the records' own
    /// strings, and a collision only costs a comparison.
    entries: HashMap<Box<str>, Result<TcfFacts, String>, foldhash::fast::RandomState>,
    lookups: u32,
    hits: u32,
    bypass: u32,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn li_forbidden_is_purposes_1_and_3_to_6() {
        let ids: Vec<u32> = (0..32)
            .filter(|n| TCF_LI_FORBIDDEN & (1 << n) != 0)
            .collect();
        assert_eq!(ids, [1, 3, 4, 5, 6]);
    }

    /// Distinct strings switch the cache off for a while; decisions are
    /// the same either way.
    #[test]
    fn cache_steps_aside_for_strings_that_are_not_shared_and_agrees() {
        let good =
            "CQraFkAQraFkAAKABBFRCWEoAP_gAEPgAAqIF5wAoAAgDGAvMC84AUAAQBjAXmAA.IF5wAoAAgDGAvMAA";
        let want = TcfFacts::decode_cached(good, Some(755));
        assert!(want.as_ref().is_ok_and(|f| f.vendor_consent));
        for n in 0..(CACHE_ENTRIES + 10) {
            // Distinct malformed strings (too short for the core segment).
            let bad = format!("CQ{n}");
            assert!(TcfFacts::decode_cached(&bad, Some(755)).is_err());
        }
        assert!(CACHE.with(|c| c.borrow().bypass) > 0);
        assert_eq!(TcfFacts::decode_cached(good, Some(755)), want);
        // Another vendor starts a fresh cache, with that vendor's facts.
        let other = TcfFacts::decode_cached(good, Some(2_000));
        assert!(other.is_ok_and(|f| !f.vendor_consent));
        assert_eq!(CACHE.with(|c| c.borrow().bypass), 0);
    }

    #[test]
    fn malformed_strings_name_segment_field_and_offset_and_are_cached_as_errors() {
        for _ in 0..2 {
            let err = TcfFacts::decode_cached("CQNaw1Q", Some(1))
                .err()
                .unwrap_or_default();
            assert!(err.starts_with("TC string core segment, field"), "{err}");
            assert!(err.contains(" at bit "), "{err}");
        }
    }
}
