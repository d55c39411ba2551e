//! `require PATH`: a campaign field must be present and not empty.
//!
//! **Checks** that the field at `PATH` exists and is not null, `false`, an
//! empty string or an empty list or map.
//!
//! **Why**: many obligations are "the message must carry X": an unsubscribe
//! link (CAN-SPAM 15 U.S.C. 7704(a)(3)), one-click unsubscribe (RFC 8058), the
//! sender's postal address (7704(a)(5)(A)(iii)), an ad label (DSA Art. 26(1)(a)).
//!
//! **Fires**: `require message.postal_address` on a campaign whose `message`
//! has no `postal_address`, or `require message.unsubscribe.one_click` with
//! `one_click: false`.
//!
//! **Passes**: `postal_address: "1 Rue de Rivoli, 75001 Paris"`.

use crate::campaign::tree::{Node, Value};
use crate::compile::cond::FieldPath;
use crate::eval::{Ctx, Violation};

/// Returns a violation when the field is missing or empty.
pub fn check(path: &FieldPath, cx: &Ctx<'_>) -> Vec<Violation> {
    let segments: Vec<&str> = path.segments.iter().map(String::as_str).collect();
    let dotted = path.dotted();
    let campaign = cx.campaign;
    let (span, label, what) = match campaign.tree.get_path(&segments) {
        Some(node) if is_filled(node) => return Vec::new(),
        Some(node) => (
            campaign.key_span_of(&segments).unwrap_or(node.span),
            format!("`{dotted}` is {}", describe_empty(node)),
            describe_empty(node),
        ),
        None => (
            campaign.span_of(&segments).unwrap_or_default(),
            format!("`{dotted}` is missing"),
            "missing",
        ),
    };
    vec![
        Violation::new(span, label, format!("`{dotted}` is required but {what}"))
            .var("path", dotted.clone())
            .var("field", dotted),
    ]
}

fn is_filled(node: &Node) -> bool {
    match &node.value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Str(s) => !s.trim().is_empty(),
        Value::List(items) => !items.is_empty(),
        Value::Map(entries) => !entries.is_empty(),
        Value::Int(_) | Value::Float(_) => true,
    }
}

fn describe_empty(node: &Node) -> &'static str {
    match &node.value {
        Value::Bool(false) => "false",
        Value::Null => "empty",
        Value::Str(_) => "blank",
        _ => "empty",
    }
}
