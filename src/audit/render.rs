//! Renderers of an [`AuditResult`]: a table and findings for people, the
//! `scruple.audit/v1` JSON document, and SARIF 2.1.0.

use std::fmt::Write;

use serde_json::{json, Value};

use super::{AuditResult, Status};
use crate::diag::Severity;

fn pct(x: Option<f64>) -> String {
    match x {
        Some(x) => format!("{:.1}%", x * 100.0),
        None => "-".to_string(),
    }
}

/// The human report: per campaign and attribute, each group's rates with
/// intervals and the comparison at each stage; then the findings, each with
/// its rule, groups and citations; then a summary line.
pub fn human(result: &AuditResult) -> String {
    let mut out = String::new();
    let t = &result.thresholds;
    for c in &result.campaigns {
        let _ = writeln!(
            out,
            "campaign {} (eligible from {}: {} decisions, {} sends, {} outcome rows; {} without attribute record)",
            c.campaign, c.base, c.decisions, c.sends, c.outcomes, c.unmatched
        );
        for a in &c.attributes {
            let _ = writeln!(out, "  {} ({} with no value)", a.attribute, a.unknown);
            for g in &a.groups {
                let _ = write!(out, "    {:<12} n={:<8}", g.group, g.eligible);
                if g.insufficient {
                    let _ = write!(out, " insufficient data (fewer than {})", t.min_group);
                }
                for s in &g.stages {
                    let interval = s
                        .interval
                        .map(|i| format!(" [{:.1}–{:.1}]", i.low * 100.0, i.high * 100.0))
                        .unwrap_or_default();
                    let _ = write!(out, "  {} {}{}", s.stage.as_str(), pct(s.rate), interval);
                }
                if let Some(q) = g.qualified {
                    let _ = write!(out, "  qualified offered {} of {}", q.k, q.n);
                }
                out.push('\n');
            }
            for cmp in &a.comparisons {
                let _ = write!(out, "    {:<12}", cmp.stage.as_str());
                match (cmp.status, cmp.ratio) {
                    (Status::InsufficientData, _) => {
                        let _ = write!(
                            out,
                            " insufficient data: fewer than two groups of at least {} (or nobody selected)",
                            cmp.needed.unwrap_or(t.min_group)
                        );
                    }
                    (status, Some(ratio)) => {
                        let interval = cmp
                            .ratio_interval
                            .map(|i| format!(" [{:.2}–{:.2}]", i.low, i.high))
                            .unwrap_or_default();
                        let verdict = match status {
                            Status::Ok => "ok".to_string(),
                            Status::AdverseImpact => "ADVERSE IMPACT".to_string(),
                            _ => format!(
                                "below {} but not significant{}",
                                cmp.threshold,
                                cmp.needed
                                    .map(|n| format!(" (about {n} per group needed)"))
                                    .unwrap_or_default()
                            ),
                        };
                        let _ = write!(
                            out,
                            " ratio {}/{} {:.2}{} difference {:.1} pts, Fisher p {:.2e}: {}",
                            cmp.lowest.as_deref().unwrap_or(""),
                            cmp.highest.as_deref().unwrap_or(""),
                            ratio,
                            interval,
                            cmp.parity_difference.unwrap_or(0.0) * 100.0,
                            cmp.fisher_p.unwrap_or(f64::NAN),
                            verdict
                        );
                    }
                    (_, None) => {
                        let _ = write!(out, " nobody reached this stage");
                    }
                }
                out.push('\n');
            }
            if let Some(eo) = &a.equal_opportunity {
                match eo.difference {
                    Some(d) => {
                        let _ = writeln!(
                            out,
                            "    equal opportunity: qualified {} offered {:.1} pts less than {}",
                            eo.lowest.as_deref().unwrap_or(""),
                            d * 100.0,
                            eo.highest.as_deref().unwrap_or("")
                        );
                    }
                    None => {
                        let _ = writeln!(out, "    equal opportunity: insufficient data");
                    }
                }
            }
        }
        for r in c.channels.iter().filter(|r| r.delivered > 0) {
            let _ = writeln!(
                out,
                "  {}: {} delivered, unsubscribe {} ({} of {}), complaint {} ({} of {})",
                if r.key.is_empty() {
                    "all channels"
                } else {
                    &r.key
                },
                r.delivered,
                pct(r.unsubscribe_rate),
                r.unsubscribed.k,
                r.unsubscribed.n,
                pct(r.complaint_rate),
                r.complained.k,
                r.complained.n
            );
        }
        out.push('\n');
    }
    for f in &result.findings {
        let rule = result.thresholds.rules.get(f.rule_index);
        match rule.and_then(|r| r.declared.as_ref()) {
            // A rule of the policy: shown like a `check` finding, pointing
            // at the threshold where the policy declares it.
            Some((source, span)) => {
                let diag = crate::diag::Diag {
                    code: f.rule.clone(),
                    severity: f.severity,
                    message: f.message.clone(),
                    labels: vec![crate::diag::Label::new(
                        source,
                        *span,
                        "threshold declared here",
                    )],
                    help: None,
                    notes: vec![format!("cite: {}", f.citations.join("; "))],
                };
                out.push_str(&crate::diag::render_human(&[diag], false, 100));
            }
            None => {
                let _ = writeln!(out, "{}[{}]: {}", f.severity, f.rule, f.message);
                for c in &f.citations {
                    let _ = writeln!(out, "  cite: {c}");
                }
            }
        }
    }
    let (errors, warnings) = counts(result);
    let _ = writeln!(
        out,
        "{} campaign{} audited: {} finding{} ({} error{}, {} warning{})",
        result.campaigns.len(),
        plural(result.campaigns.len()),
        result.findings.len(),
        plural(result.findings.len()),
        errors,
        plural(errors),
        warnings,
        plural(warnings)
    );
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn counts(result: &AuditResult) -> (usize, usize) {
    let errors = result
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    (errors, result.findings.len() - errors)
}

/// The `scruple.audit/v1` JSON document.
pub fn json(result: &AuditResult) -> Value {
    let (errors, warnings) = counts(result);
    json!({
        "schema": "scruple.audit/v1",
        "summary": {
            "campaigns": result.campaigns.len(),
            "recipients_with_attributes": result.recipients_with_attributes,
            "findings": result.findings.len(),
            "errors": errors,
            "warnings": warnings,
        },
        "thresholds": result.thresholds,
        "campaigns": result.campaigns,
        "findings": result.findings,
    })
}

/// SARIF 2.1.0: the rules are the audit's thresholds (a policy's `require
/// parity` and `limit` rules, or the built-in ones), each with its
/// citations and, for a policy's, where it is declared; one result per
/// finding, located on the outcomes file (the audit has no line to point
/// at: the finding is about many rows).
pub fn sarif(result: &AuditResult, outcomes: &str) -> Value {
    let rules: Vec<Value> = result
        .thresholds
        .rules
        .iter()
        .map(|r| {
            let what = match &r.check {
                super::AuditCheck::Parity { ratio, .. } => format!(
                    "A protected group's selection rate is below {ratio} times the highest group's (significant)"
                ),
                super::AuditCheck::Rate { metric, limit, .. } => {
                    format!("{metric} not below {}%", limit * 100.0)
                }
            };
            let mut rule = json!({
                "id": r.id,
                "shortDescription": {"text": what},
                "defaultConfiguration": {"level": level(r.severity)},
                "properties": {"citations": r.citations},
            });
            if let Some(uri) = r.citations.iter().find_map(|c| crate::render::report::regulation::source_uri(c)) {
                rule["helpUri"] = json!(uri);
            }
            if let Some(location) = &r.location {
                rule["properties"]["declared"] = json!(location);
            }
            rule
        })
        .collect();
    let results: Vec<Value> = result
        .findings
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.rule,
                "ruleIndex": f.rule_index,
                "level": level(f.severity),
                "message": {"text": f.message},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": outcomes}}}],
                "partialFingerprints": {
                    "scruple/v1": format!("{}:{}:{}:{}:{}", f.rule, f.campaign,
                        f.attribute.as_deref().unwrap_or(""),
                        f.stage.map(|s| s.as_str()).unwrap_or(""),
                        f.channel.as_deref().unwrap_or("")),
                },
                "properties": {
                    "campaign": f.campaign,
                    "attribute": f.attribute,
                    "stage": f.stage,
                    "groups": f.groups,
                    "channel": f.channel,
                    "value": f.value,
                    "threshold": f.threshold,
                    "citations": f.citations,
                },
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "scruple",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A Prometheus label value: backslash, double quote and newline escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The audit's gauges in the Prometheus text format (appended to
/// `scruple serve`'s `/metrics`): per campaign, attribute, group and stage
/// the selection rate and group size; per campaign, attribute and stage the
/// adverse-impact ratio; per campaign and channel the unsubscribe and
/// complaint rates.
pub fn prometheus(result: &AuditResult) -> String {
    let mut out = String::new();
    out.push_str("# HELP scruple_audit_group_size Eligible members of a protected group in a campaign.\n# TYPE scruple_audit_group_size gauge\n");
    for c in &result.campaigns {
        for a in &c.attributes {
            for g in &a.groups {
                let _ = writeln!(
                    out,
                    "scruple_audit_group_size{{campaign=\"{}\",attribute=\"{}\",group=\"{}\"}} {}",
                    label(&c.campaign),
                    label(&a.attribute),
                    label(&g.group),
                    g.eligible
                );
            }
        }
    }
    out.push_str("# HELP scruple_audit_selection_rate Share of a group's eligible members that reached a stage.\n# TYPE scruple_audit_selection_rate gauge\n");
    for c in &result.campaigns {
        for a in &c.attributes {
            for g in &a.groups {
                for s in &g.stages {
                    if let Some(rate) = s.rate {
                        let _ = writeln!(
                            out,
                            "scruple_audit_selection_rate{{campaign=\"{}\",attribute=\"{}\",group=\"{}\",stage=\"{}\"}} {rate}",
                            label(&c.campaign),
                            label(&a.attribute),
                            label(&g.group),
                            s.stage.as_str()
                        );
                    }
                }
            }
        }
    }
    out.push_str("# HELP scruple_audit_impact_ratio Lowest over highest selection rate among groups of at least the minimum size.\n# TYPE scruple_audit_impact_ratio gauge\n");
    for c in &result.campaigns {
        for a in &c.attributes {
            for cmp in &a.comparisons {
                if let Some(ratio) = cmp.ratio {
                    let _ = writeln!(
                        out,
                        "scruple_audit_impact_ratio{{campaign=\"{}\",attribute=\"{}\",stage=\"{}\"}} {ratio}",
                        label(&c.campaign),
                        label(&a.attribute),
                        cmp.stage.as_str()
                    );
                }
            }
        }
    }
    for (name, help) in [
        ("unsubscribe_rate", "Unsubscribes per delivered message."),
        (
            "complaint_rate",
            "Complaints (spam reports) per delivered message.",
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP scruple_audit_{name} {help}\n# TYPE scruple_audit_{name} gauge"
        );
        for c in &result.campaigns {
            for r in &c.channels {
                let value = if name == "complaint_rate" {
                    r.complaint_rate
                } else {
                    r.unsubscribe_rate
                };
                if let Some(v) = value {
                    let _ = writeln!(
                        out,
                        "scruple_audit_{name}{{campaign=\"{}\",channel=\"{}\"}} {v}",
                        label(&c.campaign),
                        label(&r.key)
                    );
                }
            }
        }
    }
    out
}
