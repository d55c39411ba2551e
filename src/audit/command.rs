//! The `scruple audit` command: flags, reading the inputs in order
//! (attributes first, then decisions, ledger sends and outcomes, each
//! streamed), and the outcome to print.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use super::input::{self, fail, Format};
use super::{render, Audit, Thresholds};
use crate::diag::Diag;

/// Exit codes of `scruple audit`.
pub const EXIT_HELP: &str = "\
Exit codes (as `scruple check`):
  0  no error-level finding (warnings allowed unless --deny-warnings)
  1  a threshold with error severity fired (or a warning with --deny-warnings)
  2  usage or input error (unreadable file, bad record): nothing is reported";

/// What reads an opened input.
type ReadWith<'a> = dyn FnMut(&mut dyn BufRead) -> Result<(), Box<Diag>> + 'a;

/// Output format of the audit.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum AuditFormat {
    /// Tables and findings for people.
    Human,
    /// The `scruple.audit/v1` document.
    Json,
    /// SARIF 2.1.0.
    Sarif,
}

/// File format flag.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum FileFormat {
    /// JSON Lines.
    Jsonl,
    /// CSV with a header row.
    Csv,
}

/// Flags of `scruple audit`.
#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    /// Outcomes: JSON Lines or CSV (recipient, campaign, channel, time,
    /// delivered, opened, clicked, converted, offer_made, unsubscribed,
    /// complained, qualified); `-` for standard input.
    #[arg(long, value_name = "FILE")]
    pub outcomes: Option<String>,
    /// Protected attributes, kept apart from targeting data: recipient plus
    /// one column per attribute (JSON Lines or CSV).
    #[arg(long, value_name = "FILE")]
    pub attributes: String,
    /// Gate decisions: the decision log of `scruple serve`, or the output of
    /// `scruple gate` (repeatable).
    #[arg(long = "decisions", value_name = "FILE")]
    pub decisions: Vec<PathBuf>,
    /// Campaign id of decision lines that carry none (`scruple gate` output).
    #[arg(long, value_name = "ID")]
    pub campaign: Option<String>,
    /// The send ledger: its sends are the `sent` stage.
    #[arg(long, value_name = "PATH")]
    pub ledger: Option<PathBuf>,
    /// Format of --outcomes (default: from the extension; JSON Lines for stdin).
    #[arg(long, value_enum)]
    pub outcomes_format: Option<FileFormat>,
    /// Format of --attributes (default: from the extension).
    #[arg(long, value_enum)]
    pub attributes_format: Option<FileFormat>,
    /// Hash recipient ids of decisions, sends and outcomes as
    /// `sha256:<hex>` before joining (when the attributes file holds hashes).
    #[arg(long)]
    pub hash_ids: bool,
    /// Protected attributes to audit (repeatable; default: every column).
    #[arg(long = "attribute", value_name = "NAME")]
    pub attribute: Vec<String>,
    /// Adverse-impact ratio below which a significant disparity is flagged.
    #[arg(long, value_name = "RATIO", default_value_t = 0.8)]
    pub parity: f64,
    /// Smallest group compared (smaller groups: "insufficient data").
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub min_group: u64,
    /// Significance level of Fisher's exact test.
    #[arg(long, value_name = "P", default_value_t = 0.05)]
    pub alpha: f64,
    /// Team limit on the unsubscribe rate, such as `0.5%` or `0.005`.
    #[arg(long, value_name = "RATE", default_value = "0.5%", value_parser = parse_rate)]
    pub max_unsubscribe_rate: f64,
    /// Team limit on the complaint rate (above 0.3% is always an error).
    #[arg(long, value_name = "RATE", default_value = "0.1%", value_parser = parse_rate)]
    pub max_complaint_rate: f64,
    /// Policy file or directory whose audit rules (`require parity`,
    /// `limit … below`) set the thresholds instead of the flags (repeatable).
    #[arg(long = "policy", value_name = "PATH")]
    pub policy: Vec<PathBuf>,
    /// Shipped pack whose audit rules set the thresholds, such as `fairness`
    /// (repeatable).
    #[arg(long = "pack", value_name = "NAME")]
    pub pack: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Human)]
    pub format: AuditFormat,
    /// Also write the audit as a self-contained HTML page (charts of the
    /// rates per group with intervals and thresholds, rates per day).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
}

/// `0.5%` or `0.005` → 0.005.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (number, scale) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), 100.0),
        None => (t, 1.0),
    };
    match number.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 && x / scale <= 1.0 => Ok(x / scale),
        _ => Err(format!("`{text}` is not a rate: write 0.5% or 0.005")),
    }
}

/// What the command prints and returns.
#[derive(Debug, Default)]
pub struct AuditOutcome {
    /// Diagnostics for stderr.
    pub diags: Vec<Diag>,
    /// The report for stdout.
    pub stdout: String,
    /// Exit code.
    pub code: u8,
}

fn open(path: &str, stdin: &mut dyn BufRead, each: &mut ReadWith<'_>) -> Result<(), Box<Diag>> {
    if path == "-" {
        return each(stdin);
    }
    let file = File::open(path).map_err(|e| {
        Diag::error("scruple::audit::read", format!("cannot open {path}: {e}"))
            .with_help("check the path")
    })?;
    each(&mut BufReader::with_capacity(1 << 16, file))
}

fn format_of(flag: Option<FileFormat>, path: &str) -> Format {
    match flag {
        Some(FileFormat::Jsonl) => Format::JsonLines,
        Some(FileFormat::Csv) => Format::Csv,
        None if path == "-" => Format::JsonLines,
        None => Format::of_path(path),
    }
}

/// Runs the audit. With `--policy`/`--pack`, the policy's audit rules are
/// the thresholds; without, the flags' defaults. A policy with errors is
/// exit 2, as for `check`.
pub fn command(args: &AuditArgs, stdin: &mut dyn BufRead) -> AuditOutcome {
    let mut diags = Vec::new();
    let policy = if args.policy.is_empty() && args.pack.is_empty() {
        None
    } else {
        let (policy, compile_diags) =
            crate::compile::compile(crate::policy_inputs(&args.policy, &args.pack));
        let failed = policy.is_none() || compile_diags.iter().any(Diag::is_error);
        diags = compile_diags;
        if failed {
            return AuditOutcome {
                diags,
                stdout: String::new(),
                code: 2,
            };
        }
        policy
    };
    match run(args, policy.as_ref(), stdin) {
        Ok(mut outcome) => {
            diags.append(&mut outcome.diags);
            outcome.diags = diags;
            outcome
        }
        Err(diag) => AuditOutcome {
            diags: vec![*diag],
            stdout: String::new(),
            code: 2,
        },
    }
}

fn usage(message: String) -> Diag {
    Diag::error("scruple::audit::usage", message)
}

fn run(
    args: &AuditArgs,
    policy: Option<&crate::compile::Policy>,
    stdin: &mut dyn BufRead,
) -> Result<AuditOutcome, Box<Diag>> {
    let (result, diags) = audit(args, policy, false, stdin)?;
    if let Some(path) = &args.html {
        std::fs::write(path, super::html::render(&result)).map_err(|e| {
            Box::new(Diag::error(
                "scruple::audit::write",
                format!("cannot write {}: {e}", path.display()),
            ))
        })?;
    }
    let source = args.outcomes.clone().unwrap_or_else(|| "-".to_string());
    let stdout = match args.format {
        AuditFormat::Human => render::human(&result),
        AuditFormat::Json => {
            serde_json::to_string_pretty(&render::json(&result)).unwrap_or_default()
        }
        AuditFormat::Sarif => {
            serde_json::to_string_pretty(&render::sarif(&result, &source)).unwrap_or_default()
        }
    };
    Ok(AuditOutcome {
        diags,
        stdout,
        code: result.exit_code(args.deny_warnings),
    })
}

/// The audit inputs `scruple report` takes (`--audit-…` flags) for its
/// fairness section.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct ReportAuditArgs {
    /// Protected attributes (as `scruple audit --attributes`): with
    /// --audit-outcomes, --audit-decisions or --audit-ledger, the report
    /// gains a fairness section.
    #[arg(long, value_name = "FILE")]
    pub audit_attributes: Option<String>,
    /// Outcomes (as `scruple audit --outcomes`).
    #[arg(long, value_name = "FILE")]
    pub audit_outcomes: Option<String>,
    /// Gate decisions (as `scruple audit --decisions`, repeatable).
    #[arg(long = "audit-decisions", value_name = "FILE")]
    pub audit_decisions: Vec<PathBuf>,
    /// Campaign of decision lines that name none.
    #[arg(long, value_name = "ID")]
    pub audit_campaign: Option<String>,
    /// The send ledger (the `sent` stage).
    #[arg(long, value_name = "PATH")]
    pub audit_ledger: Option<PathBuf>,
    /// Hash recipient ids before joining (as `scruple audit --hash-ids`).
    #[arg(long)]
    pub audit_hash_ids: bool,
    /// Smallest group compared (as `scruple audit --min-group`).
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub audit_min_group: u64,
}

impl ReportAuditArgs {
    /// True when any audit input is given.
    pub fn any(&self) -> bool {
        self.audit_attributes.is_some()
            || self.audit_outcomes.is_some()
            || !self.audit_decisions.is_empty()
            || self.audit_ledger.is_some()
    }
}

/// The audit of `scruple report`: the policy's audit rules as thresholds
/// (the defaults of `scruple audit` when it has none). Warnings (an
/// attribute a rule covers that the file lacks) come back with the result.
pub fn for_report(
    policy: &crate::compile::Policy,
    inputs: &ReportAuditArgs,
) -> Result<(super::AuditResult, Vec<Diag>), Box<Diag>> {
    let Some(attributes) = inputs.audit_attributes.clone() else {
        return fail(
            usage("the fairness section needs --audit-attributes".to_string()).with_help(
                "give the protected-attributes file with --audit-attributes FILE (docs/audit.md)",
            ),
        );
    };
    let args = AuditArgs {
        outcomes: inputs.audit_outcomes.clone(),
        attributes,
        decisions: inputs.audit_decisions.clone(),
        campaign: inputs.audit_campaign.clone(),
        ledger: inputs.audit_ledger.clone(),
        outcomes_format: None,
        attributes_format: None,
        hash_ids: inputs.audit_hash_ids,
        attribute: Vec::new(),
        parity: 0.8,
        min_group: inputs.audit_min_group,
        alpha: 0.05,
        max_unsubscribe_rate: 0.005,
        max_complaint_rate: 0.001,
        policy: Vec::new(),
        pack: Vec::new(),
        format: AuditFormat::Json,
        html: None,
        deny_warnings: false,
    };
    audit(&args, Some(policy), true, &mut std::io::empty())
}

/// Reads every input and computes the audit. With `policy`, its audit
/// rules are the thresholds; a policy without any is a usage error, unless
/// `fallback` keeps the flags' thresholds instead.
fn audit(
    args: &AuditArgs,
    policy: Option<&crate::compile::Policy>,
    fallback: bool,
    stdin: &mut dyn BufRead,
) -> Result<(super::AuditResult, Vec<Diag>), Box<Diag>> {
    if !(args.parity > 0.0 && args.parity <= 1.0) {
        return fail(usage(format!(
            "--parity {} is not a ratio in (0, 1]",
            args.parity
        )));
    }
    if !(args.alpha > 0.0 && args.alpha < 1.0) {
        return fail(usage(format!("--alpha {} is not in (0, 1)", args.alpha)));
    }
    if args.outcomes.is_none() && args.decisions.is_empty() && args.ledger.is_none() {
        return fail(
            usage("nothing to audit: give --outcomes, --decisions or --ledger".to_string())
                .with_help("scruple audit --attributes protected.csv --outcomes outcomes.jsonl"),
        );
    }
    if args.attributes == "-" && args.outcomes.as_deref() == Some("-") {
        return fail(usage(
            "--attributes and --outcomes cannot both be standard input".to_string(),
        ));
    }
    let mut thresholds = Thresholds::from_flags(
        args.parity,
        args.max_unsubscribe_rate,
        args.max_complaint_rate,
    );
    thresholds.attributes = args.attribute.clone();
    thresholds.min_group = args.min_group;
    thresholds.alpha = args.alpha;
    if let Some(policy) = policy {
        let rules = Thresholds::from_policy(policy);
        if !(rules.is_empty() && fallback) {
            thresholds.rules = rules;
        }
        if thresholds.rules.is_empty() {
            return fail(usage("the policy has no audit rules (`require parity …`, `limit … below …`)".to_string())
                .with_help("use a pack with audit rules, such as `--pack fairness`, or leave out --policy/--pack to use the flags' thresholds"));
        }
    }
    let mut audit = Audit::new(thresholds, args.hash_ids);
    let name = args.attributes.clone();
    let format = format_of(args.attributes_format, &name);
    open(&args.attributes, stdin, &mut |r| {
        feed_attributes(&mut audit, r, format, &name)
    })?;
    // A promise of parity on an attribute the audit cannot see is not kept
    // silently: say so.
    let mut diags = Vec::new();
    for rule in &audit.thresholds().rules {
        if let super::AuditCheck::Parity { attributes, .. } = &rule.check {
            for missing in attributes
                .iter()
                .filter(|a| !audit.attribute_names().contains(a))
            {
                diags.push(
                    Diag::warning(
                        "scruple::audit::attribute_missing",
                        format!("rule `{}` covers `{missing}`, which {name} does not have: it is not audited", rule.id),
                    )
                    .with_help(format!("add a `{missing}` column to the attributes file, or remove it from the rule")),
                );
            }
        }
    }
    for path in &args.decisions {
        let name = path.display().to_string();
        let default = args.campaign.as_deref();
        open(&name, stdin, &mut |r| {
            feed_decisions(&mut audit, r, &name, default)
        })?;
    }
    if let Some(path) = &args.ledger {
        let ledger = crate::ledger::Ledger::open_existing(path)
            .map_err(|e| {
                Diag::error(
                    "scruple::audit::ledger",
                    crate::ledger::command::ledger_error(path, &e),
                )
            })?
            .ok_or_else(|| {
                Diag::error(
                    "scruple::audit::ledger",
                    format!("no ledger at {}", path.display()),
                )
            })?;
        ledger
            .for_each(|send| {
                audit.add_send(&send.campaign, &send.recipient);
                Ok::<(), ()>(())
            })
            .map_err(|e| {
                Diag::error(
                    "scruple::audit::ledger",
                    crate::ledger::command::ledger_error(path, &e),
                )
            })?
            .map_err(|()| Diag::error("scruple::audit::ledger", "cannot read the ledger"))?;
    }
    if let Some(path) = &args.outcomes {
        let format = format_of(args.outcomes_format, path);
        open(path, stdin, &mut |r| {
            input::read_outcomes(r, format, path, |o| audit.add_outcome(o)).map(|_| ())
        })?;
    }
    Ok((audit.finish(), diags))
}

/// Reads an attributes file into `audit` and checks it gave something to
/// audit.
pub fn feed_attributes(
    audit: &mut Audit,
    reader: &mut dyn BufRead,
    format: Format,
    name: &str,
) -> Result<(), Box<Diag>> {
    input::read_attributes(reader, format, name, |line, id, values| {
        audit.add_attributes(name, line, id, values)
    })?;
    audit.check_attributes(name)
}

/// Reads decision lines into `audit`; `default` is the campaign of lines
/// that name none (`scruple gate` output).
pub fn feed_decisions(
    audit: &mut Audit,
    reader: &mut dyn BufRead,
    name: &str,
    default: Option<&str>,
) -> Result<(), Box<Diag>> {
    input::read_decisions(reader, name, |line, text, d| {
        let Some(recipient) = d.recipient.as_deref() else {
            // A record the gate could not read: suppressed, and
            // nobody to attribute it to.
            return Ok(());
        };
        let Some(campaign) = d.campaign.as_deref().or(default) else {
            return fail(
                input::bad_record(
                    "no_campaign",
                    name,
                    line,
                    text,
                    "the line names no campaign",
                )
                .with_help("`scruple gate` output has no campaign field: pass --campaign ID"),
            );
        };
        audit.add_decision(campaign, recipient, d.decision == "allow");
        Ok(())
    })
}

/// One audit input held in memory (a policy test's file or inline text).
#[derive(Clone, Debug)]
pub struct TextInput {
    /// Its name in diagnostics.
    pub name: String,
    /// Its text.
    pub text: String,
    /// Its format.
    pub format: Format,
}

/// The inputs of an audit held in memory: what a policy test supplies.
#[derive(Clone, Debug)]
pub struct TextInputs {
    /// Protected attributes.
    pub attributes: TextInput,
    /// Gate decisions (JSON Lines).
    pub decisions: Option<TextInput>,
    /// Campaign of decision lines that name none.
    pub campaign: Option<String>,
    /// Outcomes.
    pub outcomes: Option<TextInput>,
}

/// Runs an audit over inputs held in memory with `thresholds`; a bad
/// record is the same coded diagnostic as for files.
pub fn audit_texts(
    thresholds: Thresholds,
    inputs: &TextInputs,
) -> Result<super::AuditResult, Box<Diag>> {
    let mut audit = Audit::new(thresholds, false);
    let a = &inputs.attributes;
    feed_attributes(&mut audit, &mut a.text.as_bytes(), a.format, &a.name)?;
    if let Some(d) = &inputs.decisions {
        feed_decisions(
            &mut audit,
            &mut d.text.as_bytes(),
            &d.name,
            inputs.campaign.as_deref(),
        )?;
    }
    if let Some(o) = &inputs.outcomes {
        input::read_outcomes(o.text.as_bytes(), o.format, &o.name, |row| {
            audit.add_outcome(row)
        })?;
    }
    Ok(audit.finish())
}
