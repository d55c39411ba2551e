//! The published-case corpus (`scruple test --cases DIR`, issue 12).
//!
//! A corpus is a directory of directories of campaign files
//! (`tests/cases/*/*.yaml`), each written from a published source and
//! starting with a header that states what its source decides:
//!
//! ```text
//! # Source: the document, paragraph or example number
//! # Expect: pass | fail
//! # Decides: RULE fires|warns|passes|not_applicable|deferred, cite "CITATION"
//! ```
//!
//! [`run`] checks every case with the policy given (a user runs the corpus
//! with every shipped pack) and judges it: the verdict (no error finding
//! for `pass`, an error for `fail`), the deciding rule's outcome and its
//! citation must all be right. It then scores the corpus by the deciding
//! rule's pack, by direction (lawful or unlawful campaigns) and by
//! directory. Cases listed in `KNOWN_GAPS.md` at the corpus root may be
//! judged wrongly (they are reported as gaps), but a listed case that is
//! judged rightly is an error, so the list stays honest.
//!
//! A case may also describe recipients: a sidecar `NAME.recipients.jsonl`
//! (records in `scruple gate`'s format) and a header line
//!
//! ```text
//! # Gate: at 2026-03-10T15:00:00Z; r1 allow; r2 suppress RULE, RULE
//! ```
//!
//! naming, for each record, the decision of `gate` at that send time and,
//! for a suppression, exactly the rules it must give as reasons.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::Serialize;

use crate::campaign;
use crate::compile::Policy;
use crate::diag::{render_human, Severity};
use crate::eval::{self, Options, RuleOutcome};
use crate::source::SourceFile;

/// "Now" for every case: cases are written so that their consents and
/// assessments precede it and their sends follow it.
pub const CASES_AT: &str = "2026-03-01T00:00:00Z";

/// The file at the corpus root listing the cases known to be judged wrongly.
pub const KNOWN_GAPS_FILE: &str = "KNOWN_GAPS.md";

/// The outcome a case's `# Decides:` line expects of its deciding rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The rule is violated, at error severity.
    Fires,
    /// The rule applies and finds nothing.
    Passes,
    /// The rule's `when` does not hold.
    NotApplicable,
    /// The rule defers to a more specific rule that applies.
    Deferred,
    /// The rule is violated at warning severity: ethical guidance beyond
    /// the law, which does not fail the campaign.
    Warns,
}

impl Decision {
    fn parse(word: &str) -> Option<Decision> {
        Some(match word {
            "fires" => Decision::Fires,
            "passes" => Decision::Passes,
            "not_applicable" => Decision::NotApplicable,
            "deferred" => Decision::Deferred,
            "warns" => Decision::Warns,
            _ => return None,
        })
    }

    fn word(self) -> &'static str {
        match self {
            Decision::Fires => "fires",
            Decision::Passes => "passes",
            Decision::NotApplicable => "not_applicable",
            Decision::Deferred => "deferred",
            Decision::Warns => "warns",
        }
    }
}

/// What a case file's header states.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The `# Source:` text (continuation lines joined).
    pub source: String,
    /// `# Expect: pass` (true) or `fail` (false).
    pub pass: bool,
    /// The deciding rule.
    pub rule: String,
    /// What the deciding rule must do.
    pub decision: Decision,
    /// A citation the deciding rule (and its finding) must carry.
    pub cite: String,
    /// The `# Gate:` line, if any: what `gate` must decide per recipient.
    pub gate: Option<GateExpect>,
}

/// What a case's `# Gate:` line expects of `scruple gate`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateExpect {
    /// The send time.
    pub at: String,
    /// Per record id: `None` to allow, or the rules a suppression names.
    pub recipients: Vec<(String, Option<BTreeSet<String>>)>,
}

fn parse_gate(line: &str) -> Result<GateExpect, String> {
    let mut parts = line.split(';').map(str::trim).filter(|p| !p.is_empty());
    let at = parts
        .next()
        .and_then(|p| p.strip_prefix("at "))
        .ok_or("`# Gate:` must start with `at TIME`")?
        .trim()
        .to_string();
    let mut recipients = Vec::new();
    for part in parts {
        let (id, rest) = part.split_once(' ').ok_or_else(|| {
            format!("`# Gate:` entry `{part}` needs `ID allow` or `ID suppress RULE, …`")
        })?;
        let rest = rest.trim();
        let expected = if rest == "allow" {
            None
        } else if let Some(rules) = rest.strip_prefix("suppress ") {
            Some(
                rules
                    .split(',')
                    .map(|r| r.trim().to_string())
                    .filter(|r| !r.is_empty())
                    .collect(),
            )
        } else {
            return Err(format!(
                "`# Gate:` entry `{part}` needs `allow` or `suppress RULE, …`"
            ));
        };
        recipients.push((id.to_string(), expected));
    }
    Ok(GateExpect { at, recipients })
}

/// Reads a case header; the error says what is missing or malformed.
pub fn parse_header(text: &str) -> Result<Header, String> {
    let mut fields: BTreeMap<&str, String> = BTreeMap::new();
    let mut last: Option<&str> = None;
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        let body = line.trim_start_matches('#').trim();
        let key = ["Source", "Facts", "Expect", "Decides", "Gate"]
            .into_iter()
            .find(|k| body.starts_with(&format!("{k}:")));
        match key {
            Some(k) => {
                fields.insert(k, body[k.len() + 1..].trim().to_string());
                last = Some(k);
            }
            None => {
                if let Some(k) = last {
                    if let Some(v) = fields.get_mut(k) {
                        v.push(' ');
                        v.push_str(body);
                    }
                }
            }
        }
    }
    let source = fields
        .remove("Source")
        .filter(|s| !s.is_empty())
        .ok_or("the header names no source (`# Source:`)")?;
    let pass = match fields.get("Expect").map(String::as_str) {
        Some("pass") => true,
        Some("fail") => false,
        other => return Err(format!("`# Expect:` must be pass or fail, found {other:?}")),
    };
    let decides = fields
        .get("Decides")
        .ok_or("the header has no `# Decides:` line")?;
    let (rule_part, cite_part) = decides
        .split_once(", cite ")
        .ok_or("`# Decides:` has no `, cite \"…\"`")?;
    let mut words = rule_part.split_whitespace();
    let rule = words.next().unwrap_or_default().to_string();
    let word = words.next().unwrap_or_default();
    let decision = Decision::parse(word).ok_or_else(|| {
        format!("`# Decides:` outcome must be fires, passes, warns, not_applicable or deferred, found `{word}`")
    })?;
    let cite = cite_part.trim().trim_matches('"').to_string();
    if rule.is_empty() || cite.is_empty() {
        return Err("`# Decides:` needs a rule and a citation".into());
    }
    let gate = fields.get("Gate").map(|g| parse_gate(g)).transpose()?;
    Ok(Header {
        source,
        pass,
        rule,
        decision,
        cite,
        gate,
    })
}

/// One judged case.
#[derive(Clone, Debug, Serialize)]
pub struct CaseResult {
    /// Path relative to the corpus root, with `/` separators.
    pub case: String,
    /// The directory (first path component).
    pub directory: String,
    /// Expected verdict: `pass` (lawful) or `fail`.
    pub expect: &'static str,
    /// The deciding rule (empty when the header could not be read).
    pub rule: String,
    /// The deciding rule's pack (`?` when unknown).
    pub pack: String,
    /// Whether the verdict (pass or fail) alone was right.
    pub verdict_right: bool,
    /// What was judged wrongly; empty when the case is right.
    pub wrong: Vec<String>,
    /// The reason given in KNOWN_GAPS.md, when the case is listed there.
    pub known_gap: Option<String>,
}

impl CaseResult {
    /// Judged rightly.
    pub fn right(&self) -> bool {
        self.wrong.is_empty()
    }
}

/// Right and wrong counts of one group of cases.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Cases in the group.
    pub cases: usize,
    /// Judged rightly.
    pub right: usize,
    /// Judged wrongly and listed in KNOWN_GAPS.md.
    pub known_gaps: usize,
    /// Judged wrongly and not listed.
    pub wrong: usize,
    /// Cases whose verdict alone was right (whatever the rule and citation).
    pub verdicts_right: usize,
}

impl Tally {
    fn add(&mut self, case: &CaseResult) {
        self.cases += 1;
        if case.verdict_right {
            self.verdicts_right += 1;
        }
        if case.right() {
            self.right += 1;
        } else if case.known_gap.is_some() {
            self.known_gaps += 1;
        } else {
            self.wrong += 1;
        }
    }

    /// Share judged rightly, in percent (100 for an empty group).
    pub fn percent(&self) -> f64 {
        if self.cases == 0 {
            100.0
        } else {
            self.right as f64 * 100.0 / self.cases as f64
        }
    }
}

/// The corpus score.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Score {
    /// Every case.
    pub total: Tally,
    /// By the deciding rule's pack.
    pub by_pack: BTreeMap<String, Tally>,
    /// By direction: `pass` (lawful campaigns) and `fail`.
    pub by_direction: BTreeMap<String, Tally>,
    /// By directory of the corpus.
    pub by_directory: BTreeMap<String, Tally>,
}

/// The result of running a corpus.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CaseRun {
    /// Every case, in path order.
    pub cases: Vec<CaseResult>,
    /// Entries of KNOWN_GAPS.md that are wrong: a listed case judged
    /// rightly, or a listed file that does not exist.
    pub stale_gaps: Vec<String>,
    /// The score.
    pub score: Score,
}

impl CaseRun {
    /// True when every case is right or a listed gap, and the gap list is honest.
    pub fn ok(&self) -> bool {
        self.score.total.wrong == 0 && self.stale_gaps.is_empty()
    }
}

/// Reads KNOWN_GAPS.md: rows of a Markdown table whose first cell names a
/// case (`dir/file.yaml`, optionally in backticks); the rest is the reason.
pub fn parse_known_gaps(text: &str) -> BTreeMap<String, String> {
    let mut gaps = BTreeMap::new();
    for line in text.lines() {
        let Some(row) = line.trim().strip_prefix('|') else {
            continue;
        };
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let Some(first) = cells.first() else { continue };
        let case = first.trim_matches('`');
        if case.ends_with(".yaml") {
            let why = cells
                .iter()
                .skip(1)
                .filter(|c| !c.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join("; ");
            gaps.insert(case.to_string(), why);
        }
    }
    gaps
}

/// Every `*.yaml` case below `root`, one directory deep, sorted.
pub fn case_files(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for dir in std::fs::read_dir(root)? {
        let dir = dir?.path();
        if !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&dir)? {
            let file = file?.path();
            if file.extension().is_some_and(|e| e == "yaml") {
                files.push(file);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn relative(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).unwrap_or(file);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Judges one case file; returns what is wrong (empty: right).
fn judge(policy: &Policy, at: Timestamp, file: &Path, result: &mut CaseResult) {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            result.wrong.push(format!("unreadable: {e}"));
            return;
        }
    };
    let header = match parse_header(&text) {
        Ok(h) => h,
        Err(e) => {
            result.wrong.push(e);
            return;
        }
    };
    result.expect = if header.pass { "pass" } else { "fail" };
    result.rule = header.rule.clone();
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = if header.pass { "pass_" } else { "fail_" };
    if !name.starts_with(prefix) {
        result.wrong.push(format!(
            "the file name must start with `{prefix}` for `# Expect: {}`",
            result.expect
        ));
    }
    let source = SourceFile::new(file.display().to_string(), text);
    let campaign = match campaign::load(&source) {
        Ok(c) => c,
        Err(diags) => {
            result.wrong.push(format!(
                "the campaign does not load:\n{}",
                render_human(&diags, false, 100)
            ));
            return;
        }
    };
    let report = eval::check(policy, &campaign, Options { now: at });
    result.verdict_right = report.passes(false) == header.pass;
    if !result.verdict_right {
        let errors: BTreeSet<&str> = report
            .findings
            .iter()
            .filter(|f| f.fails(false))
            .map(|f| f.rule.as_str())
            .collect();
        let diag_errors = report.diagnostics.iter().filter(|d| d.is_error()).count();
        result.wrong.push(format!(
            "verdict: expected {}, errors from {errors:?}{}",
            result.expect,
            if diag_errors > 0 {
                format!(" and {diag_errors} campaign diagnostic(s)")
            } else {
                String::new()
            }
        ));
    }
    let Some(index) = policy.rules.iter().position(|r| r.id == header.rule) else {
        result
            .wrong
            .push(format!("no rule `{}` in the policy", header.rule));
        return;
    };
    let rule = &policy.rules[index];
    result.pack = rule.pack.clone();
    let outcome = report.outcomes.get(index).copied();
    let outcome_ok = match header.decision {
        Decision::Fires => {
            outcome == Some(RuleOutcome::Violated)
                && report
                    .findings
                    .iter()
                    .any(|f| f.rule == header.rule && f.severity == Severity::Error)
        }
        Decision::Passes => outcome == Some(RuleOutcome::Passed),
        Decision::NotApplicable => outcome == Some(RuleOutcome::NotApplicable),
        Decision::Deferred => outcome == Some(RuleOutcome::Deferred),
        Decision::Warns => {
            outcome == Some(RuleOutcome::Violated)
                && report
                    .findings
                    .iter()
                    .filter(|f| f.rule == header.rule)
                    .all(|f| f.severity == Severity::Warning)
        }
    };
    if !outcome_ok {
        result.wrong.push(format!(
            "`{}` should be {}, but its outcome is {}",
            header.rule,
            header.decision.word(),
            outcome.map_or("unknown".into(), |o| format!("{o:?}")),
        ));
    }
    if !rule.cites().any(|c| c == header.cite) {
        result.wrong.push(format!(
            "`{}` does not cite \"{}\" (it cites {:?})",
            header.rule,
            header.cite,
            rule.cites().collect::<Vec<_>>()
        ));
    } else if matches!(header.decision, Decision::Fires | Decision::Warns)
        && !report
            .findings
            .iter()
            .filter(|f| f.rule == header.rule)
            .all(|f| f.citations.contains(&header.cite))
    {
        result.wrong.push(format!(
            "the finding of `{}` does not carry \"{}\"",
            header.rule, header.cite
        ));
    }
    judge_recipients(policy, &campaign, file, header.gate.as_ref(), result);
}

/// Runs the case's recipients (`NAME.recipients.jsonl`) through `gate`
/// and compares each decision, and a suppression's rules, with `# Gate:`.
fn judge_recipients(
    policy: &Policy,
    campaign: &campaign::Campaign,
    file: &Path,
    expect: Option<&GateExpect>,
    result: &mut CaseResult,
) {
    let sidecar = file.with_extension("recipients.jsonl");
    let records = match std::fs::read_to_string(&sidecar) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            result.wrong.push(format!("{}: {e}", sidecar.display()));
            return;
        }
    };
    let (records, expect) = match (records, expect) {
        (None, None) => return,
        (Some(r), Some(e)) => (r, e),
        (Some(_), None) => {
            result
                .wrong
                .push("the case has recipients but no `# Gate:` line".into());
            return;
        }
        (None, Some(_)) => {
            result.wrong.push(format!(
                "`# Gate:` without recipients ({} is missing)",
                sidecar.display()
            ));
            return;
        }
    };
    let at = match crate::gate::parse_time(&expect.at) {
        Ok(at) => at,
        Err(e) => {
            result.wrong.push(format!("`# Gate:` time: {e}"));
            return;
        }
    };
    let plan = match crate::gate::GatePlan::new(policy, campaign, Options { now: at }) {
        Ok(plan) => plan,
        Err(_) => {
            result
                .wrong
                .push("gate: the campaign is rejected before any recipient".into());
            return;
        }
    };
    let moment = plan.moment(at);
    let mut seen = BTreeSet::new();
    for line in records.lines().filter(|l| !l.trim().is_empty()) {
        let prepared = match plan.prepare_json(line) {
            Ok(p) => p,
            Err(bad) => {
                result
                    .wrong
                    .push(format!("gate: bad record: {}", bad.error));
                continue;
            }
        };
        let id = prepared.id.to_string();
        let got = match plan.decide_with_reasons(&prepared, &moment, &crate::gate::NoHistory) {
            Ok(crate::gate::Decision::Allow) => None,
            Ok(crate::gate::Decision::Suppress(reasons)) => Some(
                reasons
                    .iter()
                    .map(|r| r.rule.to_string())
                    .collect::<BTreeSet<_>>(),
            ),
            Err(e) => {
                result.wrong.push(format!("gate: `{id}`: {e}"));
                continue;
            }
        };
        seen.insert(id.clone());
        let Some((_, want)) = expect.recipients.iter().find(|(r, _)| *r == id) else {
            result
                .wrong
                .push(format!("gate: `{id}` has no expectation in `# Gate:`"));
            continue;
        };
        if &got != want {
            let show = |d: &Option<BTreeSet<String>>| match d {
                None => "allow".to_string(),
                Some(rules) => format!("suppress {rules:?}"),
            };
            result.wrong.push(format!(
                "gate: `{id}`: expected {}, got {}",
                show(want),
                show(&got)
            ));
        }
    }
    for (id, _) in expect
        .recipients
        .iter()
        .filter(|(id, _)| !seen.contains(id))
    {
        result.wrong.push(format!(
            "gate: `{id}` is expected but not among the recipients"
        ));
    }
}

/// Runs every case below `root` against `policy` at [`CASES_AT`] (or `at`).
pub fn run(policy: &Policy, root: &Path, at: Option<Timestamp>) -> std::io::Result<CaseRun> {
    let at = at.unwrap_or_else(|| CASES_AT.parse().unwrap_or(Timestamp::UNIX_EPOCH));
    let gaps = match std::fs::read_to_string(root.join(KNOWN_GAPS_FILE)) {
        Ok(text) => parse_known_gaps(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
        Err(e) => return Err(e),
    };
    let mut run = CaseRun::default();
    let mut seen = BTreeSet::new();
    for file in case_files(root)? {
        let case = relative(root, &file);
        let mut result = CaseResult {
            directory: case.split('/').next().unwrap_or_default().to_string(),
            case: case.clone(),
            expect: "?",
            rule: String::new(),
            pack: "?".into(),
            verdict_right: false,
            wrong: Vec::new(),
            known_gap: gaps.get(&case).cloned(),
        };
        judge(policy, at, &file, &mut result);
        if result.known_gap.is_some() && result.right() {
            run.stale_gaps.push(format!(
                "{case} is listed in {KNOWN_GAPS_FILE} but is judged rightly: remove it from the list"
            ));
        }
        seen.insert(case);
        run.score.total.add(&result);
        run.score
            .by_pack
            .entry(result.pack.clone())
            .or_default()
            .add(&result);
        run.score
            .by_direction
            .entry(result.expect.to_string())
            .or_default()
            .add(&result);
        run.score
            .by_directory
            .entry(result.directory.clone())
            .or_default()
            .add(&result);
        run.cases.push(result);
    }
    for case in gaps.keys().filter(|c| !seen.contains(*c)) {
        run.stale_gaps.push(format!(
            "{case} is listed in {KNOWN_GAPS_FILE} but there is no such case"
        ));
    }
    Ok(run)
}

fn tally_line(out: &mut String, name: &str, t: &Tally) {
    let _ = writeln!(
        out,
        "  {name:<24} {:>4}/{:<4} {:>5.1}%{}{}",
        t.right,
        t.cases,
        t.percent(),
        if t.known_gaps > 0 {
            format!("  {} known gap(s)", t.known_gaps)
        } else {
            String::new()
        },
        if t.wrong > 0 {
            format!("  {} WRONG", t.wrong)
        } else {
            String::new()
        },
    );
}

/// The human report: wrongly judged cases, known gaps, stale gap entries,
/// then the score by pack, direction and directory.
pub fn render_human_report(run: &CaseRun) -> String {
    let mut out = String::new();
    for case in run.cases.iter().filter(|c| !c.right()) {
        let mark = if case.known_gap.is_some() {
            "gap"
        } else {
            "✗"
        };
        let _ = writeln!(out, "{mark} {}", case.case);
        for why in &case.wrong {
            let _ = writeln!(out, "    {}", why.replace('\n', "\n    "));
        }
        if let Some(gap) = &case.known_gap {
            let _ = writeln!(out, "    known gap: {gap}");
        }
    }
    for stale in &run.stale_gaps {
        let _ = writeln!(out, "✗ {stale}");
    }
    if !out.is_empty() {
        out.push('\n');
    }
    let total = &run.score.total;
    let _ = writeln!(
        out,
        "score: {}/{} cases judged rightly ({:.1}%), {} known gap(s), {} wrong; verdict alone right in {}/{}",
        total.right,
        total.cases,
        total.percent(),
        total.known_gaps,
        total.wrong,
        total.verdicts_right,
        total.cases
    );
    out.push_str("by pack of the deciding rule:\n");
    for (pack, t) in &run.score.by_pack {
        tally_line(&mut out, pack, t);
    }
    out.push_str("by direction:\n");
    for (dir, t) in &run.score.by_direction {
        let name = match dir.as_str() {
            "pass" => "pass (lawful)",
            "fail" => "fail (unlawful)",
            other => other,
        };
        tally_line(&mut out, name, t);
    }
    out.push_str("by directory:\n");
    for (dir, t) in &run.score.by_directory {
        tally_line(&mut out, dir, t);
    }
    out
}

/// The JSON report: `{"ok", "score", "cases", "stale_gaps"}`.
pub fn render_json_report(run: &CaseRun) -> String {
    let value = serde_json::json!({
        "ok": run.ok(),
        "score": run.score,
        "cases": run.cases,
        "stale_gaps": run.stale_gaps,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_with_continuation_lines_is_read() {
        let text = "# Source: EDPB Guidelines 8/2020,\n#   Example 4.\n# Facts: x\n# Expect: fail\n# Decides: r fires, cite \"GDPR Art. 6(1)\"\nid: x\n";
        let h = parse_header(text).expect("a valid header");
        assert_eq!(h.source, "EDPB Guidelines 8/2020, Example 4.");
        assert!(!h.pass);
        assert_eq!(h.rule, "r");
        assert_eq!(h.decision, Decision::Fires);
        assert_eq!(h.cite, "GDPR Art. 6(1)");
        assert_eq!(h.gate, None);
    }

    #[test]
    fn a_gate_line_lists_decisions_per_recipient() {
        let g = parse_gate("at 2026-03-10T15:00:00Z; a allow; b suppress r1, r2").expect("valid");
        assert_eq!(g.at, "2026-03-10T15:00:00Z");
        assert_eq!(g.recipients[0], ("a".to_string(), None));
        let rules: BTreeSet<String> = ["r1".to_string(), "r2".to_string()].into();
        assert_eq!(g.recipients[1], ("b".to_string(), Some(rules)));
        assert!(parse_gate("a allow").is_err());
        assert!(parse_gate("at x; a maybe").is_err());
    }

    #[test]
    fn a_header_without_source_or_with_a_bad_outcome_is_refused() {
        assert!(parse_header("# Expect: pass\n# Decides: r passes, cite \"c\"\n").is_err());
        assert!(
            parse_header("# Source: s\n# Expect: pass\n# Decides: r maybe, cite \"c\"\n")
                .is_err_and(|e| e.contains("maybe"))
        );
        assert!(parse_header("# Source: s\n# Expect: ok\n").is_err());
    }

    #[test]
    fn known_gaps_are_read_from_table_rows() {
        let text = "# Known gaps\n\n| case | wrong | why |\n|---|---|---|\n| `a/fail_x.yaml` | passes | needs h13 |\n";
        let gaps = parse_known_gaps(text);
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps["a/fail_x.yaml"], "passes; needs h13");
    }

    #[test]
    fn a_tally_scores_right_cases() {
        let mut t = Tally::default();
        assert_eq!(t.percent(), 100.0);
        let mut c = CaseResult {
            case: "a/pass_x.yaml".into(),
            directory: "a".into(),
            expect: "pass",
            rule: "r".into(),
            pack: "p".into(),
            verdict_right: true,
            wrong: vec![],
            known_gap: None,
        };
        t.add(&c);
        c.wrong.push("verdict".into());
        c.verdict_right = false;
        t.add(&c);
        c.known_gap = Some("why".into());
        t.add(&c);
        assert_eq!((t.cases, t.right, t.wrong, t.known_gaps), (3, 1, 1, 1));
        assert_eq!(t.verdicts_right, 1);
    }
}
