//! `allow only fields SET [for PURPOSE]`: purpose limitation.
//!
//! **Checks** that every entry of `data.fields` is in the allowed set; with
//! `for PURPOSE`, only when the campaign declares that purpose.
//!
//! **Why**: data collected for one purpose may not be used for another that
//! is incompatible with it (GDPR Art. 5(1)(b)). An allow-list per purpose
//! makes the compatible uses explicit and reviewable.
//!
//! **Fires**: `allow only fields [email, first_name] for email_marketing`
//! with `purposes: [email_marketing]` and `data: {fields: [email, income]}`.
//!
//! **Passes**: the same campaign reading `[email, first_name]`, or a
//! campaign that does not declare `email_marketing`.

use crate::compile::cond::{set_contains, SymbolSet};
use crate::eval::{Ctx, Violation};

/// Returns one violation per field outside the allow-list.
pub fn check(fields: &SymbolSet, purpose: Option<&str>, cx: &Ctx<'_>) -> Vec<Violation> {
    let model = &cx.campaign.model;
    if let Some(purpose) = purpose {
        if !model.purposes().any(|p| p.value == purpose) {
            return Vec::new();
        }
    }
    let allowed: Vec<&str> = fields.iter().map(String::as_str).collect();
    let scope = purpose.map_or(String::new(), |p| format!(" for `{p}`"));
    model
        .data_fields()
        .filter(|f| !set_contains(fields, &f.value))
        .map(|f| {
            Violation::new(
                f.span,
                format!("not needed{scope}"),
                format!(
                    "the campaign reads `{}`, which is not allowed{scope}",
                    f.value
                ),
            )
            .var("field", f.value.clone())
            .var("value", f.value.clone())
            .var("purpose", purpose.unwrap_or_default())
            .note(format!("allowed fields{scope}: {}", allowed.join(", ")))
        })
        .collect()
}
