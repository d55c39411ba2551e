//! `ensure EXPR`: a general condition over campaign fields.
//!
//! **Checks** that the expression holds for the campaign. Everything the
//! dedicated rule kinds do not cover is written this way.
//!
//! **Why**: rules like "no deceptive subject lines" (CAN-SPAM 15 U.S.C.
//! 7704(a)(2)) or "a significant automated decision needs human review"
//! (GDPR Art. 22(3)) are conditions on a few fields.
//!
//! **Fires**: `ensure not (message.subject matches "(?i)^\\s*(re|fwd?):")`
//! with `subject: "RE: your order"`.
//!
//! **Passes**: the same rule with `subject: "Spring sale: 20% off"`.

use crate::campaign::tree::{Node, Value};
use crate::compile::cond::Cond;
use crate::compile::CompiledRule;
use crate::eval::expr::{culprit, holds, witness};
use crate::eval::{Ctx, Violation};

/// Returns a violation when the condition does not hold, labelled on the
/// first campaign field the condition reads.
pub fn check(cond: &Cond, rule: &CompiledRule, cx: &Ctx<'_>) -> Vec<Violation> {
    let campaign = cx.campaign;
    if holds(cond, &campaign.tree) {
        return Vec::new();
    }
    let (span, label, path, value) = match witness(cond, &campaign.tree) {
        Some((node, path)) => {
            let value = show(node);
            (
                node.span,
                format!("`{}` is {value}", path.dotted()),
                path.dotted(),
                value,
            )
        }
        None => {
            // Nothing the culprit reads exists: name every field it reads.
            let mut paths = Vec::new();
            culprit(cond, &campaign.tree).paths(&mut paths);
            let mut names: Vec<String> = Vec::new();
            for p in &paths {
                if !names.contains(&p.dotted()) {
                    names.push(p.dotted());
                }
            }
            let dotted = names.first().cloned().unwrap_or_default();
            let segments: Vec<&str> = dotted.split('.').collect();
            let span = campaign.span_of(&segments).unwrap_or_default();
            let label = match names.as_slice() {
                [] | [_] => format!("`{dotted}` is missing"),
                [init @ .., last] => {
                    let init: Vec<String> = init.iter().map(|n| format!("`{n}`")).collect();
                    format!("{} and `{last}` are missing", init.join(", "))
                }
            };
            (span, label, dotted, "missing".to_string())
        }
    };
    let condition = campaign_condition_text(rule);
    vec![Violation::new(
        span,
        label,
        format!("the campaign does not satisfy `{condition}`"),
    )
    .var("path", path)
    .var("value", value)]
}

fn campaign_condition_text(rule: &CompiledRule) -> String {
    let text = rule.source.slice(rule.decl.constraint.span());
    let text = text.strip_prefix("ensure").unwrap_or(text).trim();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A short rendering of a value for labels.
fn show(node: &Node) -> String {
    match &node.value {
        Value::Null => "empty".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Str(s) => format!("{s:?}"),
        Value::List(items) if items.len() <= 8 && items.iter().all(|i| i.is_scalar()) => {
            let shown: Vec<String> = items
                .iter()
                .map(|i| match &i.value {
                    Value::Str(s) => s.clone(),
                    _ => show(i),
                })
                .collect();
            format!("[{}]", shown.join(", "))
        }
        Value::List(items) => format!("a list of {}", items.len()),
        Value::Map(_) => "set".into(),
    }
}
