//! End-to-end tests of `scruple check` (and `explain`, `schema`): the real
//! binary, run from the crate root on the campaign fixtures in
//! `tests/fixtures/campaigns`, evaluated as of a fixed time so consent ages
//! never drift.
//!
//! Every fixture gets a snapshot of its human and its JSON output and an
//! explicit assertion of its exit code and of the rules that fired (the
//! table below), so behaviour is pinned beyond the snapshots. Each fixture
//! says at its top what it shows and what it should produce.
//!
//! SARIF output is validated against the official SARIF 2.1.0 JSON schema,
//! `tests/schemas/sarif-schema-2.1.0.json`. Origin of that file: the crates.io
//! package `serde-sarif` 0.8.0 (MIT, https://github.com/psastras/sarif-rs),
//! file `src/schema.json`, copied unchanged (sha256 af47e7b6…95cea); its `$id`
//! is the OASIS TC's
//! https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json
//! (JSON Schema draft-07).
//!
//! Every valid fixture and example campaign is also validated against
//! `schemas/campaign.schema.json`, so the published schema and the loader
//! agree.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// "Now" for every check.
const AT: &str = "2026-11-23T12:00:00Z";
const FIXTURES: &str = "tests/fixtures/campaigns";
/// The policy for fixtures the shipped packs cannot exercise.
const TEST_POLICY: &str = "tests/fixtures/check-policy/purpose-limitation.scruple";
/// A team's data dictionary with a GDPR Art. 9 targeting rule.
const DICTIONARY_POLICY: &str = "tests/fixtures/check-policy/dictionary.scruple";

/// `scruple` run from the crate root, with a stable width and no colour.
fn scruple() -> Command {
    let mut cmd = Command::cargo_bin("scruple").expect("the scruple binary is built");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE");
    cmd
}

/// `scruple check ARGS… --at AT`.
fn check(args: &[&str]) -> Command {
    let mut cmd = scruple();
    cmd.arg("check").args(args).args(["--at", AT]);
    cmd
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(mut cmd: Command) -> Output {
    let out = cmd.output().expect("scruple runs");
    Output {
        code: out.status.code().expect("scruple exits with a code"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// The JSON output as printed (field order kept), with the parts that change
/// for reasons unrelated to the fixture replaced: the policy's content hash
/// (`.policy.hash`) and the tool version (`.tool.version`).
fn redacted(doc: &Value, text: &str) -> String {
    let hash = doc["policy"]["hash"].as_str().expect("policy hash");
    let version = doc["tool"]["version"].as_str().expect("tool version");
    let hash_line = format!("\"hash\": \"{hash}\"");
    let version_line = format!("\"version\": \"{version}\"");
    assert_eq!(text.matches(&hash_line).count(), 1, "{text}");
    assert_eq!(text.matches(&version_line).count(), 1, "{text}");
    text.replacen(&hash_line, "\"hash\": \"[hash]\"", 1)
        .replacen(&version_line, "\"version\": \"[version]\"", 1)
}

/// What fired, as a sorted set: rule ids of violations, `rule (skipped)` for
/// skipped rules, `rule (waived)` for waived violations, and the codes of other diagnostics (loader errors,
/// unknown purposes).
fn fired(doc: &Value) -> Vec<String> {
    let mut out = BTreeSet::new();
    for campaign in doc["campaigns"].as_array().expect("campaigns") {
        for f in campaign["findings"].as_array().expect("findings") {
            let rule = f["rule"].as_str().expect("rule id");
            match f["status"].as_str() {
                Some("skipped") => out.insert(format!("{rule} (skipped)")),
                Some("waived") => out.insert(format!("{rule} (waived)")),
                // Deferrals are asserted where they are the point of a test.
                Some("deferred") => false,
                _ => out.insert(rule.to_string()),
            };
        }
        for d in campaign["diagnostics"].as_array().expect("diagnostics") {
            out.insert(d["code"].as_str().expect("code").to_string());
        }
    }
    out.into_iter().collect()
}

/// Snapshot name of a fixture: its path under the fixtures folder, without
/// the extension, `/` as `__`.
fn snapshot_name(file: &str) -> String {
    file.trim_end_matches(".yaml").replace('/', "__")
}

/// Checks one fixture: human and JSON output snapshotted, exit code and the
/// set of fired rules asserted (the same for both formats).
fn check_fixture(file: &str, code: i32, expected: &[&str], policy: Option<&str>) {
    let path = format!("{FIXTURES}/{file}");
    let mut args = vec![path.as_str()];
    if let Some(policy) = policy {
        args.extend(["--policy", policy]);
    }
    let name = snapshot_name(file);

    let human = run(check(&args));
    assert_eq!(human.stderr, "", "{file}: the policy compiles cleanly");
    assert_eq!(human.code, code, "{file}: exit code\n{}", human.stdout);
    insta::assert_snapshot!(format!("{name}__human"), human.stdout);

    let mut json_args = args.clone();
    json_args.extend(["--format", "json"]);
    let json = run(check(&json_args));
    assert_eq!(json.stderr, "", "{file}: the policy compiles cleanly");
    assert_eq!(json.code, code, "{file}: exit code (JSON)");
    let doc = parse_json(&json.stdout);
    assert_eq!(doc["schema"], "scruple.check/v1");
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    want.sort();
    want.dedup();
    assert_eq!(fired(&doc), want, "{file}: rules fired");
    insta::assert_snapshot!(format!("{name}__json"), redacted(&doc, &json.stdout));
}

/// One `#[test]` per fixture (so they run in parallel and fail by name),
/// plus `FIXTURE_FILES`, the list checked against the folder's contents.
macro_rules! fixtures {
    ($(
        $test:ident: $file:literal => $code:literal [$($fired:literal),* $(,)?] $(with $policy:expr)?;
    )*) => {
        $(
            #[test]
            fn $test() {
                #[allow(unused_mut, unused_assignments)]
                let mut policy: Option<&str> = None;
                $( policy = Some($policy); )?
                check_fixture($file, $code, &[$($fired),*], policy);
            }
        )*
        const FIXTURE_FILES: &[&str] = &[$($file),*];
    };
}

fixtures! {
    // ---- clean campaigns, one per major jurisdiction
    clean_eu: "clean_eu.yaml" => 0 [];
    clean_eu_online_platform: "clean_eu_online_platform.yaml" => 0 [];
    clean_us: "clean_us.yaml" => 0 [];
    clean_us_ca: "clean_us_ca.yaml" => 0 [];
    transactional_receipt_pass: "transactional_receipt_pass.yaml" => 0 [];

    // ---- forbid_targeting
    targeting_special_category: "targeting_special_category.yaml" => 1 [
        "baseline_special_category_targeting",
        "baseline_proxy_targeting (skipped)",
        "gdpr_art9_1_special_category_targeting",
    ];
    targeting_interests_pass: "targeting_interests_pass.yaml" => 0 [];

    // ---- segment-builder operators (issue 11 item 6), read by meaning, each
    // with its benign twin
    meaning_op_contains_copd: "meaning_op_contains_copd.yaml" => 1 [
        "baseline_special_category_targeting",
        "baseline_proxy_targeting (skipped)",
        "gdpr_art9_1_special_category_targeting",
        "dsa_art26_3_no_special_category_profiling",
    ];
    meaning_op_contains_copd_pass: "meaning_op_contains_copd_pass.yaml" => 0 [];
    meaning_op_contains_copd_ca: "meaning_op_contains_copd_ca.yaml" => 1 [
        "baseline_special_category_targeting",
        "baseline_proxy_targeting (skipped)",
        "ccpa_1798_121_limit_sensitive_pi",
    ];
    meaning_op_contains_copd_ca_pass: "meaning_op_contains_copd_ca_pass.yaml" => 0 [];
    meaning_op_starts_with_oncology_lookalike: "meaning_op_starts_with_oncology_lookalike.yaml" => 1 [
        "baseline_special_category_targeting",
        "baseline_proxy_targeting (skipped)",
        "gdpr_art9_1_special_category_targeting",
        "dsa_art26_3_no_special_category_profiling",
    ];
    meaning_op_starts_with_oncology_lookalike_pass: "meaning_op_starts_with_oncology_lookalike_pass.yaml" => 0 [];
    meaning_op_matches_addiction_url: "meaning_op_matches_addiction_url.yaml" => 1 [
        "baseline_special_category_targeting",
        "baseline_proxy_targeting (skipped)",
        "gdpr_art9_1_special_category_targeting",
        "dsa_art26_3_no_special_category_profiling",
    ];
    meaning_op_matches_addiction_url_pass: "meaning_op_matches_addiction_url_pass.yaml" => 0 [];
    meaning_op_not_contains_disability_gdpr: "meaning_op_not_contains_disability_gdpr.yaml" => 1 [
        "baseline_special_category_targeting",
        "baseline_proxy_targeting (skipped)",
        "gdpr_art9_1_special_category_targeting",
        "dsa_art26_3_no_special_category_profiling",
    ];
    meaning_op_not_contains_disability_gdpr_pass: "meaning_op_not_contains_disability_gdpr_pass.yaml" => 0 [];
    meaning_op_contains_disability_housing: "meaning_op_contains_disability_housing.yaml" => 1 [
        "baseline_special_category_targeting",
        "baseline_proxy_targeting (skipped)",
        "special_ad_categories_no_protected_class_targeting",
    ];
    meaning_op_contains_disability_housing_pass: "meaning_op_contains_disability_housing_pass.yaml" => 0 [];
    meaning_op_contains_arabic_news_housing: "meaning_op_contains_arabic_news_housing.yaml" => 1 [
        "special_ad_categories_no_protected_class_targeting",
    ];
    meaning_op_contains_arabic_news_housing_pass: "meaning_op_contains_arabic_news_housing_pass.yaml" => 0 [];
    meaning_op_contains_diabetes_employment: "meaning_op_contains_diabetes_employment.yaml" => 1 [
        "baseline_special_category_targeting",
        "baseline_proxy_targeting (skipped)",
        "special_ad_categories_no_protected_class_targeting",
    ];
    meaning_op_contains_diabetes_employment_pass: "meaning_op_contains_diabetes_employment_pass.yaml" => 0 [];
    meaning_op_between_children_credit: "meaning_op_between_children_credit.yaml" => 1 [
        "special_ad_categories_no_protected_class_targeting",
    ];
    meaning_op_between_children_credit_pass: "meaning_op_between_children_credit_pass.yaml" => 0 [];
    meaning_audience_name_deaf_culture_housing: "meaning_audience_name_deaf_culture_housing.yaml" => 1 [
        "baseline_special_category_targeting",
        "baseline_proxy_targeting (skipped)",
        "special_ad_categories_no_protected_class_targeting",
    ];
    meaning_audience_name_deaf_culture_housing_pass: "meaning_audience_name_deaf_culture_housing_pass.yaml" => 0 [];
    meaning_unknown_attribute: "meaning_unknown_attribute.yaml" => 0 ["scruple::campaign::unknown_attribute"];

    // ---- the data dictionary (issue 11 item 3), with its own policy
    dictionary_declared_health: "dictionary_declared_health.yaml" => 1 [
        "dictionary_special_category_targeting",
        "scruple::campaign::unknown_attribute",
    ] with DICTIONARY_POLICY;
    dictionary_declared_health_pass: "dictionary_declared_health_pass.yaml" => 0 [] with DICTIONARY_POLICY;

    // ---- forbid_targeting by meaning (issue 11): each firing case and its
    // benign twin, which must pass
    meaning_chronic_conditions: "meaning_chronic_conditions.yaml" => 1 [
        "baseline_special_category_targeting",
        "baseline_proxy_targeting (skipped)",
        "gdpr_art9_1_special_category_targeting",
        "dsa_art26_3_no_special_category_profiling",
    ];
    meaning_chronic_conditions_pass: "meaning_chronic_conditions_pass.yaml" => 0 [];
    meaning_chronic_conditions_ca: "meaning_chronic_conditions_ca.yaml" => 1 [
        "baseline_special_category_targeting",
        "baseline_proxy_targeting (skipped)",
        "ccpa_1798_121_limit_sensitive_pi",
    ];
    meaning_oncology_url_lookalike: "meaning_oncology_url_lookalike.yaml" => 1 [
        "baseline_special_category_targeting",
        "baseline_proxy_targeting (skipped)",
        "gdpr_art9_1_special_category_targeting",
        "dsa_art26_3_no_special_category_profiling",
    ];
    meaning_oncology_url_lookalike_pass: "meaning_oncology_url_lookalike_pass.yaml" => 0 [];
    meaning_disability_exclusion_housing: "meaning_disability_exclusion_housing.yaml" => 1 [
        "baseline_special_category_targeting",
        "baseline_proxy_targeting (skipped)",
        "special_ad_categories_no_protected_class_targeting",
    ];
    meaning_disability_exclusion_housing_pass: "meaning_disability_exclusion_housing_pass.yaml" => 0 [];
    meaning_arabic_news_housing: "meaning_arabic_news_housing.yaml" => 1 [
        "special_ad_categories_no_protected_class_targeting",
    ];
    meaning_arabic_news_housing_pass: "meaning_arabic_news_housing_pass.yaml" => 0 [];
    meaning_children_count_housing: "meaning_children_count_housing.yaml" => 1 [
        "special_ad_categories_no_protected_class_targeting",
    ];
    meaning_children_count_housing_pass: "meaning_children_count_housing_pass.yaml" => 0 [];
    meaning_debt_stressed_audience: "meaning_debt_stressed_audience.yaml" => 1 [
        "baseline_special_category_targeting",
        "baseline_proxy_targeting (skipped)",
    ];
    meaning_debt_stressed_audience_pass: "meaning_debt_stressed_audience_pass.yaml" => 0 [];
    targeting_policy_derived_score: "targeting_policy_derived_score.yaml" => 1 [
        "baseline_special_category_targeting",
        "baseline_proxy_targeting (skipped)",
        "gdpr_art9_1_special_category_targeting",
    ];
    targeting_model_feature: "targeting_model_feature.yaml" => 1 [
        "baseline_special_category_targeting",
        "baseline_proxy_targeting (skipped)",
        "gdpr_art9_1_special_category_targeting",
    ];
    targeting_exclusion_criminal_record: "targeting_exclusion_criminal_record.yaml" => 1 [
        "baseline_special_category_targeting",
        "baseline_proxy_targeting (skipped)",
        "gdpr_art10_criminal_offence_data",
    ];
    lookalike_sensitive_seed: "lookalike_sensitive_seed.yaml" => 1 [
        "baseline_special_category_targeting",
        "baseline_proxy_targeting (skipped)",
        "gdpr_art9_1_special_category_targeting",
    ];
    proxy_zip_code_housing: "proxy_zip_code_housing.yaml" => 1 [
        "baseline_proxy_targeting",
        "special_ad_categories_no_postal_code_targeting",
        "special_ad_categories_no_protected_class_targeting",
    ];
    proxy_postal_code_employment: "proxy_postal_code_employment.yaml" => 1 [
        "baseline_proxy_targeting",
        "special_ad_categories_no_postal_code_targeting",
        "special_ad_categories_no_protected_class_targeting",
    ];
    proxy_zip_code_credit: "proxy_zip_code_credit.yaml" => 1 [
        "baseline_proxy_targeting",
        "special_ad_categories_no_postal_code_targeting",
        "special_ad_categories_no_protected_class_targeting",
    ];
    proxy_surname_retail: "proxy_surname_retail.yaml" => 0 ["baseline_proxy_targeting"];
    special_ad_age_targeting: "special_ad_age_targeting.yaml" => 1 [
        "special_ad_categories_no_age_targeting",
        "special_ad_categories_full_age_range",
    ];
    special_ad_lookalike: "special_ad_lookalike.yaml" => 1 [
        "special_ad_categories_no_lookalike",
        "scruple::campaign::unknown_attribute",
    ];
    special_ad_housing_pass: "special_ad_housing_pass.yaml" => 0 [];
    ccpa_sensitive_pi_targeting: "ccpa_sensitive_pi_targeting.yaml" => 1 [
        "ccpa_1798_121_limit_sensitive_pi",
    ];

    // ---- forbid_fields
    fields_special_category: "fields_special_category.yaml" => 1 [
        "baseline_sensitive_data_fields",
        "gdpr_art9_1_special_category_fields",
    ];
    fields_identity_payment_us_ca: "fields_identity_payment_us_ca.yaml" => 1 [
        "baseline_identity_and_payment_fields",
        "ccpa_1798_100_c_data_minimisation",
    ];
    fields_precise_location: "fields_precise_location.yaml" => 1 ["baseline_precise_location_fields"];
    fields_precise_location_declared: "fields_precise_location_declared.yaml" => 0 [];

    // ---- allow_only_fields (and declared purposes), with the test policy
    allow_only_fields_extra_field: "allow_only_fields_extra_field.yaml" => 1 [
        "newsletter_fields_only",
    ] with TEST_POLICY;
    allow_only_fields_pass: "allow_only_fields_pass.yaml" => 0 [] with TEST_POLICY;
    unknown_purpose_typo: "unknown_purpose_typo.yaml" => 1 [
        "newsletter_consent",
        "scruple::check::unknown_purpose",
    ] with TEST_POLICY;

    // ---- require_consent
    consent_other_purpose: "consent_other_purpose.yaml" => 1 [
        "baseline_consent_per_purpose",
        "baseline_consent_freshness (skipped)",
        "gdpr_art6_1_a_consent_per_purpose",
        // `profiling` maps to TCF purposes 3 and 5 (issue 13).
        "gdpr_art7_3_tcf_signal_consent",
    ];
    consent_too_old: "consent_too_old.yaml" => 0 ["baseline_consent_freshness"];
    consent_no_date_us: "consent_no_date_us.yaml" => 0 ["baseline_consent_freshness"];
    consent_fresh_pass: "consent_fresh_pass.yaml" => 0 [];

    // ---- frequency_cap (the calendar is checked together further down)
    frequency_cap_email_daily: "frequency_cap_email_daily.yaml" => 0 ["baseline_email_frequency_cap"];
    frequency_cap_sms: "frequency_cap_sms.yaml" => 0 ["baseline_sms_frequency_cap"];
    frequency_cap_pass: "frequency_cap_pass.yaml" => 0 [];
    calendar_black_friday: "calendar/black_friday.yaml" => 0 [];
    calendar_cyber_monday: "calendar/cyber_monday.yaml" => 0 [];
    calendar_last_chance: "calendar/last_chance.yaml" => 0 [];

    // ---- quiet_hours
    quiet_hours_fixed_zone_helsinki: "quiet_hours_fixed_zone_helsinki.yaml" => 0 ["baseline_quiet_hours"];
    quiet_hours_us_east_coast_morning: "quiet_hours_us_east_coast_morning.yaml" => 1 ["baseline_quiet_hours", "tcpa_64_1200_c1_calling_hours"];
    quiet_hours_repeat_into_night: "quiet_hours_repeat_into_night.yaml" => 0 ["baseline_quiet_hours"];
    quiet_hours_pass: "quiet_hours_pass.yaml" => 0 [];

    // ---- minimum_age
    minors_de_under_16: "minors_de_under_16.yaml" => 1 ["gdpr_art8_digital_age_of_consent"];
    minors_be_13_pass: "minors_be_13_pass.yaml" => 0 [];
    minors_several_countries: "minors_several_countries.yaml" => 1 ["gdpr_art8_digital_age_of_consent"];
    minors_no_age_limit_us: "minors_no_age_limit_us.yaml" => 1 ["coppa_312_5_a_verifiable_parental_consent"];
    dsa_profiling_minors: "dsa_profiling_minors.yaml" => 1 [
        "baseline_no_profiling_of_minors",
        "dsa_art28_2_no_profiling_ads_to_minors",
    ];

    // ---- require_field
    missing_one_click_unsubscribe: "missing_one_click_unsubscribe.yaml" => 1 [
        "bulk_sender_one_click_unsubscribe",
    ];
    missing_postal_address_us: "missing_postal_address_us.yaml" => 1 ["can_spam_7704_a5_postal_address"];
    missing_email_authentication: "missing_email_authentication.yaml" => 1 [
        "bulk_sender_dkim",
        "bulk_sender_dmarc",
    ];
    automated_decision_no_human_review: "automated_decision_no_human_review.yaml" => 1 [
        "gdpr_art22_human_review",
    ];
    automated_decision_reviewed_pass: "automated_decision_reviewed_pass.yaml" => 0 ["scruple::campaign::unknown_attribute"];
    personalization_without_explanation: "personalization_without_explanation.yaml" => 0 [
        "baseline_personalization_explanation",
    ];
    dsa_ad_transparency: "dsa_ad_transparency.yaml" => 1 [
        "dsa_art26_1_a_ad_marking",
        "dsa_art26_1_b_advertiser_identity",
        "dsa_art26_1_d_targeting_parameters",
    ];

    // ---- ensure
    missing_unsubscribe_eu: "missing_unsubscribe_eu.yaml" => 1 [
        "baseline_unsubscribe_link",
        "bulk_sender_one_click_unsubscribe",
        "bulk_sender_visible_unsubscribe_link",
        "gdpr_art21_4_objection_mechanism",
    ];
    deceptive_subject_us: "deceptive_subject_us.yaml" => 1 [
        "baseline_deceptive_subject",
        "can_spam_7704_a2_deceptive_subject",
    ];
    deceptive_subject_de_aw: "deceptive_subject_de_aw.yaml" => 1 ["baseline_deceptive_subject"];
    objector_kept_in_audience: "objector_kept_in_audience.yaml" => 1 ["gdpr_art21_objections_honoured"];
    lawful_basis_contract_marketing: "lawful_basis_contract_marketing.yaml" => 1 [
        "gdpr_art6_1_marketing_lawful_basis",
        "gdpr_eprivacy_art13_electronic_marketing_consent",
    ];
    ccpa_sharing_without_opt_outs: "ccpa_sharing_without_opt_outs.yaml" => 1 [
        "ccpa_1798_120_opt_out_of_sale_sharing",
        "ccpa_7025_global_privacy_control",
    ];

    // ---- prerequisites
    skipped_prerequisite_lawful_basis: "skipped_prerequisite_lawful_basis.yaml" => 1 [
        "gdpr_art6_1_lawful_basis",
        "gdpr_art6_1_marketing_lawful_basis (skipped)",
        "gdpr_eprivacy_art13_electronic_marketing_consent (skipped)",
    ];

    // ---- waivers
    waiver_parental_consent: "waiver_parental_consent.yaml" => 0 [
        "gdpr_art8_digital_age_of_consent (waived)",
    ];
    waiver_expired: "waiver_expired.yaml" => 1 [
        "gdpr_art8_digital_age_of_consent",
        "scruple::waiver::expired",
    ];

    // ---- files the loader rejects (exit 2)
    loader_malformed_yaml: "malformed_yaml.yaml" => 2 ["scruple::campaign::syntax"];
    loader_wrong_types: "wrong_types.yaml" => 2 ["scruple::campaign::type_error"];
    loader_unknown_keys: "unknown_keys.yaml" => 2 ["scruple::campaign::unknown_key"];
    loader_bad_timezone: "bad_timezone.yaml" => 2 ["scruple::campaign::unknown_value"];
    loader_duplicate_key: "duplicate_key.yaml" => 2 ["scruple::campaign::duplicate_key"];
    loader_empty: "empty.yaml" => 2 ["scruple::campaign::empty"];
    loader_filter_bad_regex: "filter_bad_regex.yaml" => 2 ["scruple::campaign::invalid_value"];
    loader_filter_bad_between: "filter_bad_between.yaml" => 2 ["scruple::campaign::invalid_value"];
}

/// Fixtures the loader rejects: exempt from the campaign-schema check.
const LOADER_ERRORS: &[&str] = &[
    "malformed_yaml.yaml",
    "wrong_types.yaml",
    "unknown_keys.yaml",
    "bad_timezone.yaml",
    "duplicate_key.yaml",
    "empty.yaml",
    "filter_bad_regex.yaml",
    "filter_bad_between.yaml",
];

/// Every `*.yaml` under `dir`, relative to `base`, sorted.
fn yaml_files(base: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("readable fixture folder") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            yaml_files(base, &path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            let rel = path.strip_prefix(base).expect("under the base");
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    out.sort();
}

fn crate_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

#[test]
fn every_fixture_is_in_the_table() {
    let base = crate_path(FIXTURES);
    let mut on_disk = Vec::new();
    yaml_files(&base, &base, &mut on_disk);
    let mut listed: Vec<String> = FIXTURE_FILES.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "add new fixtures to the table in this file"
    );
    // Each fixture documents itself.
    for file in on_disk
        .iter()
        .filter(|f| !LOADER_ERRORS.contains(&f.as_str()))
    {
        let text = std::fs::read_to_string(base.join(file)).expect("readable fixture");
        assert!(
            text.starts_with("# ") && text.contains("Expect"),
            "{file} should start with a comment saying what it shows and what to expect"
        );
    }
}

// ---------------------------------------------------------------- exit codes

#[test]
fn exit_codes() {
    // 0 clean, 1 findings, 2 malformed input: see the fixture table. Here:
    // a missing file, a bad flag, a bad flag value, a glob matching nothing.
    let missing = run(check(&["tests/fixtures/campaigns/no_such_campaign.yaml"]));
    assert_eq!(missing.code, 2, "{}", missing.stdout);
    assert!(missing.stdout.contains("scruple::input::not_found"));
    assert!(missing
        .stdout
        .contains("no_such_campaign.yaml` does not exist"));

    let bad_flag = run(check(&[
        "--frobnicate",
        "tests/fixtures/campaigns/clean_eu.yaml",
    ]));
    assert_eq!(bad_flag.code, 2);
    assert!(
        bad_flag.stderr.contains("--frobnicate"),
        "{}",
        bad_flag.stderr
    );

    let bad_format = run(check(&[
        "--format",
        "xml",
        "tests/fixtures/campaigns/clean_eu.yaml",
    ]));
    assert_eq!(bad_format.code, 2);
    assert!(bad_format.stderr.contains("xml"), "{}", bad_format.stderr);

    let mut bad_time = scruple();
    bad_time.args([
        "check",
        "--at",
        "next tuesday",
        "tests/fixtures/campaigns/clean_eu.yaml",
    ]);
    assert_eq!(run(bad_time).code, 2);

    let no_match = run(check(&["tests/fixtures/campaigns/nothing-here-*.yaml"]));
    assert_eq!(no_match.code, 2);
    assert!(no_match.stdout.contains("scruple::input::no_match"));

    let mut no_args = scruple();
    no_args.arg("check");
    assert_eq!(run(no_args).code, 2);

    // A valid campaign checked with an invalid one: input errors win.
    let mixed = run(check(&[
        "tests/fixtures/campaigns/targeting_special_category.yaml",
        "tests/fixtures/campaigns/malformed_yaml.yaml",
    ]));
    assert_eq!(mixed.code, 2);
    assert!(mixed.stdout.contains("baseline_special_category_targeting"));
    assert!(mixed.stdout.contains("1 input could not be loaded"));
}

#[test]
fn deny_warnings_turns_warnings_into_failures() {
    let file = "tests/fixtures/campaigns/consent_too_old.yaml";
    let lenient = run(check(&[file, "--format", "json"]));
    assert_eq!(lenient.code, 0);
    let doc = parse_json(&lenient.stdout);
    assert_eq!(doc["campaigns"][0]["verdict"], "pass");
    assert_eq!(doc["summary"]["warnings"], 1);

    let strict = run(check(&[file, "--format", "json", "--deny-warnings"]));
    assert_eq!(strict.code, 1);
    let doc = parse_json(&strict.stdout);
    assert_eq!(doc["campaigns"][0]["verdict"], "fail");
    assert_eq!(doc["summary"]["failed"], 1);

    // Skipped rules are notes, never failures, even with --deny-warnings.
    let skipped = run(check(&[
        "tests/fixtures/campaigns/skipped_prerequisite_lawful_basis.yaml",
        "--deny-warnings",
        "--format",
        "json",
    ]));
    assert_eq!(skipped.code, 1);
    let doc = parse_json(&skipped.stdout);
    assert_eq!(doc["summary"]["skipped"], 2);
    assert_eq!(doc["summary"]["errors"], 1);

    // A clean campaign stays clean.
    let clean = run(check(&[
        "tests/fixtures/campaigns/clean_eu.yaml",
        "--deny-warnings",
    ]));
    assert_eq!(clean.code, 0);
}

// ---------------------------------------------------------------- inputs

#[test]
fn dash_reads_standard_input() {
    let text = std::fs::read_to_string(crate_path(
        "tests/fixtures/campaigns/objector_kept_in_audience.yaml",
    ))
    .expect("fixture");
    let mut cmd = check(&["-", "--format", "json"]);
    cmd.write_stdin(text);
    let out = run(cmd);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let doc = parse_json(&out.stdout);
    assert_eq!(doc["campaigns"][0]["file"], "<stdin>");
    assert_eq!(doc["campaigns"][0]["id"], "eu-loyalty-points-2026");
    assert_eq!(fired(&doc), ["gdpr_art21_objections_honoured"]);
    let finding = doc["campaigns"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["status"] == "violation")
        .expect("a violation");
    assert_eq!(finding["location"]["file"], "<stdin>");
    assert_eq!(finding["location"]["line"], 16, "audience.suppressions");

    // Human output names the input `<stdin>` too.
    let text = std::fs::read_to_string(crate_path("tests/fixtures/campaigns/clean_eu.yaml"))
        .expect("fixture");
    let mut cmd = check(&["-"]);
    cmd.write_stdin(text);
    let out = run(cmd);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(
        out.stdout,
        "deferred in <stdin>: baseline_marketing_minimum_age deferred to gdpr_art8_digital_age_of_consent for EU-FR, EU-DE, EU-IT\n\
         1 campaign checked: 1 passed, 0 failed (0 errors, 0 warnings, 1 deferred)\n"
    );

    // Malformed YAML on stdin is an input error.
    let mut cmd = check(&["-"]);
    cmd.write_stdin("id: [unclosed\n");
    let out = run(cmd);
    assert_eq!(out.code, 2);
    assert!(out.stdout.contains("<stdin>"), "{}", out.stdout);
}

/// A campaign line past column 65,535 made miette panic (exit 101); a 10 MB
/// value was echoed whole. Both render a bounded window now.
#[test]
fn diagnostic_past_column_65535_does_not_panic() {
    let mut cmd = check(&["-"]);
    cmd.write_stdin(format!("{{{}bogus: 1}}\n", " ".repeat(65_600)));
    let out = run(cmd);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("<stdin>:1:65602]"), "{}", out.stdout);
    assert!(out.stdout.len() < 3_000, "{}", out.stdout);

    let mut cmd = check(&["-"]);
    cmd.write_stdin(format!("id: x\nname: {}: 1\n", "a".repeat(10_000_000)));
    let out = run(cmd);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(out.stdout.contains("<stdin>:2:10000007]"), "{}", out.stdout);
    assert!(out.stdout.len() < 3_000, "{}", out.stdout);
}

/// A stale waiver is printed as a warning, so the summary counts it as one
/// (it said `0 warnings`), in every format.
#[test]
fn stale_waiver_warning_is_counted() {
    let mut text = std::fs::read_to_string(crate_path("tests/fixtures/campaigns/clean_eu.yaml"))
        .expect("fixture");
    text.push_str(
        "waivers:\n  - rule: gdpr_art8_digital_age_of_consent\n    justification: \"x\"\n    \
         approver: \"dpo@example.com\"\n    reference: \"T-1\"\n    expires: 2027-06-30\n",
    );
    let mut cmd = check(&["-"]);
    cmd.write_stdin(text.clone());
    let out = run(cmd);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stdout.contains("scruple::waiver::stale"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.ends_with(
            "1 campaign checked: 1 passed, 0 failed (0 errors, 1 warning, 1 deferred)\n"
        ),
        "{}",
        out.stdout
    );
    let mut cmd = check(&["-", "--format", "json"]);
    cmd.write_stdin(text);
    let doc = parse_json(&run(cmd).stdout);
    assert_eq!(doc["summary"]["warnings"], 1, "{doc}");
}

/// An input over the cap is refused with a coded error (exit 2) after
/// reading one byte past it: `check -` on an endless stream stops.
#[test]
fn input_over_the_size_cap_is_input_error() {
    let mut cmd = check(&["-", "--max-input-bytes", "100000", "--format", "json"]);
    cmd.write_stdin(vec![b' '; 50_000_000]);
    let out = run(cmd);
    assert_eq!(out.code, 2, "{}", out.stdout);
    let doc = parse_json(&out.stdout);
    assert_eq!(doc["summary"]["invalid"], 1);
    let diag = &doc["campaigns"][0]["diagnostics"][0];
    assert_eq!(diag["code"], "scruple::input::too_large", "{doc}");

    let dir = tempfile::tempdir().expect("temporary directory");
    let big = dir.path().join("big.yaml");
    std::fs::write(&big, "id: x\n".repeat(30_000)).expect("written");
    let out = run(check(&[
        big.to_str().expect("UTF-8 path"),
        "--max-input-bytes",
        "100000",
    ]));
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(
        out.stdout.contains("scruple::input::too_large"),
        "{}",
        out.stdout
    );

    // Policy files too, with the `scruple::load::` code of input errors.
    let policy = dir.path().join("p.scruple");
    std::fs::write(&policy, format!("# {}\n", "x".repeat(200_000))).expect("written");
    let out = run(check(&[
        "tests/fixtures/campaigns/clean_eu.yaml",
        "--policy",
        policy.to_str().expect("UTF-8 path"),
        "--max-input-bytes",
        "100000",
    ]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("scruple::load::too_large"),
        "{}",
        out.stderr
    );
}

/// A campaign argument that does not exist is an unreadable input in every
/// format: JSON listed it nowhere (`"campaigns": []`, `"invalid": 0`).
#[test]
fn missing_input_is_reported_in_every_format() {
    let out = run(check(&["nosuch.yaml", "--format", "json"]));
    assert_eq!(out.code, 2);
    let doc = parse_json(&out.stdout);
    assert_eq!(doc["summary"]["invalid"], 1, "{doc}");
    let input = &doc["campaigns"][0];
    assert_eq!(input["file"], "nosuch.yaml");
    assert_eq!(input["verdict"], "invalid");
    assert_eq!(input["diagnostics"][0]["code"], "scruple::input::not_found");
    for format in ["human", "sarif", "github"] {
        let out = run(check(&["nosuch.yaml", "--format", format]));
        assert_eq!(out.code, 2, "{format}");
        assert!(
            out.stdout.contains("nosuch.yaml"),
            "{format}: {}",
            out.stdout
        );
    }
    // Argument problems (a glob matching nothing) are in the document too.
    let out = run(check(&["nosuch/*.yaml", "--format", "json"]));
    assert_eq!(out.code, 2);
    let doc = parse_json(&out.stdout);
    assert_eq!(
        doc["errors"][0]["code"], "scruple::input::no_match",
        "{doc}"
    );
}

/// The default human output is compact: no "rule defined here" block
/// quoting the policy (only with --verbose), skipped rules on one line, a
/// blank line between findings, no trailing spaces, no repeated attribute.
#[test]
fn human_output_is_compact() {
    let file = "tests/fixtures/campaigns/targeting_special_category.yaml";
    let out = run(check(&[file]));
    assert_eq!(out.code, 1);
    assert!(!out.stdout.contains("rule defined here"), "{}", out.stdout);
    assert!(!out.stdout.contains("policies/"), "{}", out.stdout);
    assert!(
        out.stdout.lines().all(|l| l == l.trim_end()),
        "{:?}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(")\n\ngdpr_art9_1_special_category_targeting\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("personalised on `religion`, which is sensitive data.\n"),
        "{}",
        out.stdout
    );
    let skipped: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.contains("baseline_proxy_targeting"))
        .collect();
    assert_eq!(
        skipped,
        [format!(
            "skipped in {file}: 1 rule (baseline_proxy_targeting: prerequisite \
             `baseline_special_category_targeting` failed)"
        )],
    );
    let verbose = run(check(&[file, "--verbose"]));
    assert_eq!(verbose.code, 1);
    assert!(
        verbose.stdout.contains("rule defined here"),
        "{}",
        verbose.stdout
    );
    assert!(
        verbose.stdout.contains("policies/baseline.scruple:26:6"),
        "{}",
        verbose.stdout
    );
    assert!(verbose.stdout.lines().all(|l| l == l.trim_end()));
}

/// The calendar: the three campaigns mail the same segment within five
/// days. Each alone is under the cap (see the fixture table); checked
/// together, each of them is reported.
fn assert_calendar_findings(doc: &Value) {
    let campaigns = doc["campaigns"].as_array().expect("campaigns");
    let ids: Vec<&str> = campaigns
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["black-friday-2026", "cyber-monday-2026", "last-chance-2026"]
    );
    for c in campaigns {
        let findings: Vec<&Value> = c["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["status"] != "deferred")
            .collect();
        assert_eq!(findings.len(), 1, "{c}");
        let f = &findings[0];
        assert_eq!(f["rule"], "baseline_email_frequency_cap");
        assert_eq!(
            f["message"],
            "Some recipients would get 4 marketing emails within 7 days; the limit is 3."
        );
        let notes = f["notes"].as_array().expect("notes");
        assert!(
            notes
                .iter()
                .any(|n| n.as_str().unwrap().starts_with("counted together with")),
            "{f}"
        );
    }
}

#[test]
fn calendar_directory_argument() {
    let out = run(check(&[
        "tests/fixtures/campaigns/calendar",
        "--format",
        "json",
    ]));
    // Frequency caps are warnings: the run passes unless --deny-warnings.
    assert_eq!(out.code, 0, "{}", out.stdout);
    let doc = parse_json(&out.stdout);
    assert_calendar_findings(&doc);

    let human = run(check(&["tests/fixtures/campaigns/calendar"]));
    assert_eq!(human.code, 0);
    insta::assert_snapshot!("calendar_together__human", human.stdout);

    let strict = run(check(&[
        "tests/fixtures/campaigns/calendar",
        "--deny-warnings",
    ]));
    assert_eq!(strict.code, 1);
}

#[test]
fn calendar_glob_argument() {
    // The pattern reaches scruple unexpanded (no shell), as when quoted.
    let out = run(check(&[
        "tests/fixtures/campaigns/calendar/*.yaml",
        "--format",
        "json",
    ]));
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_calendar_findings(&parse_json(&out.stdout));
}

#[test]
fn calendar_files_alone_are_under_the_cap() {
    // Two of the three together: 3 sends in the window, exactly the cap.
    let out = run(check(&[
        "tests/fixtures/campaigns/calendar/black_friday.yaml",
        "tests/fixtures/campaigns/calendar/cyber_monday.yaml",
        "--format",
        "json",
    ]));
    assert_eq!(out.code, 0);
    assert_eq!(fired(&parse_json(&out.stdout)), Vec::<String>::new());
}

// ---------------------------------------------------------------- policy selection

#[test]
fn pack_selection() {
    let file = "tests/fixtures/campaigns/targeting_special_category.yaml";
    let gdpr = run(check(&[file, "--pack", "gdpr", "--format", "json"]));
    assert_eq!(gdpr.code, 1, "{}", gdpr.stderr);
    let doc = parse_json(&gdpr.stdout);
    assert_eq!(doc["policy"]["packs"], serde_json::json!(["gdpr"]));
    assert_eq!(fired(&doc), ["gdpr_art9_1_special_category_targeting"]);

    // A pack whose rules do not apply to this campaign passes it.
    let can_spam = run(check(&[file, "--pack", "can-spam", "--format", "json"]));
    assert_eq!(can_spam.code, 0);
    let doc = parse_json(&can_spam.stdout);
    assert_eq!(doc["policy"]["packs"], serde_json::json!(["can-spam"]));
    assert_eq!(doc["policy"]["rules"], 7);

    // Several packs.
    let two = run(check(&[
        file, "--pack", "gdpr", "--pack", "baseline", "--format", "json",
    ]));
    let doc = parse_json(&two.stdout);
    assert_eq!(
        doc["policy"]["packs"],
        serde_json::json!(["baseline", "gdpr"])
    );
    assert_eq!(
        fired(&doc),
        [
            "baseline_proxy_targeting (skipped)",
            "baseline_special_category_targeting",
            "gdpr_art9_1_special_category_targeting",
        ]
    );

    // An unknown pack is an error, not an empty policy.
    let unknown = run(check(&[file, "--pack", "gdrp"]));
    assert_ne!(unknown.code, 0);
    assert!(unknown.stderr.contains("gdrp"), "{}", unknown.stderr);
}

// ---------------------------------------------------------------- output formats

#[test]
fn github_annotations() {
    let out = run(check(&[
        "tests/fixtures/campaigns/deceptive_subject_us.yaml",
        "tests/fixtures/campaigns/consent_too_old.yaml",
        "tests/fixtures/campaigns/skipped_prerequisite_lawful_basis.yaml",
        "tests/fixtures/campaigns/malformed_yaml.yaml",
        "--format",
        "github",
    ]));
    assert_eq!(out.code, 2);
    let lines: Vec<&str> = out.stdout.lines().collect();
    let pattern = regex::Regex::new(
        r"^::(error|warning|notice) file=[^,:]+,line=\d+,col=\d+,endLine=\d+,endColumn=\d+,title=[^,:]+::[^\r\n]+$",
    )
    .expect("regex");
    for line in &lines {
        assert!(pattern.is_match(line), "not a workflow command: {line}");
    }
    let starts = |prefix: &str| lines.iter().filter(|l| l.starts_with(prefix)).count();
    // Two deceptive-subject errors, the lawful-basis error and the YAML error;
    // the notices include the deferred baseline minimum age (EU-PT, consent;
    // and US, where COPPA decides).
    assert_eq!(starts("::error "), 4, "{}", out.stdout);
    assert_eq!(starts("::warning "), 1, "{}", out.stdout);
    assert_eq!(starts("::notice "), 4, "{}", out.stdout);
    let subject = lines
        .iter()
        .find(|l| l.contains("title=can_spam_7704_a2_deceptive_subject"))
        .expect("the CAN-SPAM finding");
    assert!(subject.starts_with(
        "::error file=tests/fixtures/campaigns/deceptive_subject_us.yaml,line=32,col=12,"
    ));
    assert!(subject.contains("%0Ahelp: "), "{subject}");
    assert!(
        subject.contains("%0Acite: 15 U.S.C. 7704(a)(2)"),
        "{subject}"
    );
    assert!(lines
        .iter()
        .any(|l| l.contains("title=scruple%3A%3Acampaign%3A%3Asyntax")));
    insta::assert_snapshot!("github__mixed", out.stdout);
}

// ---------------------------------------------------------------- explain and schema

#[test]
fn explain_a_rule() {
    let mut cmd = scruple();
    cmd.args(["explain", "gdpr_art8_digital_age_of_consent"]);
    let out = run(cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out
        .stdout
        .starts_with("gdpr_art8_digital_age_of_consent (error, minimum_age)\npack: gdpr\n"));
    assert!(out.stdout.contains("GDPR Art. 8(1)"), "{}", out.stdout);
    assert!(
        out.stdout.contains("digital_age_of_consent"),
        "{}",
        out.stdout
    );
    insta::assert_snapshot!("explain__gdpr_art8_digital_age_of_consent", out.stdout);

    let mut cmd = scruple();
    cmd.args(["explain", "gdpr_art8_digital_age_of_consnt"]);
    let out = run(cmd);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("scruple::explain::unknown_rule"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("did you mean `gdpr_art8_digital_age_of_consent`?"),
        "{}",
        out.stderr
    );
}

#[test]
fn schema_campaign_is_the_published_json_schema() {
    let mut cmd = scruple();
    cmd.args(["schema", "campaign"]);
    let out = run(cmd);
    assert_eq!(out.code, 0);
    let printed = parse_json(&out.stdout);
    let published = parse_json(
        &std::fs::read_to_string(crate_path("schemas/campaign.schema.json")).expect("schema file"),
    );
    assert_eq!(printed, published);
    assert!(jsonschema::meta::is_valid(&printed), "a valid JSON Schema");
}

// ---------------------------------------------------------------- SARIF

fn sarif_validator() -> jsonschema::Validator {
    let mut schema = parse_json(
        &std::fs::read_to_string(crate_path("tests/schemas/sarif-schema-2.1.0.json"))
            .expect("SARIF schema"),
    );
    // A known defect of this version of the official schema: the patterns of
    // `run.language` and `toolComponent.language`,
    // `^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$`, have a stray `]`, which the
    // draft-07 meta-schema's `format: regex` rejects. Later OASIS revisions
    // write `^[a-zA-Z]{2}(-[a-zA-Z]{2})?$`; use that (scruple writes neither
    // property) and keep every format check (`uri`, `date-time`, …).
    for definition in ["run", "toolComponent"] {
        let pattern = &mut schema["definitions"][definition]["properties"]["language"]["pattern"];
        assert_eq!(*pattern, "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$");
        *pattern = Value::from("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$");
    }
    jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

fn assert_valid(validator: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} is not valid:\n{}",
        errors.join("\n")
    );
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let validator = sarif_validator();
    // Every fixture in one run: violations, skipped rules, warnings, unknown
    // purposes are not reported with the shipped packs, loader errors become
    // tool execution notifications.
    let mut args: Vec<String> = FIXTURE_FILES
        .iter()
        .map(|f| format!("{FIXTURES}/{f}"))
        .collect();
    args.extend(["--format".into(), "sarif".into()]);
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(check(&arg_refs));
    assert_eq!(out.code, 2, "loader errors are among the inputs");
    let log = parse_json(&out.stdout);
    assert_valid(&validator, &log, "the SARIF log of every fixture");

    let run0 = &log["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 94);
    let results = run0["results"].as_array().expect("results");
    assert!(!results.is_empty());
    for r in results {
        // ruleIndex points at the rule named by ruleId.
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .expect("uri");
        assert!(uri.starts_with("tests/fixtures/campaigns/"), "{uri}");
        if r["kind"] == "notApplicable" {
            assert_eq!(r["level"], "none");
        }
    }
    let notifications = run0["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .expect("notifications");
    assert!(notifications.len() >= LOADER_ERRORS.len());
    assert_eq!(run0["invocations"][0]["executionSuccessful"], false);

    // The unknown-purpose warning (test policy) and a clean run.
    let out = run(check(&[
        "tests/fixtures/campaigns/unknown_purpose_typo.yaml",
        "--policy",
        TEST_POLICY,
        "--format",
        "sarif",
    ]));
    assert_eq!(out.code, 1);
    let log = parse_json(&out.stdout);
    assert_valid(&validator, &log, "the SARIF log with an unknown purpose");
    assert_eq!(
        log["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["descriptor"]["id"],
        "scruple::check::unknown_purpose"
    );

    // A campaign read from standard input.
    let text = std::fs::read_to_string(crate_path(
        "tests/fixtures/campaigns/objector_kept_in_audience.yaml",
    ))
    .expect("fixture");
    let mut cmd = check(&["-", "--format", "sarif"]);
    cmd.write_stdin(text);
    let out = run(cmd);
    assert_eq!(out.code, 1);
    assert_valid(
        &validator,
        &parse_json(&out.stdout),
        "the SARIF log of standard input",
    );

    let out = run(check(&[
        "tests/fixtures/campaigns/clean_eu.yaml",
        "--format",
        "sarif",
    ]));
    assert_eq!(out.code, 0);
    let log = parse_json(&out.stdout);
    assert_valid(&validator, &log, "the SARIF log of a clean run");
    // The one result is the deferred baseline minimum age, not a problem.
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{log}");
    assert_eq!(results[0]["kind"], "notApplicable");
    assert_eq!(
        results[0]["properties"]["deferredTo"],
        "gdpr_art8_digital_age_of_consent"
    );
    assert_eq!(
        log["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
}

/// Issue 10 item 12: what code scanning needs to show and track alerts.
#[test]
fn sarif_rule_text_uris_and_fingerprints_fit_code_scanning() {
    let validator = sarif_validator();
    let fixture = "tests/fixtures/campaigns/lookalike_sensitive_seed.yaml";
    let out = run(check(&[fixture, "--format", "sarif"]));
    let log = parse_json(&out.stdout);
    assert_valid(&validator, &log, "the SARIF log");
    let run0 = &log["runs"][0];
    // Rule metadata is generic: no unfilled `{value}` or `{attribute}`.
    for rule in run0["tool"]["driver"]["rules"].as_array().expect("rules") {
        for text in [
            &rule["shortDescription"]["text"],
            &rule["fullDescription"]["text"],
            &rule["help"]["text"],
            &rule["help"]["markdown"],
        ] {
            let text = text.as_str().expect("text");
            assert!(!text.contains('{'), "{}: {text}", rule["id"]);
        }
    }
    // A rule's help link is the official text of the law it cites.
    let rules = run0["tool"]["driver"]["rules"].as_array().expect("rules");
    let art9 = rules
        .iter()
        .find(|r| r["id"] == "gdpr_art9_1_special_category_targeting")
        .expect("the GDPR Art. 9 rule");
    assert_eq!(
        art9["helpUri"],
        "https://eur-lex.europa.eu/eli/reg/2016/679/oj"
    );
    let linked = rules.iter().filter(|r| r["helpUri"].is_string()).count();
    assert!(
        linked * 2 > rules.len(),
        "{linked} of {} rules linked",
        rules.len()
    );
    assert!(run0["automationDetails"]["id"].is_string());
    let base = run0["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .expect("base");
    assert!(
        base.starts_with("file:///") && base.ends_with('/'),
        "{base}"
    );
    let results = run0["results"].as_array().expect("results");
    assert!(!results.is_empty());
    let located = |log: &Value| -> Vec<(String, String, u64)> {
        log["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| {
                let loc = &r["locations"][0]["physicalLocation"];
                assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
                (
                    loc["artifactLocation"]["uri"]
                        .as_str()
                        .expect("uri")
                        .to_owned(),
                    r["partialFingerprints"]["scruple/v1"]
                        .as_str()
                        .expect("print")
                        .to_owned(),
                    loc["region"]["startLine"].as_u64().expect("line"),
                )
            })
            .collect()
    };
    let here = located(&log);
    assert!(here.iter().all(|(uri, _, _)| uri == fixture), "{here:?}");

    // From a subdirectory, or with an absolute path: the same URIs,
    // relative to the top level, not to the working directory.
    let absolute = crate_path(fixture).display().to_string();
    for (dir, arg) in [
        ("tests", "fixtures/campaigns/lookalike_sensitive_seed.yaml"),
        (".", absolute.as_str()),
    ] {
        let mut cmd = check(&[arg, "--format", "sarif"]);
        cmd.current_dir(crate_path(dir));
        let other = located(&parse_json(&run(cmd).stdout));
        assert_eq!(other, here, "run in {dir} on {arg}");
    }

    // A line inserted above moves the findings, not their fingerprints.
    let dir = std::env::temp_dir().join(format!("scruple-sarif-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(".git")).expect("a repository top level");
    let text = std::fs::read_to_string(crate_path(fixture)).expect("fixture");
    let prints = |text: &str| {
        std::fs::write(dir.join("c.yaml"), text).expect("written");
        let mut cmd = check(&["c.yaml", "--format", "sarif"]);
        cmd.current_dir(&dir);
        located(&parse_json(&run(cmd).stdout))
    };
    let before = prints(&text);
    let after = prints(&format!("# reviewed by legal\n{text}"));
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        assert_eq!((&b.0, &b.1), (&a.0, &a.1));
        assert_eq!(b.2 + 1, a.2);
    }
    let prints: std::collections::BTreeSet<&String> = before.iter().map(|b| &b.1).collect();
    assert_eq!(
        prints.len(),
        before.len(),
        "each finding has its own fingerprint"
    );
    let _ = std::fs::remove_dir_all(&dir);

    // Standard input has no file: described, not a made-up `%3Cstdin%3E`.
    let mut cmd = check(&["-", "--format", "sarif"]);
    cmd.write_stdin(text);
    let log = parse_json(&run(cmd).stdout);
    assert_valid(&validator, &log, "the SARIF log of standard input");
    let artifact =
        &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert!(artifact.get("uri").is_none(), "{artifact}");
    assert_eq!(artifact["description"]["text"], "standard input");
}

#[test]
fn sarif_schema_rejects_broken_logs() {
    // The validator is not vacuous: a log without `version` or with a bad
    // level fails.
    let validator = sarif_validator();
    let out = run(check(&[
        "tests/fixtures/campaigns/deceptive_subject_us.yaml",
        "--format",
        "sarif",
    ]));
    let log = parse_json(&out.stdout);
    assert_valid(&validator, &log, "the SARIF log");
    let mut no_version = log.clone();
    no_version.as_object_mut().unwrap().remove("version");
    assert!(!validator.is_valid(&no_version));
    let mut bad_level = log.clone();
    bad_level["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!validator.is_valid(&bad_level));
}

// ---------------------------------------------------------------- campaign schema

fn campaign_validator() -> jsonschema::Validator {
    let schema = parse_json(
        &std::fs::read_to_string(crate_path("schemas/campaign.schema.json")).expect("schema"),
    );
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the campaign schema compiles")
}

/// A YAML campaign as JSON (YAML 1.2: dates and times stay strings).
fn yaml_to_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("readable campaign");
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn fixtures_and_examples_validate_against_the_campaign_schema() {
    let validator = campaign_validator();
    let base = crate_path(FIXTURES);
    let mut files: Vec<PathBuf> = FIXTURE_FILES
        .iter()
        .filter(|f| !LOADER_ERRORS.contains(f))
        .map(|f| base.join(f))
        .collect();
    let examples = crate_path("examples/campaigns");
    let mut example_files = Vec::new();
    yaml_files(&examples, &examples, &mut example_files);
    assert!(!example_files.is_empty());
    files.extend(example_files.iter().map(|f| examples.join(f)));
    for path in files {
        let doc = yaml_to_json(&path);
        assert_valid(&validator, &doc, &path.display().to_string());
    }

    // The schema rejects what the loader rejects for the same reasons.
    for file in ["unknown_keys.yaml", "wrong_types.yaml"] {
        let doc = yaml_to_json(&base.join(file));
        assert!(!validator.is_valid(&doc), "{file} should not validate");
    }
}

/// `defers to` both ways: an EU campaign relying on consent is decided by
/// GDPR Art. 8, so the baseline minimum age is reported as deferred (with
/// `deferred_to`, counted in the summary); a US campaign is not, and the
/// baseline rule is evaluated.
#[test]
fn baseline_minimum_age_defers_to_gdpr_art8_only_where_it_applies() {
    let out = run(check(&[
        "tests/fixtures/campaigns/clean_eu.yaml",
        "--format",
        "json",
    ]));
    let doc = parse_json(&out.stdout);
    let findings = doc["campaigns"][0]["findings"]
        .as_array()
        .expect("findings");
    let deferred: Vec<&Value> = findings
        .iter()
        .filter(|f| f["status"] == "deferred")
        .collect();
    assert_eq!(deferred.len(), 1, "{}", out.stdout);
    assert_eq!(deferred[0]["rule"], "baseline_marketing_minimum_age");
    assert_eq!(
        deferred[0]["deferred_to"],
        "gdpr_art8_digital_age_of_consent"
    );
    assert_eq!(deferred[0]["severity"], "info");
    assert_eq!(doc["summary"]["deferred"], 1);

    let out = run(check(&[
        "tests/fixtures/campaigns/clean_us.yaml",
        "--format",
        "json",
    ]));
    let doc = parse_json(&out.stdout);
    // In the US it is COPPA, not GDPR Art. 8, that the baseline defers to.
    let deferred_to: Vec<&Value> = doc["campaigns"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["status"] == "deferred")
        .map(|f| &f["deferred_to"])
        .collect();
    assert_eq!(
        deferred_to,
        [&Value::from("coppa_312_5_a_verifiable_parental_consent")],
        "{}",
        out.stdout
    );
    let human = run(check(&["tests/fixtures/campaigns/clean_eu.yaml"]));
    assert!(human.stdout.contains(
        "deferred in tests/fixtures/campaigns/clean_eu.yaml: baseline_marketing_minimum_age deferred to gdpr_art8_digital_age_of_consent for EU-FR"
    ), "{}", human.stdout);
}

/// Issue 12: a triggered flow counts once per recipient in any window of a
/// cap, together with the calendar campaigns it overlaps: a welcome flow
/// next to three daily texts to Florida may make four in 24 hours (Fla.
/// Stat. 501.616(6)(b)), while the flow alone is within the limit.
#[test]
fn triggered_flow_counts_once_in_the_caps_of_overlapping_campaigns() {
    let dir = tempfile::tempdir().expect("temp dir");
    let flow = dir.path().join("flow.yaml");
    let daily = dir.path().join("daily.yaml");
    std::fs::write(
        &flow,
        "id: welcome-flow\njurisdictions: [US-FL]\nmessage_type: marketing\nchannels: [sms]\n\
         audience: { age: { min: 18 }, suppressions: [unsubscribed] }\n\
         schedule: { trigger: { event: welcome, window: { from: \"09:00\", to: \"19:00\" } } }\n",
    )
    .expect("write flow");
    std::fs::write(
        &daily,
        "id: daily-deals\njurisdictions: [US-FL]\nmessage_type: marketing\nchannels: [sms]\n\
         audience: { age: { min: 18 }, suppressions: [unsubscribed] }\n\
         schedule: { timezone: recipient, send_at: 2026-12-10T09:00, repeat: { every: 3 hours, count: 3 } }\n",
    )
    .expect("write daily");
    let (flow, daily) = (flow.display().to_string(), daily.display().to_string());
    let capped = |doc: &Value, i: usize| {
        doc["campaigns"][i]["findings"].as_array().is_some_and(|f| {
            f.iter()
                .any(|x| x["rule"] == "fl_501_616_6_b_three_per_24_hours")
        })
    };
    let both = parse_json(
        &run(check(&[
            &flow,
            &daily,
            "--pack",
            "us-states",
            "--format",
            "json",
        ]))
        .stdout,
    );
    assert!(capped(&both, 0) && capped(&both, 1), "{both}");
    let alone = parse_json(&run(check(&[&flow, "--pack", "us-states", "--format", "json"])).stdout);
    assert!(!capped(&alone, 0), "{alone}");
}

/// Issue 11 item 5: `explain` says what a targeting rule judges by meaning
/// and which data dictionary entries decide for it.
#[test]
fn explain_lists_categories_and_dictionary_entries() {
    let mut cmd = scruple();
    cmd.args([
        "explain",
        "dictionary_special_category_targeting",
        "--policy",
        DICTIONARY_POLICY,
    ]);
    let out = run(cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("by meaning: names, filter values, URLs and audience names read as biometric, disability, ethnicity, genetic, health,"), "{}", out.stdout);
    assert!(out.stdout.contains("  - `care_pathway`: health.treatment (tests/fixtures/check-policy/dictionary.scruple:10)"), "{}", out.stdout);
    assert!(
        out.stdout.contains("  - `IVF`: health.reproductive"),
        "{}",
        out.stdout
    );
    // A car model declared none is not health data to begin with.
    assert!(!out.stdout.contains("Jaguar"), "{}", out.stdout);
}

/// Issue 14 item 4: at check time a calendar cap counts the campaign's
/// sends per calendar day as written (Braze, "Frequency capping FAQ": per
/// day means the calendar day, not a rolling 24 hours). 23:30 and 00:30 the
/// next day are two days; 09:00 and 18:00 are one.
#[test]
fn calendar_caps_count_sends_per_calendar_day_at_check_time() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let policy = dir.path().join("daily.scruple");
    let write_policy = |window: &str| {
        std::fs::write(
            &policy,
            format!("rule one_email_a_day {{\n  severity error\n  cite \"Braze, Frequency capping FAQ\"\n  cap 1 sends per {window} per recipient on [email]\n}}\n"),
        )
        .expect("policy written");
    };
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/campaigns/spring-sale.yaml"),
    )
    .expect("the example campaign");
    let campaign = |name: &str, sends: &str| -> String {
        let path = dir.path().join(name);
        let text = example.replace(
            "send_at: [2026-12-01T10:00]",
            &format!("send_at: [{sends}]"),
        );
        assert_ne!(text, example, "the schedule was replaced");
        std::fs::write(&path, text).expect("campaign written");
        path.display().to_string()
    };
    let across = campaign("across.yaml", "2026-12-01T23:30, 2026-12-02T00:30");
    let same = campaign("same.yaml", "2026-12-01T09:00, 2026-12-01T18:00");
    let policy_arg = policy.display().to_string();
    let verdict = |file: &str| -> (i32, String) {
        let out = run(check(&[file, "--policy", &policy_arg, "--format", "json"]));
        (out.code, out.stdout)
    };
    write_policy("calendar day");
    let (code, out) = verdict(&across);
    assert_eq!(code, 0, "two calendar days: {out}");
    let (code, out) = verdict(&same);
    assert_eq!(code, 1, "one calendar day: {out}");
    assert!(out.contains("one_email_a_day"), "{out}");
    assert!(out.contains("within one calendar day"), "{out}");
    // The same sends under a rolling 24 hours: 23:30 and 00:30 are one hour apart.
    write_policy("24 hours");
    assert_eq!(verdict(&across).0, 1);
    // ISO weeks start on Monday: Sunday 6 and Monday 7 December are two weeks.
    write_policy("calendar week");
    let weekend = campaign("weekend.yaml", "2026-12-06T10:00, 2026-12-07T10:00");
    assert_eq!(verdict(&weekend).0, 0);
    let week = campaign("week.yaml", "2026-12-07T10:00, 2026-12-13T10:00");
    assert_eq!(verdict(&week).0, 1);
}
