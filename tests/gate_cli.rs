//! `scruple gate` end to end: every per-recipient rule kind both ways, bad
//! records, CSV, split outputs, stdin, and the campaign-level stop. Runs the
//! real binary with the shipped packs, `--no-config`, at a fixed send time
//! (10:00 UTC: 11:00 in Paris, 02:00 in Los Angeles).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

const AT: &str = "2026-11-23T10:00:00Z";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gate")
        .join(name)
}

fn gate(campaign: &Path, recipients: &str, extra: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("scruple")
        .expect("binary built")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .arg("gate")
        .arg(campaign)
        .args(["--recipients", recipients, "--at", AT, "--no-config"])
        .args(extra)
        .output()
        .expect("scruple runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Decision per recipient id (or `line N` for records without one):
/// ("allow" | "suppress" | "bad", rule ids).
fn decisions(stdout: &str) -> BTreeMap<String, (String, Vec<String>)> {
    stdout
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("each output line is JSON");
            let key = match v["recipient"].as_str() {
                Some(id) => id.to_string(),
                None => format!("line {}", v["line"]),
            };
            let rules = v["reasons"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .filter_map(|x| x["rule"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let kind = if v["error"].is_string() {
                "bad"
            } else {
                v["decision"].as_str().unwrap_or("?")
            };
            (key, (kind.to_string(), rules))
        })
        .collect()
}

fn expect(d: &BTreeMap<String, (String, Vec<String>)>, id: &str, kind: &str, rules: &[&str]) {
    let (got_kind, got_rules) = d
        .get(id)
        .unwrap_or_else(|| panic!("no decision for {id}: {d:?}"));
    assert_eq!(got_kind, kind, "{id}: {got_rules:?}");
    assert_eq!(
        got_rules,
        &rules.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
        "{id}"
    );
}

#[test]
fn every_per_recipient_rule_kind_both_ways() {
    let (code, stdout, stderr) = gate(
        &fixture("gpc-honoured.yaml"),
        &fixture("recipients.jsonl").display().to_string(),
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    let d = decisions(&stdout);
    // Allowed: consent in force, adult, daytime, not targeted on anything forbidden.
    expect(&d, "ok-fr", "allow", &[]);
    // Consent per purpose: none for the purpose, withdrawn, too old; a future withdrawal does not count yet.
    let consent = [
        "baseline_consent_per_purpose",
        "baseline_consent_freshness",
        "gdpr_art6_1_a_consent_per_purpose",
    ];
    expect(&d, "no-consent", "suppress", &consent);
    expect(&d, "withdrawn", "suppress", &consent);
    expect(&d, "withdrawn-later", "allow", &[]);
    expect(
        &d,
        "stale-consent",
        "suppress",
        &["baseline_consent_freshness"],
    );
    // Opt-outs cite the rules that require honouring them.
    expect(
        &d,
        "unsubscribed",
        "suppress",
        &[
            "baseline_honour_unsubscribes",
            "can_spam_7704_a4_honour_opt_outs",
        ],
    );
    expect(
        &d,
        "objected",
        "suppress",
        &["gdpr_art21_objections_honoured"],
    );
    expect(&d, "gpc", "suppress", &["scruple::gate::gpc"]);
    // Minimum age per jurisdiction (EU-DE: 16 for consent, 18 for profiling), from age or birth date.
    expect(
        &d,
        "de-15",
        "suppress",
        &[
            "baseline_no_profiling_of_minors",
            "gdpr_art8_digital_age_of_consent",
        ],
    );
    expect(
        &d,
        "de-born-2008",
        "suppress",
        &["baseline_no_profiling_of_minors"],
    );
    expect(&d, "de-born-2007", "allow", &[]);
    expect(
        &d,
        "age-unknown",
        "suppress",
        &[
            "baseline_marketing_minimum_age",
            "baseline_no_profiling_of_minors",
            "gdpr_art8_digital_age_of_consent",
        ],
    );
    // Quiet hours in the recipient's zone; the zone may come from the jurisdiction.
    expect(&d, "night-la", "suppress", &["baseline_quiet_hours"]);
    expect(&d, "zone-from-jurisdiction", "allow", &[]);
    // Targeting attributes derived from special categories.
    expect(
        &d,
        "targeted-on-health",
        "suppress",
        &[
            "baseline_special_category_targeting",
            "baseline_proxy_targeting",
            "ccpa_1798_121_limit_sensitive_pi",
            "gdpr_art9_1_special_category_targeting",
        ],
    );
    // Bad records are suppressed with their line, never allowed.
    for key in ["line 17", "line 18", "bad-zone", "bad-date", "line 21"] {
        assert_eq!(
            d.get(key).map(|x| x.0.as_str()),
            Some("bad"),
            "{key}: {d:?}"
        );
    }
    assert!(
        stderr.contains("gate: 20 read, 4 allowed, 11 suppressed, 5 bad"),
        "{stderr}"
    );
}

#[test]
fn csv_input_and_bad_rows() {
    let (code, stdout, stderr) = gate(
        &fixture("gpc-honoured.yaml"),
        &fixture("recipients.csv").display().to_string(),
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    let d = decisions(&stdout);
    expect(&d, "ok-csv", "allow", &[]);
    expect(
        &d,
        "withdrawn-csv",
        "suppress",
        &[
            "baseline_consent_per_purpose",
            "baseline_consent_freshness",
            "gdpr_art6_1_a_consent_per_purpose",
        ],
    );
    expect(
        &d,
        "unsub-csv",
        "suppress",
        &[
            "baseline_honour_unsubscribes",
            "can_spam_7704_a4_honour_opt_outs",
        ],
    );
    assert_eq!(d.get("line 5").map(|x| x.0.as_str()), Some("bad"), "{d:?}");
    assert!(
        stderr.contains("4 read, 1 allowed, 2 suppressed, 1 bad"),
        "{stderr}"
    );
}

#[test]
fn on_bad_record_fail_stops_with_exit_2() {
    let (code, _, stderr) = gate(
        &fixture("gpc-honoured.yaml"),
        &fixture("recipients.jsonl").display().to_string(),
        &["--on-bad-record", "fail"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("line 17"), "{stderr}");
}

#[test]
fn allowed_and_suppressed_go_to_separate_files() {
    let dir = std::env::temp_dir().join(format!("scruple-gate-split-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let allowed = dir.join("allowed.jsonl");
    let suppressed = dir.join("suppressed.jsonl");
    let (code, stdout, stderr) = gate(
        &fixture("gpc-honoured.yaml"),
        &fixture("recipients.jsonl").display().to_string(),
        &[
            "--allowed",
            &allowed.display().to_string(),
            "--suppressed",
            &suppressed.display().to_string(),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    let allowed = std::fs::read_to_string(&allowed).expect("allowed written");
    let suppressed = std::fs::read_to_string(&suppressed).expect("suppressed written");
    assert_eq!(allowed.lines().count(), 4);
    assert_eq!(suppressed.lines().count(), 16, "suppressed and bad records");
    assert!(allowed
        .lines()
        .all(|l| l.contains("\"decision\":\"allow\"")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stdin_is_read_as_json_lines() {
    let out = Command::cargo_bin("scruple")
        .expect("binary built")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["gate", "examples/campaigns/spring-sale.yaml", "--recipients", "-", "--at", AT, "--no-config"])
        .write_stdin("{\"id\":\"a\",\"jurisdiction\":\"EU-FR\",\"age\":40,\"consents\":{\"email_marketing\":{\"granted_at\":\"2026-06-01\"}}}\n")
        .output()
        .expect("scruple runs");
    assert_eq!(out.status.code(), Some(0));
    let d = decisions(&String::from_utf8_lossy(&out.stdout));
    expect(&d, "a", "allow", &[]);
}

#[test]
fn a_violating_campaign_stops_before_any_recipient() {
    let (code, stdout, stderr) = gate(
        Path::new("examples/campaigns/baby-club.yaml"),
        &fixture("recipients.jsonl").display().to_string(),
        &[],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty(), "no decision may be written: {stdout}");
    assert!(
        stderr.contains("baseline_special_category_targeting"),
        "{stderr}"
    );
}

#[test]
fn missing_recipients_file_is_an_input_error() {
    let (code, _, stderr) = gate(&fixture("gpc-honoured.yaml"), "no/such/file.jsonl", &[]);
    assert_eq!(code, 2, "{stderr}");
}
