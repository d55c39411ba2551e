//! Consent signals in recipient records (issue 13 items 3-5): TC strings
//! (`tcf`), GPP strings (`gpp`) and Global Privacy Control (`gpc`) through
//! `scruple gate` with the shipped packs, each rule both ways, malformed
//! strings as bad records, and conflicts with stored consent counted.
//!
//! The TC strings of `tests/fixtures/gate/tcf-recipients.jsonl` were encoded
//! by the IAB reference implementation (`@iabtechlabtcf/core`) with
//! `tests/reference/tcf-fixtures.mjs`; each record's id is the script's
//! case name (what the string establishes for vendor 755).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

const AT: &str = "2026-12-01T10:00:00Z";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gate")
        .join(name)
}

fn gate_at(campaign: &Path, recipients: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("scruple")
        .expect("binary built")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .arg("gate")
        .arg(campaign)
        .arg("--recipients")
        .arg(recipients)
        .args(["--no-config", "--at", AT, "--quiet"])
        .args(extra)
        .output()
        .expect("scruple runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The campaign fixture `name` with `edits` (from, to) applied, written to
/// a temporary file.
fn edited(name: &str, edits: &[(&str, &str)]) -> tempfile::NamedTempFile {
    let mut text = std::fs::read_to_string(fixture(name)).expect("fixture campaign");
    for (from, to) in edits {
        assert!(text.contains(from), "{from} in {name}");
        text = text.replace(from, to);
    }
    let file = tempfile::Builder::new()
        .suffix(".yaml")
        .tempfile()
        .expect("temp file");
    std::fs::write(file.path(), text).expect("write campaign");
    file
}

/// The TCF recipients with their stored consent moved to `purpose`.
fn recipients_consenting_to(purpose: &str) -> tempfile::NamedTempFile {
    let text = std::fs::read_to_string(fixture("tcf-recipients.jsonl")).expect("fixture");
    let file = tempfile::Builder::new()
        .suffix(".jsonl")
        .tempfile()
        .expect("temp file");
    std::fs::write(file.path(), text.replace("targeted_advertising", purpose)).expect("write");
    file
}

/// Per recipient id: ("allow" | "suppress" | "bad", rule ids, conflict?, text).
type Decisions = BTreeMap<String, (String, Vec<String>, bool, String)>;

fn decisions(stdout: &str) -> Decisions {
    stdout
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("each output line is JSON");
            let id = v["recipient"].as_str().unwrap_or("?").to_string();
            let reasons = v["reasons"].as_array().cloned().unwrap_or_default();
            let rules = reasons
                .iter()
                .filter_map(|r| r["rule"].as_str().map(str::to_string))
                .collect();
            let conflict = reasons.iter().any(|r| r["conflict"].is_string());
            let (kind, text) = match v["error"].as_str() {
                Some(e) => ("bad".to_string(), e.to_string()),
                None => (
                    v["decision"].as_str().unwrap_or("?").to_string(),
                    reasons
                        .iter()
                        .filter_map(|r| r["message"].as_str())
                        .collect::<Vec<_>>()
                        .join(" | "),
                ),
            };
            (id, (kind, rules, conflict, text))
        })
        .collect()
}

#[track_caller]
fn expect(d: &Decisions, id: &str, kind: &str, rules: &[&str], conflict: bool) {
    let (got, got_rules, got_conflict, text) = d
        .get(id)
        .unwrap_or_else(|| panic!("no decision for {id}: {d:?}"));
    assert_eq!(got, kind, "{id}: {text}");
    assert_eq!(got_rules, rules, "{id}: {text}");
    assert_eq!(*got_conflict, conflict, "{id}: conflict? {text}");
}

const TCF: &str = "tcf_legal_basis_per_purpose";
const GDPR_TCF: &str = "gdpr_art7_3_tcf_signal_consent";

/// Personalised ads (`targeted_advertising`, TCF purposes 1, 3 and 4) by
/// vendor 755 in France, on consent.
#[test]
fn tcf_strings_decide_a_personalised_ads_campaign_both_ways() {
    let (code, stdout, stderr) = gate_at(
        &fixture("tcf-ads.yaml"),
        &fixture("tcf-recipients.jsonl"),
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    let d = decisions(&stdout);
    // Passes: every purpose consented, the vendor in the Vendor Consent
    // Section; the string alone is enough for the TCF pack.
    expect(&d, "full", "allow", &[], false);
    // A GDPR consent rule still needs the stored consent, TC string or not.
    expect(
        &d,
        "full-no-stored-consent",
        "suppress",
        &[
            "baseline_consent_per_purpose",
            "baseline_consent_per_purpose",
            "gdpr_art6_1_a_consent_per_purpose",
            "gdpr_art6_1_a_consent_per_purpose",
        ],
        false,
    );
    // Purpose 4 (select personalised ads) is not consented: both the GDPR
    // pack (a stored consent does not stand against the string) and the
    // TCF pack suppress, and the stored consent is a counted conflict.
    expect(&d, "no_purpose_4", "suppress", &[GDPR_TCF, TCF], true);
    // The same without a stored consent for the purpose: no conflict.
    expect(
        &d,
        "no_purpose_4-no-stored-consent",
        "suppress",
        &[
            "baseline_consent_per_purpose",
            "gdpr_art6_1_a_consent_per_purpose",
            GDPR_TCF,
            TCF,
        ],
        false,
    );
    // Legitimate interest for purposes 3 and 4 is not allowed since TCF 2.2.
    expect(&d, "li_for_3_and_4", "suppress", &[GDPR_TCF, TCF], true);
    // Purposes 1-4 consented (7 only on legitimate interest): this campaign
    // needs 1, 3 and 4, so it passes.
    expect(&d, "li_for_7", "allow", &[], false);
    expect(&d, "vendor_missing", "suppress", &[GDPR_TCF, TCF], true);
    expect(
        &d,
        "restricted_purpose_4",
        "suppress",
        &[GDPR_TCF, TCF],
        true,
    );
    // Precise geolocation is not among this campaign's purposes.
    expect(&d, "no_geolocation", "allow", &[], false);
    // The TCF pack needs a string; the GDPR pack reads one only if present.
    expect(&d, "no-string", "suppress", &[TCF], false);
    expect(&d, "null-string", "suppress", &[TCF], false);
    // GPC is a US opt-out of sale and sharing: not one this EU email honours.
    expect(&d, "gpc-in-eu", "allow", &[], false);
    // Malformed strings are bad records naming segment, field and bit.
    for (id, text) in [
        (
            "truncated",
            "tcf: TC string core segment, field StartOrOnlyVendorId at bit 243: needs 16 bits, only 3 left",
        ),
        (
            "bad-character",
            "tcf: TC string core segment, field SegmentType at bit 0: invalid base64url character '+' at character 8",
        ),
        ("empty", "tcf: TC string core segment, field SegmentType at bit 0: empty"),
    ] {
        let (kind, _, _, error) = &d[id];
        assert_eq!((kind.as_str(), error.as_str()), ("bad", text), "{id}");
    }
    assert_eq!(d["not-a-string"].0, "bad");
    // The reasons name the signal, the field and what is missing.
    let text = &d["no_purpose_4"].3;
    assert!(
        text.contains("the TC string (record field `tcf`) does not establish TCF purpose 4 (needed for campaign purpose `targeted_advertising`): PurposesConsent bit 4 is not set"),
        "{text}"
    );
    assert!(d["restricted_purpose_4"].3.contains("RestrictionType 0"));
    assert!(d["vendor_missing"].3.contains("not to vendor 755"));
    // Conflicts are counted in the summary.
    assert!(
        stderr.contains("gate: 16 read, 4 allowed, 8 suppressed, 4 bad"),
        "{stderr}"
    );
    assert!(
        stderr.contains("gate: 4 suppressed where a consent signal (tcf, gpp, gpc) conflicts with a stored consent"),
        "{stderr}"
    );
    insta::assert_snapshot!("tcf_ads_decisions", stdout);
}

/// Location-based offers need TCF special feature 1 (precise geolocation).
#[test]
fn precise_geolocation_needs_special_feature_1() {
    let campaign = edited(
        "tcf-ads.yaml",
        &[
            // Both `purposes` and `consent.purposes`.
            (
                "purposes: [email_marketing, targeted_advertising]",
                "purposes: [email_marketing, location_based_offers]",
            ),
        ],
    );
    let recipients = recipients_consenting_to("location_based_offers");
    let (code, stdout, stderr) = gate_at(campaign.path(), recipients.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    let d = decisions(&stdout);
    // `full` opts in to special feature 1; `no_geolocation` does not.
    expect(&d, "li_for_7", "allow", &[], false);
    let (kind, rules, _, text) = &d["no_geolocation"];
    assert_eq!(kind, "suppress");
    assert_eq!(rules, &[GDPR_TCF, TCF]);
    assert!(
        text.contains("no opt-in to TCF special feature 1 (needed for campaign purpose `location_based_offers`): SpecialFeatureOptIns bit 1 is not set (precise geolocation)"),
        "{text}"
    );
}

/// Ad measurement (TCF purposes 7 and 9) may rest on legitimate interest in
/// the TCF; under a GDPR consent basis the GDPR pack still wants consent.
#[test]
fn legitimate_interest_stands_in_for_consent_only_where_the_tcf_allows_it() {
    let campaign = edited(
        "tcf-ads.yaml",
        &[
            // Both `purposes` and `consent.purposes`.
            (
                "purposes: [email_marketing, targeted_advertising]",
                "purposes: [email_marketing, ad_measurement]",
            ),
        ],
    );
    let recipients = recipients_consenting_to("ad_measurement");
    let (code, stdout, stderr) = gate_at(campaign.path(), recipients.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    let d = decisions(&stdout);
    expect(&d, "full", "allow", &[], false);
    // Purposes 7 and 9 on legitimate interest: the TCF pack accepts it, the
    // GDPR consent rule does not (the campaign relies on consent).
    let (kind, rules, _, _) = &d["li_for_7"];
    assert_eq!(
        (kind.as_str(), &rules[..]),
        ("suppress", &[GDPR_TCF.to_string()][..])
    );
}

/// Global Privacy Control and GPP strings in California: opt-outs of sale
/// and sharing for an ad campaign (CCPA pack, 11 CCR 7025).
#[test]
fn gpc_and_gpp_opt_out_of_sale_and_sharing_in_california() {
    let (code, stdout, stderr) =
        gate_at(&fixture("ccpa-ads.yaml"), &fixture("us-signals.jsonl"), &[]);
    assert_eq!(code, 0, "{stderr}");
    let d = decisions(&stdout);
    let gpc = "ccpa_7025_global_privacy_control";
    let limit = "ccpa_1798_121_limit_sensitive_pi";
    expect(&d, "no-signal", "allow", &[], false);
    expect(&d, "gpc", "suppress", &[gpc], true);
    expect(
        &d,
        "gpc-without-stored-consent",
        "suppress",
        &[gpc, "baseline_consent_per_purpose"],
        false,
    );
    expect(&d, "gpc-false", "allow", &[], false);
    expect(&d, "gpc-null", "allow", &[], false);
    assert_eq!(d["gpc-as-text"].0, "bad");
    // The stored opt-out reads as before, and is no conflict: both say no.
    expect(&d, "stored-gpc", "suppress", &[gpc], false);
    // A US National section saying SaleOptOut, SharingOptOut = 1 (opted
    // out) and a sensitive-data opt-out, with GPC set (IAB's own usnat test
    // string), conflicts with the stored consent. Its
    // KnownChildSensitiveDataConsents entries say 1 (a known child without
    // consent), which fails CCPA 1798.120(c) whatever the stored age (issue
    // 12).
    expect(
        &d,
        "gpp",
        "suppress",
        &[gpc, limit, "ccpa_1798_120_c_minors_opt_in"],
        true,
    );
    // A US National section with no opt-out (2 = did not opt out) and GPC
    // clear lets the stored consent stand.
    expect(&d, "gpp-no-opt-out", "allow", &[], false);
    // A section scruple does not decode that may carry US choices (6,
    // `uspv1`) is read as every US opt-out: a doubt never lets a message through.
    expect(&d, "gpp-unread-state", "suppress", &[gpc, limit], true);
    let text = &d["gpc"].3;
    assert!(
        text.starts_with("the recipient's browser sent Global Privacy Control (record field `gpc`: true), an opt-out of sale and sharing; it conflicts with the stored consent for `targeted_advertising`"),
        "{text}"
    );
    assert!(d["gpp"].3.contains("record field `gpp`"), "{}", d["gpp"].3);
    assert_eq!(
        d["gpp-malformed"].3,
        "gpp: GPP usnat (section 1) core sub-section, field Version at bit 0: invalid base64url character ' ' at character 3"
    );
    assert_eq!(
        d["gpp-empty"].3,
        "gpp: GPP header string sub-section, field Type at bit 0: empty"
    );
    assert!(
        stderr.contains("gate: 3 suppressed where a consent signal (tcf, gpp, gpc) conflicts with a stored consent"),
        "{stderr}"
    );
    insta::assert_snapshot!("us_signal_decisions", stdout);
}

/// The same signals from CSV columns `tcf`, `gpp` and `gpc`.
#[test]
fn csv_columns_carry_the_signals() {
    let full = std::fs::read_to_string(fixture("tcf-recipients.jsonl"))
        .expect("fixture")
        .lines()
        .find(|l| l.contains(r#""id":"no_purpose_4""#))
        .and_then(|l| serde_json::from_str::<Value>(l).ok())
        .and_then(|v| v["tcf"].as_str().map(str::to_string))
        .expect("no_purpose_4 string");
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("r.csv");
    std::fs::write(
        &csv,
        format!(
            "id,jurisdiction,age,consent:targeted_advertising,gpc,gpp,tcf\n\
             csv-gpc,US-CA,30,2026-10-01,true,,\n\
             csv-gpp,US-CA,30,2026-10-01,,DBABLA~BVVVkkkkkpFY.YA,\n\
             csv-none,US-CA,30,2026-10-01,,,\n\
             csv-tcf,US-CA,30,2026-10-01,,,{full}\n\
             csv-bad-tcf,US-CA,30,2026-10-01,,,CQra\n"
        ),
    )
    .expect("write csv");
    let (code, stdout, stderr) = gate_at(&fixture("ccpa-ads.yaml"), &csv, &[]);
    assert_eq!(code, 0, "{stderr}");
    let d = decisions(&stdout);
    expect(
        &d,
        "csv-gpc",
        "suppress",
        &["ccpa_7025_global_privacy_control"],
        true,
    );
    expect(
        &d,
        "csv-gpp",
        "suppress",
        &[
            "ccpa_7025_global_privacy_control",
            "ccpa_1798_121_limit_sensitive_pi",
            "ccpa_1798_120_c_minors_opt_in",
        ],
        true,
    );
    expect(&d, "csv-none", "allow", &[], false);
    // No TCF rule applies to this campaign (no `tcf_vendor_id`, not EU):
    // a well-formed string changes nothing, a malformed one is bad.
    expect(&d, "csv-tcf", "allow", &[], false);
    assert_eq!(d["csv-bad-tcf"].0, "bad");
}
