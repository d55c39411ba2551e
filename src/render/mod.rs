//! Renderers for a [`CheckRun`]: human (miette), JSON, SARIF and GitHub
//! workflow annotations. They only format; every decision is made before.

pub mod github;
pub mod json;
pub mod report;
pub mod sarif;

use serde::Serialize;

use crate::check::CheckRun;
use crate::diag::{render_human, Diag, Severity};
use crate::eval::{Finding, Status};
use crate::source::{Source, Span};

/// How human output looks.
#[derive(Clone, Copy, Debug)]
pub struct HumanStyle {
    /// ANSI colours.
    pub color: bool,
    /// Wrapping width.
    pub width: usize,
    /// Also show where each rule is defined in the policy (`--verbose`);
    /// by default a finding shows the campaign, help and citations only,
    /// which is what the people fixing campaigns need.
    pub verbose: bool,
}

/// Human output: each finding as a diagnostic, skipped rules as one line per
/// campaign, then a summary line.
pub fn human(run: &CheckRun, style: HumanStyle, deny_warnings: bool) -> String {
    let mut diags: Vec<Diag> = run.usage.clone();
    for input in &run.invalid {
        diags.extend(input.diags.iter().cloned());
    }
    let mut skipped_lines = Vec::new();
    let mut deferred_lines = Vec::new();
    for report in &run.reports {
        diags.extend(report.diagnostics.iter().cloned());
        let mut skipped = Vec::new();
        for f in &report.findings {
            if let Status::Skipped { because } = &f.status {
                skipped.push(format!("{}: prerequisite `{because}` failed", f.rule));
                continue;
            }
            if let Status::Deferred { .. } = &f.status {
                deferred_lines.push(format!(
                    "deferred in {}: {}",
                    report.campaign.name,
                    f.message.replace('`', "")
                ));
                continue;
            }
            let mut diag = f.to_diag();
            if !style.verbose {
                // The "rule defined here" label points into the policy.
                diag.labels
                    .retain(|l| std::sync::Arc::ptr_eq(&l.source, &f.campaign));
            }
            diags.push(diag);
        }
        if !skipped.is_empty() {
            skipped_lines.push(format!(
                "skipped in {}: {} ({})",
                report.campaign.name,
                plural(skipped.len(), "rule"),
                skipped.join("; ")
            ));
        }
    }
    let mut out = render_human(&diags, style.color, style.width);
    if !out.is_empty() {
        out.push('\n');
    }
    for line in skipped_lines.into_iter().chain(deferred_lines) {
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(&summary_line(run, deny_warnings));
    out.push('\n');
    out
}

/// Counts shown after a run.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// Campaigns loaded and checked.
    pub campaigns: usize,
    /// Campaigns that pass.
    pub passed: usize,
    /// Campaigns that fail.
    pub failed: usize,
    /// Inputs that could not be loaded.
    pub invalid: usize,
    /// Violations at error level.
    pub errors: usize,
    /// Violations at warning level.
    pub warnings: usize,
    /// Violations at info level.
    pub infos: usize,
    /// Rules skipped because a prerequisite failed.
    pub skipped: usize,
    /// Rules deferred to a more specific rule that applied (`defers to`).
    pub deferred: usize,
    /// Violations accepted by a valid waiver.
    pub waived: usize,
}

/// Tallies a run.
pub fn summarize(run: &CheckRun, deny_warnings: bool) -> Summary {
    let mut s = Summary {
        campaigns: run.reports.len(),
        invalid: run.invalid.len(),
        ..Summary::default()
    };
    for report in &run.reports {
        if report.passes(deny_warnings) {
            s.passed += 1;
        } else {
            s.failed += 1;
        }
        for f in &report.findings {
            s.count(f);
        }
        // Stale or expired waivers and unknown purposes are printed with
        // the findings, so they are counted with them.
        for d in &report.diagnostics {
            s.count_diag(d);
        }
    }
    s
}

impl Summary {
    /// Adds one finding to the finding tallies.
    pub fn count(&mut self, f: &Finding) {
        match (&f.status, f.severity) {
            (Status::Skipped { .. }, _) => self.skipped += 1,
            (Status::Deferred { .. }, _) => self.deferred += 1,
            (Status::Waived(_), _) => self.waived += 1,
            (_, Severity::Error) => self.errors += 1,
            (_, Severity::Warning) => self.warnings += 1,
            (_, Severity::Info) => self.infos += 1,
        }
    }
}

impl Summary {
    /// Adds one campaign diagnostic (not a rule finding) to its severity.
    pub fn count_diag(&mut self, d: &Diag) {
        match d.severity {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
            Severity::Info => self.infos += 1,
        }
    }
}

pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// "3 campaigns checked: 1 passed, 2 failed (4 errors, 1 warning, 1 skipped)".
pub fn summary_line(run: &CheckRun, deny_warnings: bool) -> String {
    let s = summarize(run, deny_warnings);
    let mut line = format!(
        "{} checked: {} passed, {} failed",
        plural(s.campaigns, "campaign"),
        s.passed,
        s.failed
    );
    if s.invalid > 0 {
        line.push_str(&format!(
            ", {} could not be loaded",
            plural(s.invalid, "input")
        ));
    }
    let mut counts = vec![plural(s.errors, "error"), plural(s.warnings, "warning")];
    if s.infos > 0 {
        counts.push(plural(s.infos, "note"));
    }
    if s.skipped > 0 {
        counts.push(format!("{} skipped", s.skipped));
    }
    if s.deferred > 0 {
        counts.push(format!("{} deferred", s.deferred));
    }
    if s.waived > 0 {
        counts.push(format!("{} waived", s.waived));
    }
    line.push_str(&format!(" ({})", counts.join(", ")));
    line
}

/// A resolved location in a file, 1-based lines and columns.
#[derive(Debug, Serialize, Clone, PartialEq, Eq)]
pub struct Location {
    /// File display name.
    pub file: String,
    /// First line.
    pub line: usize,
    /// First column (characters).
    pub column: usize,
    /// Last line.
    pub end_line: usize,
    /// Column just past the end.
    pub end_column: usize,
    /// Byte offset.
    pub offset: u32,
    /// Length in bytes.
    pub length: u32,
}

impl Location {
    /// Resolves a span in a source.
    pub fn of(source: &Source, span: Span) -> Location {
        let (line, column) = source.line_col(span.start);
        let (end_line, end_column) = source.line_col(span.end);
        Location {
            file: source.name.clone(),
            line,
            column,
            end_line,
            end_column,
            offset: span.start,
            length: span.end.saturating_sub(span.start),
        }
    }
}
