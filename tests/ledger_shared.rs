//! Issue 14: frequency caps hold exactly when many deciders share a ledger,
//! on PostgreSQL (a throwaway server, `support/postgres.rs`) and on SQLite.
//!
//! - 8 processes (4 `scruple gate --record`, 4 `scruple serve` answering
//!   `"record": true` requests) decide 8 overlapping send slots for the same
//!   20,000 recipients, who already have 2 of the 3 sends per 7 days that
//!   the example policy allows (`baseline_email_frequency_cap`): afterwards
//!   no recipient has more than 3 sends in any 7-day window, every allowed
//!   decision is recorded exactly once, and everyone got exactly one more.
//! - 20 deciders killed with SIGKILL at random moments: what they recorded
//!   is whole chunks; re-running the same slot records the rest, nothing
//!   twice; reservations of a killed decider stop counting when their lease
//!   ends.
//! - The database stopped during a run: the run fails closed (exit 2, and
//!   HTTP 503 from `serve`) after bounded retries; after a restart the same
//!   slot completes with every send recorded once.

#[path = "support/postgres.rs"]
mod pg;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::str::FromStr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const CAMPAIGN_ID: &str = "spring-sale-2026";
const WEEK: i64 = 7 * 86_400;
const RECIPIENTS: usize = 20_000;

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_scruple"))
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/campaigns")
}

fn campaign() -> PathBuf {
    examples().join("spring-sale.yaml")
}

/// A recipient every rule of the example campaign allows at 10:00–17:00 UTC
/// on 2026-11-23 (Paris, outside quiet hours), caps aside.
fn recipient(id: &str) -> Value {
    json!({
        "id": id, "jurisdiction": "EU-FR", "timezone": "Europe/Paris", "age": 34,
        "consents": {"email_marketing": {"granted_at": "2026-06-01T09:00:00Z", "source": "double_opt_in"}}
    })
}

fn seconds(time: &str) -> i64 {
    jiff::Timestamp::from_str(time)
        .unwrap_or_else(|e| panic!("{time}: {e}"))
        .as_second()
}

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("r-{i:05}")).collect()
}

fn write_recipients(dir: &Path, ids: &[String]) -> PathBuf {
    let path = dir.join("recipients.jsonl");
    let text: String = ids
        .iter()
        .map(|id| recipient(id).to_string() + "\n")
        .collect();
    std::fs::write(&path, text).expect("recipients written");
    path
}

fn scruple(dir: &Path, ledger: &str) -> Command {
    let mut cmd = Command::new(bin());
    cmd.current_dir(dir)
        .arg("--no-config")
        .env("SCRUPLE_LEDGER_URL", ledger)
        .env("NO_COLOR", "1");
    cmd
}

fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Two sends already made to everyone, inside the window of every slot
/// decided on 2026-11-23.
fn import_past(dir: &Path, ledger: &str, ids: &[String]) {
    let mut past = String::new();
    for id in ids {
        for (c, day) in [
            ("past-a", "2026-11-20T10:00:00Z"),
            ("past-b", "2026-11-21T10:00:00Z"),
        ] {
            past.push_str(&format!(
                r#"{{"campaign":"{c}","recipient":"{id}","channel":"email","sent_at":"{day}"}}"#
            ));
            past.push('\n');
        }
    }
    let file = dir.join("past.jsonl");
    std::fs::write(&file, past).expect("past sends written");
    ok(scruple(dir, ledger)
        .args(["ledger", "import"])
        .arg(&file)
        .output()
        .expect("scruple runs"));
}

/// Every committed send, as (campaign, slot, recipient) → sent_at.
fn export(dir: &Path, ledger: &str) -> Vec<(String, i64, String, i64)> {
    let out = ok(scruple(dir, ledger)
        .args(["ledger", "export"])
        .output()
        .expect("scruple runs"));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let row: Value = serde_json::from_str(line).expect("a JSON row");
            let text = |k: &str| row[k].as_str().unwrap_or_default().to_string();
            (
                text("campaign"),
                seconds(&text("slot")),
                text("recipient"),
                seconds(&text("sent_at")),
            )
        })
        .collect()
}

/// The most of `times` (sorted) in one window `[s, s + WEEK)`.
fn busiest_window(times: &[i64]) -> usize {
    (0..times.len())
        .map(|i| {
            times[i..]
                .iter()
                .take_while(|&&t| t < times[i] + WEEK)
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// Recipients over the cap of 3 per 7 days.
fn over_cap(rows: &[(String, i64, String, i64)]) -> Vec<String> {
    let mut times: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for (_, _, id, at) in rows {
        times.entry(id).or_default().push(*at);
    }
    times
        .iter_mut()
        .filter_map(|(id, t)| {
            t.sort_unstable();
            let n = busiest_window(t);
            (n > 3).then(|| format!("{id}: {n}"))
        })
        .collect()
}

// ------------------------------------------------------------------ serve

struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(dir: &Path, ledger: &str) -> Server {
        let mut child = scruple(dir, ledger)
            .args(["serve", "--bind", "127.0.0.1:0", "--campaigns"])
            .arg(examples())
            .args(["--timeout", "120"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("scruple serve starts");
        let out = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("listening on http://") {
                    let _ = tx.send(addr.to_string());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server starts");
        Server { child, addr }
    }

    /// POSTs a gate request; (status, body).
    fn gate(&self, body: &Value) -> (u16, Value) {
        post_gate(&self.addr, body)
    }

    /// POSTs to `path`; (status, body).
    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        post(&self.addr, path, body)
    }
}

/// POSTs a gate request to `addr`; (status, body).
fn post_gate(addr: &str, body: &Value) -> (u16, Value) {
    post(addr, "/v1/gate", body)
}

/// POSTs `body` to `path` at `addr`; (status, body).
fn post(addr: &str, path: &str, body: &Value) -> (u16, Value) {
    {
        let body = body.to_string();
        let mut stream = TcpStream::connect(addr).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(180)))
            .expect("a timeout");
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            path,
            addr,
            body.len()
        );
        stream.write_all(head.as_bytes()).expect("writes");
        stream.write_all(body.as_bytes()).expect("writes");
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or(("", ""));
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_string()
        };
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dechunk(mut data: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = data.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        data = rest[size..].trim_start_matches("\r\n");
    }
    out
}

// ------------------------------------------------------ eight deciders

/// 4 gate processes and 4 servers decide 8 slots of one week at once.
fn eight_deciders(ledger: &str) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let dir = dir.path();
    let ids = ids(RECIPIENTS);
    import_past(dir, ledger, &ids);
    let recipients = write_recipients(dir, &ids);
    let slots: Vec<String> = (0..8)
        .map(|p| format!("2026-11-23T{:02}:00:00Z", 10 + p))
        .collect();
    let servers: Vec<Server> = (0..4).map(|_| Server::start(dir, ledger)).collect();
    let started = Instant::now();
    // Output to files: a full pipe would stall a decider.
    let output = |p: usize, what: &str| dir.join(format!("{p}.{what}"));
    let gates: Vec<Child> = (0..4)
        .map(|p| {
            scruple(dir, ledger)
                .arg("gate")
                .arg(campaign())
                .arg("--recipients")
                .arg(&recipients)
                .args(["--at", &slots[p], "--record"])
                .stdout(File::create(output(p, "out")).expect("a file"))
                .stderr(File::create(output(p, "err")).expect("a file"))
                .spawn()
                .expect("scruple gate starts")
        })
        .collect();
    // Each server gets its slot in requests of 1,000, two at a time.
    let requests: Vec<_> = servers
        .iter()
        .enumerate()
        .map(|(s, server)| {
            let at = slots[4 + s].clone();
            let addr = server.addr.clone();
            let batches: Vec<Vec<Value>> = ids
                .chunks(1_000)
                .map(|c| c.iter().map(|id| recipient(id)).collect())
                .collect();
            std::thread::spawn(move || {
                let mut allowed = Vec::new();
                for batch in batches {
                    let (status, body) = post_gate(
                        &addr,
                        &json!({
                            "campaign": "spring-sale.yaml",
                            "at": at,
                            "record": true,
                            "recipients": batch,
                        }),
                    );
                    assert_eq!(status, 200, "{body}");
                    for d in body["decisions"].as_array().into_iter().flatten() {
                        if d["decision"] == "allow" {
                            allowed.push(d["recipient"].as_str().unwrap_or_default().to_string());
                        }
                    }
                }
                (at, allowed)
            })
        })
        .collect();

    // (slot, recipient) of every allowed decision.
    let mut allowed = BTreeSet::new();
    for (p, mut child) in gates.into_iter().enumerate() {
        let status = child.wait().expect("scruple gate ends");
        let read = |what| std::fs::read_to_string(output(p, what)).expect("an output file");
        assert!(status.success(), "{}: {}", slots[p], read("err"));
        for line in read("out").lines() {
            let v: Value = serde_json::from_str(line).expect("a JSON decision");
            if v["decision"] == "allow" {
                let id = v["recipient"].as_str().unwrap_or_default().to_string();
                assert!(allowed.insert((seconds(&slots[p]), id)), "printed twice");
            }
        }
    }
    for request in requests {
        let (at, ids) = request.join().expect("the request thread ends");
        for id in ids {
            assert!(allowed.insert((seconds(&at), id)), "answered twice");
        }
    }
    eprintln!(
        "8 deciders, {RECIPIENTS} recipients each, on {}: {:.1} s",
        if ledger.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        started.elapsed().as_secs_f64()
    );
    drop(servers);

    let rows = export(dir, ledger);
    let over = over_cap(&rows);
    assert!(
        over.is_empty(),
        "{} of {RECIPIENTS} recipients over the cap of 3, e.g. {:?}",
        over.len(),
        &over[..over.len().min(3)]
    );
    let recorded: BTreeSet<(i64, String)> = rows
        .iter()
        .filter(|r| r.0 == CAMPAIGN_ID)
        .map(|r| (r.1, r.2.clone()))
        .collect();
    assert_eq!(
        rows.iter().filter(|r| r.0 == CAMPAIGN_ID).count(),
        recorded.len()
    );
    assert!(
        recorded == allowed,
        "allowed decisions and recorded sends differ"
    );
    // Everyone had room for exactly one more send: one slot took it.
    assert_eq!(allowed.len(), RECIPIENTS);
}

#[test]
fn eight_deciders_never_exceed_a_cap_on_postgres() {
    let Some(server) = pg::shared() else { return };
    eight_deciders(&server.database());
}

#[test]
fn eight_deciders_never_exceed_a_cap_on_sqlite() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    eight_deciders(&dir.path().join("ledger.db").to_string_lossy());
}

// ------------------------------------------------------------ kill -9

/// Rows of `campaign`'s sends (committed, and reserved) at `slot`.
fn rows_at(url: &str, slot: i64) -> (i64, i64) {
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connects");
    let row = client.query_one(
        "SELECT count(*) FILTER (WHERE lease_until IS NULL),
                count(*) FILTER (WHERE lease_until IS NOT NULL)
         FROM scruple_sends WHERE slot = $1",
        &[&slot],
    );
    match row {
        Ok(row) => (row.get(0), row.get(1)),
        // Killed before its first migration (one transaction): no table.
        Err(e) if e.code() == Some(&postgres::error::SqlState::UNDEFINED_TABLE) => (0, 0),
        Err(e) => panic!("a count: {e}"),
    }
}

/// A small deterministic random number generator (xorshift).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn killed_deciders_lose_nothing_and_count_nothing_twice() {
    let Some(server) = pg::shared() else { return };
    let url = server.database();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let dir = dir.path();
    let n = 5_000;
    let ids = ids(n);
    let recipients = write_recipients(dir, &ids);
    let mut rng = Rng(0x5eed_1234_abcd);
    let base = seconds("2026-12-01T10:00:00Z");
    for trial in 0..20i64 {
        // Slots 8 days apart: no cap window holds two of them.
        let slot = base + trial * 8 * 86_400;
        let at = jiff::Timestamp::from_second(slot)
            .expect("a time")
            .to_string();
        // Odd trials reserve (a lease of 3 s), even ones record.
        let reserve = trial % 2 == 1;
        let mut cmd = scruple(dir, &url);
        cmd.arg("gate")
            .arg(campaign())
            .arg("--recipients")
            .arg(&recipients)
            .args(["--at", &at])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if reserve {
            cmd.args(["--lease", "3s"]);
        } else {
            cmd.arg("--record");
        }
        let mut child = cmd.spawn().expect("scruple starts");
        std::thread::sleep(Duration::from_millis(rng.below(400)));
        let _ = child.kill();
        child.wait().expect("reaped");
        let (committed, reserved) = rows_at(&url, slot);
        let written = if reserve { reserved } else { committed };
        assert_eq!(
            (written % 1_000, if reserve { committed } else { reserved }),
            (0, 0),
            "trial {trial}: {committed} committed, {reserved} reserved: not whole chunks"
        );
        if reserve {
            // The dead decider's reservations count for everyone until
            // their lease ends: a decider of another slot in the same week
            // is refused them only while the lease lasts (cap 3 per 7 days,
            // 2 sends recorded below per reserved recipient first).
            std::thread::sleep(Duration::from_millis(3_100));
            let out = ok(scruple(dir, &url)
                .args(["ledger", "prune", "--older-than", "1000 days"])
                .output()
                .expect("scruple runs"));
            let note = String::from_utf8_lossy(&out.stderr);
            assert!(
                note.contains(&format!("and {reserved} expired reservation")),
                "trial {trial}: {note}"
            );
            assert_eq!(rows_at(&url, slot), (0, 0), "trial {trial}");
        } else {
            // The same slot again completes it: everyone allowed (its own
            // sends do not count against it), each send recorded once.
            let out = ok(scruple(dir, &url)
                .arg("gate")
                .arg(campaign())
                .arg("--recipients")
                .arg(&recipients)
                .args(["--at", &at, "--record"])
                .output()
                .expect("scruple runs"));
            let allowed = String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| l.contains(r#""decision":"allow""#))
                .count();
            assert_eq!(allowed, n, "trial {trial}");
            assert_eq!(rows_at(&url, slot), (n as i64, 0), "trial {trial}");
        }
    }
}

/// A reservation counts for every other decider until it is committed
/// (then it is a send) or released.
#[test]
fn reservations_count_until_committed_or_released_on_postgres() {
    let Some(server) = pg::shared() else { return };
    let url = server.database();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let dir = dir.path();
    let ids = ids(10);
    import_past(dir, &url, &ids);
    let recipients = write_recipients(dir, &ids);
    let gate = |at: &str, extra: &[&str]| -> usize {
        let out = ok(scruple(dir, &url)
            .arg("gate")
            .arg(campaign())
            .arg("--recipients")
            .arg(&recipients)
            .args(["--at", at])
            .args(extra)
            .output()
            .expect("scruple runs"));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains(r#""decision":"allow""#))
            .count()
    };
    let a = "2026-11-23T10:00:00Z";
    let b = "2026-11-23T11:00:00Z";
    assert_eq!(gate(a, &[]), 10, "A reserves the third send of everyone");
    assert_eq!(gate(b, &[]), 0, "B is refused while A's reservations last");
    assert_eq!(gate(b, &["--no-reserve"]), 0, "a preview sees them too");
    assert_eq!(gate(a, &[]), 10, "re-deciding A is idempotent");
    ok(scruple(dir, &url)
        .args(["ledger", "release", "--campaign", CAMPAIGN_ID, "--at", a])
        .output()
        .expect("scruple runs"));
    assert_eq!(gate(b, &[]), 10, "released: B reserves");
    let allowed = dir.join("allowed.jsonl");
    std::fs::write(&allowed, "r-00001\n{\"id\":\"r-00002\"}\n").expect("written");
    let out = ok(scruple(dir, &url)
        .args([
            "ledger",
            "commit",
            "--campaign",
            CAMPAIGN_ID,
            "--at",
            b,
            "--recipients",
        ])
        .arg(&allowed)
        .output()
        .expect("scruple runs"));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("committed 2 reserved sends"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let history = ok(scruple(dir, &url)
        .args(["ledger", "history", "r-00001", "--format", "jsonl"])
        .output()
        .expect("scruple runs"));
    assert_eq!(String::from_utf8_lossy(&history.stdout).lines().count(), 3);
    assert_eq!(export(dir, &url).len(), 22);
}

/// `POST /v1/commit` and `/v1/release` on a PostgreSQL ledger: a released
/// reservation frees its place under the cap for every decider at once; a
/// committed one is a send in the history.
#[test]
fn reservations_are_settled_over_http_on_postgres() {
    let Some(server) = pg::shared() else { return };
    let url = server.database();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let dir = dir.path();
    let ids: Vec<String> = (0..4).map(|i| format!("http-{i}")).collect();
    import_past(dir, &url, &ids);
    let web = Server::start(dir, &url);
    let batch: Vec<Value> = ids.iter().map(|id| recipient(id)).collect();
    let allowed = |at: &str| -> usize {
        let (status, body) = web.gate(&json!({
            "campaign": "spring-sale.yaml", "at": at, "recipients": batch,
        }));
        assert_eq!(status, 200, "{body}");
        body["summary"]["allowed"].as_u64().unwrap_or(0) as usize
    };
    let (a, b) = ("2026-11-23T10:00:00Z", "2026-11-23T11:00:00Z");
    assert_eq!(allowed(a), 4, "A reserves everyone's third send");
    assert_eq!(allowed(b), 0, "B is refused while A's reservations last");
    let (status, body) = web.post(
        "/v1/release",
        &json!({"campaign": CAMPAIGN_ID, "at": a, "recipients": ["http-0", "http-1"]}),
    );
    assert_eq!((status, body["settled"].as_u64()), (200, Some(2)), "{body}");
    assert_eq!(allowed(b), 2, "released places are free at once");
    let (status, body) = web.post("/v1/commit", &json!({"campaign": CAMPAIGN_ID, "at": b}));
    assert_eq!((status, body["settled"].as_u64()), (200, Some(2)), "{body}");
    let (status, body) = web.post("/v1/commit", &json!({"campaign": CAMPAIGN_ID, "at": a}));
    assert_eq!((status, body["settled"].as_u64()), (200, Some(2)), "{body}");
    // 4 recipients × (2 imported + 1 committed), none reserved.
    let rows = export(dir, &url);
    assert_eq!(rows.len(), 12, "{rows:?}");
    assert_eq!(rows_at(&url, seconds(a)).1 + rows_at(&url, seconds(b)).1, 0);
}

/// Issue 14 item 4 on PostgreSQL: `cap 1 sends per calendar day` counts the
/// recipient's local day (Braze, "Frequency capping FAQ": the user's time
/// zone, by calendar day), and a reservation taken today counts for the
/// next decider on the same day but not on the next.
#[test]
fn calendar_day_caps_hold_on_postgres() {
    let Some(server) = pg::shared() else { return };
    let url = server.database();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let dir = dir.path();
    let policy = dir.join("daily.scruple");
    std::fs::write(
        &policy,
        "rule one_email_a_day {\n  severity error\n  cap 1 sends per calendar day per recipient on [email]\n}\n",
    )
    .expect("policy written");
    let ids: Vec<String> = vec!["cal-0".into()];
    let recipients = write_recipients(dir, &ids);
    let gate = |at: &str| -> usize {
        let out = ok(scruple(dir, &url)
            .arg("gate")
            .arg(campaign())
            .arg("--policy")
            .arg(&policy)
            .arg("--recipients")
            .arg(&recipients)
            .args(["--at", at])
            .output()
            .expect("scruple runs"));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains(r#""decision":"allow""#))
            .count()
    };
    // 22:30 UTC is 23:30 in Paris on 23 November: reserved.
    assert_eq!(gate("2026-11-23T22:30:00Z"), 1);
    // 22:50 UTC, the same Paris day: refused.
    assert_eq!(gate("2026-11-23T22:50:00Z"), 0);
    // 23:10 UTC is 00:10 on 24 November in Paris: a new calendar day,
    // although only 40 minutes later.
    assert_eq!(gate("2026-11-23T23:10:00Z"), 1);
}

/// Issue 14 item 4 on PostgreSQL: a transactional campaign's sends are
/// recorded (`counts = false`) but never counted toward a cap.
#[test]
fn transactional_sends_are_not_counted_on_postgres() {
    let Some(server) = pg::shared() else { return };
    let url = server.database();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let dir = dir.path();
    let ids: Vec<String> = vec!["tx-0".into()];
    import_past(dir, &url, &ids);
    let recipients = write_recipients(dir, &ids);
    let example = std::fs::read_to_string(campaign()).expect("the example campaign");
    let receipts = dir.join("receipts.yaml");
    std::fs::write(
        &receipts,
        example
            .replace("id: spring-sale-2026", "id: receipts")
            .replace("message_type: marketing", "message_type: transactional"),
    )
    .expect("campaign written");
    let policy = dir.join("cap.scruple");
    std::fs::write(
        &policy,
        "rule email_cap {\n  severity error\n  when message_type is marketing\n  cap 3 sends per 7 days per recipient on [email]\n}\n",
    )
    .expect("policy written");
    let gate = |file: &Path, at: &str, extra: &[&str]| -> usize {
        let out = ok(scruple(dir, &url)
            .arg("gate")
            .arg(file)
            .arg("--policy")
            .arg(&policy)
            .arg("--recipients")
            .arg(&recipients)
            .args(["--at", at])
            .args(extra)
            .output()
            .expect("scruple runs"));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains(r#""decision":"allow""#))
            .count()
    };
    // Two receipts recorded on top of the two marketing sends imported.
    assert_eq!(gate(&receipts, "2026-11-22T09:00:00Z", &["--record"]), 1);
    assert_eq!(gate(&receipts, "2026-11-22T10:00:00Z", &["--record"]), 1);
    // The marketing cap of 3 still has room for one.
    assert_eq!(gate(&campaign(), "2026-11-23T10:00:00Z", &["--record"]), 1);
    assert_eq!(gate(&campaign(), "2026-11-23T11:00:00Z", &[]), 0);
    let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connects");
    let uncounted: i64 = client
        .query_one("SELECT count(*) FROM scruple_sends WHERE NOT counts", &[])
        .expect("a count")
        .get(0);
    assert_eq!(uncounted, 2);
    assert_eq!(export(dir, &url).len(), 5, "every send is in the history");
}

// ------------------------------------------------------- stop / restart

#[test]
fn a_stopped_database_fails_closed_and_a_restart_completes_the_slot() {
    let Some(server) = pg::private() else { return };
    let url = server.database();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let dir = dir.path();
    let ids = ids(RECIPIENTS);
    let recipients = write_recipients(dir, &ids);
    let at = "2026-11-23T10:00:00Z";
    let web = Server::start(dir, &url);
    // Stopped from the start: the gate, after its retries, fails closed.
    server.stop();
    let started = Instant::now();
    let out = scruple(dir, &url)
        .arg("gate")
        .arg(campaign())
        .arg("--recipients")
        .arg(&recipients)
        .args(["--at", at, "--record"])
        .output()
        .expect("scruple runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("unavailable"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing decided without the ledger");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "retries are bounded: {:?}",
        started.elapsed()
    );
    let batch: Vec<Value> = ids[..100].iter().map(|id| recipient(id)).collect();
    let (status, body) = web.gate(&json!({
        "campaign": "spring-sale.yaml", "at": at, "record": true, "recipients": batch,
    }));
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "ledger", "{body}");
    // Settling fails closed too: 503, and nothing is settled.
    for path in ["/v1/commit", "/v1/release"] {
        let (status, body) = web.post(path, &json!({"campaign": CAMPAIGN_ID, "at": at}));
        assert_eq!(status, 503, "{path}: {body}");
        assert_eq!(body["error"]["code"], "ledger", "{body}");
    }

    // Stopped in the middle of a run: whole chunks were recorded, and the
    // run fails closed or (restarted within its retries) completes.
    server.restart();
    let mut child = scruple(dir, &url)
        .arg("gate")
        .arg(campaign())
        .arg("--recipients")
        .arg(&recipients)
        .args(["--at", at, "--record"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("scruple starts");
    std::thread::sleep(Duration::from_millis(300));
    server.stop();
    let code = child.wait().expect("the gate ends").code();
    server.restart();
    let slot = seconds(at);
    let (committed, reserved) = rows_at(&url, slot);
    assert_eq!(reserved, 0);
    assert_eq!(committed % 1_000, 0, "whole chunks: {committed}");
    assert!(
        code == Some(2) || committed as usize == RECIPIENTS,
        "{code:?}"
    );
    // The same slot again: everything recorded, once.
    ok(scruple(dir, &url)
        .arg("gate")
        .arg(campaign())
        .arg("--recipients")
        .arg(&recipients)
        .args(["--at", at, "--record"])
        .output()
        .expect("scruple runs"));
    assert_eq!(rows_at(&url, slot), (RECIPIENTS as i64, 0));
    // The server's pool reconnects after the restart.
    let (status, body) = web.gate(&json!({
        "campaign": "spring-sale.yaml", "at": at, "record": true, "recipients": batch,
    }));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["recorded"]["already"], 100, "{body}");
}
