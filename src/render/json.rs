//! JSON output, schema `scruple.check/v1` (documented in `docs/output.md`).
//!
//! The shape is stable: fields are only added within a version; anything
//! else bumps the version string.

use std::borrow::Cow;

use serde::Serialize;

use super::{summarize, Location, Summary};
use crate::check::CheckRun;
use crate::compile::Policy;
use crate::diag::{clip, Diag};
use crate::eval::census::TargetingCensus;
use crate::eval::{Finding, Status, WaiverInfo};

/// Version tag of the JSON document.
pub const SCHEMA: &str = "scruple.check/v1";

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    tool: Tool,
    policy: PolicyInfo,
    campaigns: Vec<CampaignOut<'a>>,
    /// Problems with the arguments themselves (a glob matching nothing, …).
    errors: Vec<DiagOut>,
    summary: Summary,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct PolicyInfo {
    hash: String,
    rules: usize,
    packs: Vec<String>,
}

#[derive(Serialize)]
struct CampaignOut<'a> {
    file: String,
    id: Option<&'a str>,
    verdict: &'static str,
    findings: Vec<FindingOut<'a>>,
    diagnostics: Vec<DiagOut>,
    /// How the targeting inputs were understood (absent for invalid files).
    #[serde(skip_serializing_if = "Option::is_none")]
    targeting: Option<&'a TargetingCensus>,
}

#[derive(Serialize)]
struct FindingOut<'a> {
    rule: &'a str,
    kind: &'static str,
    severity: &'static str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped_because: Option<&'a str>,
    /// For `status: "deferred"`: the more specific rule that decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    deferred_to: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    waiver: Option<&'a WaiverInfo>,
    message: Cow<'a, str>,
    label: Cow<'a, str>,
    location: Location,
    rule_location: Location,
    citations: &'a [String],
    help: Option<Cow<'a, str>>,
    notes: Vec<Cow<'a, str>>,
}

/// A diagnostic in JSON form.
#[derive(Serialize)]
pub struct DiagOut {
    code: String,
    severity: &'static str,
    message: String,
    help: Option<String>,
    notes: Vec<String>,
    labels: Vec<LabelOut>,
}

#[derive(Serialize)]
struct LabelOut {
    text: String,
    location: Location,
}

/// Converts a diagnostic to its JSON form.
pub fn diag_out(d: &Diag) -> DiagOut {
    DiagOut {
        code: d.code.clone(),
        severity: d.severity.as_str(),
        message: clip(&d.message).into_owned(),
        help: d.help.as_deref().map(|h| clip(h).into_owned()),
        notes: d.notes.iter().map(|n| clip(n).into_owned()).collect(),
        labels: d
            .labels
            .iter()
            .map(|l| LabelOut {
                text: clip(&l.text).into_owned(),
                location: Location::of(&l.source, l.span),
            })
            .collect(),
    }
}

fn finding_out(f: &Finding) -> FindingOut<'_> {
    FindingOut {
        rule: &f.rule,
        kind: f.kind,
        severity: f.severity.as_str(),
        status: match f.status {
            Status::Violation => "violation",
            Status::Waived(_) => "waived",
            Status::Skipped { .. } => "skipped",
            Status::Deferred { .. } => "deferred",
        },
        skipped_because: match &f.status {
            Status::Skipped { because } => Some(because),
            _ => None,
        },
        deferred_to: match &f.status {
            Status::Deferred { to, .. } => Some(to),
            _ => None,
        },
        waiver: match &f.status {
            Status::Waived(w) => Some(w),
            _ => None,
        },
        // Messages quote user values: bounded like the human output.
        message: clip(&f.message),
        label: clip(&f.label),
        location: Location::of(&f.campaign, f.span),
        rule_location: Location::of(&f.rule_source, f.rule_span),
        citations: &f.citations,
        help: f.help.as_deref().map(clip),
        notes: f.notes.iter().map(|n| clip(n)).collect(),
    }
}

/// Renders the run as pretty JSON.
pub fn render(run: &CheckRun, policy: &Policy, deny_warnings: bool) -> String {
    serde_json::to_string_pretty(&document(run, policy, deny_warnings))
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// The run as a `scruple.check/v1` JSON value: what [`render`] prints, for
/// callers that embed it in another document (the gate's refusal in `serve`).
pub fn to_value(run: &CheckRun, policy: &Policy, deny_warnings: bool) -> serde_json::Value {
    serde_json::to_value(document(run, policy, deny_warnings)).unwrap_or_else(
        // Only a map with non-string keys fails to serialise; there is none.
        |e| serde_json::json!({ "error": e.to_string() }),
    )
}

fn document<'a>(run: &'a CheckRun, policy: &Policy, deny_warnings: bool) -> Document<'a> {
    let mut campaigns: Vec<CampaignOut<'_>> = run
        .invalid
        .iter()
        .map(|i| CampaignOut {
            file: i.name.clone(),
            id: None,
            verdict: "invalid",
            findings: Vec::new(),
            diagnostics: i.diags.iter().map(diag_out).collect(),
            targeting: None,
        })
        .collect();
    campaigns.extend(run.reports.iter().map(|r| CampaignOut {
        file: r.campaign.name.clone(),
        id: Some(&r.id),
        verdict: if r.passes(deny_warnings) {
            "pass"
        } else {
            "fail"
        },
        findings: r.findings.iter().map(finding_out).collect(),
        diagnostics: r.diagnostics.iter().map(diag_out).collect(),
        targeting: Some(&r.targeting),
    }));
    let mut packs: Vec<String> = policy
        .files
        .iter()
        .filter(|f| f.header.is_some())
        .map(|f| f.pack())
        .collect();
    packs.sort();
    packs.dedup();
    Document {
        schema: SCHEMA,
        tool: Tool {
            name: "scruple",
            version: env!("CARGO_PKG_VERSION"),
        },
        policy: PolicyInfo {
            hash: policy.content_hash(),
            rules: policy.rules.len(),
            packs,
        },
        campaigns,
        errors: run.usage.iter().map(diag_out).collect(),
        summary: summarize(run, deny_warnings),
    }
}
