//! Differential test against the official IAB implementation: the node
//! script `tests/reference/tcf.mjs` encodes 10,000 random TC strings with
//! `@iabtechlabtcf/core` and prints each with the reference decoder's
//! fields; scruple must decode every one to the same values.
//!
//! The package is installed by this test (`npm ci` from the committed
//! `tests/reference/package-lock.json`) into `<target>/tcf-reference/`, once;
//! later runs reuse it while the lock file is unchanged. Without node or
//! npm the test is skipped with a message, unless `CI` is set, where a
//! skipped differential test would hide a regression, so it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use scruple::signals::{decode_tc_string, fast, IdBits, TcString, TcfFacts, VendorSet};
use serde_json::{json, Value};

/// How many strings, and the generator's seed (fixed: a failure must
/// reproduce).
const COUNT: usize = 10_000;
const SEED: u32 = 13;

fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference")
}

/// `<target>/tcf-reference`: the test binary lives in `<target>/<profile>/deps`.
fn cache_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let target = exe
        .ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("tcf-reference")
}

#[path = "support/npm_reference.rs"]
mod npm_reference;
use npm_reference::available;

fn bits(b: &IdBits) -> Value {
    json!(b.ids().collect::<Vec<_>>())
}

fn vendors(v: &VendorSet) -> Value {
    json!(v.ids())
}

/// scruple's decoding in the shape `tcf.mjs` prints.
fn ours(s: &str, tc: &TcString) -> Value {
    let c = &tc.core;
    // The reference keeps one vendor set per (purpose, restriction type),
    // the union of every entry with that pair, and never an empty one.
    let mut groups: std::collections::BTreeMap<(u8, u8), Vec<u32>> = Default::default();
    for r in &c.pub_restrictions {
        groups
            .entry((r.purpose_id, r.restriction_type))
            .or_default()
            .extend(r.vendor_ids());
    }
    let restrictions: Vec<Value> = groups
        .into_iter()
        .filter(|(_, ids)| !ids.is_empty())
        .map(|((purpose, kind), mut ids)| {
            ids.sort_unstable();
            ids.dedup();
            json!({"purposeId": purpose, "restrictionType": kind, "vendors": ids})
        })
        .collect();
    json!({
        "s": s,
        "version": c.version,
        "created": c.created * 100,
        "lastUpdated": c.last_updated * 100,
        "cmpId": c.cmp_id,
        "cmpVersion": c.cmp_version,
        "consentScreen": c.consent_screen,
        "consentLanguage": c.consent_language_str(),
        "vendorListVersion": c.vendor_list_version,
        "policyVersion": c.tcf_policy_version,
        "isServiceSpecific": c.is_service_specific,
        "useNonStandardTexts": c.use_non_standard_texts,
        "specialFeatureOptins": bits(&c.special_feature_opt_ins),
        "purposeConsents": bits(&c.purposes_consent),
        "purposeLegitimateInterests": bits(&c.purposes_li_transparency),
        "purposeOneTreatment": c.purpose_one_treatment,
        "publisherCountryCode": c.publisher_cc_str(),
        "vendorConsents": vendors(&c.vendor_consents),
        "vendorLegitimateInterests": vendors(&c.vendor_legitimate_interests),
        "publisherRestrictions": restrictions,
        "vendorsDisclosed": tc.disclosed_vendors.as_ref().map(vendors),
        "vendorsAllowed": tc.allowed_vendors.as_ref().map(vendors),
        "publisherTC": tc.publisher_tc.as_ref().map(|p| json!({
            "publisherConsents": bits(&p.pub_purposes_consent),
            "publisherLegitimateInterests": bits(&p.pub_purposes_li_transparency),
            "numCustomPurposes": p.num_custom_purposes,
            "publisherCustomConsents": bits(&p.custom_purposes_consent),
            "publisherCustomLegitimateInterests": bits(&p.custom_purposes_li_transparency),
        })),
    })
}

/// The reference's restrictions, in the same order as ours.
fn normalise(mut reference: Value) -> Value {
    if let Some(list) = reference
        .get_mut("publisherRestrictions")
        .and_then(Value::as_array_mut)
    {
        list.sort_by_key(|r| (r["purposeId"].as_u64(), r["restrictionType"].as_u64()));
    }
    reference
}

#[test]
fn decodes_like_the_reference_library() {
    if !(available("node") && available("npm")) {
        assert!(
            std::env::var_os("CI").is_none(),
            "node and npm are required for the TCF differential test under CI"
        );
        eprintln!("SKIPPED tcf_reference: node or npm not found (set CI to make this a failure)");
        return;
    }
    let cache = cache_dir();
    npm_reference::install(&reference_dir(), &cache, "@iabtechlabtcf/core/package.json");
    // The script must sit beside node_modules for its import to resolve.
    std::fs::copy(reference_dir().join("tcf.mjs"), cache.join("tcf.mjs")).expect("copy script");
    let out = Command::new("node")
        .args(["tcf.mjs", &COUNT.to_string(), &SEED.to_string()])
        .current_dir(&cache)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "tcf.mjs failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");

    let (mut rows, mut bitfield, mut range, mut optional) = (0, 0, 0, 0);
    for line in stdout.lines() {
        let reference: Value = serde_json::from_str(line).expect("JSON line");
        let s = reference["s"].as_str().expect("string field").to_owned();
        let s = s.as_str();
        let tc = decode_tc_string(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(ours(s, &tc), normalise(reference), "fields differ for {s}");
        // The gate's allocation-free reader gives the full decoder's facts
        // (for a vendor in the string and one that is not, and no vendor).
        for vendor in [None, Some(755), Some(1), Some(65_535)] {
            assert_eq!(
                fast::tcf_facts(s, vendor),
                Some(TcfFacts::of(&tc, vendor)),
                "fast path differs for {s}, vendor {vendor:?}"
            );
        }
        rows += 1;
        for v in [
            &tc.core.vendor_consents,
            &tc.core.vendor_legitimate_interests,
        ]
        .into_iter()
        .chain(tc.disclosed_vendors.as_ref())
        {
            if v.is_range_encoding() {
                range += 1;
            } else {
                bitfield += 1;
            }
        }
        optional += usize::from(tc.disclosed_vendors.is_some() || tc.publisher_tc.is_some());
    }
    eprintln!(
        "tcf_reference: {rows} strings agree ({bitfield} bitfield and {range} range vendor sections, {optional} with optional segments)"
    );
    assert_eq!(rows, COUNT);
    // The generator must exercise both encodings, or the comparison of one
    // of them proves nothing.
    assert!(
        bitfield > 1000 && range > 1000,
        "{bitfield} bitfield, {range} range"
    );
}
