//! Formatting a [`TestRun`]: human text, JUnit XML and the coverage table.
//! Every decision (pass, fail, coverage) is made before; this only formats.

use std::fmt::Write as _;

use super::{Coverage, Failure, Mark, TestResult, TestRun};

/// How a line of a failure explanation is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tone {
    /// Ordinary text.
    Plain,
    /// Expected but not found (`-`, red).
    Expected,
    /// Found but not expected (`+`, green).
    Actual,
}

const RED: &str = "31";
const GREEN: &str = "32";
const BOLD: &str = "1";

/// Wraps `text` in an ANSI colour when `color` is on.
fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// Why a test failed, one line each: first the comparison of the rules
/// expected to fire with the rules that fired (a diff: unmarked lines fired
/// as expected, `-` lines were expected but did not fire, `+` lines fired
/// but were not expected), then every other expectation that was not met.
fn failure_lines(result: &TestResult) -> Vec<(Tone, String)> {
    let mut lines = Vec::new();
    if result.fires.iter().any(|l| l.mark != Mark::Matched) {
        lines.push((
            Tone::Plain,
            "rules that fire (- expected, + actual):".to_owned(),
        ));
        let width = result.fires.iter().map(|l| l.rule.len()).max().unwrap_or(0);
        let in_order = [Mark::Matched, Mark::Missing, Mark::Unexpected]
            .into_iter()
            .flat_map(|mark| result.fires.iter().filter(move |l| l.mark == mark));
        for line in in_order {
            let rule = &line.rule;
            lines.push(match line.mark {
                Mark::Matched => (Tone::Plain, format!("    {rule}")),
                Mark::Missing => (
                    Tone::Expected,
                    format!(
                        "  - {rule:<width$}  did not fire: it {}",
                        line.outcome.describe()
                    ),
                ),
                Mark::Unexpected => (
                    Tone::Actual,
                    format!("  + {rule:<width$}  {}", line.outcome.describe()),
                ),
            });
        }
    }
    for failure in &result.failures {
        let text = match failure {
            Failure::Mismatch {
                rule,
                expected,
                actual,
            } => format!(
                "expected `{rule}` to {}, but it {}",
                expected.infinitive(),
                actual.describe()
            ),
            Failure::MissingDiagnostic { code } => {
                format!("expected the diagnostic `{code}`, but the check did not report it")
            }
            Failure::UnexpectedDiagnostic { code, message } => {
                format!("unexpected diagnostic `{code}`: {message}")
            }
        };
        lines.push((Tone::Plain, text));
    }
    lines
}

/// The number of unmet expectations of a test.
fn unmet(result: &TestResult) -> usize {
    result
        .fires
        .iter()
        .filter(|l| l.mark != Mark::Matched)
        .count()
        + result.failures.len()
}

/// The summary line: "12 tests in 2 files: 11 passed, 1 failed".
pub fn summary_line(run: &TestRun) -> String {
    let total = run.total();
    let failed = run.failed();
    let files = run.suites.len();
    format!(
        "{total} test{} in {files} file{}: {} passed, {failed} failed",
        plural(total),
        plural(files),
        total - failed
    )
}

/// `"s"` unless `n` is 1.
pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Human output: per file, `✓` or `✗` per test; under each failed test, its
/// location and why it failed; then the summary line.
pub fn human(run: &TestRun, color: bool) -> String {
    let mut out = String::new();
    for suite in &run.suites {
        let scope = if suite.packs.is_empty() {
            String::new()
        } else {
            format!(" (packs: {})", suite.packs.join(", "))
        };
        let _ = writeln!(out, "{}{scope}", paint(color, BOLD, &suite.file));
        for test in &suite.tests {
            if test.passed() {
                let _ = writeln!(out, "  {} {}", paint(color, GREEN, "✓"), test.name);
                continue;
            }
            let _ = writeln!(out, "  {} {}", paint(color, RED, "✗"), test.name);
            let _ = writeln!(out, "      at {}:{}", suite.file, test.line);
            for (tone, line) in failure_lines(test) {
                let line = match tone {
                    Tone::Plain => line,
                    Tone::Expected => paint(color, RED, &line),
                    Tone::Actual => paint(color, GREEN, &line),
                };
                let _ = writeln!(out, "      {line}");
            }
        }
    }
    if !run.suites.is_empty() {
        out.push('\n');
    }
    let summary = summary_line(run);
    let summary = if run.failed() > 0 {
        paint(color, RED, &summary)
    } else {
        summary
    };
    let _ = writeln!(out, "{summary}");
    out
}

/// Escapes text for XML content and attribute values, dropping characters
/// XML 1.0 cannot hold.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: one `<testsuite>` per test file, one `<testcase>` per test,
/// with a `<failure>` holding the same explanation as the human output.
pub fn junit(run: &TestRun) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"scruple test\" tests=\"{}\" failures=\"{}\" errors=\"0\">",
        run.total(),
        run.failed()
    );
    for suite in &run.suites {
        let file = xml_escape(&suite.file);
        let failed = suite.tests.iter().filter(|t| !t.passed()).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{file}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\">",
            suite.tests.len()
        );
        if !suite.packs.is_empty() {
            let _ = writeln!(
                out,
                "    <properties>\n      <property name=\"packs\" value=\"{}\"/>\n    </properties>",
                xml_escape(&suite.packs.join(","))
            );
        }
        for test in &suite.tests {
            let open = format!(
                "    <testcase name=\"{}\" classname=\"{file}\" file=\"{file}\" line=\"{}\"",
                xml_escape(&test.name),
                test.line
            );
            if test.passed() {
                let _ = writeln!(out, "{open}/>");
                continue;
            }
            let n = unmet(test);
            let text: Vec<String> = failure_lines(test).into_iter().map(|(_, l)| l).collect();
            let _ = writeln!(
                out,
                "{open}>\n      <failure type=\"scruple.test\" message=\"{n} expectation{} not met\">{}</failure>\n    </testcase>",
                plural(n),
                xml_escape(&text.join("\n"))
            );
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    out.push_str("</testsuites>\n");
    out
}

/// The coverage summary line.
pub fn coverage_line(coverage: &Coverage) -> String {
    format!(
        "coverage: {:.1}% ({} of {} rules fired in some test and passed in some test)",
        coverage.percent(),
        coverage.covered(),
        coverage.rules.len()
    )
}

/// The coverage table: per rule, in how many tests it fired and passed;
/// then per pack; then the summary line.
pub fn coverage_table(coverage: &Coverage) -> String {
    let width =
        |items: &mut dyn Iterator<Item = usize>, min: usize| items.max().unwrap_or(0).max(min);
    let rule_w = width(&mut coverage.rules.iter().map(|r| r.rule.len()), 4);
    let pack_w = width(&mut coverage.rules.iter().map(|r| r.pack.len()), 4);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<rule_w$}  {:<pack_w$}  FIRED  PASSED  COVERED",
        "RULE", "PACK"
    );
    for row in &coverage.rules {
        let covered = match (row.fired > 0, row.passed > 0) {
            (true, true) => "yes",
            (true, false) => "no: never passes",
            (false, true) => "no: never fires",
            (false, false) => "no: never tested",
        };
        let _ = writeln!(
            out,
            "{:<rule_w$}  {:<pack_w$}  {:>5}  {:>6}  {covered}",
            row.rule, row.pack, row.fired, row.passed
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{:<pack_w$}  COVERED  RULES  COVERAGE", "PACK");
    for pack in coverage.by_pack() {
        let _ = writeln!(
            out,
            "{:<pack_w$}  {:>7}  {:>5}  {:>7.1}%",
            pack.pack,
            pack.covered,
            pack.total,
            pack.percent()
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", coverage_line(coverage));
    out
}
