//! Differential test against the official IAB implementation: the node
//! script `tests/reference/gpp.mjs` encodes 10,000 random GPP strings with
//! `@iabgpp/cmpapi` (random section sets and field values), decodes each
//! again with the reference decoder and prints its fields; scruple must
//! decode every one to the same values. The official vectors in
//! `tests/fixtures/gpp/official-vectors.txt` go through the same
//! comparison first.
//!
//! The package is installed by this test (`npm ci` from the committed
//! `tests/reference/package-lock.json`) into `<target>/gpp-reference/`,
//! once; later runs reuse it while the lock file is unchanged. Without
//! node or npm the test is skipped with a message, unless `CI` is set,
//! where a skipped differential test would hide a regression, so it fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use scruple::signals::gpp::{decode_gpp_string, GppString, Section};
use scruple::signals::{fast, gpp_us_privacy_of};
use scruple::signals::{IdBits, TcString, VendorSet};
use serde_json::{json, Map, Value};

/// How many strings, and the generator's seed (fixed: a failure must
/// reproduce).
const COUNT: usize = 10_000;
const SEED: u32 = 13;

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn reference_dir() -> PathBuf {
    manifest().join("tests/reference")
}

/// `<target>/gpp-reference`: the test binary lives in `<target>/<profile>/deps`.
fn cache_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let target = exe
        .ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest().join("target"));
    target.join("gpp-reference")
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

/// The TCF section in the reference's field names. The reference reads an
/// absent optional segment as its defaults (empty sets, no custom
/// purposes), so absence is printed that way.
fn tcf(tc: &TcString) -> Value {
    let c = &tc.core;
    let restrictions: Vec<Value> = c
        .pub_restrictions
        .iter()
        .map(|r| {
            json!({"purposeId": r.purpose_id, "restrictionType": r.restriction_type, "vendors": r.vendor_ids()})
        })
        .collect();
    let empty = IdBits::default();
    let p = tc.publisher_tc.as_ref();
    json!({
        "Version": c.version,
        "Created": c.created * 100,
        "LastUpdated": c.last_updated * 100,
        "CmpId": c.cmp_id,
        "CmpVersion": c.cmp_version,
        "ConsentScreen": c.consent_screen,
        "ConsentLanguage": c.consent_language_str(),
        "VendorListVersion": c.vendor_list_version,
        "PolicyVersion": c.tcf_policy_version,
        "IsServiceSpecific": c.is_service_specific,
        "UseNonStandardStacks": c.use_non_standard_texts,
        "SpecialFeatureOptins": bits(&c.special_feature_opt_ins),
        "PurposeConsents": bits(&c.purposes_consent),
        "PurposeLegitimateInterests": bits(&c.purposes_li_transparency),
        "PurposeOneTreatment": c.purpose_one_treatment,
        "PublisherCountryCode": c.publisher_cc_str(),
        "VendorConsents": vendors(&c.vendor_consents),
        "VendorLegitimateInterests": vendors(&c.vendor_legitimate_interests),
        "PublisherRestrictions": restrictions,
        "PublisherPurposesSegmentType": 3,
        "PublisherConsents": bits(p.map_or(&empty, |p| &p.pub_purposes_consent)),
        "PublisherLegitimateInterests": bits(p.map_or(&empty, |p| &p.pub_purposes_li_transparency)),
        "NumCustomPurposes": p.map_or(0, |p| p.num_custom_purposes),
        "PublisherCustomConsents": bits(p.map_or(&empty, |p| &p.custom_purposes_consent)),
        "PublisherCustomLegitimateInterests": bits(p.map_or(&empty, |p| &p.custom_purposes_li_transparency)),
        "VendorsDisclosed": tc.disclosed_vendors.as_ref().map_or(json!([]), vendors),
    })
}

/// scruple's decoding in the shape `gpp.mjs` prints.
fn ours(s: &str, gpp: &GppString) -> Value {
    let mut sections = Map::new();
    let mut unknown = BTreeMap::new();
    for section in &gpp.sections {
        let (name, value) = match section {
            Section::TcfEuV2(tc) => ("tcfeuv2", tcf(tc)),
            Section::UsNat(x) => (
                "usnat",
                json!({
                    "Version": x.version,
                    "SharingNotice": x.sharing_notice,
                    "SaleOptOutNotice": x.sale_opt_out_notice,
                    "SharingOptOutNotice": x.sharing_opt_out_notice,
                    "TargetedAdvertisingOptOutNotice": x.targeted_advertising_opt_out_notice,
                    "SensitiveDataProcessingOptOutNotice": x.sensitive_data_processing_opt_out_notice,
                    "SensitiveDataLimitUseNotice": x.sensitive_data_limit_use_notice,
                    "SaleOptOut": x.sale_opt_out,
                    "SharingOptOut": x.sharing_opt_out,
                    "TargetedAdvertisingOptOut": x.targeted_advertising_opt_out,
                    "SensitiveDataProcessing": x.sensitive_data_processing,
                    "KnownChildSensitiveDataConsents": x.known_child_sensitive_data_consents,
                    "PersonalDataConsents": x.personal_data_consents,
                    "MspaCoveredTransaction": x.mspa_covered_transaction,
                    "MspaOptOutOptionMode": x.mspa_opt_out_option_mode,
                    "MspaServiceProviderMode": x.mspa_service_provider_mode,
                    "Gpc": x.gpc,
                }),
            ),
            Section::UsCa(x) => (
                "usca",
                json!({
                    "Version": x.version,
                    "SaleOptOutNotice": x.sale_opt_out_notice,
                    "SharingOptOutNotice": x.sharing_opt_out_notice,
                    "SensitiveDataLimitUseNotice": x.sensitive_data_limit_use_notice,
                    "SaleOptOut": x.sale_opt_out,
                    "SharingOptOut": x.sharing_opt_out,
                    "SensitiveDataProcessing": x.sensitive_data_processing,
                    "KnownChildSensitiveDataConsents": x.known_child_sensitive_data_consents,
                    "PersonalDataConsents": x.personal_data_consents,
                    "MspaCoveredTransaction": x.mspa_covered_transaction,
                    "MspaOptOutOptionMode": x.mspa_opt_out_option_mode,
                    "MspaServiceProviderMode": x.mspa_service_provider_mode,
                    "Gpc": x.gpc,
                }),
            ),
            Section::UsVa(x) => (
                "usva",
                json!({
                    "Version": x.version,
                    "SharingNotice": x.sharing_notice,
                    "SaleOptOutNotice": x.sale_opt_out_notice,
                    "TargetedAdvertisingOptOutNotice": x.targeted_advertising_opt_out_notice,
                    "SaleOptOut": x.sale_opt_out,
                    "TargetedAdvertisingOptOut": x.targeted_advertising_opt_out,
                    "SensitiveDataProcessing": x.sensitive_data_processing,
                    "KnownChildSensitiveDataConsents": x.known_child_sensitive_data_consents,
                    "MspaCoveredTransaction": x.mspa_covered_transaction,
                    "MspaOptOutOptionMode": x.mspa_opt_out_option_mode,
                    "MspaServiceProviderMode": x.mspa_service_provider_mode,
                    "Gpc": null,
                }),
            ),
            Section::UsCo(x) => (
                "usco",
                json!({
                    "Version": x.version,
                    "SharingNotice": x.sharing_notice,
                    "SaleOptOutNotice": x.sale_opt_out_notice,
                    "TargetedAdvertisingOptOutNotice": x.targeted_advertising_opt_out_notice,
                    "SaleOptOut": x.sale_opt_out,
                    "TargetedAdvertisingOptOut": x.targeted_advertising_opt_out,
                    "SensitiveDataProcessing": x.sensitive_data_processing,
                    "KnownChildSensitiveDataConsents": x.known_child_sensitive_data_consents,
                    "MspaCoveredTransaction": x.mspa_covered_transaction,
                    "MspaOptOutOptionMode": x.mspa_opt_out_option_mode,
                    "MspaServiceProviderMode": x.mspa_service_provider_mode,
                    "Gpc": x.gpc,
                }),
            ),
            Section::UsUt(x) => (
                "usut",
                json!({
                    "Version": x.version,
                    "SharingNotice": x.sharing_notice,
                    "SaleOptOutNotice": x.sale_opt_out_notice,
                    "TargetedAdvertisingOptOutNotice": x.targeted_advertising_opt_out_notice,
                    "SensitiveDataProcessingOptOutNotice": x.sensitive_data_processing_opt_out_notice,
                    "SaleOptOut": x.sale_opt_out,
                    "TargetedAdvertisingOptOut": x.targeted_advertising_opt_out,
                    "SensitiveDataProcessing": x.sensitive_data_processing,
                    "KnownChildSensitiveDataConsents": x.known_child_sensitive_data_consents,
                    "MspaCoveredTransaction": x.mspa_covered_transaction,
                    "MspaOptOutOptionMode": x.mspa_opt_out_option_mode,
                    "MspaServiceProviderMode": x.mspa_service_provider_mode,
                    "Gpc": null,
                }),
            ),
            Section::UsCt(x) => (
                "usct",
                json!({
                    "Version": x.version,
                    "SharingNotice": x.sharing_notice,
                    "SaleOptOutNotice": x.sale_opt_out_notice,
                    "TargetedAdvertisingOptOutNotice": x.targeted_advertising_opt_out_notice,
                    "SaleOptOut": x.sale_opt_out,
                    "TargetedAdvertisingOptOut": x.targeted_advertising_opt_out,
                    "SensitiveDataProcessing": x.sensitive_data_processing,
                    "KnownChildSensitiveDataConsents": x.known_child_sensitive_data_consents,
                    "MspaCoveredTransaction": x.mspa_covered_transaction,
                    "MspaOptOutOptionMode": x.mspa_opt_out_option_mode,
                    "MspaServiceProviderMode": x.mspa_service_provider_mode,
                    "Gpc": x.gpc,
                }),
            ),
            Section::Unknown { id, text } => {
                unknown.insert(id.to_string(), json!(text));
                continue;
            }
        };
        sections.insert(name.to_owned(), value);
    }
    json!({
        "s": s,
        "SectionIds": gpp.header.section_ids,
        "sections": sections,
        "unknown": unknown,
    })
}

#[test]
fn decodes_like_the_reference_library() {
    if !(available("node") && available("npm")) {
        assert!(
            std::env::var_os("CI").is_none(),
            "node and npm are required for the GPP differential test under CI"
        );
        eprintln!("SKIPPED gpp_reference: node or npm not found (set CI to make this a failure)");
        return;
    }
    let cache = cache_dir();
    npm_reference::install(&reference_dir(), &cache, "@iabgpp/cmpapi/package.json");
    // The script must sit beside node_modules for its import to resolve.
    std::fs::copy(reference_dir().join("gpp.mjs"), cache.join("gpp.mjs")).expect("copy script");
    let vectors = manifest().join("tests/fixtures/gpp/official-vectors.txt");
    let out = Command::new("node")
        .arg("gpp.mjs")
        .arg(COUNT.to_string())
        .arg(SEED.to_string())
        .arg(&vectors)
        .current_dir(&cache)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "gpp.mjs failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");

    let (mut rows, mut official) = (0, 0);
    let mut per_section: BTreeMap<String, usize> = BTreeMap::new();
    let (mut gpc, mut usnat_v1) = (0, 0);
    for line in stdout.lines() {
        let mut reference: Value = serde_json::from_str(line).expect("JSON line");
        let vector = reference
            .as_object_mut()
            .and_then(|o| o.remove("vector"))
            .is_some();
        let s = reference["s"].as_str().expect("string field").to_owned();
        let gpp = decode_gpp_string(&s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(ours(&s, &gpp), reference, "fields differ for {s}");
        // The gate's allocation-free reader says what the full decoder says.
        // (Strings of more than MAX_SECTIONS sections are left to the full
        // decoder, as the gate does.)
        let want = (gpp.sections.len() <= fast::MAX_SECTIONS).then(|| gpp_us_privacy_of(&gpp));
        assert_eq!(fast::gpp_signals(&s), want, "fast path differs for {s}");
        if vector {
            official += 1;
            continue;
        }
        rows += 1;
        for section in &gpp.sections {
            let name = match section {
                Section::TcfEuV2(_) => "tcfeuv2".to_owned(),
                Section::UsNat(x) => {
                    usnat_v1 += usize::from(x.version == 1);
                    gpc += usize::from(x.gpc.is_some());
                    "usnat".to_owned()
                }
                Section::UsCa(x) => {
                    gpc += usize::from(x.gpc.is_some());
                    "usca".to_owned()
                }
                Section::UsCo(x) => {
                    gpc += usize::from(x.gpc.is_some());
                    "usco".to_owned()
                }
                Section::UsCt(x) => {
                    gpc += usize::from(x.gpc.is_some());
                    "usct".to_owned()
                }
                Section::UsVa(_) => "usva".to_owned(),
                Section::UsUt(_) => "usut".to_owned(),
                Section::Unknown { id, .. } => format!("unknown {id}"),
            };
            *per_section.entry(name).or_default() += 1;
        }
    }
    eprintln!(
        "gpp_reference: {official} official vectors and {rows} generated strings agree; sections {per_section:?}, {usnat_v1} usnat version 1, {gpc} GPC sub-sections"
    );
    assert_eq!(official, 13, "every official vector is compared");
    assert_eq!(rows, COUNT);
    // Every section kind must be exercised often, or its comparison proves
    // little.
    for name in [
        "tcfeuv2",
        "usnat",
        "usca",
        "usva",
        "usco",
        "usut",
        "usct",
        "unknown 6",
        "unknown 13",
    ] {
        let n = per_section.get(name).copied().unwrap_or(0);
        assert!(n > 500, "{name}: only {n} sections");
    }
    assert!(
        usnat_v1 > 500 && gpc > 1000,
        "{usnat_v1} usnat v1, {gpc} GPC"
    );
}
