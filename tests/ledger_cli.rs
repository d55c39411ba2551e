//! End-to-end tests of the send ledger: `scruple gate --ledger/--record` and
//! `scruple ledger import|history|prune|export`, on the real binary, each in
//! its own temporary directory (so the default `.scruple/ledger.db` lands
//! there), with the shipped packs and no scruple.toml.
//!
//! The ledger is inspected through `scruple ledger export`, and directly with
//! SQLite for what the binary cannot tell about itself: integrity after a
//! killed run, and a schema version from the future.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::str::FromStr;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

/// The send slot of most runs: 11:00 in Paris, outside quiet hours.
const AT: &str = "2026-11-23T10:00:00Z";
/// The example campaign: email, purpose `email_marketing`, EU-FR and EU-DE.
const CAMPAIGN_ID: &str = "spring-sale-2026";

fn campaign() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/campaigns/spring-sale.yaml")
}

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_scruple"))
}

/// `scruple ARGS… --no-config`, run in `dir`.
fn scruple(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .arg("--no-config");
    cmd
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(mut cmd: impl std::borrow::BorrowMut<Command>) -> Run {
    let out = cmd.borrow_mut().output().expect("scruple runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A recipient every rule of the example campaign allows at [`AT`].
fn recipient(id: &str) -> String {
    format!(
        r#"{{"id":"{id}","jurisdiction":"EU-FR","timezone":"Europe/Paris","age":34,"consents":{{"email_marketing":{{"granted_at":"2026-06-01T09:00:00Z","source":"double_opt_in"}}}}}}"#
    )
}

fn write_recipients(dir: &Path, name: &str, ids: &[String]) -> PathBuf {
    let path = dir.join(name);
    let text: String = ids.iter().map(|id| recipient(id) + "\n").collect();
    std::fs::write(&path, text).expect("recipients written");
    path
}

/// `scruple gate` of the example campaign (or `campaign`) on `recipients` at `at`.
fn gate(dir: &Path, campaign: &Path, recipients: &Path, at: &str, extra: &[&str]) -> Run {
    let mut cmd = scruple(dir, &["gate"]);
    cmd.arg(campaign)
        .arg("--recipients")
        .arg(recipients)
        .args(["--at", at])
        .args(extra);
    run(cmd)
}

/// Decision per recipient id, from the gate's JSON lines.
fn decisions(stdout: &str) -> Vec<(String, String, Vec<String>)> {
    stdout
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("a JSON decision");
            let rules = v["reasons"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .filter_map(|x| x["rule"].as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            (
                v["recipient"].as_str().unwrap_or_default().to_string(),
                v["decision"].as_str().unwrap_or_default().to_string(),
                rules,
            )
        })
        .collect()
}

/// Every row of the ledger in `dir` (default path), via `scruple ledger export`.
fn export(dir: &Path) -> Vec<Value> {
    let out = run(scruple(dir, &["ledger", "export"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON row"))
        .collect()
}

/// Imports JSON Lines `rows` into the default ledger of `dir`.
fn import(dir: &Path, rows: &[String]) -> Run {
    let file = dir.join("past.jsonl");
    std::fs::write(&file, rows.join("\n")).expect("rows written");
    run(scruple(dir, &["ledger", "import"]).arg(&file))
}

fn send_row(campaign: &str, recipient: &str, channel: &str, sent_at: &str) -> String {
    format!(
        r#"{{"campaign":"{campaign}","recipient":"{recipient}","channel":"{channel}","sent_at":"{sent_at}"}}"#
    )
}

fn ledger_path(dir: &Path) -> PathBuf {
    dir.join(".scruple/ledger.db")
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

#[test]
fn caps_count_recent_sends_from_the_ledger() {
    let dir = tempdir();
    let mut rows = Vec::new();
    for (i, day) in [
        "2026-11-17T10:00:00Z",
        "2026-11-19T10:00:00Z",
        "2026-11-22T10:00:00Z",
    ]
    .iter()
    .enumerate()
    {
        rows.push(send_row(&format!("past-{i}"), "three-recent", "email", day));
        if i > 0 {
            rows.push(send_row(&format!("past-{i}"), "two-recent", "email", day));
        }
        // Out of the 7-day window, or on another channel: not counted.
        rows.push(send_row(
            &format!("old-{i}"),
            "three-old",
            "email",
            "2026-11-01T10:00:00Z",
        ));
        rows.push(send_row(&format!("sms-{i}"), "three-sms", "sms", day));
    }
    // The same send twice: one row.
    rows.push(send_row(
        "old-0",
        "three-old",
        "email",
        "2026-11-01T10:00:00Z",
    ));
    let imported = import(dir.path(), &rows);
    assert_eq!(imported.code, 0, "{}", imported.stderr);
    assert!(
        imported
            .stderr
            .contains("imported 11 sends into .scruple/ledger.db (1 already there)"),
        "{}",
        imported.stderr
    );

    let ids: Vec<String> = [
        "three-recent",
        "two-recent",
        "three-old",
        "three-sms",
        "new",
    ]
    .map(String::from)
    .to_vec();
    let recipients = write_recipients(dir.path(), "batch.jsonl", &ids);
    let out = gate(dir.path(), &campaign(), &recipients, AT, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let got = decisions(&out.stdout);
    let expected = [
        ("three-recent", "suppress"),
        ("two-recent", "allow"),
        ("three-old", "allow"),
        ("three-sms", "allow"),
        ("new", "allow"),
    ];
    for ((id, decision, rules), (want_id, want)) in got.iter().zip(expected) {
        assert_eq!(
            (id.as_str(), decision.as_str()),
            (want_id, want),
            "{}",
            out.stdout
        );
        if want == "suppress" {
            assert_eq!(rules, &["baseline_email_frequency_cap"]);
        }
    }
    assert!(
        out.stdout
            .contains("already 3 email sends in the window; the cap is 3"),
        "{}",
        out.stdout
    );
}

/// Issue 10 item 4: the cap counted every send from the window's start on,
/// with no end, so sends a year later suppressed this one. A cap of 3 per
/// 7 days counts the sends in any 7-day window that holds the send: those
/// two days later do, those a year later do not.
#[test]
fn frequency_caps_count_only_sends_within_the_window() {
    let dir = tempdir();
    let mut rows = Vec::new();
    for i in 0..3 {
        rows.push(send_row(
            &format!("next-year-{i}"),
            "next-year",
            "email",
            &format!("2027-11-{:02}T10:00:00Z", 23 + i),
        ));
        rows.push(send_row(
            &format!("in-two-days-{i}"),
            "in-two-days",
            "email",
            "2026-11-25T10:00:00Z",
        ));
    }
    let imported = import(dir.path(), &rows);
    assert_eq!(imported.code, 0, "{}", imported.stderr);
    let ids = ["next-year", "in-two-days"].map(String::from).to_vec();
    let recipients = write_recipients(dir.path(), "batch.jsonl", &ids);
    let out = gate(dir.path(), &campaign(), &recipients, AT, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        decisions(&out.stdout),
        [
            ("next-year".to_string(), "allow".to_string(), vec![]),
            (
                "in-two-days".to_string(),
                "suppress".to_string(),
                vec!["baseline_email_frequency_cap".to_string()]
            ),
        ],
        "{}",
        out.stdout
    );
}

/// Issue 10 item 4: decided and recorded in any order, send slots keep the
/// cap (no 7-day window of the ledger holds more than 3 sends), and
/// re-deciding any slot afterwards gives the decision of its own run. (Which
/// slots win depends on the order, as with any first-come cap; that no
/// order can break the cap or change a decision already made does not.)
/// Counting from the window's start with no end, an earlier slot re-run
/// after later ones were recorded came out suppressed.
#[test]
fn frequency_cap_decisions_hold_in_any_order() {
    let slots = [
        "2026-11-16T10:00:00Z",
        "2026-11-18T10:00:00Z",
        "2026-11-20T10:00:00Z",
        "2026-11-22T10:00:00Z",
        "2026-11-24T10:00:00Z",
    ];
    let orders: [[usize; 5]; 4] = [
        [0, 1, 2, 3, 4],
        [4, 3, 2, 1, 0],
        [2, 0, 4, 1, 3],
        [3, 4, 0, 2, 1],
    ];
    for order in orders {
        let dir = tempdir();
        let recipients = write_recipients(dir.path(), "one.jsonl", &["r".to_string()]);
        let decide = |slot: &str, extra: &[&str]| -> String {
            let out = gate(dir.path(), &campaign(), &recipients, slot, extra);
            assert_eq!(out.code, 0, "{}", out.stderr);
            decisions(&out.stdout)[0].1.clone()
        };
        let mut first = [""; 5].map(String::from);
        for &i in &order {
            first[i] = decide(slots[i], &["--record"]);
        }
        let sent: Vec<i64> = export(dir.path())
            .iter()
            .map(|row| {
                let at = row["sent_at"].as_str().expect("sent_at");
                jiff::Timestamp::from_str(at).expect("a time").as_second()
            })
            .collect();
        for &start in &sent {
            let held = sent
                .iter()
                .filter(|&&t| start <= t && t < start + 7 * 86_400)
                .count();
            assert!(
                held <= 3,
                "order {order:?}: {held} sends in a week: {sent:?}"
            );
        }
        for (i, slot) in slots.iter().enumerate() {
            assert_eq!(
                decide(slot, &[]),
                first[i],
                "order {order:?}: slot {slot} re-decided differently (first runs: {first:?})"
            );
        }
    }
}

#[test]
fn a_preview_creates_no_ledger() {
    let dir = tempdir();
    let recipients = write_recipients(dir.path(), "batch.jsonl", &["a".to_string()]);
    let out = gate(dir.path(), &campaign(), &recipients, AT, &["--no-reserve"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!dir.path().join(".scruple").exists());
    let out = run(scruple(dir.path(), &["ledger", "export"]));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("no ledger at `.scruple/ledger.db`"),
        "{}",
        out.stderr
    );
    assert!(!dir.path().join(".scruple").exists());
}

#[test]
fn recording_is_idempotent_per_send_slot() {
    let dir = tempdir();
    // `two-recent` has 2 sends in the week: this campaign's send is the third.
    let rows = [
        send_row("past-1", "two-recent", "email", "2026-11-20T10:00:00Z"),
        send_row("past-2", "two-recent", "email", "2026-11-21T10:00:00Z"),
    ];
    assert_eq!(import(dir.path(), &rows).code, 0);
    let ids: Vec<String> = ["a", "b", "two-recent", "a"].map(String::from).to_vec();
    let recipients = write_recipients(dir.path(), "batch.jsonl", &ids);

    let first = gate(dir.path(), &campaign(), &recipients, AT, &["--record"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    // `a` is listed twice: one send.
    assert!(
        first
            .stderr
            .contains("recorded 3 sends in .scruple/ledger.db (1 already there)"),
        "{}",
        first.stderr
    );
    assert_eq!(export(dir.path()).len(), 5);

    // The same campaign and slot again: the same decisions (the run's own
    // sends do not count against it), nothing recorded twice.
    let again = gate(dir.path(), &campaign(), &recipients, AT, &["--record"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(decisions(&again.stdout), decisions(&first.stdout));
    assert!(
        again
            .stderr
            .contains("recorded 0 sends in .scruple/ledger.db (4 already there)"),
        "{}",
        again.stderr
    );
    let rows = export(dir.path());
    assert_eq!(rows.len(), 5);
    let ours: Vec<&Value> = rows
        .iter()
        .filter(|r| r["campaign"] == CAMPAIGN_ID)
        .collect();
    assert_eq!(ours.len(), 3);
    for row in ours {
        assert_eq!(
            (
                row["slot"].as_str(),
                row["sent_at"].as_str(),
                row["channel"].as_str()
            ),
            (Some(AT), Some(AT), Some("email"))
        );
    }

    // The next day is another send: it counts, and `two-recent` now has 3.
    let next = gate(
        dir.path(),
        &campaign(),
        &recipients,
        "2026-11-24T10:00:00Z",
        &["--record"],
    );
    assert_eq!(next.code, 0, "{}", next.stderr);
    let got = decisions(&next.stdout);
    assert_eq!(got[2].1, "suppress", "{}", next.stdout);
    assert!(next.stderr.contains("recorded 2 sends"), "{}", next.stderr);
    assert_eq!(export(dir.path()).len(), 7);

    let history = run(scruple(dir.path(), &["ledger", "history", "a"]));
    assert_eq!(history.code, 0, "{}", history.stderr);
    assert_eq!(
        history.stdout,
        "sent_at               channel  campaign          slot\n\
         2026-11-24T10:00:00Z  email    spring-sale-2026  2026-11-24T10:00:00Z\n\
         2026-11-23T10:00:00Z  email    spring-sale-2026  2026-11-23T10:00:00Z\n"
    );
}

/// Writes recipients to the child's standard input until it is gone.
fn feed_forever(mut stdin: std::process::ChildStdin) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut written = 0u64;
        let mut chunk = String::new();
        loop {
            chunk.clear();
            for _ in 0..1_000 {
                chunk.push_str(&recipient(&format!("stream-{written}")));
                chunk.push('\n');
                written += 1;
            }
            if stdin.write_all(chunk.as_bytes()).is_err() {
                return written;
            }
        }
    })
}

/// Issue 14: a run decides in chunks of 1,000, each one transaction that
/// records its allowed sends; a killed run leaves whole chunks (their sends
/// recorded, exactly once) and nothing of the chunk it was deciding.
#[test]
fn a_killed_run_records_whole_chunks_only() {
    let dir = tempdir();
    // A complete run first: its rows must survive the killed one.
    let recipients = write_recipients(
        dir.path(),
        "first.jsonl",
        &["kept-1".to_string(), "kept-2".to_string()],
    );
    assert_eq!(
        gate(dir.path(), &campaign(), &recipients, AT, &["--record"]).code,
        0
    );

    // An endless stream of recipients, so the run is certainly mid-way when
    // killed: decisions are flowing to --allowed, sends are staged.
    let allowed = dir.path().join("allowed.jsonl");
    let mut child = std::process::Command::new(bin())
        .current_dir(dir.path())
        .arg("gate")
        .arg(campaign())
        .args([
            "--recipients",
            "-",
            "--at",
            "2026-11-24T10:00:00Z",
            "--record",
            "--no-config",
        ])
        .arg("--allowed")
        .arg(&allowed)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("scruple starts");
    let feeder = feed_forever(child.stdin.take().expect("a stdin pipe"));
    let started = Instant::now();
    while std::fs::metadata(&allowed).map(|m| m.len()).unwrap_or(0) < 100_000 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no decisions after 2 minutes"
        );
        assert!(
            child.try_wait().expect("status").is_none(),
            "the gate stopped by itself"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    child.kill().expect("killed");
    child.wait().expect("reaped");
    let fed = feeder.join().expect("the feeder ends");
    assert!(fed > 1_000, "only {fed} records were fed");

    let conn = rusqlite::Connection::open(ledger_path(dir.path())).expect("the ledger opens");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity check");
    assert_eq!(check, "ok");
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect("a count") };
    let streamed = count("SELECT count(*) FROM sends WHERE recipient LIKE 'stream-%'");
    assert_eq!(streamed % 1_000, 0, "{streamed} sends: not whole chunks");
    // In input order: the chunks recorded are the first ones.
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM sends WHERE recipient LIKE 'stream-%' \
             AND CAST(substr(recipient, 8) AS INTEGER) >= {streamed}"
        )),
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM sends WHERE recipient LIKE 'kept-%'"),
        2
    );
    drop(conn);
    assert_eq!(export(dir.path()).len() as i64, 2 + streamed);
}

/// Issue 14: killed at any moment, a recording run leaves whole chunks; the
/// same run again records the rest, nothing twice, and allows everyone the
/// first run had recorded (its own sends are not counted against it).
#[test]
fn a_kill_at_any_moment_leaves_whole_chunks_and_a_rerun_completes() {
    let dir = tempdir();
    let n = 20_000;
    let ids: Vec<String> = (0..n).map(|i| format!("r-{i}")).collect();
    let recipients = write_recipients(dir.path(), "batch.jsonl", &ids);
    let ledger = ledger_path(dir.path());
    // Kills spread over start-up, deciding, and the final commit.
    for (day, delay_ms) in [50u64, 150, 300, 500, 800, 1_200, 2_000].iter().enumerate() {
        // Slots 8 days apart: no cap window holds two of them.
        let at = (jiff::Timestamp::from_str("2026-12-01T10:00:00Z").expect("a time")
            + jiff::SignedDuration::from_hours(24 * 8 * day as i64))
        .to_string();
        let mut child = std::process::Command::new(bin())
            .current_dir(dir.path())
            .arg("gate")
            .arg(campaign())
            .arg("--recipients")
            .arg(&recipients)
            .args(["--at", &at, "--record", "--no-config"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("scruple starts");
        std::thread::sleep(Duration::from_millis(*delay_ms));
        let _ = child.kill();
        child.wait().expect("reaped");
        if !ledger.exists() {
            continue;
        }
        let conn = rusqlite::Connection::open(&ledger).expect("the ledger opens");
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("integrity check");
        assert_eq!(check, "ok");
        let slot = jiff::Timestamp::from_str(&at).expect("a time").as_second();
        // A kill during the very first migration leaves an empty database
        // (the migration is one transaction): no table means nothing recorded.
        let recorded: i64 =
            match conn.query_row("SELECT count(*) FROM sends WHERE slot = ?1", [slot], |r| {
                r.get(0)
            }) {
                Ok(n) => n,
                Err(e) if e.to_string().contains("no such table") => 0,
                Err(e) => panic!("killed after {delay_ms} ms: cannot count sends: {e}"),
            };
        assert!(
            recorded % 1_000 == 0,
            "killed after {delay_ms} ms: {recorded} of {n} sends recorded"
        );
        drop(conn);
        let again = gate(dir.path(), &campaign(), &recipients, &at, &["--record"]);
        assert_eq!(again.code, 0, "{}", again.stderr);
        let allowed = decisions(&again.stdout)
            .iter()
            .filter(|d| d.1 == "allow")
            .count();
        assert_eq!(allowed, ids.len(), "killed after {delay_ms} ms");
        let conn = rusqlite::Connection::open(&ledger).expect("the ledger opens");
        let recorded: i64 = conn
            .query_row("SELECT count(*) FROM sends WHERE slot = ?1", [slot], |r| {
                r.get(0)
            })
            .expect("a count");
        assert_eq!(recorded as usize, n, "killed after {delay_ms} ms");
    }
}

/// Four campaigns recording the same recipients at the same time, with a cap
/// of 3 per 7 days: every run succeeds (none fails on a lock), and every
/// recipient gets exactly 3 sends: the runs interleave chunk by chunk
/// (issue 14: no lock is held for a whole run), so which campaigns a
/// recipient gets depends on the order the chunks were decided in. (Before
/// issue 14 item 2, all four recorded everyone: a fourth send in the window.)
#[test]
fn concurrent_writers_land_up_to_the_cap() {
    let dir = tempdir();
    let template = std::fs::read_to_string(campaign()).expect("the example campaign");
    let per_campaign = 3_000;
    let mut children = Vec::new();
    for c in 0..4 {
        let id = format!("concurrent-{c}");
        let file = dir.path().join(format!("{id}.yaml"));
        std::fs::write(
            &file,
            template.replace(&format!("id: {CAMPAIGN_ID}"), &format!("id: {id}")),
        )
        .expect("campaign written");
        let ids: Vec<String> = (0..per_campaign).map(|i| format!("r-{i}")).collect();
        let recipients = write_recipients(dir.path(), &format!("{id}.jsonl"), &ids);
        let child = std::process::Command::new(bin())
            .current_dir(dir.path())
            .arg("gate")
            .arg(&file)
            .arg("--recipients")
            .arg(&recipients)
            .args(["--at", AT, "--record", "--no-config"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("scruple starts");
        children.push(child);
    }
    for child in children {
        let out = child.wait_with_output().expect("scruple ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
    }
    let rows = export(dir.path());
    assert_eq!(rows.len(), 3 * per_campaign);
    let mut per_recipient: std::collections::BTreeMap<String, usize> = Default::default();
    for r in &rows {
        *per_recipient
            .entry(r["recipient"].as_str().unwrap_or_default().to_string())
            .or_default() += 1;
    }
    assert_eq!(per_recipient.len(), per_campaign);
    assert!(per_recipient.values().all(|&n| n == 3), "{per_recipient:?}");
}

#[test]
fn import_history_prune_export_round_trip() {
    let dir = tempdir();
    let csv = "campaign,slot,recipient,channel,sent_at\n\
               spring,2026-11-20T10:00:00Z,r1,email,2026-11-20T10:05:00Z\n\
               spring,,r1,sms,2026-11-20\n\
               autumn,,r1,email,1792000000\n\
               autumn,,r2,email,2026-09-01T08:00:00Z\n";
    std::fs::write(dir.path().join("past.csv"), csv).expect("csv written");
    let out = run(scruple(dir.path(), &["ledger", "import", "past.csv"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("imported 4 sends into .scruple/ledger.db (0 already there)"),
        "{}",
        out.stderr
    );

    let history = run(scruple(
        dir.path(),
        &["ledger", "history", "r1", "--format", "csv"],
    ));
    assert_eq!(history.code, 0, "{}", history.stderr);
    assert_eq!(
        history.stdout,
        "campaign,slot,recipient,channel,sent_at\n\
         spring,2026-11-20T10:00:00Z,r1,email,2026-11-20T10:05:00Z\n\
         spring,2026-11-20T00:00:00Z,r1,sms,2026-11-20T00:00:00Z\n\
         autumn,2026-10-14T17:46:40Z,r1,email,2026-10-14T17:46:40Z\n"
    );
    let nobody = run(scruple(dir.path(), &["ledger", "history", "nobody"]));
    assert_eq!((nobody.code, nobody.stdout.as_str()), (0, ""));
    assert!(
        nobody.stderr.contains("no sends to `nobody`"),
        "{}",
        nobody.stderr
    );

    // Export as CSV, import into another ledger, export again: the same rows.
    let exported = run(scruple(
        dir.path(),
        &["ledger", "export", "--format", "csv"],
    ));
    assert_eq!(exported.code, 0, "{}", exported.stderr);
    assert_eq!(exported.stdout.lines().count(), 5);
    let mut import_copy = scruple(
        dir.path(),
        &[
            "ledger", "import", "-", "--format", "csv", "--ledger", "copy.db",
        ],
    );
    import_copy.write_stdin(exported.stdout.clone());
    assert_eq!(run(import_copy).code, 0);
    let copy = run(scruple(
        dir.path(),
        &["ledger", "export", "--format", "csv", "--ledger", "copy.db"],
    ));
    assert_eq!(copy.stdout, exported.stdout);
    // Importing the same rows again changes nothing.
    let mut again = scruple(
        dir.path(),
        &[
            "ledger", "import", "-", "--format", "csv", "--ledger", "copy.db",
        ],
    );
    again.write_stdin(exported.stdout.clone());
    let again = run(again);
    assert!(
        again
            .stderr
            .contains("imported 0 sends into copy.db (4 already there)"),
        "{}",
        again.stderr
    );

    // Prune by the policy's longest cap window (7 days before --at).
    let pruned = run(scruple(
        dir.path(),
        &["ledger", "prune", "--at", "2026-11-25T00:00:00Z"],
    ));
    assert_eq!(pruned.code, 0, "{}", pruned.stderr);
    assert!(
        pruned.stderr.contains(
            "pruned 2 sends older than the longest cap window (7 days of `baseline_email_frequency_cap`), made before 2026-11-18T00:00:00Z"
        ),
        "{}",
        pruned.stderr
    );
    assert_eq!(export(dir.path()).len(), 2);
    let pruned = run(scruple(
        dir.path(),
        &[
            "ledger",
            "prune",
            "--older-than",
            "1d",
            "--at",
            "2026-11-21T01:00:00Z",
        ],
    ));
    assert!(
        pruned.stderr.contains("pruned 1 send older than 1 day"),
        "{}",
        pruned.stderr
    );
    assert_eq!(export(dir.path()).len(), 1);
}

#[test]
fn bad_rows_import_nothing() {
    let dir = tempdir();
    let rows = [
        send_row("c", "r1", "email", "2026-11-20T10:00:00Z"),
        r#"{"campaign":"c","recipient":"r2","channel":"email","sent_at":"last tuesday"}"#
            .to_string(),
    ];
    let out = import(dir.path(), &rows);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("line 2: `last tuesday` is not a date or an RFC 3339 time"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("nothing was imported"),
        "{}",
        out.stderr
    );
    assert_eq!(export(dir.path()).len(), 0);

    let out = run(scruple(dir.path(), &["ledger", "import", "missing.csv"]));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("cannot read `missing.csv`"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_ledger_from_a_newer_scruple_is_refused() {
    let dir = tempdir();
    assert_eq!(
        import(dir.path(), &[send_row("c", "r1", "email", "2026-11-20")]).code,
        0
    );
    let conn = rusqlite::Connection::open(ledger_path(dir.path())).expect("the ledger opens");
    conn.pragma_update(None, "user_version", 99)
        .expect("version set");
    drop(conn);

    let recipients = write_recipients(dir.path(), "batch.jsonl", &["r1".to_string()]);
    for out in [
        gate(dir.path(), &campaign(), &recipients, AT, &[]),
        run(scruple(dir.path(), &["ledger", "export"])),
    ] {
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(
            out.stderr.contains(
                "ledger `.scruple/ledger.db`: the ledger has schema version 99, newer than this scruple knows (3); upgrade scruple to use it"
            ),
            "{}",
            out.stderr
        );
        assert_eq!(out.stdout, "");
    }

    std::fs::write(
        dir.path().join("notes.txt"),
        "not a database at all, just some text",
    )
    .expect("written");
    let out = run(scruple(
        dir.path(),
        &["ledger", "export", "--ledger", "notes.txt"],
    ));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("ledger `notes.txt`: file is not a database"),
        "{}",
        out.stderr
    );
}

/// Issue 14 item 4: `cap 1 sends per calendar day per recipient` counts the
/// sends of the recipient's own calendar day, as Braze documents its "per
/// day" caps ("Frequency capping FAQ": the user's time zone, by calendar
/// day, not rolling 24-hour periods). A send at 23:30 the evening before
/// does not count; one at 00:30 the same local day does. Without a known
/// zone, the widest period any zone could give is counted (fail closed).
#[test]
fn calendar_day_caps_count_in_the_recipients_zone() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let dir = dir.path();
    let policy = dir.join("daily.scruple");
    std::fs::write(
        &policy,
        "rule one_email_a_day {\n  severity error\n  cite \"Braze, Frequency capping FAQ (per-day caps count calendar days in the user's time zone)\"\n  cap 1 sends per calendar day per recipient on [email]\n}\n",
    )
    .expect("policy written");
    // AT is 11:00 on 23 November in Paris.
    let rows = [
        // 23:30 on 22 November in Paris: the day before.
        send_row("earlier", "evening", "email", "2026-11-22T22:30:00Z"),
        // 00:30 on 23 November in Paris: the same calendar day.
        send_row("earlier", "night", "email", "2026-11-22T23:30:00Z"),
        // No zone known: at UTC+13:45, 11:00 UTC on 22 November is 00:45
        // on 23 November, the day of the send there (23:45): it may be
        // the same calendar day, so it counts.
        send_row("earlier", "unknown-near", "email", "2026-11-22T11:00:00Z"),
        // Two days before in every zone.
        send_row("earlier", "unknown-far", "email", "2026-11-21T09:00:00Z"),
    ];
    let imported = import(dir, &rows);
    assert_eq!(imported.code, 0, "{}", imported.stderr);
    let zoneless = |id: &str| format!(r#"{{"id":"{id}","age":34}}"#);
    let file = dir.join("recipients.jsonl");
    std::fs::write(
        &file,
        [
            recipient("evening"),
            recipient("night"),
            zoneless("unknown-near"),
            zoneless("unknown-far"),
        ]
        .join("\n"),
    )
    .expect("recipients written");
    let policy_arg = policy.display().to_string();
    let out = gate(
        dir,
        &campaign(),
        &file,
        AT,
        &["--policy", &policy_arg, "--no-reserve"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let got = decisions(&out.stdout);
    let cap = || vec!["one_email_a_day".to_string()];
    assert_eq!(
        got,
        vec![
            ("evening".into(), "allow".into(), vec![]),
            ("night".into(), "suppress".into(), cap()),
            ("unknown-near".into(), "suppress".into(), cap()),
            ("unknown-far".into(), "allow".into(), vec![]),
        ],
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("sends this calendar day (Europe/Paris)"),
        "{}",
        out.stdout
    );
    // A rolling 24 hours would count the evening send too: the calendar
    // window is not a rolling one.
    std::fs::write(
        &policy,
        "rule one_email_a_day {\n  severity error\n  cap 1 sends per 24 hours per recipient on [email]\n}\n",
    )
    .expect("policy written");
    let rolling = gate(
        dir,
        &campaign(),
        &file,
        AT,
        &["--policy", &policy_arg, "--no-reserve"],
    );
    assert_eq!(
        decisions(&rolling.stdout)[0].1,
        "suppress",
        "{}",
        rolling.stdout
    );
}

/// Issue 14 item 4: transactional sends are recorded but never counted
/// toward a cap (Braze, "Know before you send": transactional messages
/// such as delivery notifications should reach the user whatever the
/// frequency cap, and are exempted from it); a marketing campaign cannot
/// opt out of being counted, since a cap may be law.
#[test]
fn transactional_sends_are_recorded_but_never_counted() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let dir = dir.path();
    let policy = dir.join("cap.scruple");
    std::fs::write(
        &policy,
        "rule email_cap {\n  severity error\n  when message_type is marketing\n  cap 3 sends per 7 days per recipient on [email]\n}\n",
    )
    .expect("policy written");
    let policy_arg = policy.display().to_string();
    let example = std::fs::read_to_string(campaign()).expect("the example campaign");
    let variant = |name: &str, id: &str, extra: &str| -> PathBuf {
        let kind = match id {
            "receipts" | "receipts-counted" => "transactional",
            "notices" => "service",
            _ => "marketing",
        };
        let text = example
            .replace("id: spring-sale-2026", &format!("id: {id}\n{extra}"))
            .replace("message_type: marketing", &format!("message_type: {kind}"));
        let path = dir.join(name);
        std::fs::write(&path, text).expect("campaign written");
        path
    };
    let receipts = variant("receipts.yaml", "receipts", "");
    // Two marketing emails already sent to `a`; `b` got two transactional
    // ones, imported as not counting.
    let mut rows = vec![
        send_row("past-a", "a", "email", "2026-11-20T10:00:00Z"),
        send_row("past-b", "a", "email", "2026-11-21T10:00:00Z"),
    ];
    for (c, day) in [("r1", "20"), ("r2", "21"), ("r3", "22")] {
        rows.push(format!(
            r#"{{"campaign":"{c}","recipient":"b","channel":"email","sent_at":"2026-11-{day}T10:00:00Z","counts":false}}"#
        ));
    }
    let imported = import(dir, &rows);
    assert_eq!(imported.code, 0, "{}", imported.stderr);
    let file = write_recipients(dir, "ab.jsonl", &["a".to_string(), "b".to_string()]);
    // A receipt to `a`, recorded: the cap does not apply to it, and it
    // does not count.
    let sent = gate(
        dir,
        &receipts,
        &file,
        "2026-11-23T09:00:00Z",
        &["--policy", &policy_arg, "--record"],
    );
    assert_eq!(sent.code, 0, "{}", sent.stderr);
    assert_eq!(decisions(&sent.stdout)[0].1, "allow");
    // The marketing email: `a` has 2 counted sends (not 3), `b` none.
    let marketing = gate(
        dir,
        &campaign(),
        &file,
        AT,
        &["--policy", &policy_arg, "--no-reserve"],
    );
    assert_eq!(marketing.code, 0, "{}", marketing.stderr);
    let got: Vec<String> = decisions(&marketing.stdout)
        .into_iter()
        .map(|d| d.1)
        .collect();
    assert_eq!(got, ["allow", "allow"], "{}", marketing.stdout);
    // The history keeps every send, and says which do not count.
    let rows = export(dir);
    let receipt: Vec<&Value> = rows
        .iter()
        .filter(|r| r["campaign"] == "receipts")
        .collect();
    assert_eq!(receipt.len(), 2, "{rows:?}");
    assert!(receipt.iter().all(|r| r["counts"] == false));
    assert!(rows
        .iter()
        .filter(|r| r["campaign"] == "past-a")
        .all(|r| r.get("counts").is_none()));
    let history = run(scruple(dir, &["ledger", "history", "a"]));
    assert_eq!(history.code, 0, "{}", history.stderr);
    let receipt_line = history
        .stdout
        .lines()
        .find(|l| l.contains("receipts"))
        .unwrap_or_default();
    assert!(
        receipt_line.ends_with("(counted by no cap)"),
        "{}",
        history.stdout
    );
    // A marketing campaign cannot opt out of being counted.
    let opted_out = variant("opted-out.yaml", "promo", "counts_toward_caps: false");
    let out = run(scruple(dir, &["check"])
        .arg(&opted_out)
        .args(["--policy", &policy_arg]));
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        (out.stdout.clone() + &out.stderr).contains("always counts toward frequency caps"),
        "{}{}",
        out.stdout,
        out.stderr
    );
    // Nor can a transactional one opt in; a service campaign chooses.
    let counted = variant(
        "counted.yaml",
        "receipts-counted",
        "counts_toward_caps: true",
    );
    let out = run(scruple(dir, &["check"])
        .arg(&counted)
        .args(["--policy", &policy_arg]));
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    let notices = variant("notices.yaml", "notices", "counts_toward_caps: false");
    let out = run(scruple(dir, &["check"])
        .arg(&notices)
        .args(["--policy", &policy_arg]));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}
