//! SARIF 2.1.0 output for code scanning (GitHub, GitLab, Azure DevOps).
//!
//! One run; the driver lists every rule of the policy with its help,
//! citations and default level; each violation is a result located on the
//! campaign, with the rule's definition as a related location. Skipped rules
//! are results of kind `notApplicable`; inputs that could not be loaded are
//! tool execution notifications.

use serde_json::{json, Value};

use super::Location;
use crate::check::CheckRun;
use crate::compile::Policy;
use crate::diag::{Diag, Severity};
use crate::eval::Status;

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A file name as a URI reference (SARIF `artifactLocation.uri`):
/// backslashes become `/`, and every byte a URI path may not hold is
/// percent-encoded (`<stdin>` becomes `%3Cstdin%3E`, a space `%20`). Shipped
/// packs keep their `builtin:` prefix, which reads as a URI scheme.
fn uri(file: &str) -> String {
    let mut out = String::with_capacity(file.len());
    for byte in file.replace('\\', "/").bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'/'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
            | b':'
            | b'@' => out.push(char::from(byte)),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

fn physical(loc: &Location) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": {"uri": uri(&loc.file)},
            "region": {
                "startLine": loc.line,
                "startColumn": loc.column,
                "endLine": loc.end_line,
                "endColumn": loc.end_column.max(1),
            }
        }
    })
}

fn notification(d: &Diag) -> Value {
    let mut n = json!({
        "level": level(d.severity),
        "message": {"text": match &d.help {
            Some(h) => format!("{} (help: {h})", d.message),
            None => d.message.clone(),
        }},
        "descriptor": {"id": d.code},
    });
    if let Some(l) = d.labels.first() {
        n["locations"] = json!([physical(&Location::of(&l.source, l.span))]);
    }
    n
}

/// Renders the run as a SARIF 2.1.0 log.
pub fn render(run: &CheckRun, policy: &Policy) -> String {
    let rules: Vec<Value> = policy
        .rules
        .iter()
        .map(|r| {
            let short = r.decl.message.as_ref().map_or_else(|| r.id.clone(), |m| m.value.clone());
            let full = r.decl.description.as_ref().map_or_else(|| short.clone(), |d| d.value.clone());
            let cites: Vec<&str> = r.cites().collect();
            let help = r.decl.help.as_ref().map_or_else(String::new, |h| h.value.clone());
            let tags: Vec<&str> = r.decl.tags.iter().map(|t| t.name.as_str()).collect();
            json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": {"text": short},
                "fullDescription": {"text": full},
                "help": {"text": if cites.is_empty() { help.clone() } else { format!("{help}\ncite: {}", cites.join("; ")) }},
                "defaultConfiguration": {"level": level(r.severity)},
                "properties": {"tags": tags, "citations": cites, "kind": r.kind(), "pack": r.pack},
            })
        })
        .collect();
    let mut results = Vec::new();
    for report in &run.reports {
        for f in &report.findings {
            let index = policy.rules.iter().position(|r| r.id == f.rule);
            let mut result = json!({
                "ruleId": f.rule,
                "level": level(f.severity),
                "message": {"text": f.message},
                "locations": [physical(&Location::of(&f.campaign, f.span))],
                "relatedLocations": [{
                    "id": 1,
                    "message": {"text": "rule defined here"},
                    "physicalLocation": physical(&Location::of(&f.rule_source, f.rule_span))["physicalLocation"].clone(),
                }],
                "properties": {"campaign": report.id, "citations": f.citations, "notes": f.notes},
            });
            if let Some(i) = index {
                result["ruleIndex"] = json!(i);
            }
            match &f.status {
                Status::Skipped { because } => {
                    result["kind"] = json!("notApplicable");
                    result["level"] = json!("none");
                    result["properties"]["skippedBecause"] = json!(because);
                }
                Status::Waived(w) => {
                    result["suppressions"] = json!([{
                        "kind": "external",
                        "status": "accepted",
                        "justification": format!("{} (approved by {}, {}, until {})", w.justification, w.approver, w.reference, w.expires),
                        "properties": {"approver": w.approver, "reference": w.reference, "expires": w.expires},
                    }]);
                }
                Status::Violation => {}
            }
            results.push(result);
        }
    }
    let notifications: Vec<Value> = run
        .usage
        .iter()
        .chain(run.invalid.iter().flat_map(|i| i.diags.iter()))
        .chain(run.reports.iter().flat_map(|r| r.diagnostics.iter()))
        .map(notification)
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "scruple",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": run.invalid.is_empty() && run.usage.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&log).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::uri;

    #[test]
    fn file_names_become_uri_references() {
        assert_eq!(
            uri("campaigns/spring-sale.yaml"),
            "campaigns/spring-sale.yaml"
        );
        assert_eq!(uri("campaigns\\a b.yaml"), "campaigns/a%20b.yaml");
        assert_eq!(uri("<stdin>"), "%3Cstdin%3E");
        assert_eq!(uri("été #1.yaml"), "%C3%A9t%C3%A9%20%231.yaml");
        assert_eq!(uri("builtin:gdpr.scruple"), "builtin:gdpr.scruple");
    }
}
