//! Entry points for the fuzz targets in `fuzz/` (not a stable API): each
//! takes untrusted text the way a command would and runs it through every
//! stage and renderer, so that a panic anywhere is found. They return what
//! the targets compare; none of them may panic on any input.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use jiff::Timestamp;
use serde_json::{json, Map, Value};

use crate::compile::load::MemoryTree;
use crate::compile::{self, graph, Inputs, Policy};
use crate::diag::{render_human, Diag};
use crate::gate::recipient::{self, CsvLayout, Recipient};
use crate::gate::{Decision, GatePlan, NoHistory};
use crate::source::SourceFile;

/// The evaluation time of every target, so runs are reproducible.
pub const AT: &str = "2026-11-23T10:00:00Z";

fn at() -> Timestamp {
    AT.parse().unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Every shipped pack, compiled once.
pub fn shipped() -> Option<&'static Policy> {
    static POLICY: OnceLock<Option<Policy>> = OnceLock::new();
    POLICY
        .get_or_init(|| {
            let mut inputs = Inputs::default();
            inputs.add_builtin(&[]);
            compile::compile(inputs).0
        })
        .as_ref()
}

/// Renders diagnostics as a terminal would, with and without colour.
fn render(diags: &[Diag]) {
    let _ = render_human(diags, false, 100);
    let _ = render_human(diags, true, 40);
}

/// Policy text → compile → every renderer: the diagnostics, the graph (dot,
/// mermaid, JSON), the rules listing, `explain` of every rule and of an
/// unknown one, and `fmt`. Returns whether it compiled.
pub fn policy_text(text: &str) -> bool {
    let tree = Arc::new(MemoryTree {
        prefix: String::new(),
        files: BTreeMap::from([("fuzz.scruple".to_string(), text.to_string())]),
    });
    let mut inputs = Inputs::default();
    inputs.add_memory(&tree, &["fuzz.scruple".to_string()]);
    let (policy, diags) = compile::compile(inputs);
    render(&diags);
    let args = crate::fmt::FmtArgs {
        paths: vec!["-".into()],
        check: false,
    };
    let formatted = crate::fmt::command(&args, &mut text.as_bytes());
    render(&formatted.diags);
    let Some(policy) = policy else { return false };
    let _ = graph::to_dot(&policy.graph);
    let _ = graph::to_mermaid(&policy.graph);
    let _ = graph::to_json(&policy.graph).to_string();
    let _ = crate::report::rules_table(&policy);
    for rule in &policy.rules {
        let _ = crate::report::explain(&policy, &rule.id);
    }
    if let Err(diag) = crate::report::explain(&policy, "no_such_rule") {
        render(&[*diag]);
    }
    true
}

/// Campaign YAML → load → check against every shipped pack → every
/// renderer (human, JSON, SARIF, GitHub). Returns the exit code of `check`.
pub fn campaign_yaml(text: &str) -> u8 {
    let Some(policy) = shipped() else { return 2 };
    let source = SourceFile::new("fuzz.yaml", text);
    let options = crate::eval::Options { now: at() };
    let run = crate::check::run(policy, vec![source], options);
    let style = |color, width, verbose| crate::render::HumanStyle {
        color,
        width,
        verbose,
    };
    for deny in [false, true] {
        let _ = crate::render::human(&run, style(false, 100, false), deny);
        let _ = crate::render::json::render(&run, policy, deny);
    }
    let _ = crate::render::human(&run, style(true, 40, true), false);
    let _ = crate::render::sarif::render(&run, policy);
    let _ = crate::render::github::render(&run);
    run.exit_code(false)
}

/// The gate's decision for one record, as the targets compare it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Sent.
    Allow,
    /// Not sent, for these rules.
    Suppress(Vec<String>),
    /// The record cannot be read.
    Bad,
}

/// Campaigns the gate targets decide for: both pass every shipped pack.
pub const GATE_CAMPAIGNS: [&str; 2] = [
    include_str!("../examples/campaigns/spring-sale.yaml"),
    include_str!("../tests/fixtures/gate/gpc-honoured.yaml"),
];

fn plans() -> &'static [GatePlan<'static>] {
    static PLANS: OnceLock<Vec<GatePlan<'static>>> = OnceLock::new();
    PLANS.get_or_init(|| {
        let Some(policy) = shipped() else {
            return Vec::new();
        };
        GATE_CAMPAIGNS
            .iter()
            .filter_map(|text| {
                let campaign = crate::campaign::load(&SourceFile::new("c.yaml", *text)).ok()?;
                GatePlan::new(policy, &campaign, crate::eval::Options { now: at() }).ok()
            })
            .collect()
    })
}

fn outcome(decision: Result<Decision, String>) -> Outcome {
    match decision {
        Ok(Decision::Allow) => Outcome::Allow,
        Ok(Decision::Suppress(reasons)) => {
            Outcome::Suppress(reasons.iter().map(|r| r.rule.to_string()).collect())
        }
        Err(_) => Outcome::Bad,
    }
}

fn two_step(plan: &GatePlan<'_>, r: &Recipient<'_>) -> Outcome {
    let moment = plan.moment(at());
    match plan.prepare(r) {
        Ok(p) => outcome(plan.decide_with_reasons(&p, &moment, &NoHistory)),
        Err(_) => Outcome::Bad,
    }
}

fn one_pass(plan: &GatePlan<'_>, line: &str) -> Outcome {
    let moment = plan.moment(at());
    match plan.prepare_json(line) {
        Ok(p) => outcome(plan.decide_with_reasons(&p, &moment, &NoHistory)),
        Err(_) => Outcome::Bad,
    }
}

/// One JSON Lines record (trimmed, as `gate` reads it) decided for campaign
/// `campaign % 2` by the one-pass reader (`prepare_json`) and by the
/// two-step one (`recipient::from_json`, then `prepare`): (one-pass, two-step).
pub fn gate_jsonl(campaign: usize, line: &str) -> Option<(Outcome, Outcome)> {
    let plans = plans();
    let plan = plans.get(campaign % plans.len().max(1))?;
    let line = line.trim();
    let two = match recipient::from_json(line) {
        Ok(r) => two_step(plan, &r),
        Err(_) => Outcome::Bad,
    };
    Some((one_pass(plan, line), two))
}

/// A CSV header and rows decided by the two-step reader (`CsvLayout`, then
/// `prepare`), and the same records written as JSON decided by the one-pass
/// reader: one (two-step, one-pass) pair per row that `CsvLayout` reads.
/// `None` when the header is refused.
pub fn gate_csv(campaign: usize, text: &str) -> Option<Vec<(Outcome, Outcome)>> {
    let plans = plans();
    let plan = plans.get(campaign % plans.len().max(1))?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = reader.headers().ok()?.clone();
    let layout = CsvLayout::new(&headers).ok()?;
    let mut pairs = Vec::new();
    for row in reader.records() {
        let Ok(row) = row else { continue };
        let Ok(r) = layout.recipient(&row) else {
            continue;
        };
        let line = to_json(&r);
        pairs.push((two_step(plan, &r), one_pass(plan, &line)));
    }
    Some(pairs)
}

/// A recipient as the JSON Lines record that says the same.
fn to_json(r: &Recipient<'_>) -> String {
    let mut record = Map::new();
    record.insert("id".into(), json!(r.id));
    let mut put = |key: &str, value: Option<&str>| {
        if let Some(v) = value {
            record.insert(key.into(), json!(v));
        }
    };
    put("jurisdiction", r.jurisdiction.as_deref());
    put("timezone", r.timezone.as_deref());
    put("birth_date", r.birth_date.as_deref());
    if let Some(age) = r.age {
        record.insert("age".into(), json!(age));
    }
    // Written as text: a repeated purpose stays repeated, as in the CSV.
    let consents: Vec<String> = r
        .consents
        .iter()
        .map(|(purpose, c)| {
            let mut fields = Map::new();
            for (key, value) in [
                ("granted_at", &c.granted_at),
                ("withdrawn_at", &c.withdrawn_at),
                ("source", &c.source),
            ] {
                if let Some(v) = value {
                    fields.insert(key.into(), json!(v));
                }
            }
            format!("{}:{}", json!(purpose), Value::Object(fields))
        })
        .collect();
    let o = &r.opt_outs;
    record.insert(
        "opt_outs".into(),
        json!({"unsubscribed": o.unsubscribed, "objected": o.objected, "gpc": o.gpc, "limit_sensitive": o.limit_sensitive}),
    );
    let attributes: Map<String, Value> = r
        .attributes
        .0
        .iter()
        .map(|a| (a.to_string(), json!(true)))
        .collect();
    record.insert("attributes".into(), Value::Object(attributes));
    let text = Value::Object(record).to_string();
    // Splice the consents object in as written above.
    let body = text.strip_suffix('}').unwrap_or(&text);
    format!("{body},\"consents\":{{{}}}}}", consents.join(","))
}

/// The `serve` application over every shipped pack, built once (its
/// metrics count across inputs; nothing else carries over).
pub fn serve_app() -> Option<axum::Router> {
    static APP: OnceLock<Option<axum::Router>> = OnceLock::new();
    APP.get_or_init(|| {
        let mut inputs = Inputs::default();
        inputs.add_builtin(&[]);
        let policy = compile::compile(inputs).0?;
        Some(crate::serve::app(policy, 1 << 20))
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORDS: &str = include_str!("../tests/fixtures/gate/recipients.jsonl");
    const CSV: &str = include_str!("../tests/fixtures/gate/recipients.csv");

    #[test]
    fn both_gate_readers_agree_on_the_fixture_records() {
        assert_eq!(plans().len(), GATE_CAMPAIGNS.len());
        for campaign in 0..GATE_CAMPAIGNS.len() {
            for line in RECORDS.lines() {
                let (one, two) = gate_jsonl(campaign, line).unwrap_or_else(|| panic!("a plan"));
                assert_eq!(one, two, "{line}");
            }
            let pairs = gate_csv(campaign, CSV).unwrap_or_default();
            assert!(!pairs.is_empty());
            for (two, one) in pairs {
                assert_eq!(two, one);
            }
        }
    }

    #[test]
    fn entry_points_run_the_examples() {
        assert_eq!(campaign_yaml(GATE_CAMPAIGNS[0]), 0);
        assert!(campaign_yaml(include_str!("../examples/campaigns/baby-club.yaml")) == 1);
        assert!(policy_text(
            "rule r {\n  severity error\n  forbid fields [precise_location]\n}\n"
        ));
        assert!(!policy_text("rule {"));
    }
}
