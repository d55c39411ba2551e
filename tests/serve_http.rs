//! End-to-end tests of `scruple serve`: the real binary on a loopback port
//! (port 0, read back from the `listening on http://ADDR` line), spoken to
//! with a small HTTP/1.1 client over `std::net::TcpStream`.
//!
//! Every response is checked against `docs/openapi.json`: its status must be
//! documented for the route (unknown paths and methods against the
//! document's `NotFound` and `MethodNotAllowed` responses), its content type
//! listed, and a JSON body must validate against the documented schema. The
//! main test also requires a 2xx answer from every documented operation, so
//! the document lists no route the server does not have.
//!
//! Every wait is bounded in time; only 127.0.0.1 is ever contacted.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const AT: &str = "2026-11-23T12:00:00Z";
const SEND_AT: &str = "2026-12-01T10:00:00Z";

// ------------------------------------------------------------------ server

struct Server {
    child: Child,
    addr: String,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `scruple serve` from the crate root on a free loopback port,
    /// with its ledger in `dir`.
    fn start(dir: &Path, args: &[&str]) -> Server {
        let ledger = dir.join("ledger.db");
        let mut child = Command::new(env!("CARGO_BIN_EXE_scruple"))
            .current_dir(ROOT)
            .args(["--no-config", "serve", "--bind", "127.0.0.1:0", "--ledger"])
            .arg(&ledger)
            .args(args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("scruple starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let err_pipe = child.stderr.take().expect("stderr is piped");
        let sink = Arc::clone(&stderr);
        thread::spawn(move || {
            for line in BufReader::new(err_pipe).lines().map_while(Result::ok) {
                let mut text = sink.lock().unwrap_or_else(|e| e.into_inner());
                text.push_str(&line);
                text.push('\n');
            }
        });
        let out_pipe = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(out_pipe).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("listening on http://") {
                    let _ = tx.send(addr.to_string());
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => {
                assert!(addr.starts_with("127.0.0.1:"), "loopback only: {addr}");
                Server {
                    child,
                    addr,
                    stderr,
                }
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the server did not start:\n{}",
                    stderr.lock().unwrap_or_else(|e| e.into_inner())
                );
            }
        }
    }

    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        http(&self.addr, method, path, headers, body)
    }

    fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], b"")
    }

    fn post(&self, path: &str, body: &[u8]) -> Reply {
        self.request("POST", path, &[], body)
    }

    fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.post(path, body.to_string().as_bytes())
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name}");
    }

    fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The server log once it contains `text` (at most 20 s): the state a
    /// test polls is updated before the matching line is logged.
    fn stderr_once_it_contains(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let log = self.stderr();
            if log.contains(text) || Instant::now() > deadline {
                return log;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Polls `GET /v1/policy` until `done` holds (at most 20 s).
    fn wait_for_policy(&self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        for _ in 0..400 {
            let policy = self.get("/v1/policy").json();
            if done(&policy) {
                return policy;
            }
            if Instant::now() > deadline {
                break;
            }
            thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "timed out waiting for {what}; server log:\n{}",
            self.stderr()
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh scratch directory for one test (emptied at the start of each
/// run, so runs do not pile up).
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("serve-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

// ------------------------------------------------------------- HTTP client

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text()))
    }

    fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// One request on its own connection (`Connection: close`).
fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    stream
        .set_write_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    // The server may answer (413) and close before the whole body is sent.
    if stream.write_all(head.as_bytes()).is_ok() {
        let _ = stream.write_all(body);
    }
    read_reply(&mut stream)
}

fn read_reply(stream: &mut TcpStream) -> Reply {
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            // A reset after the response (unread body) still leaves it read.
            Err(_) if !raw.is_empty() => break,
            Err(e) => panic!("no response: {e}"),
        }
    }
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line `{status_line}`"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    } else if let Some(len) = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        assert!(body.len() >= len, "short body: {} < {len}", body.len());
        body.truncate(len);
    }
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..100_000 {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
            break;
        };
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = eol + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
    out
}

// ----------------------------------------------------------------- OpenAPI

/// `docs/openapi.json`, and the (method, route, status) answered so far.
struct Spec {
    doc: Value,
    /// The document with `#/components/schemas/X` refs rewritten to
    /// `#/$defs/X`, so any schema in it can be validated standalone.
    rewritten: Value,
    seen: BTreeSet<(String, String, u16)>,
}

impl Spec {
    fn load() -> Spec {
        let text = std::fs::read_to_string(Path::new(ROOT).join("docs/openapi.json"))
            .expect("docs/openapi.json");
        let doc: Value = serde_json::from_str(&text).expect("openapi.json is JSON");
        let rewritten =
            serde_json::from_str(&text.replace("#/components/schemas/", "#/$defs/")).expect("JSON");
        assert_eq!(doc["openapi"], "3.1.0");
        Spec {
            doc,
            rewritten,
            seen: BTreeSet::new(),
        }
    }

    /// Resolves `{"$ref": "#/components/responses/X"}`.
    fn resolve<'a>(&'a self, response: &'a Value) -> &'a Value {
        match response["$ref"].as_str() {
            Some(r) => self
                .rewritten
                .pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("dangling ref {r}")),
            None => response,
        }
    }

    /// Checks one reply against the document.
    fn check(&mut self, method: &str, target: &str, reply: &Reply) {
        let path = target.split('?').next().unwrap_or(target);
        let what = format!("{method} {path} → {}", reply.status);
        let operation = self.rewritten["paths"]
            .get(path)
            .map(|item| item.get(method.to_ascii_lowercase()));
        let response = match operation {
            None => {
                assert_eq!(reply.status, 404, "{what}: undocumented path must be 404");
                &self.rewritten["components"]["responses"]["NotFound"]
            }
            Some(None) => {
                assert_eq!(reply.status, 405, "{what}: undocumented method must be 405");
                &self.rewritten["components"]["responses"]["MethodNotAllowed"]
            }
            Some(Some(op)) => {
                let response = op["responses"]
                    .get(reply.status.to_string())
                    .unwrap_or_else(|| panic!("{what}: status not documented"));
                self.seen
                    .insert((method.to_string(), path.to_string(), reply.status));
                response
            }
        };
        let response = self.resolve(response).clone();
        let content_type = reply.header("content-type").unwrap_or_default();
        let media = content_type.split(';').next().unwrap_or_default().trim();
        let schema = response["content"]
            .get(media)
            .unwrap_or_else(|| panic!("{what}: content type `{content_type}` not documented"))
            ["schema"]
            .clone();
        if media == "application/json" {
            let body: Value = reply.json();
            let root = json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$defs": self.rewritten["components"]["schemas"],
                "allOf": [schema],
            });
            let validator =
                jsonschema::draft202012::new(&root).expect("the documented schema compiles");
            let errors: Vec<String> = validator
                .iter_errors(&body)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(
                errors.is_empty(),
                "{what}: body does not match the document:\n{}\n{}",
                errors.join("\n"),
                reply.text()
            );
        }
    }

    /// Every documented operation answered 2xx at least once.
    fn assert_all_operations_seen(&self) {
        let paths = self.doc["paths"].as_object().expect("paths");
        for (path, item) in paths {
            for method in item.as_object().expect("path item").keys() {
                let method = method.to_ascii_uppercase();
                let ok = self
                    .seen
                    .iter()
                    .any(|(m, p, s)| *m == method && p == path && (200..300).contains(s));
                assert!(
                    ok,
                    "{method} {path} is documented but was never answered 2xx"
                );
            }
        }
    }
}

// ------------------------------------------------------------------ inputs

fn example(name: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join("examples/campaigns").join(name))
        .expect("example campaign")
}

/// A YAML campaign as pretty JSON text.
fn as_json(yaml: &str) -> String {
    let value: Value = serde_saphyr::from_str(yaml).expect("example is YAML");
    serde_json::to_string_pretty(&value).expect("JSON")
}

fn consenting(id: &str) -> Value {
    json!({
        "id": id,
        "jurisdiction": "EU-FR",
        "timezone": "Europe/Paris",
        "age": 34,
        "consents": {"email_marketing": {"granted_at": "2026-05-01T09:00:00Z", "source": "double_opt_in"}}
    })
}

// ------------------------------------------------------------------- tests

#[test]
fn api_end_to_end_matches_openapi() {
    let dir = scratch("e2e");
    let log_path = dir.join("decisions.jsonl");
    let log_arg = log_path.display().to_string();
    let server = Server::start(
        &dir,
        &[
            "--decision-log",
            &log_arg,
            "--campaigns",
            "examples/campaigns",
            "--max-body",
            "65536",
            "--audit-attributes",
            "examples/audit/attributes.csv",
        ],
    );
    let mut spec = Spec::load();
    let in_repository = spec.doc.clone();
    let mut call = |method: &str, path: &str, body: &[u8]| -> Reply {
        let reply = server.request(method, path, &[], body);
        spec.check(method, path, &reply);
        reply
    };

    // Outcomes for the audit gauges (docs/audit.md): c00001 is 18-39 in
    // examples/audit/attributes.csv.
    let accepted = call(
        "POST",
        "/v1/outcomes",
        br#"{"recipient":"c00001","campaign":"loan-q4","delivered":true,"offer_made":true}"#,
    );
    assert_eq!(accepted.status, 200, "{}", accepted.text());
    assert_eq!(accepted.json()["accepted"], 1);
    let bad = call("POST", "/v1/outcomes", b"{\"recipient\":\"c00001\"}\n");
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error"]["code"], "bad_record");
    let metrics = call("GET", "/metrics", b"").text();
    assert!(
        metrics.contains(
            "scruple_audit_selection_rate{campaign=\"loan-q4\",attribute=\"age_band\",group=\"18-39\",stage=\"offer_made\"} 1\n"
        ),
        "{metrics}"
    );

    // Health, rules, policy: one hash throughout.
    let health = call("GET", "/healthz", b"").json();
    assert_eq!(health["status"], "ok");
    let hash = health["policy"]["hash"].as_str().expect("hash").to_string();
    let rules = call("GET", "/v1/rules", b"").json();
    assert_eq!(rules["policy"]["hash"], hash.as_str());
    let ids: Vec<&str> = rules["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert!(ids.contains(&"baseline_honour_unsubscribes"), "{ids:?}");
    let policy = call("GET", "/v1/policy", b"").json();
    assert_eq!(policy["hash"], hash.as_str());
    assert_eq!(policy["rules"].as_u64(), Some(ids.len() as u64));
    let gdpr = policy["packs"]
        .as_array()
        .expect("packs")
        .iter()
        .find(|p| p["name"] == "gdpr")
        .cloned();
    assert_eq!(gdpr.map(|p| p["version"].clone()), Some(json!("1.0.0")));
    assert_eq!(
        policy["reloads"],
        json!({"succeeded": 0, "failed": 0, "last_error": null})
    );

    // Check: a clean and a violating campaign, in YAML and in JSON.
    let clean_yaml = example("spring-sale.yaml");
    let violating_yaml = example("baby-club.yaml");
    let check_at = format!("/v1/check?at={AT}");
    let clean = call("POST", &check_at, clean_yaml.as_bytes()).json();
    assert_eq!(clean["schema"], "scruple.check/v1");
    assert_eq!(clean["policy"]["hash"], hash.as_str());
    assert_eq!(clean["campaigns"][0]["verdict"], "pass");
    assert_eq!(clean["campaigns"][0]["file"], "<request>");
    let clean_json = call("POST", &check_at, as_json(&clean_yaml).as_bytes()).json();
    assert_eq!(clean_json["campaigns"][0]["verdict"], "pass");
    assert_eq!(clean_json["summary"], clean["summary"]);

    let named = format!("{check_at}&name=baby-club.yaml");
    let bad = call("POST", &named, violating_yaml.as_bytes()).json();
    assert_eq!(bad["campaigns"][0]["verdict"], "fail");
    assert_eq!(bad["campaigns"][0]["file"], "baby-club.yaml");
    let fired: BTreeSet<&str> = bad["campaigns"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert!(
        fired.contains("baseline_special_category_targeting"),
        "{fired:?}"
    );

    // The same campaign as JSON: same rules fire, locations point into the JSON text.
    let violating_json = as_json(&violating_yaml);
    let bad_json = call("POST", &check_at, violating_json.as_bytes()).json();
    let fired_json: BTreeSet<&str> = bad_json["campaigns"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert_eq!(fired_json, fired);
    let finding = bad_json["campaigns"][0]["findings"]
        .as_array()
        .and_then(|fs| {
            fs.iter()
                .find(|f| f["rule"] == "baseline_special_category_targeting")
        })
        .expect("the finding");
    let offset = finding["location"]["offset"].as_u64().expect("offset") as usize;
    let length = finding["location"]["length"].as_u64().expect("length") as usize;
    let spanned = &violating_json[offset..offset + length];
    assert!(
        spanned.contains("likely_parent"),
        "span `{spanned}` of {finding}"
    );

    // Malformed and invalid bodies: 4xx with a JSON error, never 5xx.
    let syntax = call("POST", "/v1/check", b"{\"id\": ");
    assert_eq!(
        (syntax.status, syntax.error_code().as_str()),
        (400, "malformed_campaign")
    );
    assert_eq!(
        syntax.json()["error"]["diagnostics"][0]["code"],
        "scruple::campaign::syntax"
    );
    let binary = call("POST", "/v1/check", &[0xff, 0xfe, 0x00, 0x81]);
    assert_eq!(
        (binary.status, binary.error_code().as_str()),
        (400, "malformed_body")
    );
    let empty = call("POST", "/v1/check", b"");
    assert_eq!(empty.status, 400, "{}", empty.text());
    let wrong_query = call("POST", "/v1/check?at=yesterday", clean_yaml.as_bytes());
    assert_eq!(
        (wrong_query.status, wrong_query.error_code().as_str()),
        (400, "bad_request")
    );
    let unknown_param = call("POST", "/v1/check?color=red", clean_yaml.as_bytes());
    assert_eq!(unknown_param.status, 400);
    let invalid = call(
        "POST",
        "/v1/check",
        b"{\"id\": \"x\", \"channels\": [\"email\", \"fax\"]}",
    );
    assert_eq!(
        (invalid.status, invalid.error_code().as_str()),
        (422, "invalid_campaign")
    );
    let label = &invalid.json()["error"]["diagnostics"][0]["labels"][0]["location"];
    assert_eq!(
        (label["line"].as_u64(), label["column"].as_u64()),
        (Some(1), Some(35)),
        "{label}"
    );
    for body in [
        &b"not json"[..],
        b"[1, 2]",
        b"{\"recipients\": 5}",
        b"{\"campaign\": \"spring-sale.yaml\"}",
        b"{\"recipients\": [], \"extra\": 1}",
    ] {
        let reply = call("POST", "/v1/gate", body);
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (400, "malformed_body"),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    let too_large = call("POST", "/v1/check", &vec![b'#'; 100_000]);
    assert_eq!(
        (too_large.status, too_large.error_code().as_str()),
        (413, "payload_too_large")
    );
    let missing = call("GET", "/v2/nothing", b"");
    assert_eq!(
        (missing.status, missing.error_code().as_str()),
        (404, "not_found")
    );
    let wrong_method = call("GET", "/v1/check", b"");
    assert_eq!(
        (wrong_method.status, wrong_method.error_code().as_str()),
        (405, "method_not_allowed")
    );
    let wrong_method = call("DELETE", "/healthz", b"");
    assert_eq!(wrong_method.status, 405);

    // Gate by reference: allow, suppress with reasons, bad records.
    let batch = json!({
        "campaign": "spring-sale.yaml",
        "at": SEND_AT,
        "recipients": [
            consenting("r1"),
            {"id": "r2", "jurisdiction": "EU-FR", "timezone": "Europe/Paris", "age": 34,
             "consents": {"email_marketing": {"granted_at": "2026-05-01"}}, "opt_outs": {"unsubscribed": true}},
            {"id": "r3", "jurisdiction": "EU-FR", "timezone": "Europe/Paris", "age": 34},
            {"id": "r4", "opt_outs": {"unsubscibed": true}},
            "not a record"
        ]
    });
    let gate = call("POST", "/v1/gate", batch.to_string().as_bytes()).json();
    assert_eq!(gate["schema"], "scruple.gate/v1");
    assert_eq!(gate["campaign"], "spring-sale-2026");
    assert_eq!(gate["policy"]["hash"], hash.as_str());
    assert_eq!(gate["at"], SEND_AT);
    assert_eq!(gate["recorded"], Value::Null);
    assert_eq!(
        gate["summary"],
        json!({"read": 5, "allowed": 1, "suppressed": 2, "bad": 2, "conflicts": 0})
    );
    let decisions = gate["decisions"].as_array().expect("decisions");
    let outcome: Vec<(u64, &str)> = decisions
        .iter()
        .map(|d| {
            (
                d["line"].as_u64().unwrap_or(0),
                d["decision"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        outcome,
        [
            (1, "allow"),
            (2, "suppress"),
            (3, "suppress"),
            (4, "suppress"),
            (5, "suppress")
        ]
    );
    assert_eq!(
        decisions[1]["reasons"][0]["rule"],
        "baseline_honour_unsubscribes"
    );
    let r3_rules: Vec<&str> = decisions[2]["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter_map(|r| r["rule"].as_str())
        .collect();
    assert!(
        r3_rules.iter().any(|r| r.contains("consent")),
        "{r3_rules:?}"
    );
    assert!(
        decisions[3]["error"]
            .as_str()
            .unwrap_or("")
            .contains("unsubscibed"),
        "{}",
        decisions[3]
    );

    // Consent signals in requests (issue 13): a TC string, GPC and a
    // malformed TC string, which is a bad record naming the field.
    let mut with_tcf = consenting("s1");
    with_tcf["tcf"] =
        json!("CQraFkAQraFkAAKABBFRCWEoAP_gAEPgAAqIF5wAoAAgDGAvMC84AUAAQBjAXmAA.IF5wAoAAgDGAvMAA");
    let mut with_gpc = consenting("s2");
    with_gpc["gpc"] = json!(true);
    let mut malformed = consenting("s3");
    malformed["tcf"] = json!("CQraFkAQ");
    let signals = json!({
        "campaign": "spring-sale.yaml",
        "at": SEND_AT,
        "recipients": [with_tcf, with_gpc, malformed]
    });
    let gate = call("POST", "/v1/gate", signals.to_string().as_bytes()).json();
    assert_eq!(
        gate["summary"],
        // `s2`: the campaign honours `gpc`; its consent to email marketing
        // is no consent to sharing, so no conflict.
        json!({"read": 3, "allowed": 1, "suppressed": 1, "bad": 1, "conflicts": 0}),
        "{gate}"
    );
    assert!(
        gate["decisions"][2]["error"]
            .as_str()
            .unwrap_or("")
            .starts_with("tcf: TC string core segment, field "),
        "{gate}"
    );

    // The campaign inline, as an object and as text.
    let inline: Value = serde_json::from_str(&as_json(&clean_yaml)).expect("JSON");
    let by_object = call(
        "POST",
        "/v1/gate",
        json!({"campaign": inline, "at": SEND_AT, "recipients": [consenting("r5")]})
            .to_string()
            .as_bytes(),
    )
    .json();
    assert_eq!(by_object["summary"]["allowed"], 1);
    let by_text = call(
        "POST",
        "/v1/gate",
        json!({"campaign_text": clean_yaml, "at": SEND_AT, "recipients": [consenting("r6")]})
            .to_string()
            .as_bytes(),
    )
    .json();
    assert_eq!(by_text["summary"]["allowed"], 1);

    // Campaigns the gate refuses.
    let violating = call(
        "POST",
        "/v1/gate",
        json!({"campaign": "baby-club.yaml", "at": SEND_AT, "recipients": [consenting("r7")]})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(
        (violating.status, violating.error_code().as_str()),
        (422, "campaign_violates_policy")
    );
    assert!(violating.json()["error"]["diagnostics"]
        .as_array()
        .is_some_and(|d| !d.is_empty()));
    // The findings also come as the `scruple.check/v1` document, as
    // `POST /v1/check` answers it for the same campaign.
    let refused = violating.json()["error"]["check"].clone();
    assert_eq!(refused["schema"], "scruple.check/v1");
    assert_eq!(refused["campaigns"][0]["verdict"], "fail");
    let checked = call(
        "POST",
        &format!("/v1/check?at={SEND_AT}&name=baby-club.yaml"),
        example("baby-club.yaml").as_bytes(),
    )
    .json();
    // Same findings; only the file name in locations may differ (a
    // reference inside `--campaigns` against the `name` given to check).
    let gist = |document: &Value| -> Vec<(Value, Value, Value, Value, Value)> {
        document["campaigns"][0]["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                (
                    f["rule"].clone(),
                    f["severity"].clone(),
                    f["status"].clone(),
                    f["citations"].clone(),
                    f["location"]["offset"].clone(),
                )
            })
            .collect()
    };
    assert!(!gist(&refused).is_empty());
    assert_eq!(gist(&refused), gist(&checked));
    assert_eq!(refused["summary"], checked["summary"]);
    for (reference, status, code) in [
        ("../README.md", 400, "bad_reference"),
        ("/etc/passwd", 400, "bad_reference"),
        ("nothing-here.yaml", 404, "campaign_not_found"),
    ] {
        let reply = call(
            "POST",
            "/v1/gate",
            json!({"campaign": reference, "recipients": []})
                .to_string()
                .as_bytes(),
        );
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (status, code),
            "{reference}"
        );
    }
    let both = call(
        "POST",
        "/v1/gate",
        json!({"campaign": "spring-sale.yaml", "campaign_text": "id: x", "recipients": []})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(
        (both.status, both.error_code().as_str()),
        (400, "bad_request")
    );
    let fail_fast = call("POST", "/v1/gate", json!({"campaign": "spring-sale.yaml", "at": SEND_AT, "on_bad_record": "fail", "recipients": [consenting("r8"), 7]}).to_string().as_bytes());
    assert_eq!(
        (fail_fast.status, fail_fast.error_code().as_str()),
        (422, "bad_record")
    );

    // Settling the first batch's reservations (issue 14): r1 was allowed,
    // so reserved at SEND_AT; commit it, then release whatever is left.
    let committed = call(
        "POST",
        "/v1/commit",
        json!({"campaign": "spring-sale-2026", "at": SEND_AT, "recipients": ["r1"]})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(committed.status, 200, "{}", committed.text());
    assert_eq!(
        committed.json(),
        json!({"schema": "scruple.settle/v1", "campaign": "spring-sale-2026", "at": SEND_AT,
               "action": "commit", "settled": 1, "expired": 0})
    );
    let released = call(
        "POST",
        "/v1/release",
        json!({"campaign": "spring-sale-2026", "at": SEND_AT})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(released.status, 200, "{}", released.text());
    assert_eq!(released.json()["action"], "release");
    for (path, body, code) in [
        (
            "/v1/commit",
            json!({"campaign": "spring-sale-2026"}),
            "malformed_body",
        ),
        (
            "/v1/commit",
            json!({"campaign": "spring-sale-2026", "at": SEND_AT, "record": true}),
            "malformed_body",
        ),
        (
            "/v1/release",
            json!({"campaign": "", "at": SEND_AT}),
            "bad_request",
        ),
        (
            "/v1/release",
            json!({"campaign": "spring-sale-2026", "at": "2026-12-01T10:00"}),
            "bad_request",
        ),
        (
            "/v1/commit",
            json!({"campaign": "spring-sale-2026", "at": SEND_AT, "recipients": ["r1", ""]}),
            "bad_request",
        ),
    ] {
        let reply = call("POST", path, body.to_string().as_bytes());
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (400, code),
            "{body}"
        );
    }

    // The OpenAPI document served is the one in the repository.
    let served = call("GET", "/openapi.json", b"").json();
    assert_eq!(served, in_repository);

    // Metrics count what happened.
    let metrics = call("GET", "/metrics", b"");
    let text = metrics.text();
    for line in [
        "scruple_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1",
        "scruple_http_requests_total{method=\"POST\",route=\"/v1/check\",status=\"413\"} 1",
        "scruple_http_requests_total{method=\"GET\",route=\"other\",status=\"404\"} 1",
        "scruple_http_request_duration_seconds_count{route=\"/v1/gate\"}",
        "scruple_http_request_duration_seconds_bucket{route=\"/v1/check\",le=\"+Inf\"}",
        "scruple_gate_decisions_total{outcome=\"allow\"} 4",
        "scruple_gate_decisions_total{outcome=\"suppress\"} 3",
        "scruple_gate_decisions_total{outcome=\"bad\"} 3",
        "scruple_gate_suppressions_total{rule=\"baseline_honour_unsubscribes\"} 1",
        "scruple_check_campaigns_total{verdict=\"pass\"} 2",
        // The third: the check compared with the gate's refusal.
        "scruple_check_campaigns_total{verdict=\"fail\"} 3",
        "# TYPE scruple_http_request_duration_seconds histogram",
    ] {
        assert!(text.contains(line), "metrics lack `{line}`:\n{text}");
    }
    assert!(text.contains(&format!("scruple_policy_info{{hash=\"{hash}\"")));

    // The decision log: one line per decided record of the batches that ran.
    let log = std::fs::read_to_string(&log_path).expect("decision log");
    let entries: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(entries.len(), 10, "{log}");
    assert!(entries.iter().all(|e| e["policy"] == hash.as_str()
        && e["campaign"] == "spring-sale-2026"
        && e["at"] == SEND_AT));
    assert_eq!(entries[0]["recipient"], "r1");
    assert_eq!(entries[0]["decision"], "allow");
    assert_eq!(entries[0]["rules"], json!([]));
    assert_eq!(entries[1]["recipient"], "r2");
    assert_eq!(entries[1]["rules"], json!(["baseline_honour_unsubscribes"]));
    assert_eq!(entries[4]["recipient"], Value::Null);
    assert!(entries[4]["error"].is_string());
    assert!(entries[0]["time"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));

    // `call` is done with `spec`: the last use above ends its borrow.
    spec.assert_all_operations_seen();
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
}

#[test]
fn bearer_token_is_required_when_configured() {
    let dir = scratch("token");
    let token_file = dir.join("token");
    std::fs::write(&token_file, "s3cret-token\n").expect("token file");
    let server = Server::start(&dir, &["--token-file", &token_file.display().to_string()]);
    let mut spec = Spec::load();

    let health = server.get("/healthz");
    spec.check("GET", "/healthz", &health);
    assert_eq!(health.status, 200, "health needs no token");
    for path in ["/v1/rules", "/v1/policy", "/metrics", "/openapi.json"] {
        let reply = server.get(path);
        spec.check("GET", path, &reply);
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (401, "unauthorized"),
            "{path}"
        );
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    }
    for header in [
        "Bearer wrong",
        "Bearer s3cret-toke",
        "Bearer s3cret-token2",
        "Basic czNjcmV0LXRva2Vu",
        "s3cret-token",
    ] {
        let reply = server.request("GET", "/v1/rules", &[("Authorization", header)], b"");
        assert_eq!(reply.status, 401, "{header}");
    }
    let check = server.request("POST", "/v1/check", &[], b"id: x");
    assert_eq!(check.status, 401, "no token, no check");
    for header in ["Bearer s3cret-token", "bearer s3cret-token"] {
        let reply = server.request("GET", "/v1/rules", &[("Authorization", header)], b"");
        spec.check("GET", "/v1/rules", &reply);
        assert_eq!(reply.status, 200, "{header}");
    }
}

#[test]
fn decision_log_can_hold_hashed_ids() {
    let dir = scratch("hash-ids");
    let log_path = dir.join("audit.jsonl");
    std::fs::write(&log_path, "{\"kept\":true}\n").expect("existing log");
    let server = Server::start(
        &dir,
        &[
            "--decision-log",
            &log_path.display().to_string(),
            "--hash-ids",
        ],
    );
    let batch = json!({"campaign_text": example("spring-sale.yaml"), "at": SEND_AT, "recipients": [consenting("r1"), {"id": "r2"}]});
    let reply = server.post_json("/v1/gate", &batch);
    assert_eq!(reply.status, 200, "{}", reply.text());
    // The response itself names the recipients; only the log hashes them.
    assert_eq!(reply.json()["decisions"][0]["recipient"], "r1");
    let log = std::fs::read_to_string(&log_path).expect("decision log");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 3, "appended, not truncated: {log}");
    assert_eq!(lines[0], "{\"kept\":true}");
    let first: Value = serde_json::from_str(lines[1]).expect("JSON");
    // SHA-256 of "r1".
    assert_eq!(
        first["recipient"],
        "sha256:82f3e9c695dc6b8d1b11818d5701919e286de8d47f7c3eb3100c485f79e57828"
    );
    assert_eq!(first["decision"], "allow");
    let second: Value = serde_json::from_str(lines[2]).expect("JSON");
    assert_eq!(second["decision"], "suppress");
    assert!(second["recipient"]
        .as_str()
        .is_some_and(|r| r.starts_with("sha256:") && r.len() == 71));
    assert!(!log.contains("\"r2\""), "{log}");
}

#[test]
fn recorded_sends_count_towards_frequency_caps() {
    let dir = scratch("record");
    let server = Server::start(&dir, &["--campaigns", "examples/campaigns"]);
    let send = |day: u32| -> Value {
        let batch = json!({
            "campaign": "spring-sale.yaml",
            "at": format!("2026-12-0{day}T10:00:00Z"),
            "record": true,
            "recipients": [consenting("capped")]
        });
        let reply = server.post_json("/v1/gate", &batch);
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()
    };
    for day in 1..=3 {
        let reply = send(day);
        assert_eq!(
            reply["decisions"][0]["decision"], "allow",
            "day {day}: {reply}"
        );
        assert_eq!(reply["recorded"], json!({"inserted": 1, "already": 0}));
    }
    // A fourth email within 7 days breaks the cap of 3.
    let fourth = send(4);
    assert_eq!(fourth["decisions"][0]["decision"], "suppress", "{fourth}");
    assert_eq!(
        fourth["decisions"][0]["reasons"][0]["rule"],
        "baseline_email_frequency_cap"
    );
    assert_eq!(fourth["recorded"], json!({"inserted": 0, "already": 0}));
    // Deciding a recorded send again gives the same answer and records nothing twice.
    let again = send(1);
    assert_eq!(again["decisions"][0]["decision"], "allow", "{again}");
    assert_eq!(again["recorded"], json!({"inserted": 0, "already": 1}));
    // Without `record`, the ledger is read but not written.
    let batch = json!({"campaign": "spring-sale.yaml", "at": "2026-12-05T10:00:00Z", "recipients": [consenting("capped")]});
    let peek = server.post_json("/v1/gate", &batch).json();
    assert_eq!(peek["decisions"][0]["decision"], "suppress");
    assert_eq!(peek["recorded"], Value::Null);
}

/// Issue 14: `POST /v1/commit` and `/v1/release` settle what a gate
/// request without `"record": true` reserved, as `scruple ledger commit` /
/// `release` do. A reservation counts under the cap until released; a
/// committed one is a send for good.
#[test]
fn reservations_are_committed_and_released_over_http() {
    let dir = scratch("settle");
    let server = Server::start(&dir, &["--campaigns", "examples/campaigns"]);
    let settle = |path: &str, at: &str, ids: Option<&[&str]>| -> Reply {
        let mut body = json!({"campaign": "spring-sale-2026", "at": at});
        if let Some(ids) = ids {
            body["recipients"] = json!(ids);
        }
        server.post_json(path, &body)
    };
    // No gate request yet: an SQLite ledger that does not exist holds nothing.
    let none = settle("/v1/commit", "2026-12-01T10:00:00Z", None);
    assert_eq!(
        (none.status, none.error_code().as_str()),
        (404, "no_ledger")
    );

    let reserve = |day: u32, ids: &[&str]| -> Vec<String> {
        let recipients: Vec<Value> = ids.iter().map(|id| consenting(id)).collect();
        let batch = json!({
            "campaign": "spring-sale.yaml",
            "at": format!("2026-12-0{day}T10:00:00Z"),
            "recipients": recipients,
        });
        let reply = server.post_json("/v1/gate", &batch);
        assert_eq!(reply.status, 200, "{}", reply.text());
        let reply = reply.json();
        reply["decisions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["decision"] == "allow")
            .map(|d| d["recipient"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    // Three reservations each: the cap of 3 emails per 7 days is reached.
    for day in 1..=3 {
        assert_eq!(reserve(day, &["a", "b"]), ["a", "b"], "day {day}");
    }
    assert!(reserve(4, &["a", "b"]).is_empty(), "the 4th is refused");
    // Day 3's send to `a` was not made: releasing it frees a's place at once.
    let released = settle("/v1/release", "2026-12-03T10:00:00Z", Some(&["a"]));
    assert_eq!(released.status, 200, "{}", released.text());
    assert_eq!(released.json()["settled"], 1);
    assert_eq!(reserve(5, &["a", "b"]), ["a"]);
    // Days 1 and 2 were sent to both: committed, every row of the send.
    for day in 1..=2 {
        let at = format!("2026-12-0{day}T10:00:00Z");
        let reply = settle("/v1/commit", &at, None);
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(
            reply.json(),
            json!({"schema": "scruple.settle/v1", "campaign": "spring-sale-2026", "at": at,
                   "action": "commit", "settled": 2, "expired": 0})
        );
        // Committing again finds nothing left to commit.
        assert_eq!(settle("/v1/commit", &at, None).json()["settled"], 0);
    }
    // A committed send is never released.
    let late = settle("/v1/release", "2026-12-01T10:00:00Z", None);
    assert_eq!(late.json()["settled"], 0);
    let conn = rusqlite::Connection::open(dir.join("ledger.db")).expect("the ledger opens");
    let rows: Vec<(String, i64, bool)> = conn
        .prepare("SELECT recipient, slot, lease_until IS NULL FROM sends ORDER BY slot, recipient")
        .and_then(|mut q| {
            q.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()
        })
        .expect("rows");
    let day = |d: i64| 1_796_119_200 + (d - 1) * 86_400; // 2026-12-0dT10:00:00Z
    assert_eq!(
        rows,
        vec![
            ("a".into(), day(1), true),
            ("b".into(), day(1), true),
            ("a".into(), day(2), true),
            ("b".into(), day(2), true),
            ("b".into(), day(3), false),
            ("a".into(), day(5), false),
        ]
    );
}

/// Issue 14 item 2: concurrent recording requests are serialised on the
/// ledger, so a cap holds across them. 12 requests at once, each for the
/// same 200 recipients at a different slot of one week, with a cap of 3 per
/// 7 days: each recipient is allowed exactly 3 times in all, and every
/// allowed decision is recorded exactly once. (Before, 32 concurrent
/// requests recorded 7 sends per recipient.)
#[test]
fn concurrent_recording_requests_keep_the_cap() {
    let dir = scratch("record-concurrent");
    let server = Arc::new(Server::start(&dir, &["--campaigns", "examples/campaigns"]));
    let ids: Vec<String> = (0..200).map(|i| format!("c-{i:03}")).collect();
    let recipients: Vec<Value> = ids.iter().map(|id| consenting(id)).collect();
    let requests: Vec<_> = (0..12)
        .map(|k| {
            let server = Arc::clone(&server);
            let batch = json!({
                "campaign": "spring-sale.yaml",
                "at": format!("2026-12-0{}T{}:00:00Z", 1 + k / 4, 10 + k % 4),
                "record": true,
                "recipients": recipients,
            });
            thread::spawn(move || server.post_json("/v1/gate", &batch))
        })
        .collect();
    let mut allowed = 0u64;
    let mut inserted = 0u64;
    let mut per_recipient = std::collections::BTreeMap::<String, u32>::new();
    for request in requests {
        let reply = request.join().expect("the request thread ends");
        assert_eq!(reply.status, 200, "{}", reply.text());
        let reply = reply.json();
        for decision in reply["decisions"].as_array().into_iter().flatten() {
            if decision["decision"] == "allow" {
                allowed += 1;
                let id = decision["recipient"].as_str().unwrap_or_default();
                *per_recipient.entry(id.to_string()).or_default() += 1;
            }
        }
        inserted += reply["recorded"]["inserted"].as_u64().unwrap_or(0);
    }
    assert!(
        per_recipient.values().all(|&n| n == 3) && per_recipient.len() == ids.len(),
        "{per_recipient:?}"
    );
    assert_eq!((allowed, inserted), (600, 600));
    // Every row is within one week, so the busiest window is the count.
    let conn = rusqlite::Connection::open(dir.join("ledger.db")).expect("the ledger opens");
    let most: i64 = conn
        .query_row(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM sends GROUP BY recipient, channel)",
            [],
            |r| r.get(0),
        )
        .expect("a count");
    assert_eq!(most, 3);
}

#[test]
fn a_slow_body_times_out_with_408() {
    let dir = scratch("timeout");
    let server = Server::start(&dir, &["--timeout", "1"]);
    let mut stream = TcpStream::connect(&server.addr).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let head = format!("POST /v1/check HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: 100\r\n\r\nid: slow", server.addr);
    stream.write_all(head.as_bytes()).expect("writes");
    let started = Instant::now();
    let reply = read_reply(&mut stream);
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (408, "timeout")
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    Spec::load().check("POST", "/v1/check", &reply);
    // The server still answers.
    assert_eq!(server.get("/healthz").status, 200);
}

const POLICY_V1: &str = r#"policy "reload-test"
  version "1.0.0"

rule needs_from {
  severity error
  message "The campaign does not say who it is from."
  require message.from
}
"#;

const POLICY_V2: &str = r#"policy "reload-test"
  version "2.0.0"

rule needs_from {
  severity error
  message "The campaign does not say who it is from."
  require message.from
}

rule needs_subject {
  severity warning
  message "The campaign has no subject line."
  require message.subject
}
"#;

const POLICY_BROKEN: &str = r#"policy "reload-test"
  version "3.0.0"

rule needs_from {
  severity error
  require message.from
"#;

fn rule_ids(server: &Server) -> Vec<String> {
    server.get("/v1/rules").json()["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn reload_keeps_the_old_policy_when_the_new_one_is_broken() {
    let dir = scratch("reload");
    let policies = dir.join("policies");
    std::fs::create_dir_all(&policies).expect("policy dir");
    let file = policies.join("reload.scruple");
    std::fs::write(&file, POLICY_V1).expect("policy v1");
    let server = Server::start(&dir, &["--policy", &policies.display().to_string()]);
    let v1 = server.get("/v1/policy").json();
    let hash_v1 = v1["hash"].as_str().expect("hash").to_string();
    assert_eq!(
        v1["packs"],
        json!([{"name": "reload-test", "version": "1.0.0"}])
    );
    let campaign = "id: reload-probe\nchannels: [email]\n";
    let fired = |server: &Server| -> Vec<String> {
        let reply = server.post("/v1/check", campaign.as_bytes());
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()["campaigns"][0]["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter_map(|f| f["rule"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(fired(&server), ["needs_from"]);

    // A broken policy: rejected, the old one keeps serving, the error is logged.
    std::fs::write(&file, POLICY_BROKEN).expect("broken policy");
    server.signal("HUP");
    let after = server.wait_for_policy("the broken reload", |p| {
        p["reloads"]["failed"].as_u64() >= Some(1)
    });
    assert_eq!(
        after["hash"],
        hash_v1.as_str(),
        "the old policy still serves"
    );
    let error = &after["reloads"]["last_error"];
    assert!(
        error["diagnostics"]
            .as_array()
            .is_some_and(|d| !d.is_empty()),
        "{error}"
    );
    assert_eq!(after["reloads"]["succeeded"], 0);
    assert_eq!(
        server.get("/healthz").json()["policy"]["hash"],
        hash_v1.as_str()
    );
    assert_eq!(fired(&server), ["needs_from"]);
    let log = server.stderr_once_it_contains(&format!("still serving policy {hash_v1}"));
    assert!(log.contains("policy reload failed"), "{log}");
    assert!(
        log.contains(&format!("still serving policy {hash_v1}")),
        "{log}"
    );
    assert!(
        log.contains("reload.scruple"),
        "the diagnostics name the file: {log}"
    );
    let metrics = server.get("/metrics").text();
    assert!(
        !metrics.contains("scruple_policy_reloads_total{result=\"error\"} 0"),
        "{metrics}"
    );

    // A valid new policy: swapped in on SIGHUP.
    std::fs::write(&file, POLICY_V2).expect("policy v2");
    server.signal("HUP");
    let v2 = server.wait_for_policy("the v2 reload", |p| p["hash"] != hash_v1.as_str());
    assert_eq!(v2["reloads"]["last_error"], Value::Null);
    assert_eq!(
        v2["packs"],
        json!([{"name": "reload-test", "version": "2.0.0"}])
    );
    assert_eq!(rule_ids(&server), ["needs_from", "needs_subject"]);
    let mut now_fired = fired(&server);
    now_fired.sort();
    assert_eq!(now_fired, ["needs_from", "needs_subject"]);
    let hash_v2 = v2["hash"].as_str().expect("hash").to_string();

    // A change on disk alone is picked up by polling (every 2 s).
    std::fs::write(&file, POLICY_V1).expect("policy v1 again");
    let v3 = server.wait_for_policy("the polled reload", |p| p["hash"] != hash_v2.as_str());
    assert_eq!(v3["hash"], hash_v1.as_str(), "same files, same hash");
    assert_eq!(rule_ids(&server), ["needs_from"]);
    let log = server.stderr_once_it_contains("(file change)");
    assert!(log.contains("(file change)"), "{log}");

    // SIGTERM stops the server cleanly.
    let mut server = server;
    server.signal("TERM");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "{}", server.stderr());
}

/// Issue 10 item 2: a policy line past column 65,535 once made rendering
/// the reload's diagnostics panic, which ended the reload task: no later
/// change was applied, and nothing counted the failure. Now every failed
/// reload (that one, and a policy file that cannot be read) is counted and
/// reported, and later changes are still applied, on SIGHUP and by polling.
#[test]
fn reload_that_panics_is_counted_and_reloading_goes_on() {
    let dir = scratch("reload-panic");
    let file = dir.join("reload.scruple");
    std::fs::write(&file, POLICY_V1).expect("policy v1");
    let server = Server::start(&dir, &["--policy", &file.display().to_string()]);
    let hash_v1 = server.get("/v1/policy").json()["hash"]
        .as_str()
        .expect("hash")
        .to_string();
    let errors = |server: &Server| -> String {
        server
            .get("/metrics")
            .text()
            .lines()
            .find(|l| l.starts_with("scruple_policy_reloads_total{result=\"error\"}"))
            .unwrap_or_default()
            .to_string()
    };

    std::fs::write(&file, format!("{POLICY_V1}{}bogus\n", " ".repeat(65_600))).expect("long line");
    server.signal("HUP");
    let after = server.wait_for_policy("the failed reload", |p| {
        p["reloads"]["failed"].as_u64() >= Some(1)
    });
    assert_eq!(
        after["hash"],
        hash_v1.as_str(),
        "the old policy still serves"
    );
    assert_eq!(after["reloads"]["failed"], 1);
    let error = &after["reloads"]["last_error"];
    assert_eq!(error["trigger"], "SIGHUP");
    assert!(
        error["diagnostics"]
            .as_array()
            .is_some_and(|d| !d.is_empty()),
        "{error}"
    );
    assert_eq!(
        errors(&server),
        "scruple_policy_reloads_total{result=\"error\"} 1"
    );

    // A policy file that cannot be read (removed mid-deploy): counted too.
    std::fs::remove_file(&file).expect("remove the policy");
    let after = server.wait_for_policy("the unreadable reload", |p| {
        p["reloads"]["failed"].as_u64() >= Some(2)
    });
    assert_eq!(after["hash"], hash_v1.as_str());
    assert_eq!(after["reloads"]["last_error"]["trigger"], "file change");
    assert_eq!(
        errors(&server),
        "scruple_policy_reloads_total{result=\"error\"} 2"
    );

    // Reloading still works: a valid change is applied on SIGHUP...
    std::fs::write(&file, POLICY_V2).expect("policy v2");
    server.signal("HUP");
    let v2 = server.wait_for_policy("the v2 reload", |p| p["hash"] != hash_v1.as_str());
    assert_eq!(v2["reloads"]["last_error"], Value::Null);
    assert_eq!(rule_ids(&server), ["needs_from", "needs_subject"]);
    let hash_v2 = v2["hash"].as_str().expect("hash").to_string();
    // ...and by polling.
    std::fs::write(&file, POLICY_V1).expect("policy v1 again");
    let v3 = server.wait_for_policy("the polled reload", |p| p["hash"] != hash_v2.as_str());
    assert_eq!(v3["hash"], hash_v1.as_str());
    assert_eq!(v3["reloads"]["failed"], 2);
}

/// Sends `bytes` as they are on a new connection; reads the reply.
fn raw_request(addr: &str, bytes: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    stream
        .set_write_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    // The server may answer and close before reading everything.
    let _ = stream.write_all(bytes);
    read_reply(&mut stream)
}

/// Issue 10 item 10: hyper answers a request it cannot parse, or whose head
/// is too large, itself, before any endpoint runs, and cannot give that
/// answer a body, while docs/serve.md promised JSON for every error. These
/// answers are now documented exactly (status, empty body, `connection:
/// close`, when), and this test holds the server to that.
#[test]
fn hyper_rejections_have_an_empty_body_as_documented() {
    let dir = scratch("raw");
    let server = Server::start(&dir, &[]);
    let get_with = |headers: &str| -> Reply {
        let head =
            format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n");
        raw_request(&server.addr, head.as_bytes())
    };
    let rejected = |reply: &Reply, status: u16| {
        assert_eq!(reply.status, status, "{:?} {}", reply.headers, reply.text());
        assert_eq!(reply.header("content-length"), Some("0"));
        assert_eq!(reply.header("connection"), Some("close"));
        assert!(reply.body.is_empty());
        assert_eq!(reply.header("content-type"), None);
    };

    rejected(&raw_request(&server.addr, b"GARBAGE\r\n\r\n"), 400);
    rejected(&raw_request(&server.addr, b"GET / HTTP/9.9\r\n\r\n"), 400);
    rejected(&get_with("Bad Header: x\r\n"), 400);
    rejected(
        &get_with(&format!("X-Big: {}\r\n", "a".repeat(4 << 20))),
        431,
    );
    let many: String = (0..101).map(|i| format!("X-{i}: a\r\n")).collect();
    rejected(&get_with(&many), 431);

    // Within hyper's limits (a 100 KB header; 99 fields with `Host` and
    // `Connection`): an endpoint answers, in JSON.
    let fits = get_with(&format!("X-Big: {}\r\n", "a".repeat(100_000)));
    assert_eq!(fits.status, 200);
    assert_eq!(fits.json()["status"], "ok");
    let fields: String = (0..97).map(|i| format!("X-{i}: a\r\n")).collect();
    assert_eq!(get_with(&fields).status, 200);

    // Never seen by the endpoints, so not counted as requests.
    let metrics = server.get("/metrics").text();
    assert!(!metrics.contains("status=\"400\""), "{metrics}");
    assert!(!metrics.contains("status=\"431\""), "{metrics}");
}

#[test]
fn the_openapi_checker_rejects_what_the_document_does_not_allow() {
    let reply = |status: u16, body: &str| Reply {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.as_bytes().to_vec(),
    };
    let rejects = |method: &str, path: &str, r: Reply| {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Spec::load().check(method, path, &r)
        }));
        assert!(
            outcome.is_err(),
            "{method} {path} {} should be rejected",
            r.status
        );
    };
    // Sanity: a conforming body passes.
    Spec::load().check(
        "GET",
        "/healthz",
        &reply(
            200,
            r#"{"status":"ok","policy":{"hash":"0123456789abcdef"}}"#,
        ),
    );
    rejects("GET", "/healthz", reply(200, r#"{"status":"ok"}"#));
    rejects(
        "GET",
        "/healthz",
        reply(200, r#"{"status":"ok","policy":{"hash":"xyz"}}"#),
    );
    rejects(
        "GET",
        "/healthz",
        reply(
            500,
            r#"{"error":{"code":"internal","message":"","diagnostics":[]}}"#,
        ),
    );
    rejects("POST", "/v1/check", reply(400, r#"{"error":{"code":"x"}}"#));
    rejects("GET", "/nowhere", reply(200, "{}"));
    rejects("POST", "/healthz", reply(200, "{}"));
}

#[test]
fn a_policy_with_errors_at_start_is_exit_2() {
    let dir = scratch("broken-start");
    let file = dir.join("broken.scruple");
    std::fs::write(&file, POLICY_BROKEN).expect("policy");
    let mut child = Command::new(env!("CARGO_BIN_EXE_scruple"))
        .current_dir(ROOT)
        .args(["--no-config", "serve", "--bind", "127.0.0.1:0", "--policy"])
        .arg(&file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("scruple starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("a server with a broken policy did not exit");
        }
        thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    let mut stdout = String::new();
    if let Some(mut pipe) = child.stdout.take() {
        let _ = pipe.read_to_string(&mut stdout);
    }
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stdout.is_empty(), "nothing listened: {stdout}");
    assert!(
        stderr.contains("broken.scruple") && stderr.contains("error: the policy has errors"),
        "{stderr}"
    );
}

/// The `/v1/gate` example of docs/serve.md: the request body of its `curl`
/// line and the answer documented after it.
fn documented_gate_example() -> (Value, Value) {
    let doc =
        std::fs::read_to_string(Path::new(ROOT).join("docs/serve.md")).expect("docs/serve.md");
    let section = doc
        .split("### `POST /v1/gate`")
        .nth(1)
        .expect("the /v1/gate section");
    let body = section
        .split("-d '")
        .nth(1)
        .and_then(|rest| rest.split("'\n").next())
        .expect("the curl body");
    let answer = section
        .split("```json\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the documented answer");
    let parse = |text: &str| -> Value {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
    };
    (parse(body), parse(answer))
}

/// Issue 10 item 16: the documented example answered `bad: 1`, because the
/// unsubscribed recipient has no time zone.
#[test]
fn documented_gate_example_is_what_the_server_answers() {
    let dir = scratch("doc-gate");
    let server = Server::start(&dir, &["--campaigns", "examples/campaigns"]);
    let (request, mut documented) = documented_gate_example();
    let reply = server.post_json("/v1/gate", &request);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let mut answer = reply.json();
    // The hash depends on the policy text; the rest is as documented.
    let hash = answer["policy"]["hash"].take();
    assert!(hash.as_str().is_some_and(|h| h.len() == 16), "{hash}");
    documented["policy"]["hash"].take();
    assert_eq!(
        answer,
        documented,
        "the server answers:\n{}",
        serde_json::to_string_pretty(&answer).unwrap_or_default()
    );
    assert_eq!(answer["summary"]["bad"], 0);
}

/// Issue 10 item 10: a UTF-8 byte-order mark before a JSON body was a 400
/// (`expected value at line 1 column 1`); it is dropped, on every endpoint.
#[test]
fn a_byte_order_mark_before_the_body_is_dropped() {
    let dir = scratch("bom");
    let server = Server::start(&dir, &["--campaigns", "examples/campaigns"]);
    let (request, _) = documented_gate_example();
    let mut body = b"\xEF\xBB\xBF".to_vec();
    body.extend_from_slice(request.to_string().as_bytes());
    let reply = server.post("/v1/gate", &body);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["summary"]["bad"], 0);
}

/// Issue 10 item 18: `at` accepts the civil forms every `--at` accepts. On
/// `/v1/gate` a time without offset is in the campaign's zone (UTC for a
/// campaign scheduled in the recipient's zone) and a bare date is refused,
/// as `scruple gate --at` does; `/v1/check` reads it in UTC.
#[test]
fn at_accepts_the_civil_forms_of_the_command_line() {
    let dir = scratch("civil-at");
    let server = Server::start(&dir, &["--campaigns", "examples/campaigns"]);
    let gate = |at: &str| {
        server.post_json(
            "/v1/gate",
            &json!({"campaign": "spring-sale.yaml", "at": at, "recipients": [consenting("c1")]}),
        )
    };
    let civil = gate("2026-12-01T10:00");
    assert_eq!(civil.status, 200, "{}", civil.text());
    assert_eq!(civil.json()["at"], "2026-12-01T10:00:00Z");
    let date = gate("2026-12-01");
    assert_eq!(date.status, 400, "{}", date.text());
    assert_eq!(date.error_code(), "bad_request");
    assert!(
        date.text().contains("without a time of day"),
        "{}",
        date.text()
    );
    let check = server.post(
        "/v1/check?at=2026-11-23T10:00",
        example("spring-sale.yaml").as_bytes(),
    );
    assert_eq!(check.status, 200, "{}", check.text());
}
