//! The report as one self-contained HTML file: inline CSS (with print rules
//! for A4), inline SVG bar charts, no scripts and no external resources.
//! Every piece of text from a policy or a campaign goes through [`escape`].

use std::fmt::{self, Write as _};

use super::{
    code_spans, days_text, diag_location, finding_line, plural, rules_by_pack, severity_word,
    status_label, Bar, CampaignEntry, Report, Verdict, WaiverEntry, WaiverState,
    EXPIRING_WITHIN_DAYS,
};
use crate::diag::clip;
use crate::eval::Status;

/// Renders the report as an HTML document.
pub fn render(report: &Report<'_>) -> String {
    let mut out = String::with_capacity(64 * 1024);
    // Writing to a String cannot fail.
    let _ = document(&mut out, report);
    out
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// An identifier or a path, escaped, with line-break opportunities after
/// `_`, `/` and `-` (long rule ids and file names wrap cleanly in narrow
/// columns).
fn breakable(text: &str) -> String {
    // No entity `escape` writes contains these characters.
    escape(text)
        .replace('_', "_<wbr>")
        .replace('/', "/<wbr>")
        .replace('-', "-<wbr>")
}

/// Escaped text with paired backticks shown as `<code>`.
fn rich(text: &str) -> String {
    // Messages quote user values, which may be megabytes long.
    code_spans(&clip(text))
        .into_iter()
        .map(|(code, part)| {
            if code {
                format!("<code>{}</code>", escape(part))
            } else {
                escape(part)
            }
        })
        .collect()
}

const STYLE: &str = r#"
:root {
  --ink: #1d2433; --muted: #5b6475; --line: #d5d9e0; --soft: #f3f5f8;
  --accent: #1f3a68;
  --pass: #146c2e; --pass-bg: #e7f4ea;
  --fail: #b42318; --fail-bg: #fdecea;
  --warn: #8a5300; --warn-bg: #fff4e0;
  --info: #35507a; --info-bg: #eaf0f8;
  --sans: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", "DejaVu Sans", sans-serif;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", "DejaVu Sans Mono", monospace;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: #e9ecf1; color: var(--ink); font: 14px/1.5 var(--sans); }
.page { max-width: 1080px; margin: 24px auto; background: #fff; padding: 40px 48px 32px;
  box-shadow: 0 1px 3px rgba(16,24,40,.12); }
header.masthead { border-bottom: 3px solid var(--accent); padding-bottom: 18px; margin-bottom: 8px; }
.eyebrow { margin: 0; text-transform: uppercase; letter-spacing: .12em; font-size: 11px; font-weight: 700; color: var(--accent); }
h1 { margin: 4px 0 6px; font-size: 28px; line-height: 1.2; letter-spacing: -.01em; }
h2 { font-size: 20px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); color: var(--accent); }
h3 { font-size: 16px; margin: 24px 0 8px; }
h4 { font-size: 13px; margin: 16px 0 6px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); }
p { margin: 6px 0; }
.lede { font-size: 16px; margin: 0 0 12px; }
.muted, .sub { color: var(--muted); }
.sub { font-size: 12.5px; margin: 0 0 8px; }
code { font-family: var(--mono); font-size: .88em; background: var(--soft); border-radius: 3px; padding: 0 3px; overflow-wrap: anywhere; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 3px 18px; margin: 12px 0 0; font-size: 13px; }
dl.meta dt { color: var(--muted); font-weight: 600; }
dl.meta dd { margin: 0; }
nav.toc { font-size: 12.5px; margin: 14px 0 0; }
nav.toc ol { list-style: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: 4px 18px; }
nav.toc a { color: var(--accent); }
.badge { display: inline-block; min-width: 4.6em; text-align: center; font-weight: 700; font-size: 11.5px;
  letter-spacing: .04em; padding: 1px 7px; border-radius: 4px; border: 1px solid currentColor; white-space: nowrap;
  -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.badge.pass { color: var(--pass); background: var(--pass-bg); }
.badge.fail { color: var(--fail); background: var(--fail-bg); }
.badge.invalid { color: var(--warn); background: var(--warn-bg); }
.badge.expired { color: var(--fail); background: var(--fail-bg); }
.badge.expiring { color: var(--warn); background: var(--warn-bg); }
.badge.active { color: var(--pass); background: var(--pass-bg); }
.badge.unused, .badge.skipped { color: var(--muted); background: var(--soft); }
.badge.waived { color: var(--info); background: var(--info-bg); }
.badge.violation { color: var(--fail); background: var(--fail-bg); }
.sev { font-weight: 700; font-size: 12px; white-space: nowrap; }
.sev.error { color: var(--fail); } .sev.warning { color: var(--warn); } .sev.info { color: var(--info); }
.overall { display: flex; align-items: center; gap: 12px; padding: 10px 14px; border: 1px solid var(--line);
  border-left: 5px solid var(--accent); border-radius: 4px; margin: 14px 0 0; }
.overall.fail { border-left-color: var(--fail); } .overall.pass { border-left-color: var(--pass); }
.overall.invalid { border-left-color: var(--warn); }
.overall .badge { font-size: 13px; }
.stats { display: grid; grid-template-columns: 4fr 6fr 5fr; gap: 14px; margin: 12px 0 4px; }
.stat { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px 12px; }
.stat h3 { margin: 0 0 8px; font-size: 11.5px; text-transform: uppercase; letter-spacing: .08em; color: var(--muted); }
.stat ul { list-style: none; margin: 0; padding: 0; display: grid; grid-auto-flow: column; grid-auto-columns: minmax(0, 1fr); gap: 0 12px; }
.stat li { display: flex; flex-direction: column; min-width: 0; }
.stat .n { font-size: 22px; font-weight: 700; line-height: 1.1; font-variant-numeric: tabular-nums; }
.stat .l { font-size: 11.5px; color: var(--muted); }
.stat .n.bad { color: var(--fail); } .stat .n.good { color: var(--pass); } .stat .n.warn { color: var(--warn); }
table { width: 100%; border-collapse: collapse; margin: 8px 0 14px; font-size: 12.5px; }
caption { text-align: left; font-weight: 600; color: var(--muted); padding: 0 0 6px; font-size: 12px; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid var(--line); }
thead th { background: var(--soft); border-bottom: 2px solid #b9c0cc; font-size: 11.5px; text-transform: uppercase; letter-spacing: .04em; color: #404a5c; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.num.zero { color: #a3aab6; }
td.loc { font-family: var(--mono); font-size: 11px; white-space: nowrap; }
.nowrap { white-space: nowrap; }
table a { color: inherit; text-decoration: none; } table a:hover { text-decoration: underline; }
tr.pack th { background: #fff; color: var(--accent); font-size: 12px; padding-top: 12px; text-transform: none; letter-spacing: 0; border-bottom: 1px solid #b9c0cc; }
.cites { font-size: 11.5px; color: var(--muted); }
table.findings th:nth-child(1) { width: 9%; } table.findings th:nth-child(2) { width: 11%; }
table.findings th:nth-child(4) { width: 7%; } table.findings th:nth-child(5) { width: 25%; }
table.waivers th:nth-child(1) { width: 13%; } table.waivers th:nth-child(2) { width: 30%; }
table.waivers th:nth-child(3) { width: 20%; } table.waivers th:nth-child(4) { width: 12%; }
.detail { font-size: 11.5px; font-weight: normal; color: var(--muted); margin-top: 3px; }
article.campaign { margin: 0 0 22px; }
article.campaign h3 { display: flex; align-items: baseline; gap: 10px; margin-bottom: 2px; }
figure { margin: 8px 0 22px; }
figure svg { width: 100%; max-width: 860px; height: auto; display: block; }
figcaption { font-size: 12px; color: var(--muted); margin-top: 4px; }
.problems { font-size: 12.5px; margin: 6px 0 10px; padding-left: 18px; }
footer { margin-top: 36px; padding-top: 10px; border-top: 1px solid var(--line); font-size: 11.5px; color: var(--muted); }
@media screen and (max-width: 760px) { .page { padding: 20px; margin: 0; } .stats { grid-template-columns: 1fr; } }
@page { size: A4; margin: 16mm 14mm 18mm;
  @bottom-left { content: "scruple compliance report"; font: 8pt var(--sans); color: #5b6475; }
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 8pt var(--sans); color: #5b6475; } }
.fairness svg { max-width: 100%; height: auto; }
.fairness svg text { font: 12px var(--sans); }
.fairness .error { color: #a40000; } .fairness .warning { color: #8a5a00; }
@media print {
  body { background: none; font-size: 9.5pt; }
  .page { max-width: none; margin: 0; padding: 0; box-shadow: none; }
  section.major { break-before: page; }
  h2 { margin-top: 0; }
  h2, h3, h4, caption, p.sub, p.muted { break-after: avoid; }
  tr, figure, .stat, .overall, dl.meta { break-inside: avoid; }
  /* Keep a campaign on one page when it fits, so no heading is orphaned. */
  article.campaign { break-inside: avoid-page; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
  nav.toc { display: none; }
  .stats { gap: 8px; grid-template-columns: 5fr 6fr 5fr; }
  .stat { padding: 6px 10px 8px; }
  .stat ul { gap: 0 6px; }
  .stat .n { font-size: 16px; }
  .stat .l { font-size: 7pt; }
  table { font-size: 8.5pt; }
  thead th { background: none; }
}
"#;

fn document(out: &mut String, r: &Report<'_>) -> fmt::Result {
    let date = r.date();
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
    )?;
    writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(
        out,
        "<meta name=\"generator\" content=\"scruple {}\">",
        env!("CARGO_PKG_VERSION")
    )?;
    writeln!(
        out,
        "<title>Campaign compliance report, {}</title>",
        escape(&date)
    )?;
    writeln!(
        out,
        "<style>{STYLE}</style>\n</head>\n<body>\n<div class=\"page\">"
    )?;
    masthead(out, r, &date)?;
    writeln!(out, "<main>")?;
    summary(out, r)?;
    charts(out, r)?;
    waivers(out, r)?;
    campaigns(out, r)?;
    fairness(out, r)?;
    rules(out, r)?;
    citations(out, r)?;
    writeln!(out, "</main>")?;
    writeln!(
        out,
        "<footer>Generated by scruple {} as of {} against policy <code>{}</code>. {}.</footer>",
        env!("CARGO_PKG_VERSION"),
        escape(&date),
        escape(&r.policy.hash),
        escape(&capitalized(r.verdict_rule()))
    )?;
    writeln!(out, "</div>\n</body>\n</html>")
}

fn masthead(out: &mut String, r: &Report<'_>, date: &str) -> fmt::Result {
    let s = &r.summary;
    writeln!(out, "<header class=\"masthead\">")?;
    writeln!(
        out,
        "<p class=\"eyebrow\">scruple · policy-as-code compliance</p>"
    )?;
    writeln!(out, "<h1>Campaign compliance report</h1>")?;
    writeln!(
        out,
        "<p class=\"lede\">{} checked against {} as of {}.</p>",
        plural(s.campaigns, "campaign", "campaigns"),
        plural(r.policy.rules, "rule", "rules"),
        escape(date)
    )?;
    let (verdict, text) = r.overall();
    writeln!(
        out,
        "<div class=\"overall {}\"><span class=\"badge {}\">{}</span><span><strong>Overall:</strong> {}</span></div>",
        verdict.class(),
        verdict.class(),
        verdict_label(verdict),
        escape(&text)
    )?;
    writeln!(out, "<dl class=\"meta\">")?;
    writeln!(out, "<dt>Evaluated as of</dt><dd>{}</dd>", escape(date))?;
    let disabled = if r.policy.disabled > 0 {
        format!(", {} disabled in scruple.toml", r.policy.disabled)
    } else {
        String::new()
    };
    writeln!(
        out,
        "<dt>Policy</dt><dd>hash <code>{}</code> · {}{}</dd>",
        escape(&r.policy.hash),
        plural(r.policy.rules, "rule", "rules"),
        disabled
    )?;
    writeln!(out, "<dt>Packs</dt><dd>{}</dd>", r.packs_text(escape))?;
    writeln!(
        out,
        "<dt>Verdict rule</dt><dd>{}</dd>",
        escape(r.verdict_rule())
    )?;
    writeln!(
        out,
        "<dt>Generated by</dt><dd>scruple {}</dd>",
        env!("CARGO_PKG_VERSION")
    )?;
    writeln!(out, "</dl>")?;
    writeln!(
        out,
        "<nav class=\"toc\" aria-label=\"Contents\"><ol>\
         <li><a href=\"#summary\">Summary</a></li>\
         <li><a href=\"#charts\">Findings at a glance</a></li>\
         <li><a href=\"#waivers\">Waivers</a></li>\
         <li><a href=\"#campaigns\">Findings by campaign</a></li>{}\
         <li><a href=\"#rules\">Rules</a></li>\
         <li><a href=\"#citations\">Citations</a></li></ol></nav>",
        if r.fairness.is_some() {
            "<li><a href=\"#fairness\">Fairness and ethical metrics</a></li>"
        } else {
            ""
        }
    )?;
    writeln!(out, "</header>")
}

/// The fairness section (`--audit-…` inputs): the audit's page content
/// (crate::audit::html), charts of selection rates with intervals and the
/// threshold line, and the opt-out and complaint rates per day.
fn fairness(out: &mut String, r: &Report<'_>) -> fmt::Result {
    let Some(result) = &r.fairness else {
        return Ok(());
    };
    writeln!(
        out,
        "<section class=\"major fairness\" id=\"fairness\">\n<h2>Fairness and ethical metrics</h2>"
    )?;
    writeln!(
        out,
        "<p class=\"sub\">What was sent, by protected group (<code>scruple audit</code>, docs/audit.md): \
selection rates with 95% Wilson intervals against the parity threshold, and opt-out and complaint \
rates against their limits.</p>"
    )?;
    crate::audit::html::body(out, result, 3);
    writeln!(out, "</section>")
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A verdict badge's text: a symbol and a word, never colour alone.
fn verdict_label(v: Verdict) -> String {
    format!(
        "<span aria-hidden=\"true\">{}</span> {}",
        v.symbol(),
        v.label()
    )
}

fn stat(out: &mut String, n: usize, label: &str, tone: &str) -> fmt::Result {
    let class = if n == 0 { "" } else { tone };
    writeln!(
        out,
        "<li><span class=\"n {class}\">{n}</span><span class=\"l\">{}</span></li>",
        escape(label)
    )
}

fn summary(out: &mut String, r: &Report<'_>) -> fmt::Result {
    let s = &r.summary;
    let w = r.waiver_counts();
    writeln!(
        out,
        "<section id=\"summary\" aria-labelledby=\"summary-h\">"
    )?;
    writeln!(out, "<h2 id=\"summary-h\">Summary</h2>")?;
    writeln!(out, "<div class=\"stats\">")?;
    writeln!(out, "<div class=\"stat\"><h3>Campaigns</h3><ul>")?;
    stat(out, s.campaigns, "checked", "")?;
    stat(out, s.passed, "passed", "good")?;
    stat(out, s.failed, "failed", "bad")?;
    stat(out, s.invalid, "invalid", "warn")?;
    writeln!(out, "</ul></div>")?;
    writeln!(out, "<div class=\"stat\"><h3>Findings</h3><ul>")?;
    stat(out, s.errors, "errors", "bad")?;
    stat(out, s.warnings, "warnings", "warn")?;
    stat(out, s.infos, "notes", "")?;
    stat(out, s.waived, "waived", "")?;
    stat(out, s.skipped, "skipped", "")?;
    writeln!(out, "</ul></div>")?;
    writeln!(out, "<div class=\"stat\"><h3>Waivers</h3><ul>")?;
    stat(out, w.active + w.expiring, "active", "")?;
    stat(out, w.expiring, "expiring soon", "warn")?;
    stat(out, w.expired, "expired", "bad")?;
    stat(out, w.invalid + w.unused, "invalid / unused", "warn")?;
    writeln!(out, "</ul></div>")?;
    writeln!(out, "</div>")?;

    writeln!(out, "<table class=\"verdicts\">")?;
    writeln!(out, "<caption>Verdict per campaign</caption>")?;
    writeln!(
        out,
        "<thead><tr><th scope=\"col\">Verdict</th><th scope=\"col\">Campaign</th>\
         <th scope=\"col\" class=\"num\">Errors</th><th scope=\"col\" class=\"num\">Warnings</th>\
         <th scope=\"col\" class=\"num\">Notes</th><th scope=\"col\" class=\"num\">Waived</th>\
         <th scope=\"col\" class=\"num\">Skipped</th></tr></thead><tbody>"
    )?;
    for (i, c) in r.campaigns.iter().enumerate() {
        write!(
            out,
            "<tr><td><span class=\"badge {}\">{}</span></td><th scope=\"row\"><a href=\"#campaign-{i}\">{}</a>",
            c.verdict.class(),
            verdict_label(c.verdict),
            escape(c.title())
        )?;
        if c.title() != c.file {
            write!(out, "<div class=\"detail\">")?;
            if let (Some(id), Some(_)) = (c.id, c.name) {
                write!(out, "<code>{}</code> · ", escape(id))?;
            }
            write!(out, "{}</div>", breakable(c.file))?;
        }
        write!(out, "</th>")?;
        if c.verdict == Verdict::Invalid {
            writeln!(
                out,
                "<td colspan=\"5\" class=\"muted\">not checked: {}</td></tr>",
                plural(c.diagnostics.len(), "problem", "problems")
            )?;
            continue;
        }
        for n in [
            c.counts.errors,
            c.counts.warnings,
            c.counts.infos,
            c.counts.waived,
            c.counts.skipped,
        ] {
            num_cell(out, n)?;
        }
        writeln!(out, "</tr>")?;
    }
    if r.campaigns.is_empty() {
        writeln!(
            out,
            "<tr><td colspan=\"7\" class=\"muted\">No campaign inputs.</td></tr>"
        )?;
    }
    writeln!(out, "</tbody></table>")?;
    if !r.usage.is_empty() {
        writeln!(out, "<h4>Input problems</h4><ul class=\"problems\">")?;
        for d in r.usage {
            writeln!(out, "<li>{}</li>", rich(&d.message))?;
        }
        writeln!(out, "</ul>")?;
    }
    writeln!(out, "</section>")
}

fn num_cell(out: &mut String, n: usize) -> fmt::Result {
    if n == 0 {
        write!(out, "<td class=\"num zero\">0</td>")
    } else {
        write!(out, "<td class=\"num\">{n}</td>")
    }
}

fn charts(out: &mut String, r: &Report<'_>) -> fmt::Result {
    writeln!(
        out,
        "<section id=\"charts\" class=\"major\" aria-labelledby=\"charts-h\">"
    )?;
    writeln!(out, "<h2 id=\"charts-h\">Findings at a glance</h2>")?;
    writeln!(
        out,
        "<p class=\"muted\">Findings are counted per occurrence: a rule may fire more than once in a campaign. \
         Skipped rules are not findings. A finding counts once for each instrument its rule cites.</p>"
    )?;
    let by_rule = r.findings_by_rule();
    chart(
        out,
        "chart-rule",
        "Findings by rule",
        &by_rule,
        "Rules without findings are not shown.",
    )?;
    let by_regulation = r.findings_by_regulation();
    chart(
        out,
        "chart-reg",
        "Findings by regulation",
        &by_regulation,
        "Instruments are derived from the citation text (see docs/report.md).",
    )?;
    writeln!(out, "</section>")
}

/// Width of a chart's view box, in user units (≈ CSS pixels at 100%).
const CHART_WIDTH: usize = 760;
const LABEL_WIDTH: usize = 300;
const ROW: usize = 22;
const BAR: usize = 14;
/// Longest label shown in full (at 12px, it fits [`LABEL_WIDTH`]).
const LABEL_CHARS: usize = 42;

/// A round step for the axis: 1, 2 or 5 times a power of ten, so that the
/// axis has at most six ticks.
fn axis_step(max: usize) -> usize {
    let mut magnitude = 1;
    loop {
        for step in [magnitude, magnitude * 2, magnitude * 5] {
            if max.div_ceil(step) <= 6 {
                return step;
            }
        }
        magnitude *= 10;
    }
}

fn chart(out: &mut String, id: &str, title: &str, bars: &[Bar<'_>], note: &str) -> fmt::Result {
    writeln!(out, "<h3 id=\"{id}-h\">{}</h3>", escape(title))?;
    if bars.is_empty() {
        return writeln!(out, "<p class=\"muted\">No findings.</p>");
    }
    writeln!(out, "<figure aria-labelledby=\"{id}-cap\">")?;
    let max = bars
        .iter()
        .map(|b| b.open + b.waived)
        .max()
        .unwrap_or(1)
        .max(1);
    let step = axis_step(max);
    let top = max.div_ceil(step) * step;
    let bar_x = LABEL_WIDTH + 10;
    let bar_span = CHART_WIDTH - bar_x - 110;
    let scale = |n: usize| n * bar_span / top;
    let legend_h = 26;
    let plot_top = legend_h + 4;
    let height = plot_top + bars.len() * ROW + 24;
    let total_open: usize = bars.iter().map(|b| b.open).sum();
    let total_waived: usize = bars.iter().map(|b| b.waived).sum();
    writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {CHART_WIDTH} {height}\" \
         role=\"img\" aria-labelledby=\"{id}-t {id}-d\" font-family=\"system-ui, 'Segoe UI', Roboto, Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif\" font-size=\"12\">"
    )?;
    writeln!(out, "<title id=\"{id}-t\">{}</title>", escape(title))?;
    writeln!(
        out,
        "<desc id=\"{id}-d\">{} bars; {} open and {} waived findings in all.</desc>",
        bars.len(),
        total_open,
        total_waived
    )?;
    writeln!(
        out,
        "<defs><pattern id=\"{id}-hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\
         <rect width=\"6\" height=\"6\" fill=\"#dbe4f0\"/><rect width=\"2.5\" height=\"6\" fill=\"#35507a\"/></pattern></defs>"
    )?;
    // Legend: swatches with words.
    writeln!(
        out,
        "<g transform=\"translate({bar_x},6)\"><rect width=\"12\" height=\"12\" fill=\"#b42318\"/>\
         <text x=\"17\" y=\"10\" fill=\"#1d2433\">Open</text>\
         <rect x=\"62\" width=\"12\" height=\"12\" fill=\"url(#{id}-hatch)\" stroke=\"#35507a\" stroke-width=\".8\"/>\
         <text x=\"79\" y=\"10\" fill=\"#1d2433\">Waived</text></g>"
    )?;
    // Grid lines and axis labels.
    let plot_bottom = plot_top + bars.len() * ROW;
    let mut tick = 0;
    while tick <= top {
        let x = bar_x + scale(tick);
        writeln!(
            out,
            "<line x1=\"{x}\" y1=\"{plot_top}\" x2=\"{x}\" y2=\"{plot_bottom}\" stroke=\"{}\" stroke-width=\"1\"/>\
             <text x=\"{x}\" y=\"{}\" text-anchor=\"middle\" fill=\"#5b6475\" font-size=\"10\">{tick}</text>",
            if tick == 0 { "#8b93a1" } else { "#e3e6eb" },
            plot_bottom + 14
        )?;
        tick += step;
    }
    for (i, b) in bars.iter().enumerate() {
        let y = plot_top + i * ROW;
        let label = if b.label.chars().count() > LABEL_CHARS {
            let short: String = b.label.chars().take(LABEL_CHARS - 1).collect();
            format!("{short}…")
        } else {
            b.label.to_string()
        };
        let total = b.open + b.waived;
        let amount = if b.waived > 0 {
            format!("{total} ({} waived)", b.waived)
        } else {
            total.to_string()
        };
        writeln!(
            out,
            "<g><title>{}: {} open, {} waived</title>",
            escape(b.label),
            b.open,
            b.waived
        )?;
        writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#1d2433\">{}</text>",
            LABEL_WIDTH,
            y + ROW / 2 + 4,
            escape(&label)
        )?;
        let bar_y = y + (ROW - BAR) / 2;
        let open_w = scale(b.open);
        if b.open > 0 {
            writeln!(
                out,
                "<rect x=\"{bar_x}\" y=\"{bar_y}\" width=\"{open_w}\" height=\"{BAR}\" fill=\"#b42318\"/>"
            )?;
        }
        let waived_w = scale(total) - open_w;
        if b.waived > 0 {
            writeln!(
                out,
                "<rect x=\"{}\" y=\"{bar_y}\" width=\"{waived_w}\" height=\"{BAR}\" fill=\"url(#{id}-hatch)\" stroke=\"#35507a\" stroke-width=\".8\"/>",
                bar_x + open_w
            )?;
        }
        writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" fill=\"#1d2433\" font-weight=\"600\">{}</text></g>",
            bar_x + scale(total) + 6,
            y + ROW / 2 + 4,
            escape(&amount)
        )?;
    }
    writeln!(out, "</svg>")?;
    writeln!(
        out,
        "<figcaption id=\"{id}-cap\">{}: {} open and {} waived findings. {}</figcaption>",
        escape(title),
        total_open,
        total_waived,
        escape(note)
    )?;
    writeln!(out, "</figure>")
}

fn waivers(out: &mut String, r: &Report<'_>) -> fmt::Result {
    writeln!(
        out,
        "<section id=\"waivers\" class=\"major\" aria-labelledby=\"waivers-h\">"
    )?;
    writeln!(out, "<h2 id=\"waivers-h\">Waivers</h2>")?;
    writeln!(
        out,
        "<p class=\"muted\">Accountable exceptions written in the campaigns, soonest expiry first. \
         <em>Expiring soon</em> means within {EXPIRING_WITHIN_DAYS} days of the report date; \
         an expired or invalid waiver accepts nothing.</p>"
    )?;
    if r.waivers.is_empty() {
        return writeln!(out, "<p>No campaign declares a waiver.</p>\n</section>");
    }
    writeln!(
        out,
        "<table class=\"waivers\"><thead><tr><th scope=\"col\">State</th><th scope=\"col\">Rule and campaign</th>\
         <th scope=\"col\">Approved by</th><th scope=\"col\">Expires</th><th scope=\"col\">Justification</th>\
         </tr></thead><tbody>"
    )?;
    for w in &r.waivers {
        waiver_row(out, w)?;
    }
    writeln!(out, "</tbody></table>\n</section>")
}

fn waiver_row(out: &mut String, w: &WaiverEntry<'_>) -> fmt::Result {
    let missing = "<span class=\"muted\">—</span>".to_string();
    let opt = |v: Option<&str>| v.map(rich).unwrap_or_else(|| missing.clone());
    let expires = match (w.expires, w.days_left) {
        (Some(d), Some(days)) => format!(
            "{}<div class=\"detail\">{}</div>",
            d,
            escape(&days_text(days))
        ),
        _ => missing.clone(),
    };
    let mut state = format!(
        "<span class=\"badge {}\">{}</span>",
        w.state.class(),
        w.state.label()
    );
    if let WaiverState::Invalid(reason) = &w.state {
        let _ = write!(state, "<div class=\"detail\">{}</div>", rich(reason));
    }
    writeln!(
        out,
        "<tr><td>{state}</td><td><code>{}</code><div class=\"detail\">in <code>{}</code> · {}</div></td>\
         <td>{}<div class=\"detail\">ref. {}</div></td><td class=\"nowrap\">{expires}</td><td>{}</td></tr>",
        breakable(w.rule),
        escape(w.campaign),
        breakable(w.file),
        opt(w.approver),
        opt(w.reference),
        opt(w.justification),
    )
}

fn campaigns(out: &mut String, r: &Report<'_>) -> fmt::Result {
    writeln!(
        out,
        "<section id=\"campaigns\" class=\"major\" aria-labelledby=\"campaigns-h\">"
    )?;
    writeln!(out, "<h2 id=\"campaigns-h\">Findings by campaign</h2>")?;
    for (i, c) in r.campaigns.iter().enumerate() {
        campaign(out, i, c)?;
    }
    if r.campaigns.is_empty() {
        writeln!(out, "<p>No campaign inputs.</p>")?;
    }
    writeln!(out, "</section>")
}

fn campaign(out: &mut String, i: usize, c: &CampaignEntry<'_>) -> fmt::Result {
    writeln!(
        out,
        "<article class=\"campaign\" id=\"campaign-{i}\" aria-labelledby=\"campaign-{i}-h\">"
    )?;
    writeln!(
        out,
        "<h3 id=\"campaign-{i}-h\"><span class=\"badge {}\">{}</span> {}</h3>",
        c.verdict.class(),
        verdict_label(c.verdict),
        escape(c.title())
    )?;
    let mut sub = Vec::new();
    if let Some(id) = c.id {
        sub.push(format!("id <code>{}</code>", escape(id)));
    }
    sub.push(format!("file <code>{}</code>", escape(c.file)));
    if let Some(owner) = c.owner {
        sub.push(format!("owner {}", escape(owner)));
    }
    writeln!(out, "<p class=\"sub\">{}</p>", sub.join(" · "))?;
    if c.verdict == Verdict::Invalid {
        writeln!(
            out,
            "<p>The file could not be loaded, so no rule was checked:</p>"
        )?;
    } else if c.findings.is_empty() {
        writeln!(out, "<p>No findings: every applicable rule passes.</p>")?;
    } else {
        writeln!(
            out,
            "<table class=\"findings\"><thead><tr><th scope=\"col\">Severity</th><th scope=\"col\">Status</th>\
             <th scope=\"col\">Rule and finding</th><th scope=\"col\">Line</th><th scope=\"col\">Citations</th>\
             </tr></thead><tbody>"
        )?;
        for f in &c.findings {
            let mut detail = String::new();
            match &f.status {
                Status::Waived(w) => {
                    let _ = write!(
                        detail,
                        "<div class=\"detail\">Waived by {} until {} ({}): {}</div>",
                        rich(&w.approver),
                        escape(&w.expires),
                        rich(&w.reference),
                        rich(&w.justification)
                    );
                }
                // The message of a skipped finding names the prerequisite.
                Status::Skipped { .. } | Status::Deferred { .. } | Status::Violation => {}
            }
            // How a name or value was read by meaning (issue 11 item 5).
            for note in f.notes.iter().filter(|n| n.starts_with("read by meaning")) {
                let _ = write!(detail, "<div class=\"detail\">{}</div>", rich(note));
            }
            let status = status_label(&f.status);
            let class = status.to_lowercase();
            writeln!(
                out,
                "<tr><td><span class=\"sev {}\">{}</span></td><td><span class=\"badge {class}\">{status}</span></td>\
                 <td><code>{}</code><div>{}</div>{detail}</td><td class=\"loc\">{}</td><td class=\"cites\">{}</td></tr>",
                f.severity.as_str(),
                severity_word(f.severity),
                breakable(&f.rule),
                rich(&f.message),
                escape(&finding_line(f)),
                f.citations
                    .iter()
                    .map(|c| escape(c))
                    .collect::<Vec<_>>()
                    .join("<br>")
            )?;
        }
        writeln!(out, "</tbody></table>")?;
    }
    if !c.diagnostics.is_empty() {
        if c.verdict != Verdict::Invalid {
            writeln!(out, "<h4>Other diagnostics</h4>")?;
        }
        writeln!(out, "<ul class=\"problems\">")?;
        for d in &c.diagnostics {
            write!(
                out,
                "<li><span class=\"sev {}\">{}</span> {}",
                d.severity.as_str(),
                severity_word(d.severity),
                rich(&d.message)
            )?;
            if let Some(loc) = diag_location(d) {
                write!(out, " <span class=\"muted\">({})</span>", escape(&loc))?;
            }
            writeln!(
                out,
                " <span class=\"muted\"><code>{}</code></span></li>",
                escape(&d.code)
            )?;
        }
        writeln!(out, "</ul>")?;
    }
    writeln!(out, "</article>")
}

fn rules(out: &mut String, r: &Report<'_>) -> fmt::Result {
    writeln!(
        out,
        "<section id=\"rules\" class=\"major\" aria-labelledby=\"rules-h\">"
    )?;
    writeln!(out, "<h2 id=\"rules-h\">Rules</h2>")?;
    writeln!(
        out,
        "<p class=\"muted\">Outcome of every rule, counted in campaigns: <em>passed</em> — it applied and did not fire; \
         <em>failed</em> — it fired and no valid waiver accepts it; <em>waived</em> — it fired and a valid waiver accepts it; \
         <em>skipped</em> — a prerequisite failed; <em>n/a</em> — its <code>when</code> does not cover the campaign, \
         or it is disabled. {} of {} rules applied to at least one campaign.</p>",
        r.rules_exercised(),
        r.rules.len()
    )?;
    if !r.policy.packs.is_empty() {
        writeln!(
            out,
            "<table class=\"packs\"><caption>Packs</caption><thead><tr><th scope=\"col\">Pack</th>\
             <th scope=\"col\">Version</th><th scope=\"col\" class=\"num\">Rules</th><th scope=\"col\">Description</th>\
             </tr></thead><tbody>"
        )?;
        for p in &r.policy.packs {
            writeln!(
                out,
                "<tr><th scope=\"row\">{}</th><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                escape(&p.name),
                p.version.map(escape).unwrap_or_default(),
                p.rules,
                p.description.map(rich).unwrap_or_default()
            )?;
        }
        writeln!(out, "</tbody></table>")?;
    }
    writeln!(
        out,
        "<table class=\"rules\"><caption>Rule outcomes (campaigns)</caption><thead><tr><th scope=\"col\">Rule</th>\
         <th scope=\"col\">Severity</th><th scope=\"col\" class=\"num\">Passed</th><th scope=\"col\" class=\"num\">Failed</th>\
         <th scope=\"col\" class=\"num\">Waived</th><th scope=\"col\" class=\"num\">Skipped</th>\
         <th scope=\"col\" class=\"num\">N/a</th></tr></thead><tbody>"
    )?;
    let mut pack: Option<&str> = None;
    for e in rules_by_pack(&r.rules) {
        if pack != Some(e.rule.pack.as_str()) {
            pack = Some(&e.rule.pack);
            writeln!(
                out,
                "<tr class=\"pack\"><th colspan=\"7\" scope=\"colgroup\">Pack {}</th></tr>",
                escape(&e.rule.pack)
            )?;
        }
        write!(
            out,
            "<tr><th scope=\"row\"><code>{}</code>",
            breakable(&e.rule.id)
        )?;
        if let Some(reason) = &e.rule.disabled {
            write!(
                out,
                "<div class=\"detail\">disabled: {}</div>",
                rich(reason)
            )?;
        }
        write!(
            out,
            "</th><td><span class=\"sev {}\">{}</span></td>",
            e.rule.severity.as_str(),
            severity_word(e.rule.severity)
        )?;
        let t = &e.tally;
        for n in [
            t.passed,
            t.failed,
            t.waived,
            t.skipped,
            t.not_applicable + t.disabled,
        ] {
            num_cell(out, n)?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</tbody></table>\n</section>")
}

fn citations(out: &mut String, r: &Report<'_>) -> fmt::Result {
    writeln!(
        out,
        "<section id=\"citations\" class=\"major\" aria-labelledby=\"citations-h\">"
    )?;
    writeln!(out, "<h2 id=\"citations-h\">Citations</h2>")?;
    writeln!(
        out,
        "<p class=\"muted\">Every provision the policy cites, grouped by instrument, with the rules that encode it.</p>"
    )?;
    if r.regulations.is_empty() {
        return writeln!(out, "<p>The policy cites nothing.</p>\n</section>");
    }
    writeln!(
        out,
        "<table class=\"citations\"><thead><tr><th scope=\"col\">Citation</th><th scope=\"col\">Rules</th></tr></thead><tbody>"
    )?;
    for reg in &r.regulations {
        writeln!(
            out,
            "<tr class=\"pack\"><th colspan=\"2\" scope=\"colgroup\">{} <span class=\"muted\">· {} · findings: {} open, {} waived</span></th></tr>",
            escape(&reg.name),
            plural(reg.citations.len(), "citation", "citations"),
            reg.findings,
            reg.waived
        )?;
        for c in &reg.citations {
            // Link the provision to its official text when its address is known.
            let text = match super::regulation::source_uri(c.text) {
                Some(uri) => format!(
                    "<a href=\"{}\" rel=\"noopener\">{}</a>",
                    escape(&uri),
                    escape(c.text)
                ),
                None => escape(c.text),
            };
            writeln!(
                out,
                "<tr><td>{}</td><td>{}</td></tr>",
                text,
                c.rules
                    .iter()
                    .map(|id| format!("<code>{}</code>", escape(id)))
                    .collect::<Vec<_>>()
                    .join(" ")
            )?;
        }
    }
    writeln!(out, "</tbody></table>\n</section>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>alert('x' & \"y\")</script>"),
            "&lt;script&gt;alert(&#39;x&#39; &amp; &quot;y&quot;)&lt;/script&gt;"
        );
        assert_eq!(rich("on `<b>`"), "on <code>&lt;b&gt;</code>");
    }

    #[test]
    fn breakable_ids_wrap_after_separators() {
        assert_eq!(breakable("a_b/c-<d>"), "a_<wbr>b/<wbr>c-<wbr>&lt;d&gt;");
    }

    #[test]
    fn axis_steps_are_round() {
        assert_eq!(axis_step(1), 1);
        assert_eq!(axis_step(6), 1);
        assert_eq!(axis_step(7), 2);
        assert_eq!(axis_step(13), 5);
        assert_eq!(axis_step(31), 10);
        assert_eq!(axis_step(250), 50);
    }
}
