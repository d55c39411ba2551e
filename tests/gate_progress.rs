//! The progress line of `scruple gate` (issue 10 item 11): cleared before the
//! summary is written, drawn only on a terminal, silenced by `--quiet`.

use std::cell::RefCell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::rc::Rc;

use assert_cmd::Command;
use scruple::gate::command::{GateCommand, GateIo};
use scruple::gate::progress::Progress;
use scruple::gate::stream::{OnBadRecord, Summary};

const AT: &str = "2026-11-23T10:00:00Z";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gate")
        .join(name)
}

/// Progress events and standard-error writes, in the order they happen.
type Log = Rc<RefCell<Vec<String>>>;

struct Recorder(Log);

impl Progress for Recorder {
    fn start(&mut self, total: Option<u64>) {
        self.0.borrow_mut().push(format!("start {total:?}"));
    }
    fn update(&mut self, bytes: u64, s: &Summary) {
        self.0
            .borrow_mut()
            .push(format!("update {bytes} {}", s.read));
    }
    fn finish(&mut self) {
        self.0.borrow_mut().push("finish".into());
    }
}

struct Stderr(Log);

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .borrow_mut()
            .push(format!("stderr {}", String::from_utf8_lossy(buf)));
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn run_with_recorder(on_bad: OnBadRecord) -> (u8, Vec<String>) {
    let (policy, diags) = scruple::compile::compile(scruple::policy_inputs(&[], &[]));
    let policy = policy.unwrap_or_else(|| panic!("shipped packs compile: {diags:?}"));
    let dir = tempfile::tempdir().expect("temp dir");
    let command = GateCommand {
        campaign: fixture("gpc-honoured.yaml"),
        recipients: fixture("recipients.jsonl").display().to_string(),
        input_format: None,
        at: Some(scruple::campaign::When::parse(AT).expect("time")),
        allowed: None,
        suppressed: None,
        on_bad,
        ledger: dir.path().join("ledger.db"),
        record: false,
        reserve: true,
        lease_seconds: scruple::ledger::backend::DEFAULT_LEASE_SECONDS,
        format: scruple::gate::command::GateFormat::Human,
    };
    let log: Log = Rc::default();
    let mut recorder = Recorder(Rc::clone(&log));
    let mut stdout = Vec::new();
    let code = scruple::gate::command::run(
        &command,
        &policy,
        GateIo {
            stdin: &mut std::io::empty(),
            stdout: &mut stdout,
            stderr: &mut Stderr(Rc::clone(&log)),
            diagnostics: &mut |_| {},
            progress: Some(&mut recorder),
        },
    );
    let events = log.borrow().clone();
    (code, events)
}

#[test]
fn gate_progress_line_is_cleared_before_the_summary() {
    let (code, events) = run_with_recorder(OnBadRecord::Suppress);
    assert_eq!(code, 0, "{events:?}");
    let size = std::fs::metadata(fixture("recipients.jsonl"))
        .expect("fixture")
        .len();
    assert_eq!(events[0], format!("start Some({size})"), "{events:?}");
    let finish = events.iter().position(|e| e == "finish");
    let summary = events.iter().position(|e| e.starts_with("stderr gate: "));
    assert!(
        matches!((finish, summary), (Some(f), Some(s)) if f < s),
        "the progress line must be finished before the summary: {events:?}"
    );
    assert_eq!(events.iter().filter(|e| *e == "finish").count(), 1);
    // The last update saw every byte of the file.
    let last = events.iter().rev().find(|e| e.starts_with("update "));
    assert!(
        last.is_some_and(|e| e.starts_with(&format!("update {size} "))),
        "{events:?}"
    );
}

#[test]
fn gate_progress_line_is_cleared_before_an_error_too() {
    let (code, events) = run_with_recorder(OnBadRecord::Fail);
    assert_eq!(code, 2, "the fixture has bad records: {events:?}");
    let finish = events.iter().position(|e| e == "finish");
    let error = events.iter().position(|e| e.starts_with("stderr error: "));
    assert!(
        matches!((finish, error), (Some(f), Some(e)) if f < e),
        "{events:?}"
    );
}

fn gate_cmd(extra: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("scruple").expect("binary built");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("gate")
        .arg(fixture("gpc-honoured.yaml"))
        .args([
            "--at",
            AT,
            "--no-config",
            "--ledger",
            "/nonexistent/ledger.db",
            // A preview: no ledger is created or reserved in.
            "--no-reserve",
        ])
        .args(extra);
    cmd
}

#[test]
fn gate_progress_is_not_drawn_when_stderr_is_not_a_terminal() {
    for quiet in [false, true] {
        let recipients = fixture("recipients.jsonl").display().to_string();
        let mut args = vec!["--recipients", recipients.as_str()];
        if quiet {
            args.push("--quiet");
        }
        let out = gate_cmd(&args).output().expect("scruple runs");
        assert_eq!(out.status.code(), Some(0));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("gate: "), "{stderr:?}");
        assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
        assert!(!stderr.contains('\x1b') && !stderr.contains('\r'));
    }
}

/// Runs `shell` under `script`, which gives it a terminal; returns what the
/// terminal received, or `None` where `script` (util-linux) is missing.
fn on_a_terminal(shell: &str) -> Option<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let typescript = dir.path().join("typescript");
    let status = Process::new("script")
        .args(["-qfec", shell])
        .arg(&typescript)
        .env("COLUMNS", "80")
        .stdout(std::process::Stdio::null())
        .stdin(std::process::Stdio::null())
        .status()
        .ok()?;
    assert!(status.success(), "{shell}: {status}");
    Some(String::from_utf8_lossy(&std::fs::read(&typescript).ok()?).into_owned())
}

/// What precedes `needle` on its terminal line, escape sequences removed.
fn printable_before(screen: &str, needle: &str) -> String {
    let at = screen
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in {screen:?}"));
    let line = &screen[screen[..at].rfind(['\n', '\r']).map_or(0, |i| i + 1)..at];
    let escapes = regex::Regex::new("\x1b\\[[0-9;?]*[A-Za-z]").expect("regex");
    escapes.replace_all(line, "").into_owned()
}

fn shell_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "'\\''"))
}

/// Enough records, arriving slowly enough, for the line to be drawn.
fn slow_recipients(dir: &Path) -> String {
    let one = std::fs::read_to_string(fixture("recipients.jsonl")).expect("fixture");
    let one = one.lines().next().expect("a record");
    let file = dir.join("many.jsonl");
    std::fs::write(&file, format!("{one}\n").repeat(5000)).expect("write");
    format!("{{ sleep 0.5; cat {}; }}", shell_quote(&file))
}

fn binary() -> String {
    shell_quote(Path::new(env!("CARGO_BIN_EXE_scruple")))
}

fn gate_shell(extra: &str) -> String {
    format!(
        "{} gate {} --at {AT} --no-config --ledger /nonexistent/ledger.db --no-reserve --recipients - {extra}",
        binary(),
        shell_quote(&fixture("gpc-honoured.yaml")),
    )
}

#[test]
fn gate_summary_is_not_glued_to_the_progress_line_on_a_terminal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let allowed = shell_quote(&dir.path().join("allowed.jsonl"));
    let shell = format!(
        "{} | {}",
        slow_recipients(dir.path()),
        gate_shell(&format!("--allowed {allowed}"))
    );
    let Some(screen) = on_a_terminal(&shell) else {
        return;
    };
    assert!(screen.contains(" read · "), "no progress drawn: {screen:?}");
    assert_eq!(
        printable_before(&screen, "gate: 5000 read"),
        "",
        "{screen:?}"
    );
}

#[test]
fn gate_progress_is_silenced_by_quiet_and_by_decisions_on_the_terminal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let allowed = shell_quote(&dir.path().join("allowed.jsonl"));
    for extra in [format!("--allowed {allowed} --quiet"), String::new()] {
        let shell = format!("{} | {}", slow_recipients(dir.path()), gate_shell(&extra));
        let Some(screen) = on_a_terminal(&shell) else {
            return;
        };
        assert!(!screen.contains(" read · "), "{extra}: {screen:?}");
        assert!(screen.contains("gate: 5000 read"), "{screen:?}");
    }
}
