//! `scruple audit` end to end: cases written from the sources the audit
//! cites (29 CFR 1607.4(D); Google's and Yahoo's sender requirements), each
//! with the verdict the source gives, lawful ones included.

use std::fmt::Write as _;
use std::path::Path;

use assert_cmd::Command;

fn scruple(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::cargo_bin("scruple").unwrap_or_else(|e| panic!("{e}"));
    let out = cmd
        .current_dir(dir)
        .arg("audit")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One group of a campaign: `n` members with attribute values, `offered`
/// of them got the offer.
struct Group<'a> {
    campaign: &'a str,
    gender: &'a str,
    age_band: &'a str,
    n: usize,
    offered: usize,
}

fn write(dir: &Path, groups: &[Group<'_>]) {
    let mut attributes = String::from("recipient,gender,age_band\n");
    let mut outcomes = String::new();
    for (g, group) in groups.iter().enumerate() {
        for i in 0..group.n {
            let id = format!("{}-{g}-{i}", group.campaign);
            let _ = writeln!(attributes, "{id},{},{}", group.gender, group.age_band);
            let _ = writeln!(
                outcomes,
                r#"{{"recipient":"{id}","campaign":"{}","channel":"email","delivered":true,"offer_made":{}}}"#,
                group.campaign,
                i < group.offered
            );
        }
    }
    std::fs::write(dir.join("attributes.csv"), attributes).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("outcomes.jsonl"), outcomes).unwrap_or_else(|e| panic!("{e}"));
}

fn audit_json(dir: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec![
        "--attributes",
        "attributes.csv",
        "--outcomes",
        "outcomes.jsonl",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = scruple(dir, &args);
    let doc = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    (code, doc)
}

fn comparison<'a>(
    doc: &'a serde_json::Value,
    campaign: &str,
    attribute: &str,
    stage: &str,
) -> &'a serde_json::Value {
    let c = doc["campaigns"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["campaign"] == campaign));
    let a = c
        .and_then(|c| c["attributes"].as_array())
        .and_then(|a| a.iter().find(|a| a["attribute"] == attribute));
    a.and_then(|a| a["comparisons"].as_array())
        .and_then(|cs| cs.iter().find(|c| c["stage"] == stage))
        .unwrap_or_else(|| panic!("no {campaign}/{attribute}/{stage} in {doc}"))
}

#[test]
fn loan_offer_to_9_percent_of_over_60s_against_15_percent_is_flagged() {
    // Issue 15's own example, at 600 people a band: 54 of 600 (9%) against
    // 90 of 600 (15%): ratio 0.6, below four-fifths (29 CFR 1607.4(D)), and
    // significant (Fisher p ≈ 0.002), so it is evidence of adverse impact.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write(
        dir.path(),
        &[
            Group {
                campaign: "loan-q4",
                gender: "f",
                age_band: "60+",
                n: 300,
                offered: 27,
            },
            Group {
                campaign: "loan-q4",
                gender: "m",
                age_band: "60+",
                n: 300,
                offered: 27,
            },
            Group {
                campaign: "loan-q4",
                gender: "f",
                age_band: "18-39",
                n: 300,
                offered: 45,
            },
            Group {
                campaign: "loan-q4",
                gender: "m",
                age_band: "18-39",
                n: 300,
                offered: 45,
            },
        ],
    );
    let (code, doc) = audit_json(dir.path(), &[]);
    // A warning: exit 0 as `check` without --deny-warnings.
    assert_eq!(code, 0, "{doc}");
    let cmp = comparison(&doc, "loan-q4", "age_band", "offer_made");
    assert_eq!(cmp["status"], "adverse_impact");
    assert_eq!(cmp["lowest"], "60+");
    assert_eq!(cmp["highest"], "18-39");
    assert!((cmp["ratio"].as_f64().unwrap_or(0.0) - 0.6).abs() < 1e-12);
    let p = cmp["fisher_p"].as_f64().unwrap_or(1.0);
    assert!(p < 0.01 && p > 0.0005, "{p}");
    // Gender is balanced: no finding for it.
    assert_eq!(
        comparison(&doc, "loan-q4", "gender", "offer_made")["status"],
        "ok"
    );
    let findings = doc["findings"].as_array().cloned().unwrap_or_default();
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f["rule"], "fairness_adverse_impact");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["campaign"], "loan-q4");
    assert_eq!(f["groups"], serde_json::json!(["60+", "18-39"]));
    assert!(f["citations"][0]
        .as_str()
        .unwrap_or("")
        .contains("29 CFR 1607.4(D)"));
    // The team that promises parity fails the run on it.
    let (code, _) = audit_json(dir.path(), &["--deny-warnings"]);
    assert_eq!(code, 1);
    // Human output names the rule, campaign and groups, and cites.
    let (code, out, _) = scruple(
        dir.path(),
        &[
            "--attributes",
            "attributes.csv",
            "--outcomes",
            "outcomes.jsonl",
        ],
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("warning[fairness_adverse_impact]: In campaign `loan-q4`, age_band `60+`"),
        "{out}"
    );
    assert!(out.contains("cite: 29 CFR 1607.4(D)"), "{out}");
}

#[test]
fn small_numbers_are_insufficient_data_not_a_finding() {
    // 1607.4(D): "Greater differences in selection rate may not constitute
    // adverse impact where the differences are based on small numbers and
    // are not statistically significant". 1 of 10 against 5 of 10 (ratio
    // 0.2): groups below the minimum size are not compared at all.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write(
        dir.path(),
        &[
            Group {
                campaign: "pilot",
                gender: "f",
                age_band: "60+",
                n: 10,
                offered: 1,
            },
            Group {
                campaign: "pilot",
                gender: "m",
                age_band: "18-39",
                n: 10,
                offered: 5,
            },
        ],
    );
    let (code, doc) = audit_json(dir.path(), &[]);
    assert_eq!(code, 0);
    let cmp = comparison(&doc, "pilot", "age_band", "offer_made");
    assert_eq!(cmp["status"], "insufficient_data");
    assert_eq!(cmp["needed"], 30);
    assert_eq!(doc["findings"], serde_json::json!([]));
    let (_, out, _) = scruple(
        dir.path(),
        &[
            "--attributes",
            "attributes.csv",
            "--outcomes",
            "outcomes.jsonl",
        ],
    );
    assert!(out.contains("insufficient data"), "{out}");
}

#[test]
fn a_ratio_below_four_fifths_that_is_not_significant_is_reported_not_flagged() {
    // 15 of 40 against 20 of 40: ratio 0.75 but Fisher p ≈ 0.37; the same
    // sentence of 1607.4(D) applies. The report says how many people a test
    // would need.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write(
        dir.path(),
        &[
            Group {
                campaign: "news",
                gender: "f",
                age_band: "60+",
                n: 40,
                offered: 15,
            },
            Group {
                campaign: "news",
                gender: "m",
                age_band: "18-39",
                n: 40,
                offered: 20,
            },
        ],
    );
    let (code, doc) = audit_json(dir.path(), &["--deny-warnings"]);
    assert_eq!(code, 0, "{doc}");
    let cmp = comparison(&doc, "news", "age_band", "offer_made");
    assert_eq!(cmp["status"], "not_significant");
    assert!(cmp["needed"].as_u64().unwrap_or(0) > 40);
    assert_eq!(doc["findings"], serde_json::json!([]));
}

fn write_rates(dir: &Path, delivered: usize, complained: usize, unsubscribed: usize) {
    let mut attributes = String::from("recipient,gender\n");
    let mut outcomes =
        String::from("recipient,campaign,channel,time,delivered,unsubscribed,complained\n");
    for i in 0..delivered {
        let _ = writeln!(attributes, "r{i},{}", if i % 2 == 0 { "f" } else { "m" });
        let _ = writeln!(
            outcomes,
            "r{i},promo,email,2026-11-{:02},yes,{},{}",
            1 + i % 3,
            i < unsubscribed,
            i < complained
        );
    }
    std::fs::write(dir.join("attributes.csv"), attributes).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("outcomes.csv"), outcomes).unwrap_or_else(|e| panic!("{e}"));
}

fn audit_rates(dir: &Path) -> (i32, serde_json::Value) {
    let (code, out, err) = scruple(
        dir,
        &[
            "--attributes",
            "attributes.csv",
            "--outcomes",
            "outcomes.csv",
            "--format",
            "json",
        ],
    );
    (
        code,
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}")),
    )
}

#[test]
fn complaint_rate_at_the_providers_limit_is_an_error() {
    // Google's sender guidelines: never reach a 0.30% spam rate. 14 of
    // 4,000 is 0.35%.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write_rates(dir.path(), 4000, 14, 0);
    let (code, doc) = audit_rates(dir.path());
    assert_eq!(code, 1, "{doc}");
    let f = &doc["findings"][0];
    assert_eq!(
        doc["findings"].as_array().map(Vec::len),
        Some(1),
        "one finding, at the higher limit"
    );
    assert_eq!(f["rule"], "ethics_complaint_rate_providers");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["channel"], "email");
    assert!(f["citations"][0]
        .as_str()
        .unwrap_or("")
        .contains("Google Email sender guidelines"));
    // The trend has one entry per day.
    assert_eq!(
        doc["campaigns"][0]["trend"].as_array().map(Vec::len),
        Some(3)
    );
}

#[test]
fn complaint_rate_below_the_teams_limit_passes() {
    // 3 of 4,000 is 0.075%: below Google's recommended 0.10%.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write_rates(dir.path(), 4000, 3, 10);
    let (code, doc) = audit_rates(dir.path());
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["findings"], serde_json::json!([]));
}

#[test]
fn unsubscribe_rate_above_the_teams_limit_warns_once_there_is_enough_volume() {
    // The team's 0.5% limit: 30 of 4,000 (0.75%) warns; the same rate over
    // 400 deliveries is too little to judge (fewer than 10 / 0.5% = 2,000).
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write_rates(dir.path(), 4000, 0, 30);
    let (code, doc) = audit_rates(dir.path());
    assert_eq!(code, 0);
    assert_eq!(doc["findings"][0]["rule"], "ethics_unsubscribe_rate");
    assert_eq!(doc["findings"][0]["severity"], "warning");
    write_rates(dir.path(), 400, 0, 3);
    let (_, doc) = audit_rates(dir.path());
    assert_eq!(doc["findings"], serde_json::json!([]));
}

#[test]
fn decisions_are_the_eligible_base_and_hashed_ids_join() {
    // The decision log of `scruple serve --hash-ids` holds sha256 ids; the
    // attributes file too; outcomes hold plain ids and --hash-ids joins them.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let hash = |id: &str| format!("sha256:{}", scruple::audit::sha256_hex(id.as_bytes()));
    let mut attributes = String::from("recipient,age_band\n");
    let mut decisions = String::new();
    let mut outcomes = String::new();
    for i in 0..200 {
        let id = format!("r{i}");
        let band = if i < 100 { "60+" } else { "18-39" };
        let _ = writeln!(attributes, "{},{band}", hash(&id));
        // The gate suppresses half of the older recipients.
        let allow = i >= 100 || i % 2 == 0;
        let _ = writeln!(
            decisions,
            r#"{{"time":"2026-11-23T03:24:16Z","at":"2026-12-01T10:00:00Z","campaign":"loan","line":{i},"recipient":"{}","decision":"{}","rules":[],"policy":"6e9ff616724ab78f"}}"#,
            hash(&id),
            if allow { "allow" } else { "suppress" }
        );
        if allow {
            let _ = writeln!(
                outcomes,
                r#"{{"recipient":"{id}","campaign":"loan","delivered":true}}"#
            );
        }
    }
    std::fs::write(dir.path().join("attributes.csv"), attributes).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("decisions.jsonl"), decisions).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("outcomes.jsonl"), outcomes).unwrap_or_else(|e| panic!("{e}"));
    let (code, out, err) = scruple(
        dir.path(),
        &[
            "--attributes",
            "attributes.csv",
            "--decisions",
            "decisions.jsonl",
            "--outcomes",
            "outcomes.jsonl",
            "--hash-ids",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(doc["campaigns"][0]["base"], "decisions");
    assert_eq!(doc["campaigns"][0]["unmatched"], 0);
    for stage in ["allowed", "delivered"] {
        let cmp = comparison(&doc, "loan", "age_band", stage);
        assert_eq!(cmp["status"], "adverse_impact", "{stage}");
        assert_eq!(cmp["ratio"], 0.5, "{stage}");
    }
    // SARIF: one result per finding, on the outcomes file.
    let (_, out, _) = scruple(
        dir.path(),
        &[
            "--attributes",
            "attributes.csv",
            "--decisions",
            "decisions.jsonl",
            "--outcomes",
            "outcomes.jsonl",
            "--hash-ids",
            "--format",
            "sarif",
        ],
    );
    let sarif: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        sarif["runs"][0]["results"].as_array().map(Vec::len),
        Some(2)
    );
}

#[test]
fn bad_input_is_a_coded_diagnostic_and_exit_2() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        dir.path().join("attributes.csv"),
        "recipient,gender\nr1,f\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        dir.path().join("outcomes.csv"),
        "recipient,campaign,unsubscibed\nr1,c,1\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (code, out, err) = scruple(
        dir.path(),
        &[
            "--attributes",
            "attributes.csv",
            "--outcomes",
            "outcomes.csv",
        ],
    );
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("scruple::audit::unknown_field"), "{err}");
    assert!(err.contains("did you mean `unsubscribed`?"), "{err}");
    std::fs::write(
        dir.path().join("outcomes.csv"),
        "recipient,campaign,delivered\nr1,c,maybe\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (code, _, err) = scruple(
        dir.path(),
        &[
            "--attributes",
            "attributes.csv",
            "--outcomes",
            "outcomes.csv",
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("outcomes.csv, line 2"), "{err}");
    let (code, _, err) = scruple(
        dir.path(),
        &["--attributes", "missing.csv", "--outcomes", "outcomes.csv"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("scruple::audit::read"), "{err}");
    let (code, _, _) = scruple(
        dir.path(),
        &[
            "--attributes",
            "attributes.csv",
            "--max-complaint-rate",
            "lots",
        ],
    );
    assert_eq!(code, 2);
}

#[test]
fn the_fairness_pack_sets_the_thresholds_and_findings_point_at_its_rules() {
    // examples/policies/fairness.scruple: parity for credit, housing and
    // employment offers only. The same 9% / 15% disparity is flagged in a
    // credit campaign, not in a newsletter whose rows say `category:
    // newsletter`, and flagged in a campaign whose rows name no category
    // (an unknown category must not exempt a credit offer).
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut attributes = String::from("recipient,gender,age_band\n");
    let mut outcomes = String::new();
    for (campaign, category) in [
        ("loan", Some("credit")),
        ("news", Some("newsletter")),
        ("mystery", None),
    ] {
        for i in 0..1200 {
            let id = format!("{campaign}-{i}");
            let old = i < 600;
            let _ = writeln!(
                attributes,
                "{id},{},{}",
                if i % 2 == 0 { "f" } else { "m" },
                if old { "60+" } else { "18-39" }
            );
            let offered = if old { i % 100 < 9 } else { i % 100 < 15 };
            let category = category
                .map(|c| format!(r#","category":"{c}""#))
                .unwrap_or_default();
            let _ = writeln!(
                outcomes,
                r#"{{"recipient":"{id}","campaign":"{campaign}","offer_made":{offered}{category}}}"#
            );
        }
    }
    std::fs::write(dir.path().join("attributes.csv"), attributes).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("outcomes.jsonl"), outcomes).unwrap_or_else(|e| panic!("{e}"));
    let pack = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/policies/fairness.scruple"
    );
    let (code, doc) = audit_json(dir.path(), &["--policy", pack]);
    assert_eq!(code, 0, "{doc}");
    let flagged: Vec<&str> = doc["findings"]
        .as_array()
        .map(|f| f.iter().filter_map(|f| f["campaign"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(flagged, ["loan", "mystery"], "{doc}");
    assert_eq!(
        doc["findings"][0]["rule"],
        "fairness_parity_regulated_offers"
    );
    assert!(doc["findings"][0]["location"]
        .as_str()
        .unwrap_or("")
        .ends_with("fairness.scruple:32:3"));
    // The newsletter's comparison is still reported, judged against 0.8.
    assert_eq!(
        comparison(&doc, "news", "age_band", "offer_made")["status"],
        "adverse_impact"
    );
    let (_, out, _) = scruple(
        dir.path(),
        &[
            "--attributes",
            "attributes.csv",
            "--outcomes",
            "outcomes.jsonl",
            "--policy",
            pack,
        ],
    );
    assert!(out.contains("fairness_parity_regulated_offers"), "{out}");
    assert!(out.contains("threshold declared here"), "{out}");
    assert!(
        out.contains("require parity on [gender, age_band] at least 0.8"),
        "{out}"
    );
    // A policy without audit rules is a usage error.
    let (code, _, err) = scruple(
        dir.path(),
        &[
            "--attributes",
            "attributes.csv",
            "--outcomes",
            "outcomes.jsonl",
            "--pack",
            "baseline",
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("no audit rules"), "{err}");
}

#[test]
fn the_html_page_shows_rates_with_intervals_the_threshold_line_and_the_trend() {
    // examples/audit: a credit offer made to 6% of over-60s and 15% of
    // 18-39s, outcomes over five days.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = env!("CARGO_MANIFEST_DIR");
    let page = dir.path().join("audit.html");
    let (code, _, err) = scruple(
        dir.path(),
        &[
            "--attributes",
            &format!("{root}/examples/audit/attributes.csv"),
            "--outcomes",
            &format!("{root}/examples/audit/outcomes.jsonl"),
            "--policy",
            &format!("{root}/examples/policies/fairness.scruple"),
            "--html",
            &page.display().to_string(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{e}"));
    assert!(html.contains("<h2>Campaign <code>loan-q4</code></h2>"));
    // The age bands at the offer stage, the lowest one flagged in red, the
    // four-fifths line, the Wilson whiskers.
    assert!(
        html.contains("age_band at <code>offer_made</code>: ratio 0.40"),
        "{html}"
    );
    assert!(
        html.contains("fill=\"#c0504d\"><title>12 of 200</title>"),
        "{html}"
    );
    assert!(html.contains("0.8 × highest"));
    assert!(html.contains("<line x1="));
    // The trend per day with the limits of the pack's rate rules.
    assert!(html.contains("<polyline"));
    assert!(html.contains("complaint rate limit 0.30%"));
    assert!(html.contains("fairness_parity_regulated_offers"));
    assert!(!html.contains("<script"));
}

#[test]
fn ledger_sends_are_the_sent_stage() {
    // The send ledger (docs/ledger.md) records who was actually sent to:
    // 40 of 40 younger recipients, 20 of 40 older ones.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut attributes = String::from("recipient,age_band\n");
    let mut rows = String::from("campaign,slot,recipient,channel,sent_at\n");
    let mut outcomes = String::new();
    for i in 0..80 {
        let band = if i < 40 { "60+" } else { "18-39" };
        let _ = writeln!(attributes, "r{i},{band}");
        let _ = writeln!(outcomes, r#"{{"recipient":"r{i}","campaign":"promo"}}"#);
        if i >= 40 || i % 2 == 0 {
            let _ = writeln!(
                rows,
                "promo,2026-11-23T10:00:00Z,r{i},email,2026-11-23T10:00:05Z"
            );
        }
    }
    std::fs::write(dir.path().join("attributes.csv"), attributes).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("sends.csv"), rows).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("outcomes.jsonl"), outcomes).unwrap_or_else(|e| panic!("{e}"));
    let import = Command::cargo_bin("scruple")
        .unwrap_or_else(|e| panic!("{e}"))
        .current_dir(dir.path())
        .args(["ledger", "--ledger", "ledger.db", "import", "sends.csv"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let (code, doc) = audit_json(dir.path(), &["--ledger", "ledger.db"]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["campaigns"][0]["sends"], 60);
    let cmp = comparison(&doc, "promo", "age_band", "sent");
    assert_eq!(cmp["ratio"], 0.5);
    assert_eq!(cmp["status"], "adverse_impact");
}

/// Runs `scruple ARGS` (any subcommand) from the repository root.
fn scruple_at_root(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("scruple")
        .unwrap_or_else(|e| panic!("{e}"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn read_json(path: &str) -> serde_json::Value {
    let root = env!("CARGO_MANIFEST_DIR");
    let text = std::fs::read_to_string(format!("{root}/{path}")).unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn assert_valid(validator: &jsonschema::Validator, doc: &serde_json::Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}:\n{}", errors.join("\n"));
}

/// Issue 15 item 4: `schemas/audit.schema.json` describes every field
/// `--format json` writes (it forbids unknown ones), on the example data
/// with the fairness pack (findings, trend, categories) and on the
/// fairlearn fixtures (equal opportunity, qualified counts, insufficient
/// groups).
#[test]
fn audit_json_output_validates_against_its_schema() {
    let schema = read_json("schemas/audit.schema.json");
    assert!(jsonschema::meta::is_valid(&schema), "a valid JSON Schema");
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{e}"));
    let runs: [&[&str]; 3] = [
        &[
            "--attributes",
            "examples/audit/attributes.csv",
            "--outcomes",
            "examples/audit/outcomes.jsonl",
            "--policy",
            "examples/policies/fairness.scruple",
        ],
        &[
            "--attributes",
            "tests/fixtures/fairness/attributes.csv",
            "--outcomes",
            "tests/fixtures/fairness/outcomes.csv",
        ],
        &[
            "--attributes",
            "examples/audit/attributes.csv",
            "--outcomes",
            "examples/audit/outcomes.jsonl",
            "--min-group",
            "1000",
        ],
    ];
    for args in runs {
        let mut all = vec!["audit"];
        all.extend_from_slice(args);
        all.extend(["--format", "json"]);
        let (code, out, err) = scruple_at_root(&all);
        assert!(code == 0 || code == 1, "{err}");
        let doc: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
        assert_valid(&validator, &doc, &format!("{args:?}"));
    }
    // The schema is strict: a field it does not know is refused.
    let (_, out, _) = scruple_at_root(&[
        "audit",
        "--attributes",
        "examples/audit/attributes.csv",
        "--outcomes",
        "examples/audit/outcomes.jsonl",
        "--format",
        "json",
    ]);
    let mut doc: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
    doc["summary"]["extra"] = serde_json::json!(1);
    assert!(!validator.is_valid(&doc));
}

/// Issue 15 item 5: SARIF output is valid SARIF 2.1.0 and names the
/// policy's own audit rules (with their citations and where they are
/// declared), each result pointing at its rule by index.
#[test]
fn audit_sarif_is_valid_and_lists_the_policys_rules() {
    let mut schema = read_json("tests/schemas/sarif-schema-2.1.0.json");
    // The official schema's stray `]` in two `language` patterns (see
    // tests/check_cli.rs): scruple writes neither property.
    for definition in ["run", "toolComponent"] {
        schema["definitions"][definition]["properties"]["language"]["pattern"] =
            serde_json::json!("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$");
    }
    let validator = jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{e}"));
    let (code, out, err) = scruple_at_root(&[
        "audit",
        "--attributes",
        "examples/audit/attributes.csv",
        "--outcomes",
        "examples/audit/outcomes.jsonl",
        "--policy",
        "examples/policies/fairness.scruple",
        "--format",
        "sarif",
    ]);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}"));
    assert_valid(&validator, &doc, "audit SARIF");
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(
        ids,
        [
            "fairness_parity_regulated_offers",
            "fairness_spam_rate_providers",
            "fairness_spam_rate_recommended",
            "fairness_unsubscribe_rate"
        ]
    );
    // 29 CFR 1607.4(D) is linked to the eCFR; the declaration is named.
    assert!(
        rules[0]["helpUri"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://www.ecfr.gov/")),
        "{}",
        rules[0]
    );
    assert!(rules[0]["properties"]["declared"]
        .as_str()
        .is_some_and(|d| d.contains("fairness.scruple:")));
    let results = run["results"].as_array().cloned().unwrap_or_default();
    assert!(!results.is_empty());
    for r in &results {
        let i = r["ruleIndex"].as_u64().unwrap_or(u64::MAX) as usize;
        assert_eq!(rules.get(i).map(|x| &x["id"]), Some(&r["ruleId"]));
    }
}

/// Issue 15 item 3: `scruple report --audit-…` adds the fairness section:
/// per campaign the selection rates with intervals against the threshold
/// line, and the opt-out and complaint rates per day, with nothing loaded
/// from elsewhere. A parity warning leaves the exit code at 0; the same
/// report with --deny-warnings fails, as for `check`.
#[test]
fn the_report_has_a_fairness_section_from_the_audit_flags() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let page = dir.path().join("report.html");
    let page_arg = page.display().to_string();
    let args = [
        "report",
        "--policy",
        "examples/policies/fairness.scruple",
        "examples/campaigns/spring-sale.yaml",
        "--at",
        "2026-03-01",
        "--audit-attributes",
        "examples/audit/attributes.csv",
        "--audit-outcomes",
        "examples/audit/outcomes.jsonl",
        "-o",
        &page_arg,
    ];
    let (code, _, err) = scruple_at_root(&args);
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{e}"));
    assert!(html.contains("<a href=\"#fairness\">"), "a contents entry");
    assert!(html.contains("<section class=\"major fairness\" id=\"fairness\">"));
    assert!(html.contains("<h3>Campaign <code>loan-q4</code></h3>"));
    assert!(html.contains("<h4>age_band at <code>offer_made</code>: ratio 0.40"));
    assert!(html.contains("fill=\"#c0504d\"><title>12 of 200</title>"));
    assert!(html.contains("0.8 × highest"));
    assert!(html.contains("<polyline"));
    assert!(html.contains("complaint rate limit 0.30%"));
    assert!(!html.contains("<script"));
    assert!(!html.contains("src=\"http"));
    assert!(!html.contains("href=\"http") || !html.contains("<link"));

    // The Markdown report has the comparisons and findings as tables.
    let mut markdown = args.to_vec();
    markdown.truncate(args.len() - 2);
    markdown.extend(["--format", "markdown"]);
    let (code, out, err) = scruple_at_root(&markdown);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("## Fairness and ethical metrics"), "{out}");
    assert!(
        out.contains("| `age_band` | offer_made | `60+` | `18-39` | 0.40 | 0.8 |"),
        "{out}"
    );
    assert!(out.contains("**adverse impact**"), "{out}");
    assert!(out.contains("fairness_parity_regulated_offers"), "{out}");

    let mut strict = args.to_vec();
    strict.push("--deny-warnings");
    let (code, _, err) = scruple_at_root(&strict);
    assert_eq!(code, 1, "{err}");

    // Without the attributes, or with a bad record: exit 2, a coded
    // diagnostic, and no fairness section.
    let (code, _, err) = scruple_at_root(&[
        "report",
        "--policy",
        "examples/policies/fairness.scruple",
        "examples/campaigns/spring-sale.yaml",
        "--audit-outcomes",
        "examples/audit/outcomes.jsonl",
        "-o",
        &page_arg,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("scruple::audit::usage"), "{err}");
    let html = std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{e}"));
    assert!(!html.contains("id=\"fairness\""));
}

/// Issue 15 item 2: `scruple test` runs the fairness pack's audit tests
/// (examples/policies/tests/fairness.tests.yaml: a disparity that fires,
/// fair rates that pass, small groups that are insufficient data, spam
/// rates both sides of 0.3%), and a wrong expectation fails the run.
#[test]
fn scruple_test_exercises_the_audit_rules_both_ways() {
    let (code, out, err) =
        scruple_at_root(&["test", "--policy", "examples/policies/fairness.scruple"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("8 tests in 1 file: 8 passed, 0 failed"),
        "{out}"
    );

    // The adverse Q&A 12 rates expected to pass, and the small groups
    // expected to fire: both tests fail, and say what happened.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = env!("CARGO_MANIFEST_DIR");
    let data = format!("{root}/examples/policies/tests/fairness");
    std::fs::write(
        dir.path().join("wrong.tests.yaml"),
        format!(
            "tests:
  - name: adverse expected to pass
    audit:
      attributes: {data}/qa12-adverse-attributes.csv
      outcomes: {data}/qa12-adverse-outcomes.csv
    expect:
      passes: [fairness_parity_regulated_offers]
  - name: small groups expected to fire
    audit:
      attributes: {data}/small-attributes.csv
      outcomes: {data}/small-outcomes.csv
      min_group: 50
    expect:
      fires: [fairness_parity_regulated_offers]
"
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let suite = dir.path().join("wrong.tests.yaml").display().to_string();
    let (code, out, err) = scruple_at_root(&[
        "test",
        "--policy",
        "examples/policies/fairness.scruple",
        &suite,
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("fired (warning)"), "{out}");
    assert!(out.contains("had insufficient data"), "{out}");

    // Audit rules cannot be judged on a campaign: in a campaign test they
    // do not apply.
    std::fs::write(
        dir.path().join("campaign.tests.yaml"),
        format!(
            "tests:\n  - name: a campaign file says nothing about who got the offer\n    campaign: {root}/examples/campaigns/spring-sale.yaml\n    expect:\n      not_applicable: [fairness_parity_regulated_offers, fairness_unsubscribe_rate]\n"
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let suite = dir.path().join("campaign.tests.yaml").display().to_string();
    let (code, out, err) = scruple_at_root(&[
        "test",
        "--policy",
        "examples/policies/fairness.scruple",
        &suite,
    ]);
    assert_eq!(code, 0, "{out}{err}");

    // A missing input file is a coded error pointing at the test file.
    std::fs::write(
        dir.path().join("missing.tests.yaml"),
        "tests:\n  - name: x\n    audit:\n      attributes: nowhere.csv\n      outcomes_inline: |\n        recipient,campaign\n        a,c\n    expect:\n      passes: [fairness_unsubscribe_rate]\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let suite = dir.path().join("missing.tests.yaml").display().to_string();
    let (code, _, err) = scruple_at_root(&[
        "test",
        "--policy",
        "examples/policies/fairness.scruple",
        &suite,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("scruple::test::audit_input_not_found"),
        "{err}"
    );
}
