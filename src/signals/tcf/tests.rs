//! Hand-built vectors: each string is written field by field from the bit
//! layout tables of "Consent string and vendor list formats v2", so the
//! expected values are checked by reading the test, not by another decoder
//! (that comparison is `tests/tcf_reference.rs`).

use super::*;

/// `v` as `n` bits, most significant first.
fn f(v: u64, n: usize) -> String {
    format!("{v:0n$b}")
}

/// Bits (`0`/`1`, spaces ignored) to base64url, zero-padded to 6 bits.
fn b64(bits: &str) -> String {
    const DICT: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits: String = bits.chars().filter(|c| *c != ' ').collect();
    while !bits.len().is_multiple_of(6) {
        bits.push('0');
    }
    bits.as_bytes()
        .chunks(6)
        .map(|c| {
            let v = c
                .iter()
                .fold(0usize, |a, b| (a << 1) | usize::from(*b == b'1'));
            DICT[v] as char
        })
        .collect()
}

/// 2020-01-01T00:00:00Z in deciseconds.
const CREATED: u64 = 15_778_368_000;

/// The core segment's fixed header, bits 0–212.
fn header() -> String {
    [
        f(2, 6),                                  // Version
        f(CREATED, 36),                           // Created
        f(CREATED + 10, 36),                      // LastUpdated
        f(7, 12),                                 // CmpId
        f(1, 12),                                 // CmpVersion
        f(3, 6),                                  // ConsentScreen
        f(4, 6) + &f(13, 6),                      // ConsentLanguage EN
        f(15, 12),                                // VendorListVersion
        f(4, 6),                                  // TcfPolicyVersion (2.2)
        "1".into(),                               // IsServiceSpecific
        "0".into(),                               // UseNonStandardTexts
        "100000000001".into(),                    // SpecialFeatureOptIns 1, 12
        "101".to_owned() + &"0".repeat(20) + "1", // PurposesConsent 1, 3, 24
        "010".to_owned() + &"0".repeat(21),       // PurposesLITransparency 2
        "0".into(),                               // PurposeOneTreatment
        f(3, 6) + &f(4, 6),                       // PublisherCC DE
    ]
    .concat()
}

/// Vendor consents: bitfield, MaxVendorId 5, vendors 1, 3, 5.
fn consents() -> String {
    f(5, 16) + "0" + "10101"
}

/// Vendor LI: ranges, MaxVendorId 10, entries {2} and 4–6.
fn legitimate_interests() -> String {
    f(10, 16) + "1" + &f(2, 12) + "0" + &f(2, 16) + "1" + &f(4, 16) + &f(6, 16)
}

/// One restriction: purpose 2, require consent, vendors 1–3.
fn restrictions() -> String {
    f(1, 12) + &f(2, 6) + &f(1, 2) + &f(1, 12) + "1" + &f(1, 16) + &f(3, 16)
}

fn core_bits() -> String {
    header() + &consents() + &legitimate_interests() + &restrictions()
}

fn disclosed() -> String {
    b64(&("001".to_owned() + &f(3, 16) + "0" + "011"))
}

fn publisher_tc() -> String {
    b64(&("011".to_owned() + "1" + &"0".repeat(23) + &"0".repeat(24) + &f(2, 6) + "01" + "10"))
}

#[test]
fn header_is_213_bits_as_in_the_spec() {
    // The spec's table puts MaxVendorId of the consent section at bit 213.
    assert_eq!(header().len(), 213);
}

#[test]
fn decodes_every_core_field() {
    let tc = decode_tc_string(&b64(&core_bits())).expect("valid");
    let c = &tc.core;
    assert_eq!(c.version, 2);
    assert_eq!(c.created, CREATED);
    assert_eq!(c.last_updated, CREATED + 10);
    assert_eq!((c.cmp_id, c.cmp_version, c.consent_screen), (7, 1, 3));
    assert_eq!(c.consent_language_str(), "EN");
    assert_eq!(c.vendor_list_version, 15);
    assert_eq!(c.tcf_policy_version, 4);
    assert!(c.is_service_specific);
    assert!(!c.use_non_standard_texts);
    assert_eq!(c.special_feature_opt_ins.ids().collect::<Vec<_>>(), [1, 12]);
    assert_eq!(c.purposes_consent.ids().collect::<Vec<_>>(), [1, 3, 24]);
    assert_eq!(c.purposes_li_transparency.ids().collect::<Vec<_>>(), [2]);
    assert!(!c.purpose_one_treatment);
    assert_eq!(c.publisher_cc_str(), "DE");
    assert_eq!(c.vendor_consents.max_vendor_id, 5);
    assert!(!c.vendor_consents.is_range_encoding());
    assert_eq!(c.vendor_consents.ids(), [1, 3, 5]);
    assert!(c.vendor_consents.contains(5) && !c.vendor_consents.contains(6));
    let li = &c.vendor_legitimate_interests;
    assert_eq!(li.max_vendor_id, 10);
    assert!(li.is_range_encoding());
    assert_eq!(li.ids(), [2, 4, 5, 6]);
    assert_eq!(
        li.encoding,
        VendorEncoding::Range(vec![
            RangeEntry {
                is_a_range: false,
                start_or_only_vendor_id: 2,
                end_vendor_id: 2
            },
            RangeEntry {
                is_a_range: true,
                start_or_only_vendor_id: 4,
                end_vendor_id: 6
            },
        ])
    );
    assert_eq!(c.pub_restrictions.len(), 1);
    let r = &c.pub_restrictions[0];
    assert_eq!((r.purpose_id, r.restriction_type), (2, 1));
    assert_eq!(r.vendor_ids(), [1, 2, 3]);
    assert!(tc.disclosed_vendors.is_none() && tc.publisher_tc.is_none());
}

#[test]
fn decodes_the_optional_segments_in_any_order() {
    let core = b64(&core_bits());
    for text in [
        format!("{core}.{}.{}", disclosed(), publisher_tc()),
        format!("{core}.{}.{}", publisher_tc(), disclosed()),
    ] {
        let tc = decode_tc_string(&text).expect("valid");
        let d = tc.disclosed_vendors.expect("disclosed vendors");
        assert_eq!(d.max_vendor_id, 3);
        assert_eq!(d.ids(), [2, 3]);
        let p = tc.publisher_tc.expect("publisher TC");
        assert_eq!(p.pub_purposes_consent.ids().collect::<Vec<_>>(), [1]);
        assert_eq!(p.pub_purposes_li_transparency.ids().count(), 0);
        assert_eq!(p.num_custom_purposes, 2);
        assert_eq!(p.custom_purposes_consent.ids().collect::<Vec<_>>(), [2]);
        assert_eq!(
            p.custom_purposes_li_transparency.ids().collect::<Vec<_>>(),
            [1]
        );
    }
}

fn error(text: &str) -> TcfError {
    match decode_tc_string(text) {
        Ok(tc) => panic!("{text:?} decoded: {tc:?}"),
        Err(e) => e,
    }
}

#[test]
fn truncated_core_names_the_field_and_offset() {
    let e = error(&b64(&header()));
    assert_eq!(
        (e.segment.as_str(), e.field, e.bit_offset),
        ("core", "MaxVendorId", 213)
    );
    assert_eq!(
        e.kind,
        TcfErrorKind::UnexpectedEnd {
            needed: 16,
            left: 3
        }
    );
    assert_eq!(
        e.to_string(),
        "TC string core segment, field MaxVendorId at bit 213: needs 16 bits, only 3 left"
    );
    let e = error(&b64(&header()[..100]));
    assert_eq!((e.field, e.bit_offset), ("ConsentScreen", 102));
}

#[test]
fn bad_characters_and_empty_segments() {
    let core = b64(&core_bits());
    let e = error(&format!("{}={}", &core[..4], &core[5..]));
    assert_eq!(e.kind, TcfErrorKind::InvalidCharacter { ch: '=', index: 4 });
    assert_eq!(error("").kind, TcfErrorKind::Empty);
    // Characters, not bytes: a multi-byte character is named whole.
    let e = error("CPXxé");
    assert_eq!(e.kind, TcfErrorKind::InvalidCharacter { ch: 'é', index: 4 });
    let e = error("CPé");
    assert_eq!(e.kind, TcfErrorKind::InvalidCharacter { ch: 'é', index: 2 });
    let e = error(&format!("{core}."));
    assert_eq!(
        (e.segment.as_str(), e.kind),
        ("segment 2", TcfErrorKind::Empty)
    );
    let e = error(&format!("{core}.{}+", disclosed()));
    assert_eq!(e.segment, "segment 2");
}

#[test]
fn versions_and_segment_types() {
    let v1 = b64(&(f(1, 6) + &core_bits()[6..]));
    assert_eq!(error(&v1).kind, TcfErrorKind::UnsupportedVersion(1));
    // A string that starts with an optional segment has no core segment.
    assert_eq!(error(&disclosed()).kind, TcfErrorKind::CoreNotFirst(1));
    let core = b64(&core_bits());
    let e = error(&format!("{core}.{}", b64(&("101".to_owned() + &f(0, 30)))));
    assert_eq!(e.kind, TcfErrorKind::UnknownSegmentType(5));
    let e = error(&format!("{core}.{}.{}", disclosed(), disclosed()));
    assert_eq!(
        (e.segment.as_str(), e.kind),
        ("DisclosedVendors", TcfErrorKind::DuplicateSegment(1))
    );
    let e = error(&format!("{core}.{core}"));
    assert_eq!(e.kind, TcfErrorKind::DuplicateSegment(0));
}

#[test]
fn bad_letters_and_ranges() {
    let mut bits = header();
    bits.replace_range(108..114, &f(26, 6));
    let e = error(&b64(&(bits + &consents())));
    assert_eq!((e.field, e.bit_offset), ("ConsentLanguage", 108));
    assert_eq!(e.kind, TcfErrorKind::InvalidLetter(26));
    // A range 6–4 is malformed; the error points at EndVendorId.
    let li = f(10, 16) + "1" + &f(1, 12) + "1" + &f(6, 16) + &f(4, 16);
    let e = error(&b64(&(header() + &consents() + &li + &f(0, 12))));
    assert_eq!(e.kind, TcfErrorKind::InvalidRange { start: 6, end: 4 });
    assert_eq!(
        (e.field, e.bit_offset),
        ("EndVendorId", 213 + 22 + 29 + 1 + 16)
    );
}

#[test]
fn counts_are_bounded_by_the_input() {
    // MaxVendorId 65535 as a bitfield with 7 bits left: refused before any
    // allocation of 8 KiB.
    let e = error(&b64(&(header() + &f(65535, 16) + "0" + "1")));
    assert_eq!((e.field, e.bit_offset), ("BitField", 230));
    // NumEntries 4095 with one entry present.
    let e = error(&b64(&(header()
        + &f(9, 16)
        + "1"
        + &f(4095, 12)
        + "0"
        + &f(3, 16))));
    // (the zero padding reads as a second IsARange; its id is missing)
    assert_eq!(e.field, "StartOrOnlyVendorId");
    // NumPubRestrictions 4095 with none present.
    let e = error(&b64(&(header() + &consents() + &consents() + &f(4095, 12))));
    assert_eq!(e.field, "PurposeId");
    // MaxVendorId 65535 with a range 1–65535 is fine, and 4,095 copies of
    // it are listed in one pass.
    let entry = "1".to_owned() + &f(1, 16) + &f(65535, 16);
    let li = f(65535, 16) + "1" + &f(4095, 12) + &entry.repeat(4095);
    let tc = decode_tc_string(&b64(&(header() + &consents() + &li + &f(0, 12)))).expect("valid");
    let ids = tc.core.vendor_legitimate_interests.ids();
    assert_eq!((ids.len(), ids.last()), (65535, Some(&65535)));
}

#[test]
fn no_panic_on_any_prefix_or_byte_flip() {
    let full = format!("{}.{}.{}", b64(&core_bits()), disclosed(), publisher_tc());
    for end in 0..=full.len() {
        let _ = decode_tc_string(&full[..end]);
    }
    let bytes = full.as_bytes();
    for i in 0..bytes.len() {
        for c in [b'A', b'_', b'.', b'z', b'!'] {
            let mut b = bytes.to_vec();
            b[i] = c;
            if let Ok(s) = std::str::from_utf8(&b) {
                let _ = decode_tc_string(s);
            }
        }
    }
}

#[test]
fn decodes_strings_made_by_the_reference_encoder() {
    // Sixteen short strings from tests/reference/tcf.mjs (seed 7), kept so
    // the reference's output is exercised even where node is absent (the
    // full comparison is tests/tcf_reference.rs); also the fuzz seeds.
    let strings = include_str!("../../../tests/fixtures/tcf/reference-strings.txt");
    let mut n = 0;
    for s in strings.lines() {
        let tc = decode_tc_string(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(tc.core.version, 2);
        n += 1;
    }
    assert_eq!(n, 16);
}
