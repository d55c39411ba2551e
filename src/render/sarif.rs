//! SARIF 2.1.0 output for code scanning (GitHub, GitLab, Azure DevOps).
//!
//! One run; the driver lists every rule of the policy with generic text (a
//! rule's message has `{placeholders}` only a finding can fill), its
//! citations and default level; each violation is a result located on the
//! campaign, with its own message and the rule's definition as a related
//! location. Skipped rules are results of kind `notApplicable`; inputs that
//! could not be loaded are tool execution notifications.
//!
//! Files are located relative to the repository's top level (the nearest
//! directory above the working directory holding `.git`, else the working
//! directory) through `uriBaseId: "%SRCROOT%"`, so code scanning finds them
//! wherever scruple ran. Each result carries a `partialFingerprints` entry
//! that does not depend on line numbers, so an alert keeps its identity when
//! lines are inserted above it.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::report::regulation::source_uri;
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

/// The base every artifact URI is relative to.
const SRCROOT: &str = "%SRCROOT%";

/// The `partialFingerprints` key; bump its version if what is hashed changes.
const FINGERPRINT: &str = "scruple/v1";

/// Where files are: the working directory, and the top level it is inside.
struct Root {
    cwd: PathBuf,
    top: PathBuf,
}

impl Root {
    /// The nearest directory at or above `cwd` that holds `.git` (a
    /// directory, or a file for worktrees and submodules), else `cwd`.
    fn discover(cwd: &Path) -> Root {
        let top = cwd
            .ancestors()
            .find(|d| d.join(".git").exists())
            .unwrap_or(cwd)
            .to_path_buf();
        Root {
            cwd: cwd.to_path_buf(),
            top,
        }
    }

    /// The `artifactLocation` of a file as scruple names it: relative to
    /// `%SRCROOT%` when inside the top level, an absolute `file:` URI
    /// outside it; standard input and shipped packs have no file.
    fn artifact(&self, file: &str) -> Value {
        if file == "<stdin>" {
            return json!({"description": {"text": "standard input"}});
        }
        if file.starts_with("builtin:") {
            return json!({"uri": uri(file)});
        }
        let path = lexical(&self.cwd.join(file));
        match path.strip_prefix(&self.top) {
            Ok(rel) => json!({"uri": uri(&rel.to_string_lossy()), "uriBaseId": SRCROOT}),
            Err(_) => json!({"uri": file_uri(&path, false)}),
        }
    }
}

/// `a/./b/../c` as `a/c`, without touching the file system (a campaign
/// named through a link is located where it was named).
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// An absolute path as a `file:` URI; a directory's ends with `/`, as
/// `originalUriBaseIds` requires.
fn file_uri(path: &Path, dir: bool) -> String {
    let mut text = uri(&path.to_string_lossy());
    if !text.starts_with('/') {
        text.insert(0, '/'); // `C:/…` on Windows
    }
    if dir && !text.ends_with('/') {
        text.push('/');
    }
    format!("file://{text}")
}

fn physical(root: &Root, loc: &Location) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": root.artifact(&loc.file),
            "region": {
                "startLine": loc.line,
                "startColumn": loc.column,
                "endLine": loc.end_line,
                "endColumn": loc.end_column.max(1),
            }
        }
    })
}

/// A rule's text with each `{placeholder}` (filled per finding, and only
/// there) shown as `…`, for rule metadata that no finding fills in.
fn generic(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.push_str(&rest[..open]);
        out.push('…');
        rest = &rest[open + close + 1..];
    }
    out.push_str(&rest.replace(['{', '}'], ""));
    out
}

/// A finding's identity across commits: the rule, the file and the flagged
/// text (the value and its line, trimmed), never the line number; `seen`
/// tells identical ones in one file apart by their order.
fn fingerprint(
    rule: &str,
    file: &Value,
    source: &crate::source::Source,
    span: crate::source::Span,
    seen: &mut HashMap<String, usize>,
) -> String {
    let text = &source.text;
    let bytes = text.as_bytes();
    let start = (span.start as usize).min(bytes.len());
    let end = (span.end as usize).clamp(start, bytes.len());
    let line_start = bytes[..start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line_end = bytes[end..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| end + i);
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let key = format!(
        "{rule}\u{0}{}\u{0}{}\u{0}{}",
        file,
        squash(text.get(start..end).unwrap_or("")),
        squash(text.get(line_start..line_end).unwrap_or(""))
    );
    let n = seen.entry(key.clone()).or_insert(0);
    *n += 1;
    let digest = Sha256::digest(format!("{key}\u{0}{n}").as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}:{n}")
}

fn notification(root: &Root, d: &Diag) -> Value {
    let mut n = json!({
        "level": level(d.severity),
        "message": {"text": match &d.help {
            Some(h) => format!("{} (help: {h})", d.message),
            None => d.message.clone(),
        }},
        "descriptor": {"id": d.code},
    });
    if let Some(l) = d.labels.first() {
        n["locations"] = json!([physical(root, &Location::of(&l.source, l.span))]);
    }
    n
}

/// Where the project is published, when Cargo.toml says.
const PROJECT_URI: Option<&str> = match option_env!("CARGO_PKG_HOMEPAGE") {
    Some(home) if !home.is_empty() => Some(home),
    _ => match option_env!("CARGO_PKG_REPOSITORY") {
        Some(repo) if !repo.is_empty() => Some(repo),
        _ => None,
    },
};

/// Renders the run as a SARIF 2.1.0 log, with files located relative to
/// the repository the working directory is in.
pub fn render(run: &CheckRun, policy: &Policy) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    render_in(run, policy, &cwd)
}

/// [`render`] as if run in `cwd`.
pub fn render_in(run: &CheckRun, policy: &Policy, cwd: &Path) -> String {
    let root = Root::discover(cwd);
    let rules: Vec<Value> = policy
        .rules
        .iter()
        .map(|r| {
            let message = r.decl.message.as_ref().map(|m| generic(&m.value));
            let short = message.clone().unwrap_or_else(|| r.id.clone());
            let full = r
                .decl
                .description
                .as_ref()
                .map_or_else(|| short.clone(), |d| generic(&d.value));
            let cites: Vec<&str> = r.cites().collect();
            let help = r
                .decl
                .help
                .as_ref()
                .map_or_else(String::new, |h| generic(&h.value));
            let tags: Vec<&str> = r.decl.tags.iter().map(|t| t.name.as_str()).collect();
            let help_text = match (help.is_empty(), cites.is_empty()) {
                (_, true) => help.clone(),
                (true, false) => format!("cite: {}", cites.join("; ")),
                (false, false) => format!("{help}\ncite: {}", cites.join("; ")),
            };
            let mut markdown = format!("**{}**\n\n{full}", short.replace('*', "\\*"));
            if !help.is_empty() {
                markdown.push_str(&format!("\n\n{help}"));
            }
            for cite in &cites {
                markdown.push_str(&format!("\n\n- {cite}"));
            }
            let mut rule = json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": {"text": short},
                "fullDescription": {"text": full},
                "help": {"text": help_text, "markdown": markdown},
                "defaultConfiguration": {"level": level(r.severity)},
                "properties": {"tags": tags, "citations": cites, "kind": r.kind(), "pack": r.pack},
            });
            // The rule's help is its law: link the first citation whose
            // official text has a known address.
            if let Some(uri) = cites.iter().find_map(|c| source_uri(c)) {
                rule["helpUri"] = json!(uri);
            } else if let Some(home) = PROJECT_URI {
                rule["helpUri"] = json!(format!("{home}/blob/main/docs/language.md"));
            }
            rule
        })
        .collect();
    let mut results = Vec::new();
    let mut seen = HashMap::new();
    for report in &run.reports {
        for f in &report.findings {
            let index = policy.rules.iter().position(|r| r.id == f.rule);
            let location = physical(&root, &Location::of(&f.campaign, f.span));
            let artifact = &location["physicalLocation"]["artifactLocation"];
            let print = fingerprint(&f.rule, artifact, &f.campaign, f.span, &mut seen);
            let mut result = json!({
                "ruleId": f.rule,
                "level": level(f.severity),
                "message": {"text": f.message},
                "locations": [location],
                "partialFingerprints": {FINGERPRINT: print},
                "relatedLocations": [{
                    "id": 1,
                    "message": {"text": "rule defined here"},
                    "physicalLocation": physical(&root, &Location::of(&f.rule_source, f.rule_span))["physicalLocation"].clone(),
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
                Status::Deferred { to, .. } => {
                    result["kind"] = json!("notApplicable");
                    result["level"] = json!("none");
                    result["properties"]["deferredTo"] = json!(to);
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
        .map(|d| notification(&root, d))
        .collect();
    let mut driver = json!({
        "name": "scruple",
        "version": env!("CARGO_PKG_VERSION"),
        "rules": rules,
    });
    if let Some(home) = PROJECT_URI {
        driver["informationUri"] = json!(home);
    }
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "automationDetails": {"id": "scruple/check/"},
            "originalUriBaseIds": {SRCROOT: {
                "uri": file_uri(&root.top, true),
                "description": {"text": "the repository's top level"},
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
    use std::path::Path;

    use super::{generic, uri, Root};

    #[test]
    fn rule_text_placeholders_are_elided() {
        assert_eq!(
            generic("Targets `{value}`, derived from {attribute}."),
            "Targets `…`, derived from …."
        );
        assert_eq!(generic("no placeholder"), "no placeholder");
        assert_eq!(generic("odd { brace"), "odd  brace");
    }

    #[test]
    fn artifacts_are_relative_to_the_top_level() {
        let root = Root {
            cwd: Path::new("/repo/campaigns").to_path_buf(),
            top: Path::new("/repo").to_path_buf(),
        };
        let a = root.artifact("q4/../sale.yaml");
        assert_eq!(a["uri"], "campaigns/sale.yaml");
        assert_eq!(a["uriBaseId"], "%SRCROOT%");
        assert_eq!(root.artifact("/repo/x.yaml")["uri"], "x.yaml");
        assert_eq!(
            root.artifact("/elsewhere/a b.yaml")["uri"],
            "file:///elsewhere/a%20b.yaml"
        );
        assert!(root
            .artifact("/elsewhere/x.yaml")
            .get("uriBaseId")
            .is_none());
        assert!(root.artifact("<stdin>").get("uri").is_none());
    }

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
