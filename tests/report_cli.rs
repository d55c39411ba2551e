//! End-to-end tests of `scruple report`: the real binary, run from the crate
//! root on the example campaigns and the fixtures in `tests/fixtures/report/`
//! (a campaign passing thanks to waivers, one expiring within 30 days and
//! one unused; a campaign whose name and waiver carry HTML and whose waiver
//! has expired; a malformed campaign), as of a fixed time.
//!
//! The Markdown report is snapshotted whole; the HTML report is checked for
//! its structure, its escaping and the absence of external resources. When
//! Chromium is installed, the HTML is also rendered to PNG and PDF with
//! `scripts/report-screenshot.sh`, and the images are checked.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// "Now" for every report.
const AT: &str = "2026-11-23T12:00:00Z";
const WAIVED: &str = "tests/fixtures/report/holiday-gift-guide.yaml";
const MARKUP: &str = "tests/fixtures/report/script-in-name.yaml";
const BROKEN: &str = "tests/fixtures/report/broken.yaml";
const CLEAN: &str = "examples/campaigns/spring-sale.yaml";

/// `scruple report ARGS… --at AT`, from the crate root, ignoring any
/// scruple.toml.
fn report(args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("scruple").expect("the scruple binary is built");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(["--no-config", "report"])
        .args(args)
        .args(["--at", AT]);
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

/// The report with what changes for reasons unrelated to the campaigns
/// (the policy's content hash, the tool version) replaced.
fn redacted(text: &str) -> String {
    let hash = regex::Regex::new(r"hash `[0-9a-f]{16}`").expect("valid regex");
    let text = hash.replace_all(text, "hash `[hash]`");
    text.replace(
        &format!("scruple {}", env!("CARGO_PKG_VERSION")),
        "scruple [version]",
    )
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("report-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

#[test]
fn markdown_report() {
    let out = run(report(&[
        "examples/campaigns",
        WAIVED,
        MARKUP,
        "--format",
        "markdown",
    ]));
    assert_eq!(out.code, 1, "a campaign fails: exit 1\n{}", out.stderr);
    assert_eq!(
        out.stderr, "",
        "nothing on stderr without -o or input errors"
    );
    let md = &out.stdout;
    // The numbers the snapshot shows, pinned explicitly.
    assert!(md.contains("**Overall:** ✗ **FAIL** — 2 of 4 campaigns fail."));
    assert!(md.contains("| 4 | 2 | 2 | 0 |"), "campaign totals");
    assert!(md.contains("| 2 | 1 | 1 | 1 |"), "waiver totals");
    assert!(md.contains(
        "| **Expiring soon** | `gdpr_art21_objections_honoured` | `holiday-gift-guide` | dpo@shop.example | PRIV-2291 | 2026-12-10 (in 17 days) |"
    ));
    assert!(md.contains("| **Expired** | `gdpr_art21_objections_honoured` | `flash-sale-xss` |"));
    assert!(md.contains("| **Unused** | `baseline_quiet_hours` | `holiday-gift-guide` |"));
    // gdpr_art21: spring sale passes, baby club and the expired waiver fail,
    // the holiday guide's waiver accepts it.
    assert!(md.contains("| gdpr | `gdpr_art21_objections_honoured` | Error | 1 | 2 | 1 | 0 | 0 |"));
    // Skipped (a prerequisite failed) and not applicable (`when`) outcomes.
    assert!(md.contains("| baseline | `baseline_proxy_targeting` | Warning | 3 | 0 | 0 | 1 | 0 |"));
    assert!(
        md.contains("| ccpa | `ccpa_7025_global_privacy_control` | Error | 0 | 0 | 0 | 0 | 4 |")
    );
    // Markup in campaign text is escaped, never live.
    assert!(
        md.contains("\\<script\\>alert('pwned')\\</script\\> Flash sale & \\<b\\>friends\\</b\\>")
    );
    assert!(md.contains("\\<img src=x onerror=alert(1)\\> legacy \\| pipe"));
    for (i, _) in md.match_indices('<') {
        assert!(md[..i].ends_with('\\'), "unescaped `<` at byte {i}");
    }
    insta::assert_snapshot!("markdown_report", redacted(md));
}

#[test]
fn html_report_structure_and_escaping() {
    let out = run(report(&["examples/campaigns", WAIVED, MARKUP]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    let html = &out.stdout;
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(html.trim_end().ends_with("</html>"));
    assert!(html.contains("<meta charset=\"utf-8\">"));
    assert!(html.contains("<title>Campaign compliance report, 2026-11-23 12:00 UTC</title>"));
    assert_eq!(html.matches("<h1>").count(), 1);
    for (id, heading) in [
        ("summary", "Summary"),
        ("charts", "Findings at a glance"),
        ("waivers", "Waivers"),
        ("campaigns", "Findings by campaign"),
        ("rules", "Rules"),
        ("citations", "Citations"),
    ] {
        assert!(
            html.contains(&format!("<section id=\"{id}\"")),
            "section {id}"
        );
        assert!(
            html.contains(&format!("<h2 id=\"{id}-h\">{heading}</h2>")),
            "heading of {id}"
        );
    }
    // Two charts, accessible, with their numbers in words too.
    assert_eq!(html.matches("<svg ").count(), 2);
    assert_eq!(html.matches("role=\"img\"").count(), 2);
    assert!(html.contains("<title id=\"chart-rule-t\">Findings by rule</title>"));
    assert!(html.contains("Findings by rule: 14 open and 2 waived findings."));
    assert!(html.contains("<title>gdpr_art21_objections_honoured: 2 open, 1 waived</title>"));
    assert!(html.contains("<title id=\"chart-reg-t\">Findings by regulation</title>"));
    assert!(html.contains("<title>GDPR: 12 open, 1 waived</title>"));
    // Tables have header cells; verdicts and states are words, not colours.
    assert!(html.contains("<th scope=\"col\">Verdict</th>"));
    // The overall verdict, then each campaign in the table and as a heading.
    assert_eq!(html.matches("</span> FAIL</span>").count(), 5);
    assert_eq!(html.matches("</span> PASS</span>").count(), 4);
    for state in ["Expired", "Expiring soon", "Active", "Unused"] {
        assert!(
            html.contains(&format!("\">{state}</span>")),
            "waiver state {state}"
        );
    }
    assert!(html.contains("PRIV-2291") && html.contains("in 17 days"));
    // Print rules.
    assert!(html.contains("@media print"));
    assert!(html.contains("size: A4"));
    assert!(html.contains("section.major { break-before: page; }"));
    // The campaign name and the waiver's justification carry markup: it is
    // shown as text, never interpreted.
    assert!(html.contains(
        "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt; Flash sale &amp; &lt;b&gt;friends&lt;/b&gt;"
    ));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt; legacy | pipe"));
    let lower = html.to_lowercase();
    assert!(!lower.contains("<script"), "no script element");
    assert!(!lower.contains("<img"), "no injected element");
    assert!(!lower.contains("<b>friends"), "no injected element");
    // Self-contained: nothing is loaded from elsewhere.
    for external in [
        "<link", "@import", " src=\"", " src='", "<iframe", "<object", "<embed",
    ] {
        assert!(!lower.contains(external), "external resource: {external}");
    }
    for (i, _) in lower.match_indices("url(") {
        assert!(lower[i..].starts_with("url(#"), "only in-document url(#…)");
    }
    // Links are in-document, or a citation's official text (a link the
    // reader follows, never a resource the page loads).
    let mut official = 0;
    for (i, _) in lower.match_indices("href=\"") {
        if lower[i..].starts_with("href=\"https://") {
            official += 1;
            let tag_end = i + lower[i..].find('>').expect("tag end");
            assert!(lower[i..tag_end].contains("rel=\"noopener\""));
        } else {
            assert!(lower[i..].starts_with("href=\"#"), "only in-document links");
        }
    }
    assert!(official > 0, "citations link to their official text");
    for (i, _) in lower.match_indices("http") {
        let linked = lower[..i].ends_with("href=\"") && lower[i..].starts_with("https://");
        assert!(
            linked || lower[i..].starts_with("http://www.w3.org/2000/svg\""),
            "only the SVG namespace and citation links are URLs"
        );
    }
}

#[test]
fn invalid_input_still_writes_the_report_and_exits_2() {
    let dir = scratch("invalid");
    let path = dir.join("report.html");
    let path_arg = path.to_str().expect("UTF-8 path");
    let out = run(report(&[BROKEN, CLEAN, "-o", path_arg]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(out.stdout, "", "the report goes to the file");
    assert!(
        out.stderr.contains("scruple::campaign::unknown_key"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "wrote {path_arg}: 1 campaign checked: 1 passed, 0 failed, 1 input could not be loaded"
        )),
        "{}",
        out.stderr
    );
    let html = std::fs::read_to_string(&path).expect("the report was written");
    assert!(html.contains("</span> INVALID</span>"));
    assert!(html.contains("1 input could not be loaded."));
    assert!(html.contains("tests/fixtures/report/broken.yaml"));
    assert!(html.contains("scruple::campaign::unknown_key"));
    assert!(html.contains("</span> PASS</span>"));
}

#[test]
fn all_passing_exits_0() {
    let out = run(report(&[CLEAN, "--format", "markdown"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out
        .stdout
        .contains("**Overall:** ✓ **PASS** — The campaign passes."));
    assert!(out.stdout.contains("No campaign declares a waiver."));
    // The clean EU campaign relies on consent, so GDPR Art. 8 decides the
    // age and the baseline's minimum age is listed as deferred.
    assert!(out.stdout.contains(
        "| Info | Deferred | `baseline_marketing_minimum_age` | `baseline_marketing_minimum_age` deferred to `gdpr_art8_digital_age_of_consent`"
    ));
}

#[test]
fn deny_warnings_fails_on_warnings() {
    // The holiday guide passes, with a warning: its quiet-hours waiver is unused.
    let out = run(report(&[WAIVED, "--format", "markdown"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = run(report(&[WAIVED, "--format", "markdown", "--deny-warnings"]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stdout.contains(
        "| Verdict rule | a campaign fails on any unwaived finding at error or warning level (--deny-warnings) |"
    ));
    assert!(out.stdout.contains("### ✗ **FAIL** — Holiday gift guide"));
}

#[test]
fn usage_errors_exit_2() {
    let out = run(report(&[]));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("no campaigns to report on"),
        "{}",
        out.stderr
    );
    let out = run(report(&["tests/fixtures/report/nothing-*.yaml"]));
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("matches no file"), "{}", out.stderr);
    assert!(
        out.stdout.contains("<h2 id=\"summary-h\">Summary</h2>"),
        "still a report"
    );
    let dir = scratch("unwritable");
    let target = dir.join("missing-dir").join("report.md");
    let out = run(report(&[CLEAN, "-o", target.to_str().expect("UTF-8 path")]));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("scruple::report::unwritable"),
        "{}",
        out.stderr
    );
}

/// Chromium, if installed (`CHROMIUM` overrides the path).
fn chromium() -> Option<PathBuf> {
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from("/usr/bin/chromium")))
        .filter(|p| p.is_file())
}

#[test]
fn html_report_renders_in_headless_chromium() {
    let Some(chromium) = chromium() else {
        eprintln!(
            "note: Chromium not found (/usr/bin/chromium or $CHROMIUM); rendering check skipped"
        );
        return;
    };
    let dir = scratch("chromium");
    let html = dir.join("report.html");
    let out = run(report(&[
        "examples/campaigns",
        WAIVED,
        MARKUP,
        "-o",
        html.to_str().expect("UTF-8 path"),
    ]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    let status = std::process::Command::new("sh")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("scripts/report-screenshot.sh")
        .arg(&html)
        .arg(&dir)
        .env("CHROMIUM", &chromium)
        .status()
        .expect("the script runs");
    assert!(
        status.success(),
        "scripts/report-screenshot.sh failed: {status}"
    );

    let png = std::fs::read(dir.join("report.png")).expect("the screenshot exists");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG file");
    let width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
    let height = u32::from_be_bytes([png[20], png[21], png[22], png[23]]);
    assert_eq!((width, height), (1280, 2000), "the requested window size");
    // A blank page compresses to a few kilobytes; the report does not.
    assert!(png.len() > 50_000, "screenshot is only {} bytes", png.len());

    let pdf = std::fs::read(dir.join("report.pdf")).expect("the PDF exists");
    assert!(pdf.starts_with(b"%PDF-"), "a PDF file");
    assert!(pdf.len() > 50_000, "PDF is only {} bytes", pdf.len());
    let pages = pdf.windows(11).filter(|w| w == b"/Type /Page").count()
        - pdf.windows(12).filter(|w| w == b"/Type /Pages").count();
    // A first page, then each major section starts a page of its own.
    assert!(pages >= 6, "{pages} pages");
}

/// Messages quote user values: a 1 MB channel name in a campaign was copied
/// whole into the report (1 MB of Markdown). Both formats cut each message to
/// a bounded length.
#[test]
fn report_messages_quoting_huge_values_are_bounded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("huge.yaml");
    std::fs::write(
        &path,
        format!("id: x\nchannels: [{}]\n", "k".repeat(1_000_000)),
    )
    .expect("write");
    let path = path.to_string_lossy().into_owned();
    for format in ["markdown", "html"] {
        let out = run(report(&[&path, "--format", format]));
        assert_ne!(out.code, 0, "{}", out.stderr);
        assert!(out.stdout.contains("kkkk"), "{format}: the key is quoted");
        assert!(
            out.stdout.len() < 200_000,
            "{format}: {} bytes of report",
            out.stdout.len()
        );
    }
}

/// Issue 11 item 5: a finding by meaning carries its evidence in the HTML
/// and Markdown reports, as in `check`.
#[test]
fn reports_carry_the_evidence_of_findings_by_meaning() {
    let campaign = "tests/fixtures/campaigns/meaning_op_contains_copd.yaml";
    let md = run(report(&[campaign, "--format", "markdown"]));
    assert_eq!(md.code, 1, "{}", md.stderr);
    assert!(
        md.stdout
            .contains("*read by meaning: `copd` is health.condition data (word `copd`: chronic lung disease; also `inhaler` is health.treatment data (word `inhaler`: asthma treatment))*"),
        "{}",
        md.stdout
    );
    let dir = scratch("evidence");
    let html_path = dir.join("report.html");
    let html = run(report(&[campaign, "-o", &html_path.display().to_string()]));
    assert_eq!(html.code, 1, "{}", html.stderr);
    let text = std::fs::read_to_string(&html_path).expect("report written");
    assert!(
        text.contains("<div class=\"detail\">read by meaning: <code>copd</code> is health.condition data (word <code>copd</code>: chronic lung disease; also <code>inhaler</code>"),
        "{text}"
    );
}
