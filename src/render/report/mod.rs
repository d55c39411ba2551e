//! `scruple report`: a compliance report for a set of campaigns, as one
//! self-contained HTML file ([`html`]) or as Markdown ([`markdown`]).
//!
//! [`build`] turns a [`CheckRun`] (with the loaded campaigns and the policy)
//! into a [`Report`]: per-campaign verdicts, per-rule outcome counts, the
//! campaigns' waivers with their state, and the citations grouped by legal
//! instrument ([`regulation`]). The renderers only format that model; both
//! show the same content. The layout is documented in `docs/report.md`.

pub mod html;
pub mod markdown;
pub mod regulation;

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::PathBuf;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::{summarize, Location, Summary};
use crate::campaign::Campaign;
use crate::check::{self, CheckRun};
use crate::compile::{CompiledRule, Policy};
use crate::config::Config;
use crate::diag::{Diag, Severity};
use crate::eval::{CampaignReport, Finding, Options, RuleOutcome, Status};

/// Waivers that expire within this many days of the report date are flagged
/// as expiring.
pub const EXPIRING_WITHIN_DAYS: i64 = 30;

/// The report's file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One self-contained HTML file (inline CSS and SVG charts), print-ready.
    Html,
    /// GitHub-flavoured Markdown with the same content in tables.
    Markdown,
}

/// The flags of `scruple report` besides the policy selection and `--at`.
#[derive(Clone, Debug, clap::Args)]
pub struct ReportArgs {
    /// Campaign files, directories or glob patterns; `-` reads standard input
    /// (default: the `[check] campaigns` globs of scruple.toml).
    #[arg(value_name = "CAMPAIGN")]
    pub campaigns: Vec<String>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Html)]
    pub format: Format,
    /// Write the report to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Warnings fail a campaign too (as `check --deny-warnings`).
    #[arg(long)]
    pub deny_warnings: bool,
    /// Audit inputs for a fairness section (docs/audit.md).
    #[command(flatten)]
    pub audit: crate::audit::command::ReportAuditArgs,
}

/// What the command leaves for its caller to print.
#[derive(Debug)]
pub struct Done {
    /// Problems to show on standard error (unreadable or invalid inputs).
    pub diags: Vec<Diag>,
    /// The report, when it goes to standard output (empty otherwise).
    pub stdout: String,
    /// A line for standard error when the report went to a file.
    pub message: Option<String>,
    /// The exit code: 0 all pass, 1 some campaign fails, 2 input error.
    pub exit_code: u8,
}

/// Runs `scruple report`: reads and checks the campaigns like `scruple
/// check` (as of `at`, default now), then renders the report, writing it
/// to `--output` or returning it for standard output. The report is
/// written even when some inputs are invalid (exit code 2).
pub fn command(
    policy: &Policy,
    args: &ReportArgs,
    at: Option<Timestamp>,
    config: Option<&Config>,
) -> Done {
    let deny_warnings = check::deny_warnings(args.deny_warnings, config);
    let campaigns = check::campaign_args(&args.campaigns, config);
    if campaigns.is_empty() {
        return Done {
            diags: vec![Diag::error(
                "scruple::report::no_campaigns",
                "no campaigns to report on",
            )
            .with_help("name campaign files, directories or globs (`-` for stdin), or list them under `[check] campaigns` in scruple.toml")],
            stdout: String::new(),
            message: None,
            exit_code: check::EXIT_INPUT,
        };
    }
    let now = at.unwrap_or_else(Timestamp::now);
    let (run, loaded) = check::check_args(policy, &campaigns, Options { now });
    let mut report = build(policy, &run, &loaded, now, deny_warnings);
    let mut audit_diags = Vec::new();
    let mut audit_exit = 0;
    if args.audit.any() {
        match crate::audit::command::for_report(policy, &args.audit) {
            Ok((result, warnings)) => {
                audit_exit = result.exit_code(deny_warnings);
                audit_diags = warnings;
                report.fairness = Some(result);
            }
            Err(diag) => {
                audit_diags.push(*diag);
                audit_exit = check::EXIT_INPUT;
            }
        }
    }
    let text = match args.format {
        Format::Html => html::render(&report),
        Format::Markdown => markdown::render(&report),
    };
    let mut done = Done {
        diags: run.usage.clone(),
        stdout: String::new(),
        message: None,
        exit_code: run.exit_code(deny_warnings).max(audit_exit),
    };
    for input in &run.invalid {
        done.diags.extend(input.diags.iter().cloned());
    }
    done.diags.append(&mut audit_diags);
    match &args.output {
        None => done.stdout = text,
        Some(path) => match std::fs::write(path, text.as_bytes()) {
            Ok(()) => {
                done.message = Some(format!(
                    "wrote {}: {}",
                    path.display(),
                    super::summary_line(&run, deny_warnings)
                ));
            }
            Err(err) => {
                done.diags.push(
                    Diag::error(
                        "scruple::report::unwritable",
                        format!("cannot write `{}`: {err}", path.display()),
                    )
                    .with_help("check that the directory exists and is writable"),
                );
                done.exit_code = check::EXIT_INPUT;
            }
        },
    }
    done
}

/// Everything the report shows, computed once for both renderers.
#[derive(Debug)]
pub struct Report<'a> {
    /// The evaluation time (`--at`, or now).
    pub as_of: Timestamp,
    /// Warnings fail campaigns (`--deny-warnings`).
    pub deny_warnings: bool,
    /// The policy checked against.
    pub policy: PolicyInfo<'a>,
    /// Run totals.
    pub summary: Summary,
    /// One entry per input, invalid inputs first, then in input order.
    pub campaigns: Vec<CampaignEntry<'a>>,
    /// Every rule of the policy, in evaluation order.
    pub rules: Vec<RuleEntry<'a>>,
    /// Every waiver written in a loaded campaign, soonest expiry first.
    pub waivers: Vec<WaiverEntry<'a>>,
    /// Citations grouped by instrument, alphabetically.
    pub regulations: Vec<Regulation<'a>>,
    /// Problems with the arguments (a glob matching nothing, …).
    pub usage: &'a [Diag],
    /// The audit of what was sent, when `--audit-…` inputs are given: the
    /// fairness section.
    pub fairness: Option<crate::audit::AuditResult>,
}

/// The policy, as the report names it.
#[derive(Debug)]
pub struct PolicyInfo<'a> {
    /// [`Policy::content_hash`].
    pub hash: String,
    /// Number of rules.
    pub rules: usize,
    /// Rules disabled in scruple.toml.
    pub disabled: usize,
    /// Packs (files with a `policy` header), by name.
    pub packs: Vec<Pack<'a>>,
}

/// One policy pack.
#[derive(Debug)]
pub struct Pack<'a> {
    /// The pack name.
    pub name: String,
    /// Its `version`, if declared.
    pub version: Option<&'a str>,
    /// Its `description`, if declared.
    pub description: Option<&'a str>,
    /// How many rules it defines.
    pub rules: usize,
}

/// A campaign's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No failing finding.
    Pass,
    /// At least one failing finding (or error diagnostic).
    Fail,
    /// The file could not be read or loaded.
    Invalid,
}

impl Verdict {
    /// The label shown (verdicts are never conveyed by colour alone).
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Invalid => "INVALID",
        }
    }

    /// A symbol shown before the label.
    pub fn symbol(self) -> &'static str {
        match self {
            Verdict::Pass => "✓",
            Verdict::Fail => "✗",
            Verdict::Invalid => "!",
        }
    }

    /// A lowercase name, for CSS classes.
    pub fn class(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Invalid => "invalid",
        }
    }
}

/// One campaign input and what was found in it.
#[derive(Debug)]
pub struct CampaignEntry<'a> {
    /// The file's display name.
    pub file: &'a str,
    /// The campaign id (none for invalid inputs).
    pub id: Option<&'a str>,
    /// The campaign's `name`.
    pub name: Option<&'a str>,
    /// The campaign's `owner`.
    pub owner: Option<&'a str>,
    /// Pass, fail or invalid.
    pub verdict: Verdict,
    /// Finding tallies (only the finding fields are set).
    pub counts: Summary,
    /// Rule findings, in evaluation order.
    pub findings: Vec<&'a Finding>,
    /// Other diagnostics: load errors for invalid inputs, unknown purposes
    /// and waiver problems for loaded ones.
    pub diagnostics: Vec<&'a Diag>,
}

impl CampaignEntry<'_> {
    /// The campaign's name, else its id, else its file.
    pub fn title(&self) -> &str {
        self.name.or(self.id).unwrap_or(self.file)
    }
}

/// Per-rule outcome counts over the loaded campaigns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RuleTally {
    /// Campaigns the rule applied to and did not fire on.
    pub passed: usize,
    /// Campaigns it fired on, unwaived.
    pub failed: usize,
    /// Campaigns it fired on, with a valid waiver.
    pub waived: usize,
    /// Campaigns where a prerequisite failed, so it did not run.
    pub skipped: usize,
    /// Campaigns its `when` does not cover.
    pub not_applicable: usize,
    /// Campaigns it did not run on because it is disabled.
    pub disabled: usize,
}

/// One rule and how it fared.
#[derive(Debug)]
pub struct RuleEntry<'a> {
    /// The compiled rule.
    pub rule: &'a CompiledRule,
    /// Outcomes by campaign.
    pub tally: RuleTally,
    /// Unwaived findings (a rule may fire several times in one campaign).
    pub findings: usize,
    /// Waived findings.
    pub waived_findings: usize,
}

impl RuleEntry<'_> {
    /// The rule's one-line description, if it has one.
    pub fn description(&self) -> Option<&str> {
        self.rule
            .decl
            .description
            .as_ref()
            .map(|d| d.value.as_str())
    }
}

/// A waiver's state as of the report date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WaiverState {
    /// Valid, and accepting a violation.
    Active,
    /// Valid and in use, but expiring within [`EXPIRING_WITHIN_DAYS`].
    Expiring,
    /// Valid, but the rule does not fire: nothing to waive.
    Unused,
    /// Past its expiry date: waives nothing.
    Expired,
    /// Refused (unknown or unwaivable rule, missing parts), with the reason.
    Invalid(String),
}

impl WaiverState {
    /// The label shown.
    pub fn label(&self) -> &'static str {
        match self {
            WaiverState::Active => "Active",
            WaiverState::Expiring => "Expiring soon",
            WaiverState::Unused => "Unused",
            WaiverState::Expired => "Expired",
            WaiverState::Invalid(_) => "Invalid",
        }
    }

    /// A lowercase name, for CSS classes.
    pub fn class(&self) -> &'static str {
        match self {
            WaiverState::Active => "active",
            WaiverState::Expiring => "expiring",
            WaiverState::Unused => "unused",
            WaiverState::Expired => "expired",
            WaiverState::Invalid(_) => "invalid",
        }
    }
}

/// One waiver written in a campaign.
#[derive(Debug)]
pub struct WaiverEntry<'a> {
    /// The campaign's file.
    pub file: &'a str,
    /// The campaign's id.
    pub campaign: &'a str,
    /// The waived rule id.
    pub rule: &'a str,
    /// Who approved it.
    pub approver: Option<&'a str>,
    /// Ticket or reference.
    pub reference: Option<&'a str>,
    /// Why it is acceptable.
    pub justification: Option<&'a str>,
    /// Last day it holds.
    pub expires: Option<Date>,
    /// Days from the report date to the expiry (negative once expired).
    pub days_left: Option<i64>,
    /// Its state.
    pub state: WaiverState,
}

/// Tallies of waivers by state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WaiverCounts {
    /// Active and not expiring soon.
    pub active: usize,
    /// Active and expiring soon.
    pub expiring: usize,
    /// Valid but waiving nothing.
    pub unused: usize,
    /// Expired.
    pub expired: usize,
    /// Refused.
    pub invalid: usize,
}

/// A legal instrument (or standard) and the citations of it.
#[derive(Debug)]
pub struct Regulation<'a> {
    /// Short name (`GDPR`, `CAN-SPAM`, `RFC 8058`, …).
    pub name: String,
    /// Its citations, in natural order, with the rules citing each.
    pub citations: Vec<Citation<'a>>,
    /// Unwaived findings citing it.
    pub findings: usize,
    /// Waived findings citing it.
    pub waived: usize,
}

/// One citation and the rules that cite it.
#[derive(Debug)]
pub struct Citation<'a> {
    /// The citation as written in the policy.
    pub text: &'a str,
    /// Rule ids, in evaluation order.
    pub rules: Vec<&'a str>,
}

/// A bar of a chart: a label and its unwaived and waived counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar<'a> {
    /// What the bar counts (a rule id, an instrument).
    pub label: &'a str,
    /// Unwaived findings.
    pub open: usize,
    /// Waived findings.
    pub waived: usize,
}

impl Report<'_> {
    /// Waiver tallies by state.
    pub fn waiver_counts(&self) -> WaiverCounts {
        let mut counts = WaiverCounts::default();
        for w in &self.waivers {
            match w.state {
                WaiverState::Active => counts.active += 1,
                WaiverState::Expiring => counts.expiring += 1,
                WaiverState::Unused => counts.unused += 1,
                WaiverState::Expired => counts.expired += 1,
                WaiverState::Invalid(_) => counts.invalid += 1,
            }
        }
        counts
    }

    /// Findings by rule, most first; rules without findings are left out.
    pub fn findings_by_rule(&self) -> Vec<Bar<'_>> {
        bars(self.rules.iter().map(|r| Bar {
            label: &r.rule.id,
            open: r.findings,
            waived: r.waived_findings,
        }))
    }

    /// Findings by instrument, most first; a finding counts once for each
    /// instrument its rule cites.
    pub fn findings_by_regulation(&self) -> Vec<Bar<'_>> {
        bars(self.regulations.iter().map(|r| Bar {
            label: &r.name,
            open: r.findings,
            waived: r.waived,
        }))
    }

    /// The overall verdict and a sentence saying it.
    pub fn overall(&self) -> (Verdict, String) {
        let s = &self.summary;
        let total = s.campaigns;
        if s.invalid > 0 {
            let mut text = format!(
                "{} could not be loaded",
                plural(s.invalid, "input", "inputs")
            );
            if s.failed > 0 {
                text.push_str(&format!(
                    "; {} of {} loaded campaigns fail",
                    s.failed, s.campaigns
                ));
            }
            (Verdict::Invalid, text + ".")
        } else if s.failed > 0 {
            (
                Verdict::Fail,
                format!(
                    "{} of {} fail.",
                    s.failed,
                    plural(total, "campaign", "campaigns")
                ),
            )
        } else if total == 0 {
            (Verdict::Pass, "No campaigns were checked.".to_string())
        } else if total == 1 {
            (Verdict::Pass, "The campaign passes.".to_string())
        } else {
            (Verdict::Pass, format!("All {total} campaigns pass."))
        }
    }

    /// When a campaign fails, in words.
    pub fn verdict_rule(&self) -> &'static str {
        if self.deny_warnings {
            "a campaign fails on any unwaived finding at error or warning level (--deny-warnings)"
        } else {
            "a campaign fails on any unwaived finding at error level"
        }
    }

    /// The packs as `name version`, comma-separated, each part passed
    /// through `escape`.
    pub fn packs_text(&self, escape: impl Fn(&str) -> String) -> String {
        if self.policy.packs.is_empty() {
            return "none (local policy files)".to_string();
        }
        let packs: Vec<String> = self
            .policy
            .packs
            .iter()
            .map(|p| match p.version {
                Some(v) => format!("{} {}", escape(&p.name), escape(v)),
                None => escape(&p.name),
            })
            .collect();
        packs.join(", ")
    }

    /// The report date, `2026-11-23 12:00 UTC`.
    pub fn date(&self) -> String {
        self.as_of.strftime("%Y-%m-%d %H:%M UTC").to_string()
    }

    /// Rules that applied to at least one campaign or fired.
    pub fn rules_exercised(&self) -> usize {
        self.rules
            .iter()
            .filter(|r| r.tally.passed + r.tally.failed + r.tally.waived + r.tally.skipped > 0)
            .count()
    }
}

fn bars<'a>(all: impl Iterator<Item = Bar<'a>>) -> Vec<Bar<'a>> {
    let mut bars: Vec<Bar<'a>> = all.filter(|b| b.open + b.waived > 0).collect();
    // Stable: ties keep their order (evaluation order, or alphabetical).
    bars.sort_by_key(|b| std::cmp::Reverse(b.open + b.waived));
    bars
}

/// Builds the report model. `campaigns` are the loaded campaigns, in the
/// order of `run.reports` (as [`check::run_keeping`] returns them).
pub fn build<'a>(
    policy: &'a Policy,
    run: &'a CheckRun,
    campaigns: &'a [Campaign],
    as_of: Timestamp,
    deny_warnings: bool,
) -> Report<'a> {
    let today = as_of.to_zoned(TimeZone::UTC).date();
    let mut entries: Vec<CampaignEntry<'a>> = run
        .invalid
        .iter()
        .map(|input| CampaignEntry {
            file: &input.name,
            id: None,
            name: None,
            owner: None,
            verdict: Verdict::Invalid,
            counts: Summary::default(),
            findings: Vec::new(),
            diagnostics: input.diags.iter().collect(),
        })
        .collect();
    let mut waivers = Vec::new();
    for (i, report) in run.reports.iter().enumerate() {
        let campaign = campaigns
            .get(i)
            .filter(|c| c.source.name == report.campaign.name);
        let mut counts = Summary::default();
        for f in &report.findings {
            counts.count(f);
        }
        entries.push(CampaignEntry {
            file: &report.campaign.name,
            id: Some(&report.id),
            name: campaign
                .and_then(|c| c.model.name.as_ref())
                .map(|n| n.value.as_str()),
            owner: campaign
                .and_then(|c| c.model.owner.as_ref())
                .map(|o| o.value.as_str()),
            verdict: if report.passes(deny_warnings) {
                Verdict::Pass
            } else {
                Verdict::Fail
            },
            counts,
            findings: report.findings.iter().collect(),
            diagnostics: report.diagnostics.iter().collect(),
        });
        if let Some(campaign) = campaign {
            waivers.extend(waiver_entries(report, campaign, today));
        }
    }
    waivers.sort_by(|a, b| {
        // Soonest expiry first; waivers without a date last.
        match (a.expires, b.expires) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
        .then_with(|| a.file.cmp(b.file))
    });
    Report {
        as_of,
        deny_warnings,
        policy: policy_info(policy),
        summary: summarize(run, deny_warnings),
        campaigns: entries,
        rules: rule_entries(policy, &run.reports),
        waivers,
        regulations: regulations(policy, &run.reports),
        usage: &run.usage,
        fairness: None,
    }
}

fn policy_info(policy: &Policy) -> PolicyInfo<'_> {
    let mut packs: BTreeMap<String, Pack<'_>> = BTreeMap::new();
    for file in policy.files.iter().filter(|f| f.header.is_some()) {
        let header = file.header.as_ref();
        packs.entry(file.pack()).or_insert_with(|| Pack {
            name: file.pack(),
            version: header
                .and_then(|h| h.version.as_ref())
                .map(|v| v.value.as_str()),
            description: header
                .and_then(|h| h.description.as_ref())
                .map(|d| d.value.as_str()),
            rules: 0,
        });
    }
    for rule in &policy.rules {
        if let Some(pack) = packs.get_mut(&rule.pack) {
            pack.rules += 1;
        }
    }
    PolicyInfo {
        hash: policy.content_hash(),
        rules: policy.rules.len(),
        disabled: policy.rules.iter().filter(|r| r.disabled.is_some()).count(),
        packs: packs.into_values().collect(),
    }
}

fn rule_entries<'a>(policy: &'a Policy, reports: &[CampaignReport]) -> Vec<RuleEntry<'a>> {
    policy
        .rules
        .iter()
        .enumerate()
        .map(|(index, rule)| {
            let mut entry = RuleEntry {
                rule,
                tally: RuleTally::default(),
                findings: 0,
                waived_findings: 0,
            };
            for report in reports {
                let t = &mut entry.tally;
                match report.outcomes.get(index) {
                    Some(RuleOutcome::Passed) => t.passed += 1,
                    Some(RuleOutcome::Violated) => t.failed += 1,
                    Some(RuleOutcome::Waived) => t.waived += 1,
                    Some(RuleOutcome::Skipped | RuleOutcome::Deferred) => t.skipped += 1,
                    Some(RuleOutcome::Disabled) => t.disabled += 1,
                    Some(RuleOutcome::NotApplicable) | None => t.not_applicable += 1,
                }
                for f in report.findings.iter().filter(|f| f.rule == rule.id) {
                    match f.status {
                        Status::Violation => entry.findings += 1,
                        Status::Waived(_) => entry.waived_findings += 1,
                        Status::Skipped { .. } | Status::Deferred { .. } => {}
                    }
                }
            }
            entry
        })
        .collect()
}

/// Citations grouped by instrument, with the findings citing each.
fn regulations<'a>(policy: &'a Policy, reports: &[CampaignReport]) -> Vec<Regulation<'a>> {
    let mut by_name: BTreeMap<String, Regulation<'a>> = BTreeMap::new();
    for rule in &policy.rules {
        for text in rule.cites() {
            let name = regulation::instrument(text);
            let reg = by_name.entry(name.clone()).or_insert_with(|| Regulation {
                name,
                citations: Vec::new(),
                findings: 0,
                waived: 0,
            });
            match reg.citations.iter_mut().find(|c| c.text == text) {
                Some(c) => {
                    if !c.rules.contains(&rule.id.as_str()) {
                        c.rules.push(&rule.id);
                    }
                }
                None => reg.citations.push(Citation {
                    text,
                    rules: vec![&rule.id],
                }),
            }
        }
    }
    for f in reports.iter().flat_map(|r| &r.findings) {
        let mut names: Vec<String> = f
            .citations
            .iter()
            .map(|c| regulation::instrument(c))
            .collect();
        names.sort();
        names.dedup();
        for name in names {
            if let Some(reg) = by_name.get_mut(&name) {
                match f.status {
                    Status::Violation => reg.findings += 1,
                    Status::Waived(_) => reg.waived += 1,
                    Status::Skipped { .. } | Status::Deferred { .. } => {}
                }
            }
        }
    }
    let mut out: Vec<Regulation<'a>> = by_name.into_values().collect();
    for reg in &mut out {
        reg.citations.sort_by(|a, b| natural_cmp(a.text, b.text));
    }
    out.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then_with(|| a.name.cmp(&b.name))
    });
    out
}

/// The campaign's waivers and their state, read from the diagnostics that
/// evaluation attached to them (`scruple::waiver::*`, labelled inside the
/// waiver); a waiver without one is active.
fn waiver_entries<'a>(
    report: &'a CampaignReport,
    campaign: &'a Campaign,
    today: Date,
) -> Vec<WaiverEntry<'a>> {
    campaign
        .model
        .waivers()
        .map(|w| {
            let problem = report.diagnostics.iter().find(|d| {
                d.code.starts_with("scruple::waiver::")
                    && d.labels.first().is_some_and(|l| {
                        l.source.name == campaign.source.name
                            && l.span.start >= w.span.start
                            && l.span.end <= w.span.end
                    })
            });
            let expires = w.expires.as_ref().map(|e| e.value.date());
            let days_left = expires.map(|d| i64::from((d - today).get_days()));
            let state = match problem {
                Some(d) if d.code == "scruple::waiver::expired" => WaiverState::Expired,
                Some(d) if d.code == "scruple::waiver::stale" => WaiverState::Unused,
                Some(d) => WaiverState::Invalid(d.message.clone()),
                None if days_left.is_some_and(|d| d <= EXPIRING_WITHIN_DAYS) => {
                    WaiverState::Expiring
                }
                None => WaiverState::Active,
            };
            let text = |s: &'a Option<crate::campaign::model::Spanned<String>>| {
                s.as_ref().map(|v| v.value.as_str())
            };
            WaiverEntry {
                file: &campaign.source.name,
                campaign: &campaign.model.id.value,
                rule: &w.rule.value,
                approver: text(&w.approver),
                reference: text(&w.reference),
                justification: text(&w.justification),
                expires,
                days_left,
                state,
            }
        })
        .collect()
}

/// `line:column` of a finding in its campaign file.
pub fn finding_line(f: &Finding) -> String {
    let l = Location::of(&f.campaign, f.span);
    format!("{}:{}", l.line, l.column)
}

/// `file:line:column` of a diagnostic's primary label, if it has one.
pub fn diag_location(d: &Diag) -> Option<String> {
    d.labels.first().map(|l| {
        let l = Location::of(&l.source, l.span);
        format!("{}:{}:{}", l.file, l.line, l.column)
    })
}

/// A finding's status as shown: `Violation`, `Waived`, `Skipped` or `Deferred`.
pub fn status_label(status: &Status) -> &'static str {
    match status {
        Status::Violation => "Violation",
        Status::Waived(_) => "Waived",
        Status::Skipped { .. } => "Skipped",
        Status::Deferred { .. } => "Deferred",
    }
}

/// A severity as shown: `Error`, `Warning` or `Info`.
pub fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "Error",
        Severity::Warning => "Warning",
        Severity::Info => "Info",
    }
}

/// `1 campaign`, `2 campaigns`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// How far an expiry date is from the report date: `in 17 days`, `today`,
/// `3 days ago`.
pub fn days_text(days: i64) -> String {
    match days {
        0 => "today".to_string(),
        1 => "tomorrow".to_string(),
        -1 => "yesterday".to_string(),
        d if d > 0 => format!("in {d} days"),
        d => format!("{} days ago", -d),
    }
}

/// The rules grouped by pack (packs alphabetically), in evaluation order
/// within a pack.
pub fn rules_by_pack<'r, 'a>(rules: &'r [RuleEntry<'a>]) -> Vec<&'r RuleEntry<'a>> {
    let mut sorted: Vec<&RuleEntry<'a>> = rules.iter().collect();
    sorted.sort_by(|a, b| a.rule.pack.cmp(&b.rule.pack));
    sorted
}

/// Text split at backticks into plain and code parts, when the backticks
/// pair up (policy messages quote values as `` `value` ``); otherwise the
/// whole text is plain. `true` marks code.
pub fn code_spans(text: &str) -> Vec<(bool, &str)> {
    if !text.matches('`').count().is_multiple_of(2) {
        return vec![(false, text)];
    }
    text.split('`')
        .enumerate()
        .filter(|(_, part)| !part.is_empty())
        .map(|(i, part)| (i % 2 == 1, part))
        .collect()
}

/// Compares strings with runs of digits compared as numbers, so that
/// `Art. 9` sorts before `Art. 10`.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        match (a.chars().next(), b.chars().next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.len() - a.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                let db = b.len() - b.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                let (na, nb) = (
                    a[..da].trim_start_matches('0'),
                    b[..db].trim_start_matches('0'),
                );
                let order = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
                if order != Ordering::Equal {
                    return order;
                }
                (a, b) = (&a[da..], &b[db..]);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(&y);
                }
                (a, b) = (&a[x.len_utf8()..], &b[y.len_utf8()..]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_compares_numbers() {
        let mut v = vec![
            "GDPR Art. 10",
            "GDPR Art. 9(2)(a)",
            "GDPR Art. 9(1)",
            "GDPR Art. 21(2)",
        ];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            [
                "GDPR Art. 9(1)",
                "GDPR Art. 9(2)(a)",
                "GDPR Art. 10",
                "GDPR Art. 21(2)"
            ]
        );
        assert_eq!(natural_cmp("a007", "a7"), Ordering::Equal);
    }

    #[test]
    fn code_spans_need_paired_backticks() {
        assert_eq!(
            code_spans("on `x` and `y`."),
            [
                (false, "on "),
                (true, "x"),
                (false, " and "),
                (true, "y"),
                (false, ".")
            ]
        );
        assert_eq!(code_spans("odd ` tick"), [(false, "odd ` tick")]);
    }
}
