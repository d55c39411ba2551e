//! Project configuration: `scruple.toml`, found by walking up from the
//! working directory (documented in `docs/config.md`).
//!
//! It says which packs and policy paths apply, overrides rule severities,
//! turns rules off (each with a required reason, so the decision is on
//! record), names the campaign globs `scruple check` uses when given none,
//! and sets the default output format.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::compile::Policy;
use crate::diag::{did_you_mean, Diag, Severity};
use crate::source::{Source, SourceFile, Span};

/// File name looked for.
pub const FILE_NAME: &str = "scruple.toml";

#[derive(Deserialize, Default)]
struct RawConfig {
    #[serde(default)]
    policy: RawPolicy,
    #[serde(default)]
    check: RawCheck,
    #[serde(default)]
    rules: BTreeMap<Spanned<String>, Spanned<RawRule>>,
    #[serde(default)]
    ledger: RawLedger,
}

#[derive(Deserialize, Default)]
struct RawLedger {
    url: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawPolicy {
    #[serde(default)]
    packs: Vec<Spanned<String>>,
    #[serde(default)]
    paths: Vec<Spanned<String>>,
}

#[derive(Deserialize, Default)]
struct RawCheck {
    #[serde(default)]
    campaigns: Vec<Spanned<String>>,
    format: Option<Spanned<String>>,
    #[serde(default)]
    deny_warnings: bool,
    max_input_bytes: Option<u64>,
    unknown_attributes: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
struct RawRule {
    severity: Option<Spanned<String>>,
    #[serde(default)]
    disabled: Option<Spanned<bool>>,
    reason: Option<Spanned<String>>,
}

/// A rule override from `[rules.ID]`.
#[derive(Clone, Debug)]
pub struct RuleOverride {
    /// The rule id and where it is written.
    pub id: String,
    /// Span of the `[rules.ID]` key.
    pub span: Span,
    /// New severity.
    pub severity: Option<(Severity, Span)>,
    /// Turned off, with the reason.
    pub disabled: Option<String>,
}

/// A loaded `scruple.toml`.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file's text.
    pub source: Source,
    /// Directory the file is in; relative paths are resolved from here.
    pub dir: PathBuf,
    /// Shipped packs to use.
    pub packs: Vec<String>,
    /// Policy files or directories (resolved).
    pub policy_paths: Vec<PathBuf>,
    /// Campaign globs (resolved against `dir`).
    pub campaigns: Vec<String>,
    /// Default output format of `check`.
    pub format: Option<String>,
    /// Default for `--deny-warnings`.
    pub deny_warnings: bool,
    /// Default for `--max-input-bytes`.
    pub max_input_bytes: Option<u64>,
    /// `unknown_attributes = "error"`: how a targeting attribute that
    /// neither the data dictionary nor the taxonomy places is reported
    /// (a warning by default).
    pub unknown_attributes: Option<Severity>,
    /// Rule overrides.
    pub rules: Vec<RuleOverride>,
    /// `[ledger] url`: the send ledger, a `postgres://` URL or an SQLite
    /// file (resolved against `dir`), unless `--ledger` or
    /// `SCRUPLE_LEDGER_URL` names one.
    pub ledger: Option<PathBuf>,
}

/// Finds `scruple.toml` in `start` or the nearest ancestor.
pub fn discover(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|p| p.is_file())
}

const FORMATS: [&str; 4] = ["human", "json", "sarif", "github"];

fn span(range: std::ops::Range<usize>) -> Span {
    Span::new(range.start, range.end)
}

/// Reads and validates a configuration file. With `check_rules`, every
/// `[rules.ID]` must name a rule of the policy the file configures (see
/// [`parse`]).
pub fn load(path: &Path, check_rules: bool) -> Result<Config, Vec<Diag>> {
    let shown = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf());
    let name = shown.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![Diag::error(
            "scruple::config::unreadable",
            format!("cannot read `{name}`: {e}"),
        )
        .with_help(
            "check the path and its permissions, or run without a configuration file (--no-config)",
        )]
    })?;
    let source = SourceFile::new(name, text);
    parse(
        &source,
        path.parent().unwrap_or(Path::new(".")),
        check_rules,
    )
}

/// Keys allowed in each table; `None` stands for `[rules.ID]`, whose own
/// name is free.
const KEYS: [(&str, &[&str]); 5] = [
    ("", &["policy", "check", "rules", "ledger"]),
    ("ledger", &["url"]),
    ("policy", &["packs", "paths"]),
    (
        "check",
        &[
            "campaigns",
            "format",
            "deny_warnings",
            "max_input_bytes",
            "unknown_attributes",
        ],
    ),
    ("rules.*", &["severity", "disabled", "reason"]),
];

/// Every key the file format does not know, each located and with a
/// suggestion: all of them, not the first one serde meets.
fn unknown_keys(source: &Source, table: &toml::de::DeTable<'_>, diags: &mut Vec<Diag>) {
    let mut check = |at: &str, table: &toml::de::DeTable<'_>| {
        let allowed = KEYS.iter().find(|(k, _)| *k == at).map_or(&[][..], |k| k.1);
        for key in table.keys() {
            if allowed.contains(&key.get_ref().as_ref()) {
                continue;
            }
            let help = match did_you_mean(key.get_ref(), allowed.iter().copied()) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("allowed keys here: {}", allowed.join(", ")),
            };
            let within = if at.is_empty() {
                String::new()
            } else {
                format!(" in `[{}]`", at.replace('*', "ID"))
            };
            diags.push(
                Diag::error(
                    "scruple::config::unknown_key",
                    format!("unknown key `{}`{within}", key.get_ref()),
                )
                .with_label(source, span(key.span()), "not a known key")
                .with_help(help),
            );
        }
    };
    check("", table);
    for (name, value) in table {
        let Some(inner) = value.get_ref().as_table() else {
            continue;
        };
        match name.get_ref().as_ref() {
            "policy" | "check" | "ledger" => check(name.get_ref(), inner),
            "rules" => {
                for rule in inner.values() {
                    if let Some(rule) = rule.get_ref().as_table() {
                        check("rules.*", rule);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Parses configuration text; `dir` resolves relative paths. Every problem
/// is reported at once, each at its place. With `check_rules`, `[rules.ID]`
/// tables are checked against the policy this file configures (`scruple
/// diff` leaves that out: it compares two other versions of the policy).
pub fn parse(source: &Source, dir: &Path, check_rules: bool) -> Result<Config, Vec<Diag>> {
    let table = toml::de::DeTable::parse(&source.text).map_err(|e| vec![toml_error(source, &e)])?;
    let mut diags = Vec::new();
    unknown_keys(source, table.get_ref(), &mut diags);
    let raw: RawConfig = match toml::from_str(&source.text) {
        Ok(raw) => raw,
        Err(e) => {
            diags.push(toml_error(source, &e));
            return Err(diags);
        }
    };
    let resolve = |p: &str| -> PathBuf {
        let path = Path::new(p);
        if path.is_absolute() || dir.as_os_str().is_empty() {
            path.to_path_buf()
        } else {
            dir.join(path)
        }
    };
    if let Some(format) = &raw.check.format {
        if !FORMATS.contains(&format.get_ref().as_str()) {
            let help = match did_you_mean(format.get_ref(), FORMATS) {
                Some(near) => format!("did you mean `{near}`? formats: {}", FORMATS.join(", ")),
                None => format!("formats: {}", FORMATS.join(", ")),
            };
            diags.push(
                Diag::error(
                    "scruple::config::bad_value",
                    format!("unknown output format `{}`", format.get_ref()),
                )
                .with_label(source, span(format.span()), "not a format")
                .with_help(help),
            );
        }
    }
    let known = crate::compile::load::builtin_pack_names();
    for pack in &raw.policy.packs {
        if known.contains(&pack.get_ref().as_str()) {
            continue;
        }
        let help = match did_you_mean(pack.get_ref(), known.iter().copied()) {
            Some(near) => format!("did you mean `{near}`? shipped packs: {}", known.join(", ")),
            None => format!("shipped packs: {}", known.join(", ")),
        };
        diags.push(
            Diag::error(
                "scruple::config::unknown_pack",
                format!("no shipped pack is called `{}`", pack.get_ref()),
            )
            .with_label(source, span(pack.span()), "not a shipped pack")
            .with_help(help),
        );
    }
    let mut rules = Vec::new();
    for (id, rule) in &raw.rules {
        let id_span = span(id.span());
        let rule_ref = rule.get_ref();
        let severity = match &rule_ref.severity {
            None => None,
            Some(s) => match s.get_ref().as_str() {
                "error" => Some((Severity::Error, span(s.span()))),
                "warning" => Some((Severity::Warning, span(s.span()))),
                "info" => Some((Severity::Info, span(s.span()))),
                other => {
                    diags.push(
                        Diag::error(
                            "scruple::config::bad_value",
                            format!("unknown severity `{other}`"),
                        )
                        .with_label(source, span(s.span()), "not a severity")
                        .with_help("severities are `error`, `warning` and `info`"),
                    );
                    None
                }
            },
        };
        let disabled = match (&rule_ref.disabled, &rule_ref.reason) {
            (Some(d), Some(reason)) if *d.get_ref() && !reason.get_ref().trim().is_empty() => {
                Some(reason.get_ref().clone())
            }
            (Some(d), _) if *d.get_ref() => {
                diags.push(
                    Diag::error("scruple::config::missing_reason", format!("rule `{}` is disabled without a reason", id.get_ref()))
                        .with_label(source, span(d.span()), "disabled here")
                        .with_help("add `reason = \"…\"`: turning a rule off is a decision someone must be able to read later"),
                );
                None
            }
            _ => None,
        };
        rules.push(RuleOverride {
            id: id.get_ref().clone(),
            span: id_span,
            severity,
            disabled,
        });
    }
    let unknown_attributes = match raw.check.unknown_attributes.as_ref() {
        None => None,
        Some(s) => match s.get_ref().as_str() {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            other => {
                diags.push(
                    Diag::error(
                        "scruple::config::bad_value",
                        format!("`unknown_attributes = \"{other}\"` is not a level"),
                    )
                    .with_label(source, span(s.span()), "not `warning` or `error`")
                    .with_help("`warning` (the default) reports a targeting attribute nothing understands; `error` fails the campaign on it"),
                );
                None
            }
        },
    };
    let config = Config {
        source: source.clone(),
        dir: dir.to_path_buf(),
        packs: raw
            .policy
            .packs
            .iter()
            .filter(|p| known.contains(&p.get_ref().as_str()))
            .map(|p| p.get_ref().clone())
            .collect(),
        policy_paths: raw
            .policy
            .paths
            .iter()
            .map(|p| resolve(p.get_ref()))
            .collect(),
        campaigns: raw
            .check
            .campaigns
            .iter()
            .map(|g| resolve(g.get_ref()).to_string_lossy().into_owned())
            .collect(),
        format: raw.check.format.map(|f| f.into_inner()),
        deny_warnings: raw.check.deny_warnings,
        max_input_bytes: raw.check.max_input_bytes,
        unknown_attributes,
        rules,
        ledger: raw.ledger.url.map(|url| {
            if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                PathBuf::from(url)
            } else {
                resolve(&url)
            }
        }),
    };
    if check_rules {
        diags.extend(config.unknown_rules());
    }
    if diags.is_empty() {
        Ok(config)
    } else {
        Err(diags)
    }
}

/// A TOML syntax or type error as a diagnostic.
fn toml_error(source: &Source, err: &toml::de::Error) -> Diag {
    let message = err.message().trim().to_string();
    let at = err.span().map_or(Span::default(), span);
    Diag::error(
        "scruple::config::syntax",
        format!("invalid scruple.toml: {message}"),
    )
    .with_label(source, at, "here")
    .with_help("see docs/config.md for the file format")
}

impl Config {
    /// `[rules.ID]` tables naming no rule of the policy this file configures,
    /// found now so that they are reported with the file's other errors
    /// rather than one run later. Nothing when that policy does not compile:
    /// the command reports its errors.
    fn unknown_rules(&self) -> Vec<Diag> {
        if self.rules.is_empty() {
            return Vec::new();
        }
        let inputs = crate::policy_inputs_with(&[], &[], Some(self));
        match crate::compile::compile(inputs) {
            (Some(mut policy), _) => self.apply(&mut policy),
            (None, _) => Vec::new(),
        }
    }

    /// Applies severity overrides and disabled rules to a compiled policy.
    /// Overrides naming no rule are errors (a typo would otherwise silently
    /// keep a rule on).
    pub fn apply(&self, policy: &mut Policy) -> Vec<Diag> {
        let mut diags = Vec::new();
        if let Some(level) = self.unknown_attributes {
            policy.dictionary.unknown_attributes = level;
        }
        for o in &self.rules {
            let Some(rule) = policy.rules.iter_mut().find(|r| r.id == o.id) else {
                let ids: Vec<String> = policy.rules.iter().map(|r| r.id.clone()).collect();
                let help = match did_you_mean(&o.id, ids.iter().map(String::as_str)) {
                    Some(near) => {
                        format!("did you mean `{near}`? `scruple rules` lists every rule")
                    }
                    None => "`scruple rules` lists every rule".into(),
                };
                diags.push(
                    Diag::error(
                        "scruple::config::unknown_rule",
                        format!("`[rules.{}]` names no rule of the policy", o.id),
                    )
                    .with_label(&self.source, o.span, "no such rule")
                    .with_help(help),
                );
                continue;
            };
            if let Some((severity, _)) = o.severity {
                rule.severity = severity;
            }
            if let Some(reason) = &o.disabled {
                rule.disabled = Some(reason.clone());
            }
        }
        diags
    }
}

/// The commented starter file `scruple init` writes.
pub const STARTER: &str = r#"# scruple configuration. Found by walking up from the working directory.
# Reference: docs/config.md

[policy]
# Shipped packs to apply (all of them when both lists are empty):
# baseline, gdpr, dsa, ccpa, can-spam, bulk-sender, special-ad-categories, uk, tcf
packs = ["baseline", "gdpr", "bulk-sender"]
# Your own policy files or directories, relative to this file.
# paths = ["policies"]

[check]
# Campaigns `scruple check` reads when you name none.
campaigns = ["campaigns/**/*.yaml"]
# Default output: human, json, sarif or github.
format = "human"
# Fail on warnings too.
deny_warnings = false

# Per-rule overrides. A disabled rule needs a reason, kept on record.
# [rules.baseline_email_frequency_cap]
# severity = "error"
#
# [rules.baseline_quiet_hours]
# disabled = true
# reason = "We only send transactional SMS; marketing never goes out by SMS."
"#;

/// The example campaign `scruple init` writes next to the configuration.
pub const STARTER_CAMPAIGN: &str = include_str!("../examples/campaigns/spring-sale.yaml");

/// `scruple init`: writes a commented `scruple.toml` and an example campaign
/// under `dir`. Existing files are kept unless `force`. Returns what it wrote.
pub fn init(dir: &Path, force: bool) -> Result<Vec<PathBuf>, Box<Diag>> {
    let files = [
        (dir.join(FILE_NAME), STARTER),
        (dir.join("campaigns").join("example.yaml"), STARTER_CAMPAIGN),
    ];
    if !force {
        if let Some((existing, _)) = files.iter().find(|(p, _)| p.exists()) {
            return Err(Box::new(
                Diag::error(
                    "scruple::init::exists",
                    format!("`{}` already exists", existing.display()),
                )
                .with_help("keep it, or run `scruple init --force` to overwrite"),
            ));
        }
    }
    let mut written = Vec::new();
    for (path, text) in files {
        let result = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, text));
        if let Err(e) = result {
            return Err(Box::new(
                Diag::error(
                    "scruple::init::write",
                    format!("cannot write `{}`: {e}", path.display()),
                )
                .with_help("check the directory's permissions"),
            ));
        }
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Config, Vec<Diag>> {
        parse(&SourceFile::new("scruple.toml", text), Path::new(""), true)
    }

    /// Issue 14: `[ledger] url` names the ledger; a file path is relative
    /// to the configuration file, a URL is kept as it is.
    #[test]
    fn ledger_url_is_a_url_or_a_path_relative_to_the_file() {
        let url = "postgres://scruple@db:5432/ledger";
        let config =
            parse_text(&format!("[ledger]\nurl = \"{url}\"\n")).unwrap_or_else(|d| panic!("{d:?}"));
        assert_eq!(config.ledger, Some(PathBuf::from(url)));
        let config = parse(
            &SourceFile::new("scruple.toml", "[ledger]\nurl = \"data/ledger.db\"\n"),
            Path::new("/srv/project"),
            true,
        )
        .unwrap_or_else(|d| panic!("{d:?}"));
        assert_eq!(
            config.ledger,
            Some(PathBuf::from("/srv/project/data/ledger.db"))
        );
        let diags = match parse_text("[ledger]\nuri = \"x\"\n") {
            Err(diags) => diags,
            Ok(_) => panic!("an unknown key is an error"),
        };
        assert_eq!(diags[0].code, "scruple::config::unknown_key");
    }

    #[test]
    fn starter_file_parses() {
        let config = parse_text(STARTER).unwrap_or_else(|d| panic!("{d:?}"));
        assert_eq!(config.packs, ["baseline", "gdpr", "bulk-sender"]);
        assert_eq!(config.campaigns, ["campaigns/**/*.yaml"]);
    }

    #[test]
    fn unknown_key_suggests_the_near_one() {
        let diags = parse_text("[check]\ncampaign = [\"x\"]\n")
            .err()
            .unwrap_or_default();
        assert_eq!(diags[0].code, "scruple::config::unknown_key");
        assert!(
            diags[0]
                .help
                .as_deref()
                .unwrap_or("")
                .contains("`campaigns`"),
            "{:?}",
            diags[0].help
        );
        assert_eq!(
            diags[0].labels[0].source.slice(diags[0].labels[0].span),
            "campaign"
        );
    }

    #[test]
    fn disabling_needs_a_reason() {
        let diags = parse_text("[rules.baseline_quiet_hours]\ndisabled = true\n")
            .err()
            .unwrap_or_default();
        assert_eq!(diags[0].code, "scruple::config::missing_reason");
        assert!(parse_text(
            "[rules.baseline_quiet_hours]\ndisabled = true\nreason = \"only SMS\"\n"
        )
        .is_ok());
    }

    #[test]
    fn bad_severity_and_format_are_reported_together() {
        let diags =
            parse_text("[check]\nformat = \"jsn\"\nformt = 1\n[rules.x]\nseverity = \"fatal\"\n")
                .err()
                .unwrap_or_default();
        let codes: Vec<&str> = diags.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "scruple::config::unknown_key",
                "scruple::config::bad_value",
                "scruple::config::bad_value",
                "scruple::config::unknown_rule"
            ]
        );
    }
}
