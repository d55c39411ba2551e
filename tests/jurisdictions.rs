//! Campaign jurisdictions against the shipped packs (issue 10 item 14):
//! ISO 3166 codes map into the hierarchy the packs are written against, or
//! are refused with the code meant; a jurisdiction no pack covers is a
//! warning.

use std::path::Path;

use scruple::campaign;
use scruple::compile::{compile, Inputs, Policy};
use scruple::source::SourceFile;

fn shipped() -> Policy {
    let mut inputs = Inputs::default();
    inputs.add_builtin(&[]);
    compile(inputs).0.expect("the shipped packs compile")
}

/// The fixture `name` with its `jurisdictions:` line replaced.
fn fixture_in(name: &str, jurisdictions: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/campaigns")
        .join(name);
    let text = std::fs::read_to_string(path).expect("fixture");
    text.lines()
        .map(|l| {
            if l.starts_with("jurisdictions:") {
                format!("jurisdictions: {jurisdictions}")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// (fired rule ids, diagnostic codes) of checking `text`.
fn check(policy: &Policy, text: String) -> (Vec<String>, Vec<String>) {
    let source = SourceFile::new("c.yaml", text);
    let campaign = campaign::load(&source).unwrap_or_else(|d| panic!("{d:?}"));
    let options = scruple::eval::Options {
        now: "2026-11-23T00:00:00Z".parse().expect("time"),
    };
    let report = scruple::eval::check(policy, &campaign, options);
    let mut fired: Vec<String> = report.findings.iter().map(|f| f.rule.clone()).collect();
    fired.sort();
    fired.dedup();
    let codes = report.diagnostics.iter().map(|d| d.code.clone()).collect();
    (fired, codes)
}

fn load_errors(jurisdictions: &str) -> Vec<(String, String)> {
    let text = fixture_in("lawful_basis_contract_marketing.yaml", jurisdictions);
    match campaign::load(&SourceFile::new("c.yaml", text)) {
        Ok(_) => Vec::new(),
        Err(diags) => diags
            .into_iter()
            .map(|d| (d.code, d.help.unwrap_or_default()))
            .collect(),
    }
}

#[test]
fn jurisdiction_fr_gets_the_gdpr_rules() {
    let policy = shipped();
    let (eu, _) = check(
        &policy,
        fixture_in("lawful_basis_contract_marketing.yaml", "[EU-FR]"),
    );
    assert!(eu.iter().any(|r| r.starts_with("gdpr_")), "{eu:?}");
    // `FR` was accepted and silently matched no GDPR rule.
    let (fr, codes) = check(
        &policy,
        fixture_in("lawful_basis_contract_marketing.yaml", "[FR]"),
    );
    assert_eq!(fr, eu);
    assert!(codes.is_empty(), "{codes:?}");
}

#[test]
fn jurisdiction_us_ca_gets_the_ccpa_rules() {
    let policy = shipped();
    let (fired, codes) = check(
        &policy,
        fixture_in("ccpa_sensitive_pi_targeting.yaml", "[US-CA]"),
    );
    assert!(fired.iter().any(|r| r.starts_with("ccpa_")), "{fired:?}");
    assert!(codes.is_empty(), "{codes:?}");
}

#[test]
fn jurisdiction_lowercase_suggests_the_code_in_the_hierarchy() {
    // The suggestion was `FR`, itself a code no pack matched.
    let errors = load_errors("[fr]");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "scruple::campaign::invalid_value");
    assert!(errors[0].1.contains("`EU-FR`"), "{errors:?}");
    let errors = load_errors("[US-CX]");
    assert!(errors[0].1.contains("did you mean `US-CA`?"), "{errors:?}");
}

#[test]
fn jurisdiction_not_in_iso_3166_is_refused() {
    let errors = load_errors("[XX]");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "scruple::campaign::invalid_value");
    assert!(errors[0].1.contains("ISO 3166"), "{errors:?}");
    assert!(load_errors("[UK, GB, CA-ON, JP]").is_empty());
}

#[test]
fn jurisdiction_no_pack_covers_is_a_warning() {
    let policy = shipped();
    let (_, codes) = check(
        &policy,
        fixture_in("lawful_basis_contract_marketing.yaml", "[JP]"),
    );
    assert_eq!(codes, ["scruple::campaign::uncovered_jurisdiction"]);
    // One uncovered jurisdiction among covered ones is still named.
    let text = fixture_in("lawful_basis_contract_marketing.yaml", "[EU-SE, JP]");
    let (_, codes) = check(&policy, text);
    assert_eq!(codes, ["scruple::campaign::uncovered_jurisdiction"]);
}
