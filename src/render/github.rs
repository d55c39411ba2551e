//! GitHub Actions workflow commands (`::error file=…,line=…::message`), so
//! findings show up as annotations on the pull request.

use super::Location;
use crate::check::CheckRun;
use crate::diag::{clip, Diag, Severity};
use crate::eval::Status;

/// Renders one annotation per finding and input error.
pub fn render(run: &CheckRun) -> String {
    let mut out = String::new();
    let diags = run
        .usage
        .iter()
        .chain(run.invalid.iter().flat_map(|i| i.diags.iter()));
    for d in diags.chain(run.reports.iter().flat_map(|r| r.diagnostics.iter())) {
        out.push_str(&annotation_for_diag(d));
    }
    for report in &run.reports {
        for f in &report.findings {
            let level = match (&f.status, f.severity) {
                (Status::Skipped { .. } | Status::Waived(_), _) | (_, Severity::Info) => "notice",
                (_, Severity::Warning) => "warning",
                (_, Severity::Error) => "error",
            };
            let loc = Location::of(&f.campaign, f.span);
            // Messages quote user values: bounded like the human output.
            let mut message = clip(&f.message).into_owned();
            if let Some(help) = &f.help {
                message.push_str("\nhelp: ");
                message.push_str(&clip(help));
            }
            if !f.citations.is_empty() {
                message.push_str("\ncite: ");
                message.push_str(&f.citations.join("; "));
            }
            out.push_str(&command(level, Some(&loc), &f.rule, &message));
        }
    }
    out
}

fn annotation_for_diag(d: &Diag) -> String {
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    };
    let loc = d.labels.first().map(|l| Location::of(&l.source, l.span));
    let mut message = clip(&d.message).into_owned();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(&clip(help));
    }
    command(level, loc.as_ref(), &d.code, &message)
}

fn command(level: &str, loc: Option<&Location>, title: &str, message: &str) -> String {
    let mut props = Vec::new();
    if let Some(loc) = loc {
        props.push(format!("file={}", escape_property(&loc.file)));
        props.push(format!("line={}", loc.line));
        props.push(format!("col={}", loc.column));
        props.push(format!("endLine={}", loc.end_line));
        props.push(format!("endColumn={}", loc.end_column));
    }
    props.push(format!("title={}", escape_property(title)));
    format!("::{level} {}::{}\n", props.join(","), escape_data(message))
}

/// Escapes a message per the workflow-command rules.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (also `:` and `,`).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_workflow_commands() {
        assert_eq!(escape_data("50%\nnext"), "50%25%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
