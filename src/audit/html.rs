//! The audit as a self-contained HTML page (`scruple audit --html FILE`):
//! per campaign and protected attribute, a chart of each group's selection
//! rate with its interval and the threshold line (the ratio times the
//! highest rate), and the opt-out and complaint rates per day against their
//! limits. Inline CSS and SVG; no scripts, no external resources. Every
//! text from the inputs goes through [`escape`].

use std::fmt::Write;

use super::{AuditCheck, AuditResult, CampaignResult, Stage, Status};
use crate::render::report::html::escape;

const WIDTH: f64 = 640.0;
const LABEL: f64 = 150.0;
const ROW: f64 = 26.0;

/// Renders the page.
pub fn render(result: &AuditResult) -> String {
    let mut out = String::with_capacity(32 * 1024);
    out.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>scruple audit</title><style>\
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}\
h1{font-size:1.6rem}h2{margin-top:2.5rem;border-bottom:1px solid #ccc}h3{font-size:1.05rem}\
.error{color:#a40000}.warning{color:#8a5a00}.muted{color:#666}\
table{border-collapse:collapse}td,th{padding:.2rem .6rem;text-align:left;border-bottom:1px solid #eee}\
svg text{font-size:12px;font-family:system-ui,sans-serif}\
@media print{h2{break-before:page}}\
</style></head><body>\n<h1>Fairness and ethical metrics</h1>\n",
    );
    body(&mut out, result, 2);
    out.push_str("</body></html>\n");
    out
}

/// The page's content without its head: the summary, the findings and one
/// part per campaign, with headings from `<h{level}>` down. `scruple
/// report` embeds it as its fairness section (level 3).
pub fn body(out: &mut String, result: &AuditResult, level: u8) {
    let (errors, warnings) = (
        result
            .findings
            .iter()
            .filter(|f| f.severity == crate::diag::Severity::Error)
            .count(),
        result
            .findings
            .iter()
            .filter(|f| f.severity != crate::diag::Severity::Error)
            .count(),
    );
    let _ = writeln!(
        out,
        "<p>{} campaign(s) audited: {} error(s), {} warning(s). A ratio below the threshold is \
evidence to investigate, not a verdict; groups smaller than {} are reported as insufficient data.</p>",
        result.campaigns.len(),
        errors,
        warnings,
        result.thresholds.min_group
    );
    if !result.findings.is_empty() {
        let _ = writeln!(out, "<h{level}>Findings</h{level}>\n<ul>");
        for f in &result.findings {
            let _ = writeln!(
                out,
                "<li><span class=\"{sev}\">{sev}</span> <code>{}</code>{}: {}<br><span class=\"muted\">cite: {}</span></li>",
                escape(&f.rule),
                f.location
                    .as_deref()
                    .map(|l| format!(" <span class=\"muted\">({})</span>", escape(l)))
                    .unwrap_or_default(),
                escape(&f.message),
                escape(&f.citations.join("; ")),
                sev = f.severity.as_str(),
            );
        }
        out.push_str("</ul>\n");
    }
    for c in &result.campaigns {
        campaign(out, c, result, level);
    }
}

fn campaign(out: &mut String, c: &CampaignResult, result: &AuditResult, level: u8) {
    let sub = level + 1;
    let _ = writeln!(
        out,
        "<h{level}>Campaign <code>{}</code></h{level}>\n<p class=\"muted\">eligible from {}: {} decisions, {} sends, {} outcome rows; {} without attribute record{}</p>",
        escape(&c.campaign),
        c.base,
        c.decisions,
        c.sends,
        c.outcomes,
        c.unmatched,
        if c.categories.is_empty() {
            String::new()
        } else {
            format!("; categories: {}", escape(&c.categories.join(", ")))
        }
    );
    for a in &c.attributes {
        // The last stage with data among those parity covers: where the
        // offer is made, or as near to it as the inputs go.
        let Some(cmp) = a
            .comparisons
            .iter()
            .rev()
            .find(|cmp| result.thresholds.stages.contains(&cmp.stage))
        else {
            continue;
        };
        let _ = writeln!(
            out,
            "<h{sub}>{} at <code>{}</code>: {}</h{sub}>",
            escape(&a.attribute),
            cmp.stage.as_str(),
            match (cmp.status, cmp.ratio) {
                (Status::InsufficientData, _) | (_, None) => "insufficient data".to_string(),
                (status, Some(r)) => format!(
                    "ratio {r:.2}{}{}",
                    cmp.ratio_interval
                        .map(|i| format!(" [{:.2}–{:.2}]", i.low, i.high))
                        .unwrap_or_default(),
                    match status {
                        Status::AdverseImpact => format!(
                            " — below {} and significant (Fisher p {:.1e})",
                            cmp.threshold,
                            cmp.fisher_p.unwrap_or(f64::NAN)
                        ),
                        Status::NotSignificant =>
                            format!(" — below {}, not significant", cmp.threshold),
                        _ => String::new(),
                    }
                ),
            }
        );
        rates_chart(out, a, cmp.stage, cmp);
    }
    if c.trend.len() > 1 {
        let _ = writeln!(out, "<h{sub}>Opt-out and complaint rates per day</h{sub}>");
        trend_chart(out, c, result);
    }
    if !c.channels.is_empty() {
        out.push_str("<table><tr><th>channel</th><th>delivered</th><th>unsubscribe rate</th><th>complaint rate</th></tr>\n");
        for r in c.channels.iter().filter(|r| r.delivered > 0) {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                if r.key.is_empty() {
                    "(any)".to_string()
                } else {
                    escape(&r.key)
                },
                r.delivered,
                pct(r.unsubscribe_rate),
                pct(r.complaint_rate)
            );
        }
        out.push_str("</table>\n");
    }
}

fn pct(x: Option<f64>) -> String {
    x.map(|x| format!("{:.2}%", x * 100.0))
        .unwrap_or_else(|| "–".to_string())
}

/// Horizontal bars: each group's rate at `stage`, its Wilson interval as a
/// whisker, and a dashed line at threshold × the highest rate.
fn rates_chart(
    out: &mut String,
    a: &super::AttributeResult,
    stage: Stage,
    cmp: &super::Comparison,
) {
    let rows: Vec<_> = a
        .groups
        .iter()
        .filter_map(|g| g.stages.iter().find(|s| s.stage == stage).map(|s| (g, s)))
        .collect();
    if rows.is_empty() {
        return;
    }
    let max = rows
        .iter()
        .map(|(_, s)| s.interval.map_or(s.rate.unwrap_or(0.0), |i| i.high))
        .fold(0.0f64, f64::max)
        .max(0.01);
    let plot = WIDTH - LABEL - 70.0;
    let x = |v: f64| LABEL + v / max * plot;
    let height = rows.len() as f64 * ROW + 30.0;
    let _ = writeln!(
        out,
        "<svg role=\"img\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" aria-label=\"selection rate per group of {}\">",
        escape(&a.attribute)
    );
    for (i, (g, s)) in rows.iter().enumerate() {
        let y = i as f64 * ROW + 4.0;
        let rate = s.rate.unwrap_or(0.0);
        let fill = if g.insufficient {
            "#bbb"
        } else if cmp.lowest.as_deref() == Some(g.group.as_str())
            && cmp.status == Status::AdverseImpact
        {
            "#c0504d"
        } else {
            "#4f81bd"
        };
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{} (n={})</text>\
<rect x=\"{LABEL}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{fill}\"><title>{} of {}</title></rect>",
            LABEL - 6.0,
            y + 14.0,
            escape(&g.group),
            s.n,
            (x(rate) - LABEL).max(0.5),
            ROW - 8.0,
            s.k,
            s.n
        );
        if let Some(iv) = s.interval {
            let _ = writeln!(
                out,
                "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#222\"/>",
                x(iv.low),
                x(iv.high),
                y + 9.0,
                y + 9.0
            );
        }
        let label = if g.insufficient {
            format!("{:.1}% insufficient data", rate * 100.0)
        } else {
            format!("{:.1}%", rate * 100.0)
        };
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\">{label}</text>",
            x(s.interval.map_or(rate, |i| i.high)) + 4.0,
            y + 14.0
        );
    }
    if let (Some(high), Some(_)) = (
        cmp.highest
            .as_deref()
            .and_then(|h| rows.iter().find(|(g, _)| g.group == h))
            .and_then(|(_, s)| s.rate),
        cmp.ratio,
    ) {
        let line = x(high * cmp.threshold);
        let bottom = rows.len() as f64 * ROW + 4.0;
        let _ = writeln!(
            out,
            "<line x1=\"{line:.1}\" x2=\"{line:.1}\" y1=\"0\" y2=\"{bottom:.1}\" stroke=\"#a40000\" stroke-dasharray=\"4 3\"/>\
<text x=\"{line:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#a40000\">{} × highest</text>",
            bottom + 16.0,
            cmp.threshold
        );
    }
    out.push_str("</svg>\n");
}

/// Lines of the unsubscribe and complaint rates per day, with the limits of
/// the rate rules as dashed lines.
fn trend_chart(out: &mut String, c: &CampaignResult, result: &AuditResult) {
    let (w, h, left, bottom) = (WIDTH, 200.0, 70.0, 170.0);
    let mut limits: Vec<(String, f64)> = result
        .thresholds
        .rules
        .iter()
        .filter_map(|r| match &r.check {
            AuditCheck::Rate { metric, limit, .. } => Some((metric.clone(), *limit)),
            AuditCheck::Parity { .. } => None,
        })
        .collect();
    limits.dedup();
    let values = c
        .trend
        .iter()
        .flat_map(|d| [d.unsubscribe_rate, d.complaint_rate])
        .flatten()
        .chain(limits.iter().map(|(_, l)| *l))
        .fold(0.0f64, f64::max)
        .max(0.001);
    let n = c.trend.len().max(2) as f64 - 1.0;
    let x = |i: usize| left + i as f64 / n * (w - left - 20.0);
    let y = |v: f64| bottom - v / values * (bottom - 10.0);
    let _ = writeln!(
        out,
        "<svg role=\"img\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" aria-label=\"opt-out and complaint rates per day\">\
<line x1=\"{left}\" x2=\"{left}\" y1=\"10\" y2=\"{bottom}\" stroke=\"#999\"/>\
<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{bottom}\" y2=\"{bottom}\" stroke=\"#999\"/>\
<text x=\"{:.1}\" y=\"14\" text-anchor=\"end\">{:.2}%</text>",
        w - 20.0,
        left - 4.0,
        values * 100.0
    );
    for (metric, limit) in &limits {
        let colour = if metric == "complaint_rate" {
            "#c0504d"
        } else {
            "#4f81bd"
        };
        let _ = writeln!(
            out,
            "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"{colour}\" stroke-dasharray=\"4 3\"><title>{} limit {:.2}%</title></line>",
            w - 20.0,
            y(*limit),
            y(*limit),
            metric.replace('_', " "),
            limit * 100.0
        );
    }
    for (metric, colour) in [
        ("unsubscribe_rate", "#4f81bd"),
        ("complaint_rate", "#c0504d"),
    ] {
        let points: Vec<String> = c
            .trend
            .iter()
            .enumerate()
            .filter_map(|(i, d)| {
                let v = if metric == "complaint_rate" {
                    d.complaint_rate
                } else {
                    d.unsubscribe_rate
                };
                v.map(|v| format!("{:.1},{:.1}", x(i), y(v)))
            })
            .collect();
        if !points.is_empty() {
            let _ = writeln!(
                out,
                "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"><title>{}</title></polyline>",
                points.join(" "),
                metric.replace('_', " ")
            );
        }
    }
    if let (Some(first), Some(last)) = (c.trend.first(), c.trend.last()) {
        let _ = writeln!(
            out,
            "<text x=\"{left}\" y=\"{:.1}\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            bottom + 18.0,
            escape(&first.key),
            w - 20.0,
            bottom + 18.0,
            escape(&last.key)
        );
    }
    let legend: Vec<String> = limits
        .iter()
        .map(|(m, l)| format!("{} limit {:.2}%", m.replace('_', " "), l * 100.0))
        .collect();
    let _ = writeln!(
        out,
        "</svg>\n<p class=\"muted\">blue: unsubscribe rate; red: complaint rate; dashed: {}.</p>",
        legend.join(", ")
    );
}
