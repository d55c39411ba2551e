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
        .args(["--recipients", recipients, "--no-config"])
        .args(if extra.contains(&"--at") {
            &[][..]
        } else {
            &["--at", AT][..]
        })
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
    // No loaded rule requires `gpc` for an email campaign: built in.
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
    // Targeting attributes derived from special categories. The recipient
    // is in France: California's CCPA rule (confined to US-CA) does not
    // decide them, so it is not cited (issue 12).
    expect(
        &d,
        "targeted-on-health",
        "suppress",
        &[
            "baseline_special_category_targeting",
            "baseline_proxy_targeting",
            // A recipient in France is not held to (nor cited under) the
            // CCPA, a rule confined to US-CA.
            "gdpr_art9_1_special_category_targeting",
        ],
    );
    // Bad records are suppressed with their line (and id, when it can be
    // read), never allowed.
    for key in ["line 17", "typo", "bad-zone", "bad-date", "wrong-type"] {
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
    // A bad row keeps its id (issue 10 item 9).
    assert_eq!(
        d.get("bad-age-csv").map(|x| x.0.as_str()),
        Some("bad"),
        "{d:?}"
    );
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

/// `defers to` per recipient: in an EU-only campaign relying on consent,
/// GDPR Art. 8 (15 in France) decides a 12-year-old's case and the baseline
/// minimum age (13) is not planned; in the mixed EU/US fixture campaign both
/// run (see `every_per_recipient_rule_kind_both_ways`).
#[test]
fn baseline_minimum_age_defers_to_gdpr_art8_in_an_eu_campaign() {
    let out = Command::cargo_bin("scruple")
        .expect("binary built")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["gate", "examples/campaigns/spring-sale.yaml", "--recipients", "-", "--at", AT, "--no-config"])
        .write_stdin("{\"id\":\"fr-12\",\"jurisdiction\":\"EU-FR\",\"age\":12,\"consents\":{\"email_marketing\":{\"granted_at\":\"2026-06-01\"}}}\n")
        .output()
        .expect("scruple runs");
    let d = decisions(&String::from_utf8_lossy(&out.stdout));
    expect(
        &d,
        "fr-12",
        "suppress",
        &[
            "baseline_no_profiling_of_minors",
            "gdpr_art8_digital_age_of_consent",
        ],
    );
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

/// `scruple check --format json` on `campaign` at [`AT`], parsed.
fn check_json(campaign: &Path) -> Value {
    let out = Command::cargo_bin("scruple")
        .expect("binary built")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("check")
        .arg(campaign)
        .args(["--no-config", "--format", "json", "--at", AT])
        .output()
        .expect("scruple runs");
    serde_json::from_slice(&out.stdout).expect("check writes JSON")
}

#[test]
fn a_rejected_campaign_is_reported_as_check_json_with_format_json() {
    let campaign = Path::new("examples/campaigns/baby-club.yaml");
    let (code, stdout, stderr) = gate(
        campaign,
        &fixture("recipients.jsonl").display().to_string(),
        &["--format", "json"],
    );
    assert_eq!(code, 1, "{stderr}");
    let document: Value = serde_json::from_str(&stdout).expect("one JSON document on stdout");
    assert_eq!(document["schema"], "scruple.check/v1");
    assert_eq!(document["campaigns"][0]["verdict"], "fail");
    // The same findings, field for field, as `check --format json` gives.
    let check = check_json(campaign);
    assert_eq!(
        document["campaigns"][0]["findings"],
        check["campaigns"][0]["findings"]
    );
    assert_eq!(document["summary"], check["summary"]);
    let rules: Vec<&str> = document["campaigns"][0]["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert!(
        rules.contains(&"baseline_special_category_targeting"),
        "{rules:?}"
    );
    // No decision was written, and the human diagnostics are not repeated.
    assert!(!stdout.contains("\"decision\""), "{stdout}");
    assert!(
        !stderr.contains("baseline_special_category_targeting"),
        "{stderr}"
    );
    assert!(stderr.contains("no recipient was processed"), "{stderr}");
}

#[test]
fn an_invalid_campaign_is_reported_as_check_json_with_format_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let campaign = dir.path().join("broken.yaml");
    std::fs::write(&campaign, "id: broken\nchannels: [pigeon]\n").expect("write campaign");
    let (code, stdout, stderr) = gate(
        &campaign,
        &fixture("recipients.jsonl").display().to_string(),
        &["--format", "json"],
    );
    assert_eq!(code, 2, "{stderr}");
    let document: Value = serde_json::from_str(&stdout).expect("one JSON document on stdout");
    assert_eq!(document["campaigns"][0]["verdict"], "invalid");
    assert!(document["campaigns"][0]["diagnostics"]
        .as_array()
        .is_some_and(|d| !d.is_empty()));
}

#[test]
fn missing_recipients_file_is_an_input_error() {
    let (code, _, stderr) = gate(&fixture("gpc-honoured.yaml"), "no/such/file.jsonl", &[]);
    assert_eq!(code, 2, "{stderr}");
}

/// Runs the gate on `recipients` written to a temporary file named `name`.
fn gate_text(name: &str, recipients: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, recipients).expect("recipients written");
    gate(
        &fixture("gpc-honoured.yaml"),
        &path.display().to_string(),
        &[],
    )
}

const CSV_OK_ROW: &str = "EU-FR,Europe/Paris,34,2026-06-01";

#[test]
fn csv_duplicate_column_is_input_error() {
    // The second `unsubscribed` said false: the person was allowed.
    for (header, row, column) in [
        (
            "id,jurisdiction,timezone,age,consent:email_marketing,unsubscribed,unsubscribed",
            format!("r1,{CSV_OK_ROW},true,false"),
            "unsubscribed",
        ),
        (
            "id,jurisdiction,timezone,age,consent:email_marketing,withdrawn:email_marketing,withdrawn:email_marketing",
            format!("r1,{CSV_OK_ROW},2026-11-01,"),
            "withdrawn:email_marketing",
        ),
        (
            "id,jurisdiction,timezone,age,consent:email_marketing, consent: email_marketing",
            format!("r1,{CSV_OK_ROW},"),
            "consent: email_marketing",
        ),
        (
            "id,jurisdiction,timezone,age,consent:email_marketing,attr:city,attr:city",
            format!("r1,{CSV_OK_ROW},Lyon,Paris"),
            "attr:city",
        ),
    ] {
        let (code, stdout, stderr) = gate_text("dup.csv", &format!("{header}\n{row}\n"));
        assert_eq!(code, 2, "{header}: {stderr}");
        assert!(stdout.is_empty(), "nothing may be decided: {stdout}");
        assert!(
            stderr.contains(&format!("column `{column}` is named twice")),
            "{header}: {stderr}"
        );
    }
}

#[test]
fn json_lines_duplicate_consent_purpose_is_a_bad_record() {
    let record = r#"{"id":"dup-purpose","jurisdiction":"EU-FR","timezone":"Europe/Paris","age":34,"consents":{"email_marketing":{"granted_at":"2026-06-01","withdrawn_at":"2026-11-01"},"email_marketing":{"granted_at":"2026-06-01"}}}"#;
    let (code, stdout, stderr) = gate_text("dup.jsonl", &format!("{record}\n"));
    assert_eq!(code, 0, "{stderr}");
    let line: Value = serde_json::from_str(stdout.trim()).expect("one decision");
    assert_eq!(line["decision"], "suppress", "{stdout}");
    assert_eq!(line["recipient"], "dup-purpose", "{stdout}");
    let error = line["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("purpose `email_marketing` appears twice in `consents`"),
        "{stdout}"
    );
    assert!(
        stderr.contains("1 read, 0 allowed, 0 suppressed, 1 bad"),
        "{stderr}"
    );
}

#[test]
fn csv_unknown_column_is_input_error_with_did_you_mean() {
    // A misspelt `unsubscribed` was taken for an attribute: the person was allowed.
    let header = "id,jurisdiction,timezone,age,consent:email_marketing,unsubscibed";
    let (code, stdout, stderr) =
        gate_text("typo.csv", &format!("{header}\nr1,{CSV_OK_ROW},true\n"));
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty(), "nothing may be decided: {stdout}");
    assert!(
        stderr.contains("unknown column `unsubscibed` (column 6): did you mean `unsubscribed`?"),
        "{stderr}"
    );
    // A misspelt prefix, and an undeclared attribute.
    for (column, expected) in [
        (
            "consnet:email_marketing",
            "did you mean `consent:email_marketing`?",
        ),
        ("city", "attributes declared as `attr:<name>`"),
        ("attr:", "attributes declared as `attr:<name>`"),
        ("", "unknown column ``"),
    ] {
        let text = format!(
            "id,jurisdiction,timezone,age,consent:email_marketing,{column}\nr1,{CSV_OK_ROW},x\n"
        );
        let (code, stdout, stderr) = gate_text("unknown.csv", &text);
        assert_eq!(code, 2, "{column}: {stderr}");
        assert!(stdout.is_empty(), "{column}: {stdout}");
        assert!(stderr.contains(expected), "{column}: {stderr}");
    }
}

#[test]
fn csv_attribute_columns_are_declared_with_attr() {
    let header = "id,jurisdiction,timezone,age,consent:email_marketing,attr:predicted_pregnancy";
    let text = format!("{header}\nr1,{CSV_OK_ROW},0.8\nr2,{CSV_OK_ROW},\n");
    let (code, stdout, stderr) = gate_text("attr.csv", &text);
    assert_eq!(code, 0, "{stderr}");
    let d = decisions(&stdout);
    assert_eq!(d["r1"].0, "suppress", "{d:?}");
    assert!(d["r1"]
        .1
        .contains(&"baseline_special_category_targeting".to_string()));
    expect(&d, "r2", "allow", &[]);
}

#[test]
fn bad_record_keeps_its_readable_id() {
    let jsonl = [
        r#"{"id":"unknown-key","jurisdiction":"EU-FR","colour":"blue"}"#,
        r#"{"age":"thirty","id":"id-after-error"}"#,
        r#"{"id":"unclosed","age":34"#,
        r#"{"id":"r\u00e9","consents":[]}"#,
        r#"{"id":5,"age":"x"}"#,
        "not json at all",
    ]
    .join("\n");
    let (code, stdout, stderr) = gate_text("bad.jsonl", &jsonl);
    assert_eq!(code, 0, "{stderr}");
    let ids: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON")["recipient"].clone())
        .collect();
    assert_eq!(
        ids,
        [
            Value::from("unknown-key"),
            Value::from("id-after-error"),
            Value::from("unclosed"),
            Value::from("r\u{e9}"),
            Value::Null,
            Value::Null
        ],
        "{stdout}"
    );
    assert!(
        stderr.contains("6 read, 0 allowed, 0 suppressed, 6 bad"),
        "{stderr}"
    );
    // CSV: a bad cell, and a row with a missing field.
    let csv = "id,jurisdiction,timezone,age,consent:email_marketing\nr-age,EU-FR,Europe/Paris,forty,2026-06-01\nr-short,EU-FR\n,EU-FR,Europe/Paris,x,\n";
    let (code, stdout, stderr) = gate_text("bad.csv", csv);
    assert_eq!(code, 0, "{stderr}");
    let d = decisions(&stdout);
    assert_eq!(d["r-age"].0, "bad", "{d:?}");
    assert_eq!(d["r-short"].0, "bad", "{d:?}");
    assert_eq!(d["line 4"].0, "bad", "{d:?}");
    assert!(
        stdout.contains("the row has 2 fields, the header 5"),
        "{stdout}"
    );
}

#[test]
fn bom_on_first_json_lines_record_is_stripped() {
    let record = r#"{"id":"bom","jurisdiction":"EU-FR","timezone":"Europe/Paris","age":34,"consents":{"email_marketing":{"granted_at":"2026-06-01"}}}"#;
    let (code, stdout, stderr) = gate_text("bom.jsonl", &format!("\u{feff}{record}\n{record}\n"));
    assert_eq!(code, 0, "{stderr}");
    let d = decisions(&stdout);
    expect(&d, "bom", "allow", &[]);
    assert!(stderr.contains("2 read, 2 allowed"), "{stderr}");
    // Only the first line may start with one; CSV strips it too.
    let (_, stdout, _) = gate_text("bom2.jsonl", &format!("{record}\n\u{feff}{record}\n"));
    assert_eq!(
        stdout.lines().filter(|l| l.contains("\"error\"")).count(),
        1,
        "{stdout}"
    );
    let csv = format!(
        "\u{feff}id,jurisdiction,timezone,age,consent:email_marketing\nbom-csv,{CSV_OK_ROW}\n"
    );
    let (code, stdout, stderr) = gate_text("bom.csv", &csv);
    assert_eq!(code, 0, "{stderr}");
    expect(&decisions(&stdout), "bom-csv", "allow", &[]);
}

/// Runs the gate on the fixture campaign edited by `edit`, for `records`
/// (JSON Lines); returns (exit code, decision lines as JSON, stderr).
fn gate_edited(
    edit: &[(&str, &str)],
    records: &[&str],
    extra: &[&str],
) -> (i32, Vec<Value>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut campaign =
        std::fs::read_to_string(fixture("gpc-honoured.yaml")).expect("fixture campaign");
    for (from, to) in edit {
        assert!(campaign.contains(from), "{from}");
        campaign = campaign.replace(from, to);
    }
    let campaign_path = dir.path().join("campaign.yaml");
    std::fs::write(&campaign_path, campaign).expect("campaign written");
    let recipients = dir.path().join("r.jsonl");
    std::fs::write(&recipients, records.join("\n")).expect("recipients written");
    let (code, stdout, stderr) = gate(&campaign_path, &recipients.display().to_string(), extra);
    let lines = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON decision"))
        .collect();
    (code, lines, stderr)
}

/// The (rule, message, citations) of each reason of a decision line.
fn reasons(line: &Value) -> Vec<(String, String, Vec<String>)> {
    line["reasons"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|x| {
                    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
                    let cites = x["citations"]
                        .as_array()
                        .map(|c| c.iter().map(text).collect())
                        .unwrap_or_default();
                    (text(&x["rule"]), text(&x["message"]), cites)
                })
                .collect()
        })
        .unwrap_or_default()
}

const ADULT_FR: &str = r#""jurisdiction":"EU-FR","timezone":"Europe/Paris","age":34,"consents":{"email_marketing":{"granted_at":"2026-06-01"}}"#;

#[test]
fn withdrawn_consent_is_reported_under_the_consent_rule_not_freshness() {
    let record = r#"{"id":"w","jurisdiction":"EU-FR","timezone":"Europe/Paris","age":34,"consents":{"email_marketing":{"granted_at":"2026-06-01","withdrawn_at":"2026-11-01"}}}"#;
    let (code, lines, stderr) = gate_edited(&[], &[record], &[]);
    assert_eq!(code, 0, "{stderr}");
    let reasons = reasons(&lines[0]);
    let rules: Vec<&str> = reasons.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        rules,
        [
            "baseline_consent_per_purpose",
            "gdpr_art6_1_a_consent_per_purpose"
        ]
    );
    for (rule, message, citations) in &reasons {
        assert!(
            message.contains("withdrawn on 2026-11-01"),
            "{rule}: {message}"
        );
        assert!(!citations.is_empty(), "{rule}");
    }
}

#[test]
fn built_in_opt_out_suppressions_say_so_and_cite_the_law() {
    // No loaded rule requires `gpc` for an email campaign.
    let gpc = format!(r#"{{"id":"gpc",{ADULT_FR},"opt_outs":{{"gpc":true}}}}"#);
    let (code, lines, stderr) = gate_edited(&[], &[&gpc], &[]);
    assert_eq!(code, 0, "{stderr}");
    let r = reasons(&lines[0]);
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].0, "scruple::gate::gpc");
    assert!(r[0].1.starts_with("built-in: "), "{}", r[0].1);
    assert_eq!(r[0].2, ["Cal. Code Regs. tit. 11 § 7025"]);
    // With only the CCPA pack, nothing requires unsubscribes or objections.
    let unsubscribed =
        format!(r#"{{"id":"u",{ADULT_FR},"opt_outs":{{"unsubscribed":true,"objected":true}}}}"#);
    let (code, lines, stderr) = gate_edited(&[], &[&unsubscribed], &["--pack", "ccpa"]);
    assert_eq!(code, 0, "{stderr}");
    let r = reasons(&lines[0]);
    let built_in: Vec<(&str, &[String])> = r
        .iter()
        .filter(|x| x.1.starts_with("built-in: "))
        .map(|x| (x.0.as_str(), x.2.as_slice()))
        .collect();
    assert_eq!(
        built_in,
        [
            (
                "scruple::gate::unsubscribed",
                &[
                    "15 U.S.C. 7704(a)(4)".to_string(),
                    "GDPR Art. 21(3)".to_string()
                ][..]
            ),
            (
                "scruple::gate::objected",
                &["GDPR Art. 21(2)".to_string(), "GDPR Art. 21(3)".to_string()][..]
            ),
        ],
        "{r:?}"
    );
    // Every suppression names a rule and cites something.
    for (rule, _, citations) in &r {
        assert!(!citations.is_empty(), "{rule}: {r:?}");
    }
}

#[test]
fn limit_sensitive_suppression_cites_the_rule_that_requires_it() {
    let ca = r#"{"id":"ca","jurisdiction":"US-CA","timezone":"America/Los_Angeles","age":40,"consents":{"email_marketing":{"granted_at":"2026-06-01"}},"opt_outs":{"limit_sensitive":true}}"#;
    // 18:00 UTC: 10:00 in Los Angeles, outside quiet hours.
    let listed = [(
        "suppressions: [unsubscribed, objected, gpc]",
        "suppressions: [unsubscribed, objected, gpc, limit_sensitive]",
    )];
    let (code, lines, stderr) = gate_edited(&listed, &[ca], &["--at", "2026-11-23T18:00:00Z"]);
    assert_eq!(code, 0, "{stderr}");
    let r = reasons(&lines[0]);
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].0, "ccpa_1798_121_limit_sensitive_pi");
    assert!(
        r[0].2.contains(&"Cal. Civ. Code 1798.121(a)".to_string()),
        "{r:?}"
    );
    // A campaign outside California: no rule requires it, the law is cited.
    let eu_only = [
        listed[0],
        (
            "jurisdictions: [EU-FR, EU-DE, US-CA]",
            "jurisdictions: [EU-FR]",
        ),
    ];
    let fr = format!(r#"{{"id":"fr",{ADULT_FR},"opt_outs":{{"limit_sensitive":true}}}}"#);
    let (code, lines, stderr) = gate_edited(&eu_only, &[&fr], &[]);
    assert_eq!(code, 0, "{stderr}");
    let r = reasons(&lines[0]);
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].0, "scruple::gate::limit_sensitive");
    assert!(r[0].1.starts_with("built-in: "), "{r:?}");
    assert_eq!(r[0].2, ["Cal. Civ. Code 1798.121"]);
}

#[test]
fn recipient_outside_the_campaign_jurisdictions_is_suppressed() {
    let eu_only = [(
        "jurisdictions: [EU-FR, EU-DE, US-CA]",
        "jurisdictions: [EU-FR]",
    )];
    let records = [
        r#"{"id":"ca","jurisdiction":"US-CA","timezone":"America/Los_Angeles","age":40,"consents":{"email_marketing":{"granted_at":"2026-06-01"}}}"#.to_string(),
        r#"{"id":"de","jurisdiction":"EU-DE","timezone":"Europe/Berlin","age":40,"consents":{"email_marketing":{"granted_at":"2026-06-01"}}}"#.to_string(),
        r#"{"id":"eu","jurisdiction":"EU","timezone":"Europe/Paris","age":40,"consents":{"email_marketing":{"granted_at":"2026-06-01"}}}"#.to_string(),
        format!(r#"{{"id":"paris",{}}}"#, ADULT_FR.replace("EU-FR", "EU-FR-75")),
        format!(r#"{{"id":"fr",{ADULT_FR}}}"#),
    ];
    let records: Vec<&str> = records.iter().map(String::as_str).collect();
    // 18:00 UTC: daytime in Los Angeles, so only the jurisdiction counts.
    let (code, lines, stderr) = gate_edited(&eu_only, &records, &["--at", "2026-11-23T18:00:00Z"]);
    assert_eq!(code, 0, "{stderr}");
    for (line, id, outside) in [(0, "ca", "US-CA"), (1, "de", "EU-DE"), (2, "eu", "EU")] {
        assert_eq!(lines[line]["recipient"], id);
        let r = reasons(&lines[line]);
        assert_eq!(r.len(), 1, "{id}: {r:?}");
        assert_eq!(r[0].0, "scruple::gate::jurisdiction");
        assert_eq!(
            r[0].1,
            format!("built-in: the recipient is in {outside}, outside the campaign's jurisdictions (EU-FR); the campaign was not checked for {outside}")
        );
    }
    assert_eq!(lines[3]["decision"], "allow", "EU-FR-75 lies within EU-FR");
    assert_eq!(lines[4]["decision"], "allow");
}

/// Campaigns map ISO codes into the hierarchy (`FR` is `EU-FR`, issue 10
/// item 14); records must too, or a French recipient written `FR` is
/// suppressed as outside a campaign for `FR`. A code that is no country is
/// outside every campaign's jurisdictions (fail closed), not ignored.
#[test]
fn recipient_jurisdictions_map_into_the_hierarchy_like_campaigns() {
    let fr_only = [(
        "jurisdictions: [EU-FR, EU-DE, US-CA]",
        "jurisdictions: [FR]",
    )];
    let records = [
        format!(r#"{{"id":"iso",{}}}"#, ADULT_FR.replace("EU-FR", "FR")),
        format!(r#"{{"id":"eu",{ADULT_FR}}}"#),
        format!(r#"{{"id":"bogus",{}}}"#, ADULT_FR.replace("EU-FR", "XX")),
    ];
    let records: Vec<&str> = records.iter().map(String::as_str).collect();
    let (code, lines, stderr) = gate_edited(&fr_only, &records, &["--at", "2026-11-23T10:00:00Z"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(lines[0]["decision"], "allow", "{}", lines[0]);
    assert_eq!(lines[1]["decision"], "allow", "{}", lines[1]);
    assert_eq!(lines[2]["decision"], "suppress", "{}", lines[2]);
    let r = reasons(&lines[2]);
    assert_eq!(r[0].0, "scruple::gate::jurisdiction", "{r:?}");
}

#[test]
fn unsubscribed_recipient_without_time_zone_is_suppressed_not_bad() {
    let records = [
        r#"{"id":"u","opt_outs":{"unsubscribed":true}}"#,
        r#"{"id":"u-no-zone","age":40,"consents":{"email_marketing":{"granted_at":"2026-06-01"}},"opt_outs":{"unsubscribed":true}}"#,
        r#"{"id":"w","age":40,"consents":{"email_marketing":{"granted_at":"2026-06-01","withdrawn_at":"2026-07-01"}}}"#,
        r#"{"id":"mars","timezone":"Mars/Olympus","age":40,"consents":{"email_marketing":{"granted_at":"2026-06-01"}},"opt_outs":{"gpc":true}}"#,
        // Nothing else decides these: the zone is needed, so they are bad.
        r#"{"id":"no-zone","age":40,"consents":{"email_marketing":{"granted_at":"2026-06-01"}}}"#,
        r#"{"id":"bad-zone","timezone":"Mars/Olympus","age":40,"consents":{"email_marketing":{"granted_at":"2026-06-01"}}}"#,
    ];
    let (code, lines, stderr) = gate_edited(&[], &records, &[]);
    assert_eq!(code, 0, "{stderr}");
    let rules = |i: usize| -> Vec<String> { reasons(&lines[i]).into_iter().map(|r| r.0).collect() };
    assert!(lines[0]["error"].is_null(), "{}", lines[0]);
    assert!(
        rules(0).contains(&"baseline_honour_unsubscribes".to_string()),
        "{:?}",
        rules(0)
    );
    assert_eq!(
        rules(1),
        [
            "baseline_honour_unsubscribes",
            "can_spam_7704_a4_honour_opt_outs"
        ]
    );
    assert_eq!(
        rules(2),
        [
            "baseline_consent_per_purpose",
            "gdpr_art6_1_a_consent_per_purpose"
        ]
    );
    assert_eq!(rules(3), ["scruple::gate::gpc"]);
    assert_eq!(
        lines[4]["error"],
        "no `timezone`, and the jurisdiction does not tell one"
    );
    assert_eq!(lines[5]["error"], "unknown time zone `Mars/Olympus`");
    assert!(
        stderr.contains("6 read, 0 allowed, 4 suppressed, 2 bad"),
        "{stderr}"
    );
}

/// Issue 12: opt-out times. A recipient who unsubscribed before the send is
/// suppressed and the reason names each law's processing deadline and
/// whether it has passed; one whose request comes after the send time had
/// not opted out yet; a time without the flag still counts. JSON Lines and
/// CSV alike.
#[test]
fn opt_out_times_name_each_laws_window() {
    let campaign = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cases/mailbox-providers/pass_us_bulk_sender_unsubscribe_within_2_days.yaml");
    let dir = tempfile::tempdir().expect("temp dir");
    let jsonl = dir.path().join("r.jsonl");
    std::fs::write(
        &jsonl,
        concat!(
            r#"{"id":"long-ago","jurisdiction":"US-CA","timezone":"America/Los_Angeles","age":30,"opt_outs":{"unsubscribed":true,"unsubscribed_at":"2026-11-02T09:00:00Z"}}"#,
            "\n",
            r#"{"id":"yesterday","jurisdiction":"US-CA","timezone":"America/Los_Angeles","age":30,"opt_outs":{"unsubscribed_at":"2026-11-22T09:00:00Z"}}"#,
            "\n",
            r#"{"id":"after-the-send","jurisdiction":"US-CA","timezone":"America/Los_Angeles","age":30,"opt_outs":{"unsubscribed_at":"2026-11-30T09:00:00Z"}}"#,
            "\n",
            r#"{"id":"bad-time","jurisdiction":"US-CA","timezone":"America/Los_Angeles","age":30,"opt_outs":{"unsubscribed_at":"last week"}}"#,
            "\n",
        ),
    )
    .expect("write records");
    // 18:00 UTC: 10:00 in Los Angeles.
    let at = ["--at", "2026-11-23T18:00:00Z"];
    let (code, stdout, stderr) = gate(&campaign, &jsonl.display().to_string(), &at);
    assert_eq!(code, 0, "{stderr}");
    let d = decisions(&stdout);
    let cites = [
        "baseline_honour_unsubscribes",
        "can_spam_7704_a4_honour_opt_outs",
    ];
    expect(&d, "long-ago", "suppress", &cites);
    expect(&d, "yesterday", "suppress", &cites);
    expect(&d, "after-the-send", "allow", &[]);
    assert_eq!(d["bad-time"].0, "bad", "{stdout}");
    let line = |id: &str| {
        stdout
            .lines()
            .find(|l| l.contains(&format!("\"recipient\":\"{id}\"")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line("long-ago")
            .contains("CAN-SPAM (15 U.S.C. 7704(a)(4)(A)): within 10 business days, passed"),
        "{stdout}"
    );
    assert!(
        line("yesterday").contains("within 10 business days, not yet passed"),
        "{stdout}"
    );
    assert!(
        line("yesterday").contains("within 2 days, not yet passed"),
        "{stdout}"
    );

    let csv = dir.path().join("r.csv");
    std::fs::write(
        &csv,
        "id,jurisdiction,timezone,age,unsubscribed_at,objected_at\n\
         a,US-CA,America/Los_Angeles,30,2026-11-02,\n\
         b,US-CA,America/Los_Angeles,30,,\n\
         c,US-CA,America/Los_Angeles,30,2026-12-01T00:00:00Z,\n",
    )
    .expect("write csv");
    let (code, stdout, stderr) = gate(&campaign, &csv.display().to_string(), &at);
    assert_eq!(code, 0, "{stderr}");
    let d = decisions(&stdout);
    expect(&d, "a", "suppress", &cites);
    expect(&d, "b", "allow", &[]);
    expect(&d, "c", "allow", &[]);
}

/// A rule confined to jurisdictions decides only recipients there: in a
/// campaign to Florida and California, Florida's 8 p.m. limit suppresses a
/// Floridian at 20:30 but not a Californian, while a recipient whose state
/// is unknown is held to it (a doubt never lets a message through).
#[test]
fn state_rules_decide_only_recipients_in_that_state() {
    let dir = tempfile::tempdir().expect("temp dir");
    let campaign = dir.path().join("c.yaml");
    std::fs::write(
        &campaign,
        "id: evening-texts\njurisdictions: [US-FL, US-CA]\nmessage_type: marketing\nchannels: [sms]\n\
         purposes: [sms_marketing]\nlawful_basis: consent\n\
         consent: { purposes: [sms_marketing], collected_at: 2026-01-05, method: web_form, written: true }\n\
         audience: { age: { min: 18 }, suppressions: [unsubscribed] }\n\
         schedule: { timezone: recipient, send_at: 2026-12-10T12:00 }\n\
         message: { sms: { sender_name: Shop, opt_out_instructions: \"Reply STOP to opt out\", help_instructions: \"Reply HELP for help\" } }\n",
    )
    .expect("write campaign");
    let records = dir.path().join("r.jsonl");
    std::fs::write(
        &records,
        concat!(
            r#"{"id":"fl","jurisdiction":"US-FL","timezone":"America/New_York","age":30,"consents":{"sms_marketing":{"granted_at":"2026-01-05","written":true}}}"#,
            "\n",
            r#"{"id":"ca","jurisdiction":"US-CA","timezone":"America/Los_Angeles","age":30,"consents":{"sms_marketing":{"granted_at":"2026-01-05","written":true}}}"#,
            "\n",
            r#"{"id":"unknown","timezone":"America/Los_Angeles","age":30,"consents":{"sms_marketing":{"granted_at":"2026-01-05","written":true}}}"#,
            "\n",
        ),
    )
    .expect("write records");
    // 01:30 UTC on 11 December: 20:30 in New York, 17:30 in Los Angeles.
    let at = ["--at", "2026-12-11T01:30:00Z"];
    let (code, stdout, stderr) = gate(&campaign, &records.display().to_string(), &at);
    assert_eq!(code, 0, "{stderr}");
    let d = decisions(&stdout);
    expect(&d, "fl", "suppress", &["fl_501_616_6_a_calling_hours"]);
    expect(&d, "ca", "allow", &[]);
    // 17:30 in Los Angeles is within Florida's hours too, so the unknown
    // state changes nothing here; at 20:30 local it would be suppressed.
    expect(&d, "unknown", "allow", &[]);
    let at = ["--at", "2026-12-11T04:30:00Z"];
    let (_, stdout, _) = gate(&campaign, &records.display().to_string(), &at);
    let d = decisions(&stdout);
    expect(&d, "ca", "allow", &[]);
    expect(&d, "unknown", "suppress", &["fl_501_616_6_a_calling_hours"]);
}

/// Issue 12: a Californian minor's own opt-in to sale and sharing
/// (Cal. Civ. Code 1798.120(c): the consumer from 13, a parent below) and a
/// GPP known child without consent, read the same from JSON Lines and CSV.
#[test]
fn minors_opt_in_to_sale_and_sharing_per_recipient_in_jsonl_and_csv() {
    let campaign = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cases/minors/pass_us_ca_custom_audience_from_13_with_teen_opt_in.yaml");
    let dir = tempfile::tempdir().expect("temp dir");
    let jsonl = dir.path().join("r.jsonl");
    std::fs::write(
        &jsonl,
        concat!(
            r#"{"id":"t14self","jurisdiction":"US-CA","age":14,"consents":{"sale_sharing":{"granted_at":"2026-01-05","authorised_by":"self"}}}"#, "\n",
            r#"{"id":"t14parent","jurisdiction":"US-CA","age":14,"consents":{"sale_sharing":{"granted_at":"2026-01-05","authorised_by":"parent"}}}"#, "\n",
            r#"{"id":"t14unsaid","jurisdiction":"US-CA","age":14,"consents":{"sale_sharing":{"granted_at":"2026-01-05"}}}"#, "\n",
            r#"{"id":"t14late","jurisdiction":"US-CA","age":14,"consents":{"sale_sharing":{"granted_at":"2026-12-01","authorised_by":"self"}}}"#, "\n",
            r#"{"id":"unknown_age","jurisdiction":"US-CA","consents":{"sale_sharing":{"granted_at":"2026-01-05","authorised_by":"self"}}}"#, "\n",
            r#"{"id":"a30","jurisdiction":"US-CA","age":30}"#, "\n",
            r#"{"id":"a30child","jurisdiction":"US-CA","age":30,"gpp":"DBABBg~BVoAAASA.QA"}"#, "\n",
            r#"{"id":"a30consent","jurisdiction":"US-CA","age":30,"gpp":"DBABBg~BVoAAAiA.QA"}"#, "\n",
            r#"{"id":"by_guardian","jurisdiction":"US-CA","age":14,"consents":{"sale_sharing":{"granted_at":"2026-01-05","authorised_by":"guardian"}}}"#, "\n",
        ),
    )
    .expect("write records");
    let csv = dir.path().join("r.csv");
    std::fs::write(
        &csv,
        "id,jurisdiction,age,gpp,consent:sale_sharing,authorised_by:sale_sharing\n\
         t14self,US-CA,14,,2026-01-05,self\n\
         t14parent,US-CA,14,,2026-01-05,parent\n\
         t14unsaid,US-CA,14,,2026-01-05,\n\
         t14late,US-CA,14,,2026-12-01,self\n\
         unknown_age,US-CA,,,2026-01-05,self\n\
         a30,US-CA,30,,,\n\
         a30child,US-CA,30,DBABBg~BVoAAASA.QA,,\n\
         a30consent,US-CA,30,DBABBg~BVoAAAiA.QA,,\n\
         by_guardian,US-CA,14,,2026-01-05,guardian\n",
    )
    .expect("write csv");
    let rule = "ccpa_1798_120_c_minors_opt_in";
    let mut messages = Vec::new();
    for file in [&jsonl, &csv] {
        let (code, out, err) = gate(
            &campaign,
            file.to_str().expect("utf-8 path"),
            &["--at", "2026-03-10T18:00:00Z", "--no-reserve"],
        );
        assert_eq!(code, 0, "{err}");
        let d = decisions(&out);
        expect(&d, "t14self", "allow", &[]);
        expect(&d, "t14parent", "suppress", &[rule]);
        expect(&d, "t14unsaid", "suppress", &[rule]);
        expect(&d, "t14late", "suppress", &[rule]);
        // COPPA's floor of 13 holds an unknown age too.
        expect(
            &d,
            "unknown_age",
            "suppress",
            &[rule, "coppa_312_5_a_verifiable_parental_consent"],
        );
        expect(&d, "a30", "allow", &[]);
        expect(&d, "a30child", "suppress", &[rule]);
        expect(&d, "a30consent", "allow", &[]);
        expect(&d, "by_guardian", "bad", &[]);
        let line = out
            .lines()
            .find(|l| l.contains("\"t14parent\""))
            .unwrap_or_default()
            .to_string();
        assert!(
            line.contains("must be authorised by the consumer themselves (authorised_by: self)")
                && line.contains("it was given by a parent")
                && line.contains("Cal. Civ. Code 1798.120(c)"),
            "{line}"
        );
        let child = out
            .lines()
            .find(|l| l.contains("\"a30child\""))
            .unwrap_or_default()
            .to_string();
        assert!(child.contains("KnownChildSensitiveDataConsents"), "{child}");
        let v: Value = serde_json::from_str(&line).expect("a decision line");
        messages.push(v["reasons"].clone());
    }
    assert_eq!(
        messages[0], messages[1],
        "JSON Lines and CSV give the same reason"
    );
}

/// Issue 12: TCPA prior express written consent per recipient (47 CFR
/// 64.1200(a)(2), (f)(9)), from JSON Lines and CSV.
#[test]
fn written_consent_to_marketing_texts_per_recipient_in_jsonl_and_csv() {
    let campaign = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cases/us-messaging/pass_us_tx_sms_written_consent_checked_per_recipient.yaml");
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("r.csv");
    std::fs::write(
        &csv,
        "id,jurisdiction,timezone,age,consent:sms_marketing,written:sms_marketing\n\
         signed,US-TX,America/Chicago,30,2026-01-05,true\n\
         phone,US-TX,America/Chicago,41,2026-01-07,\n\
         unsigned,US-TX,America/Chicago,25,2026-01-05,no\n\
         garbled,US-TX,America/Chicago,25,2026-01-05,signed\n",
    )
    .expect("write csv");
    let jsonl = dir.path().join("r.jsonl");
    std::fs::write(
        &jsonl,
        concat!(
            r#"{"id":"signed","jurisdiction":"US-TX","timezone":"America/Chicago","age":30,"consents":{"sms_marketing":{"granted_at":"2026-01-05","written":true}}}"#, "\n",
            r#"{"id":"phone","jurisdiction":"US-TX","timezone":"America/Chicago","age":41,"consents":{"sms_marketing":{"granted_at":"2026-01-07"}}}"#, "\n",
            r#"{"id":"unsigned","jurisdiction":"US-TX","timezone":"America/Chicago","age":25,"consents":{"sms_marketing":{"granted_at":"2026-01-05","written":false}}}"#, "\n",
            r#"{"id":"garbled","jurisdiction":"US-TX","timezone":"America/Chicago","age":25,"consents":{"sms_marketing":{"granted_at":"2026-01-05","written":"signed"}}}"#, "\n",
        ),
    )
    .expect("write records");
    let rule = "tcpa_64_1200_a2_prior_express_written_consent";
    for file in [&jsonl, &csv] {
        let (code, out, err) = gate(
            &campaign,
            file.to_str().expect("utf-8 path"),
            &["--at", "2026-03-12T18:00:00Z", "--no-reserve"],
        );
        assert_eq!(code, 0, "{err}");
        let d = decisions(&out);
        expect(&d, "signed", "allow", &[]);
        expect(&d, "phone", "suppress", &[rule]);
        expect(&d, "unsigned", "suppress", &[rule]);
        expect(&d, "garbled", "bad", &[]);
        assert!(
            out.contains(
                "not recorded as a signed written agreement (consents.sms_marketing.written)"
            ),
            "{out}"
        );
    }
}
