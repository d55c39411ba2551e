//! Renderings of a [`PolicyDiff`] and its [`Impact`]: plain text, JSON
//! (schema `scruple.diff/v1`, documented in `docs/diff.md`) and Markdown for
//! a pull-request comment.

use std::fmt::Write as _;

use serde::Serialize;

use super::{ChangeKind, Delta, FieldChange, Impact, PolicyDiff, RuleDiff, SideReport, Verdict};
use crate::render::plural;

/// Version tag of the JSON document.
pub const SCHEMA: &str = "scruple.diff/v1";

/// First line of the Markdown output, so a bot can find and update its
/// previous comment.
pub const MARKDOWN_MARKER: &str = "<!-- scruple-diff -->";

/// Campaign rows shown in Markdown before the list is cut short (a
/// pull-request comment has a size limit; the JSON output has them all).
const MARKDOWN_MAX_CAMPAIGNS: usize = 50;

/// How many items of one category were added, removed and changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Added.
    pub added: usize,
    /// Removed.
    pub removed: usize,
    /// Changed.
    pub changed: usize,
}

impl Counts {
    fn of(kinds: impl Iterator<Item = ChangeKind>) -> Counts {
        let mut c = Counts::default();
        for kind in kinds {
            match kind {
                ChangeKind::Added => c.added += 1,
                ChangeKind::Removed => c.removed += 1,
                ChangeKind::Changed => c.changed += 1,
            }
        }
        c
    }

    fn total(self) -> usize {
        self.added + self.removed + self.changed
    }

    /// "1 added, 2 changed" (zero counts left out).
    fn describe(self) -> String {
        let parts: Vec<String> = [
            (self.added, "added"),
            (self.removed, "removed"),
            (self.changed, "changed"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, w)| format!("{n} {w}"))
        .collect();
        parts.join(", ")
    }
}

/// Counts per category.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Rules.
    pub rules: Counts,
    /// Sets.
    pub sets: Counts,
    /// Attributes.
    pub attributes: Counts,
    /// Purposes.
    pub purposes: Counts,
    /// Tables.
    pub tables: Counts,
    /// Packs.
    pub packs: Counts,
    /// Packs changed without a version bump.
    pub warnings: usize,
}

/// Tallies a diff.
pub fn summarize(diff: &PolicyDiff) -> Summary {
    Summary {
        rules: Counts::of(diff.rules.iter().map(|r| r.change)),
        sets: Counts::of(diff.sets.iter().map(|s| s.change)),
        attributes: Counts::of(diff.attributes.iter().map(|a| a.change)),
        purposes: Counts::of(diff.purposes.iter().map(|p| p.change)),
        tables: Counts::of(diff.tables.iter().map(|t| t.change)),
        packs: Counts::of(diff.packs.iter().map(|p| p.change)),
        warnings: diff.warnings.len(),
    }
}

impl Summary {
    fn categories(&self) -> [(&'static str, &'static str, Counts); 6] {
        [
            ("rule", "Rules", self.rules),
            ("set", "Sets", self.sets),
            ("attribute", "Attributes", self.attributes),
            ("purpose", "Purposes", self.purposes),
            ("table", "Tables", self.tables),
            ("pack", "Packs", self.packs),
        ]
    }
}

/// How a side is named in headings: `label (commit 1a2b3c4)`.
fn side_title(side: &SideReport<'_>, code: fn(&str) -> String) -> String {
    match &side.side.commit {
        Some(commit) => format!(
            "{} (commit {})",
            code(&side.side.label),
            commit.get(..7).unwrap_or(commit)
        ),
        None => code(&side.side.label),
    }
}

fn plain(text: &str) -> String {
    text.to_string()
}

/// A Markdown code span that survives backticks in `text`.
fn md_code(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    if longest == 0 {
        format!("`{text}`")
    } else {
        let fence = "`".repeat(longest + 1);
        format!("{fence} {text} {fence}")
    }
}

fn quoted(text: &str) -> String {
    format!("\"{text}\"")
}

/// "+ a, + b, - c" for a delta.
fn delta_text(delta: &Delta, item: fn(&str) -> String) -> String {
    let added = delta.added.iter().map(|a| format!("+ {}", item(a)));
    let removed = delta.removed.iter().map(|r| format!("- {}", item(r)));
    added.chain(removed).collect::<Vec<_>>().join(", ")
}

fn or_none(value: &Option<String>, code: fn(&str) -> String) -> String {
    match value {
        Some(v) => code(v),
        None => "(none)".into(),
    }
}

/// One line per changed aspect of a rule: (aspect, description).
fn field_line(field: &FieldChange, code: fn(&str) -> String) -> (&'static str, String) {
    match field {
        FieldChange::Severity { old, new } => {
            let direction = if new > old { "raised" } else { "lowered" };
            (
                "severity",
                format!(
                    "{} → {} ({direction})",
                    code(old.as_str()),
                    code(new.as_str())
                ),
            )
        }
        FieldChange::Condition { old, new } => (
            "when",
            format!("{} → {}", or_none(old, code), or_none(new, code)),
        ),
        FieldChange::Constraint { old, new } => {
            ("checks", format!("{} → {}", code(old), code(new)))
        }
        FieldChange::Citations(delta) => ("cite", delta_text(delta, quoted)),
        FieldChange::Requires(delta) => ("requires", delta_text(delta, code)),
        FieldChange::DefersTo(delta) => ("defers to", delta_text(delta, code)),
        FieldChange::Unwaivable { old, new } => {
            let word = |b: &bool| if *b { "yes" } else { "no" };
            ("unwaivable", format!("{} → {}", word(old), word(new)))
        }
        FieldChange::Pack { old, new } => ("pack", format!("{} → {}", code(old), code(new))),
        FieldChange::Tags(delta) => ("tags", delta_text(delta, code)),
        FieldChange::Message { old, new } => ("message", text_change(old, new)),
        FieldChange::Help { old, new } => ("help", text_change(old, new)),
        FieldChange::Description { old, new } => ("description", text_change(old, new)),
    }
}

fn text_change(old: &Option<String>, new: &Option<String>) -> String {
    let show = |v: &Option<String>| v.as_deref().map_or("(none)".into(), quoted);
    format!("{} → {}", show(old), show(new))
}

/// The facts shown for an added or removed rule.
fn rule_facts(rule: &RuleDiff, code: fn(&str) -> String) -> Vec<(&'static str, String)> {
    let mut facts = Vec::new();
    if !rule.citations.is_empty() {
        let cites: Vec<String> = rule.citations.iter().map(|c| quoted(c)).collect();
        facts.push(("cite", cites.join(", ")));
    }
    if let Some(when) = &rule.when {
        facts.push(("when", code(when)));
    }
    facts.push(("checks", code(&rule.constraint)));
    facts
}

fn headline(impact: &Impact) -> String {
    let mut line = format!(
        "This change newly blocks {} of {}",
        impact.newly_blocked,
        plural(impact.campaigns, "campaign")
    );
    if impact.unblocked > 0 {
        let _ = write!(line, " and unblocks {}", impact.unblocked);
    }
    line.push('.');
    line
}

fn verdict_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
    }
}

// ---------------------------------------------------------------- human

/// Plain text for the terminal.
pub fn human(
    old: &SideReport<'_>,
    new: &SideReport<'_>,
    diff: &PolicyDiff,
    impact: Option<&Impact>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "old: {}", side_title(old, plain));
    let _ = writeln!(out, "new: {}", side_title(new, plain));
    let summary = summarize(diff);
    if diff.is_empty() {
        out.push_str("\nNo semantic change: both versions have the same rules, sets, attributes, purposes, tables and packs.\n");
    }
    if !diff.rules.is_empty() {
        let _ = writeln!(out, "\nRules: {}", summary.rules.describe());
        for change in [ChangeKind::Added, ChangeKind::Removed, ChangeKind::Changed] {
            for rule in diff.rules_with(change) {
                human_rule(&mut out, rule);
            }
        }
    }
    if !diff.sets.is_empty() {
        let _ = writeln!(out, "\nSets: {}", summary.sets.describe());
        for set in &diff.sets {
            let _ = write!(out, "  {} {}", marker(set.change), set.name);
            let members = delta_text(&set.members, plain);
            if !members.is_empty() {
                let _ = write!(out, ": {members}");
            }
            out.push('\n');
            if !set.used_by.is_empty() {
                let _ = writeln!(out, "      used by: {}", set.used_by.join(", "));
            }
        }
    }
    if !diff.attributes.is_empty() {
        let _ = writeln!(out, "\nAttributes: {}", summary.attributes.describe());
        for attr in &diff.attributes {
            let _ = writeln!(out, "  {} {}", marker(attr.change), attr.name);
            for (what, delta) in [
                ("derived_from", &attr.derived_from),
                ("proxy_for", &attr.proxy_for),
                ("category", &attr.category),
            ] {
                if !delta.is_empty() {
                    let _ = writeln!(out, "      {what}: {}", delta_text(delta, plain));
                }
            }
        }
    }
    if !diff.purposes.is_empty() {
        let _ = writeln!(out, "\nPurposes: {}", summary.purposes.describe());
        for purpose in &diff.purposes {
            let _ = writeln!(out, "  {} {}", marker(purpose.change), purpose.name);
            if purpose.change == ChangeKind::Changed {
                let _ = writeln!(
                    out,
                    "      description: {}",
                    text_change(&purpose.old_description, &purpose.new_description)
                );
            }
            if !purpose.used_by.is_empty() {
                let _ = writeln!(out, "      used by: {}", purpose.used_by.join(", "));
            }
        }
    }
    if !diff.tables.is_empty() {
        let _ = writeln!(out, "\nTables: {}", summary.tables.describe());
        for table in &diff.tables {
            let _ = writeln!(out, "  {} {}", marker(table.change), table.name);
            if table.change == ChangeKind::Changed {
                for entry in &table.entries {
                    let key = entry.key.as_deref().unwrap_or("default");
                    let _ = writeln!(
                        out,
                        "      {key}: {} → {}",
                        or_none(&entry.old, plain),
                        or_none(&entry.new, plain)
                    );
                }
            }
            if !table.used_by.is_empty() {
                let _ = writeln!(out, "      used by: {}", table.used_by.join(", "));
            }
        }
    }
    if !diff.packs.is_empty() {
        let _ = writeln!(out, "\nPacks: {}", summary.packs.describe());
        for pack in &diff.packs {
            let _ = writeln!(
                out,
                "  {} {}: version {} → {}",
                marker(pack.change),
                pack.name,
                or_none(&pack.old_version, plain),
                or_none(&pack.new_version, plain)
            );
        }
    }
    if !diff.warnings.is_empty() {
        out.push_str("\nWarnings:\n");
        for warning in &diff.warnings {
            let _ = writeln!(out, "  ! {} [{}]", warning.message(), warning.code);
            let _ = writeln!(
                out,
                "      bump `version` in the `policy` header of {}",
                warning.file
            );
        }
    }
    if let Some(impact) = impact {
        let _ = writeln!(out, "\nImpact on {}:", plural(impact.campaigns, "campaign"));
        let _ = writeln!(out, "  {}", headline(impact));
        if impact.invalid > 0 {
            let _ = writeln!(
                out,
                "  {} could not be loaded (see the errors above)",
                plural(impact.invalid, "input")
            );
        }
        for campaign in &impact.changed {
            let what = if campaign.newly_blocked() {
                "newly blocked"
            } else if campaign.unblocked() {
                "unblocked"
            } else {
                "findings changed"
            };
            let _ = writeln!(
                out,
                "\n  {what}: {} ({}), {} → {}",
                campaign.file,
                campaign.id,
                verdict_word(campaign.old_verdict),
                verdict_word(campaign.new_verdict)
            );
            for (sign, list) in [("+", &campaign.appeared), ("-", &campaign.disappeared)] {
                for f in list {
                    let status = if f.status == "violation" {
                        String::new()
                    } else {
                        format!(", {}", f.status)
                    };
                    let _ = writeln!(
                        out,
                        "    {sign} {} ({}{status}) at line {}: {}",
                        f.rule, f.severity, f.line, f.message
                    );
                }
            }
        }
    }
    let total: usize = summary.categories().iter().map(|c| c.2.total()).sum();
    if total > 0 {
        let parts: Vec<String> = summary
            .categories()
            .iter()
            .filter(|c| c.2.total() > 0)
            .map(|(one, _, counts)| {
                format!("{} ({})", plural(counts.total(), one), counts.describe())
            })
            .collect();
        let _ = write!(out, "\nIn all: {}", parts.join("; "));
        if summary.warnings > 0 {
            let _ = write!(out, "; {}", plural(summary.warnings, "warning"));
        }
        out.push('\n');
    }
    out
}

fn marker(change: ChangeKind) -> &'static str {
    match change {
        ChangeKind::Added => "+",
        ChangeKind::Removed => "-",
        ChangeKind::Changed => "~",
    }
}

fn human_rule(out: &mut String, rule: &RuleDiff) {
    match rule.change {
        ChangeKind::Added | ChangeKind::Removed => {
            let _ = writeln!(
                out,
                "  {} {}  [{}, {}, pack {}]",
                marker(rule.change),
                rule.id,
                rule.severity,
                rule.kind,
                rule.pack
            );
            for (what, text) in rule_facts(rule, plain) {
                let _ = writeln!(out, "      {what}: {text}");
            }
        }
        ChangeKind::Changed => {
            let _ = writeln!(out, "  ~ {}  [pack {}]", rule.id, rule.pack);
            for field in &rule.fields {
                let (what, text) = field_line(field, plain);
                let _ = writeln!(out, "      {what}: {text}");
            }
        }
    }
}

// ---------------------------------------------------------------- markdown

/// Markdown for a pull-request comment.
pub fn markdown(
    old: &SideReport<'_>,
    new: &SideReport<'_>,
    diff: &PolicyDiff,
    impact: Option<&Impact>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{MARKDOWN_MARKER}");
    out.push_str("## Policy diff\n\n");
    let _ = writeln!(
        out,
        "{} → {}\n",
        side_title(old, md_code),
        side_title(new, md_code)
    );
    if let Some(impact) = impact {
        let _ = writeln!(out, "**{}**\n", headline(impact));
    }
    for warning in &diff.warnings {
        let _ = writeln!(
            out,
            "> [!WARNING]\n> Pack {} changed ({}) but its version is still {}: bump `version` in the `policy` header of {}.\n",
            md_code(&warning.pack),
            warning.what_changed(),
            md_code(&warning.version),
            md_code(&warning.file)
        );
    }
    if diff.is_empty() {
        out.push_str("No semantic change: both versions have the same rules, sets, attributes, purposes, tables and packs.\n");
    } else {
        let summary = summarize(diff);
        out.push_str("| | Added | Removed | Changed |\n|---|---:|---:|---:|\n");
        for (_, title, counts) in summary.categories() {
            if counts.total() > 0 {
                let _ = writeln!(
                    out,
                    "| {title} | {} | {} | {} |",
                    counts.added, counts.removed, counts.changed
                );
            }
        }
    }
    if !diff.rules.is_empty() {
        out.push_str("\n### Rules\n\n");
        for change in [ChangeKind::Added, ChangeKind::Removed, ChangeKind::Changed] {
            for rule in diff.rules_with(change) {
                md_rule(&mut out, rule);
            }
        }
    }
    if !diff.sets.is_empty() {
        out.push_str("\n### Sets\n\n");
        for set in &diff.sets {
            let _ = write!(
                out,
                "- {} **{}**",
                md_marker(set.change),
                md_code(&set.name)
            );
            let members = md_delta(&set.members, md_code);
            if !members.is_empty() {
                let _ = write!(out, ": {members}");
            }
            out.push('\n');
            md_used_by(&mut out, &set.used_by);
        }
    }
    if !diff.attributes.is_empty() {
        out.push_str("\n### Attributes\n\n");
        for attr in &diff.attributes {
            let _ = writeln!(
                out,
                "- {} **{}**",
                md_marker(attr.change),
                md_code(&attr.name)
            );
            for (what, delta) in [
                ("derived_from", &attr.derived_from),
                ("proxy_for", &attr.proxy_for),
                ("category", &attr.category),
            ] {
                if !delta.is_empty() {
                    let _ = writeln!(out, "  - {what}: {}", md_delta(delta, md_code));
                }
            }
        }
    }
    if !diff.purposes.is_empty() {
        out.push_str("\n### Purposes\n\n");
        for purpose in &diff.purposes {
            let _ = writeln!(
                out,
                "- {} **{}**",
                md_marker(purpose.change),
                md_code(&purpose.name)
            );
            if purpose.change == ChangeKind::Changed {
                let _ = writeln!(
                    out,
                    "  - description: {}",
                    text_change(&purpose.old_description, &purpose.new_description)
                );
            }
            md_used_by(&mut out, &purpose.used_by);
        }
    }
    if !diff.tables.is_empty() {
        out.push_str("\n### Tables\n\n");
        for table in &diff.tables {
            let _ = writeln!(
                out,
                "- {} **{}**",
                md_marker(table.change),
                md_code(&table.name)
            );
            if table.change == ChangeKind::Changed {
                for entry in &table.entries {
                    let key = entry.key.as_deref().unwrap_or("default");
                    let _ = writeln!(
                        out,
                        "  - {}: {} → {}",
                        md_code(key),
                        or_none(&entry.old, md_code),
                        or_none(&entry.new, md_code)
                    );
                }
            }
            md_used_by(&mut out, &table.used_by);
        }
    }
    if !diff.packs.is_empty() {
        out.push_str("\n### Packs\n\n");
        for pack in &diff.packs {
            let _ = writeln!(
                out,
                "- {} **{}**: version {} → {}",
                md_marker(pack.change),
                md_code(&pack.name),
                or_none(&pack.old_version, md_code),
                or_none(&pack.new_version, md_code)
            );
        }
    }
    if let Some(impact) = impact {
        md_impact(&mut out, impact);
    }
    out
}

fn md_marker(change: ChangeKind) -> &'static str {
    match change {
        ChangeKind::Added => "➕ added",
        ChangeKind::Removed => "➖ removed",
        ChangeKind::Changed => "✏️ changed",
    }
}

/// "added `a`, `b`; removed `c`".
fn md_delta(delta: &Delta, item: fn(&str) -> String) -> String {
    let mut parts = Vec::new();
    for (word, list) in [("added", &delta.added), ("removed", &delta.removed)] {
        if !list.is_empty() {
            let items: Vec<String> = list.iter().map(|a| item(a)).collect();
            parts.push(format!("{word} {}", items.join(", ")));
        }
    }
    parts.join("; ")
}

fn md_used_by(out: &mut String, rules: &[String]) {
    if !rules.is_empty() {
        let items: Vec<String> = rules.iter().map(|r| md_code(r)).collect();
        let _ = writeln!(out, "  - used by: {}", items.join(", "));
    }
}

fn md_rule(out: &mut String, rule: &RuleDiff) {
    match rule.change {
        ChangeKind::Added | ChangeKind::Removed => {
            let _ = writeln!(
                out,
                "- {} **{}** ({}, {}, pack {})",
                md_marker(rule.change),
                md_code(&rule.id),
                rule.severity,
                md_code(rule.kind),
                md_code(&rule.pack)
            );
            for (what, text) in rule_facts(rule, md_code) {
                let _ = writeln!(out, "  - {what}: {text}");
            }
        }
        ChangeKind::Changed => {
            let _ = writeln!(
                out,
                "- {} **{}** (pack {})",
                md_marker(rule.change),
                md_code(&rule.id),
                md_code(&rule.pack)
            );
            for field in &rule.fields {
                let (what, text) = match field {
                    FieldChange::Citations(d) => ("cite", md_delta(d, quoted)),
                    FieldChange::Requires(d) | FieldChange::DefersTo(d) | FieldChange::Tags(d) => {
                        (field_line(field, md_code).0, md_delta(d, md_code))
                    }
                    _ => field_line(field, md_code),
                };
                let _ = writeln!(out, "  - {what}: {text}");
            }
        }
    }
}

fn md_impact(out: &mut String, impact: &Impact) {
    let _ = writeln!(
        out,
        "\n### Impact on {}\n",
        plural(impact.campaigns, "campaign")
    );
    let _ = writeln!(
        out,
        "{} newly blocked, {} unblocked, {} with the same verdict but different findings.",
        impact.newly_blocked, impact.unblocked, impact.findings_changed
    );
    if impact.invalid > 0 {
        let _ = writeln!(
            out,
            "\n{} could not be loaded.",
            plural(impact.invalid, "campaign input")
        );
    }
    if impact.changed.is_empty() {
        return;
    }
    out.push_str("\n| Campaign | Before | After | Findings |\n|---|---|---|---|\n");
    for campaign in impact.changed.iter().take(MARKDOWN_MAX_CAMPAIGNS) {
        let mut findings = Vec::new();
        for (sign, list) in [("➕", &campaign.appeared), ("➖", &campaign.disappeared)] {
            for f in list {
                let status = if f.status == "violation" {
                    String::new()
                } else {
                    format!(", {}", f.status)
                };
                findings.push(format!(
                    "{sign} {} ({}{status})",
                    md_code(&f.rule),
                    f.severity
                ));
            }
        }
        let verdict = |v: Verdict| match v {
            Verdict::Pass => "✅ pass",
            Verdict::Fail => "⛔ fail",
        };
        let _ = writeln!(
            out,
            "| {} ({}) | {} | {} | {} |",
            md_code(&campaign.file).replace('|', "\\|"),
            md_code(&campaign.id).replace('|', "\\|"),
            verdict(campaign.old_verdict),
            verdict(campaign.new_verdict),
            findings.join("<br>").replace('|', "\\|")
        );
    }
    if impact.changed.len() > MARKDOWN_MAX_CAMPAIGNS {
        let _ = writeln!(
            out,
            "\n…and {} more (run `scruple diff --format json` for the full list).",
            impact.changed.len() - MARKDOWN_MAX_CAMPAIGNS
        );
    }
}

// ---------------------------------------------------------------- json

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    tool: Tool,
    old: SideOut<'a>,
    new: SideOut<'a>,
    changed: bool,
    summary: Summary,
    rules: &'a [RuleDiff],
    sets: &'a [super::SetDiff],
    attributes: &'a [super::AttributeDiff],
    purposes: &'a [super::PurposeDiff],
    tables: &'a [super::TableDiff],
    packs: &'a [super::PackDiff],
    warnings: Vec<WarningOut<'a>>,
    impact: Option<ImpactOut<'a>>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct SideOut<'a> {
    spec: &'a str,
    label: &'a str,
    commit: Option<&'a str>,
    hash: String,
    rules: usize,
}

#[derive(Serialize)]
struct WarningOut<'a> {
    #[serde(flatten)]
    warning: &'a super::VersionWarning,
    message: String,
}

#[derive(Serialize)]
struct ImpactOut<'a> {
    headline: String,
    #[serde(flatten)]
    impact: &'a Impact,
}

fn side_out<'a>(side: &SideReport<'a>) -> SideOut<'a> {
    SideOut {
        spec: &side.side.spec,
        label: &side.side.label,
        commit: side.side.commit.as_deref(),
        hash: side.policy.content_hash(),
        rules: side.policy.rules.len(),
    }
}

/// Pretty JSON, schema [`SCHEMA`].
pub fn json(
    old: &SideReport<'_>,
    new: &SideReport<'_>,
    diff: &PolicyDiff,
    impact: Option<&Impact>,
) -> String {
    let doc = Document {
        schema: SCHEMA,
        tool: Tool {
            name: "scruple",
            version: env!("CARGO_PKG_VERSION"),
        },
        old: side_out(old),
        new: side_out(new),
        changed: !diff.is_empty(),
        summary: summarize(diff),
        rules: &diff.rules,
        sets: &diff.sets,
        attributes: &diff.attributes,
        purposes: &diff.purposes,
        tables: &diff.tables,
        packs: &diff.packs,
        warnings: diff
            .warnings
            .iter()
            .map(|w| WarningOut {
                warning: w,
                message: w.message(),
            })
            .collect(),
        impact: impact.map(|i| ImpactOut {
            headline: headline(i),
            impact: i,
        }),
    };
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
