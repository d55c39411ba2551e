//! `forbid fields SET`: data minimisation.
//!
//! **Checks** that `data.fields` names none of the listed fields.
//!
//! **Why**: personal data must be "adequate, relevant and limited to what is
//! necessary" (GDPR Art. 5(1)(c)). Fields a campaign does not need are a
//! liability: every extra field read is one more that can leak or be misused.
//!
//! **Fires**: `forbid fields [precise_location]` with
//! `data: {fields: [email, precise_location]}`.
//!
//! **Passes**: the same rule with `data: {fields: [email, first_name]}`.

use crate::compile::cond::{set_contains, SymbolSet};
use crate::eval::{Ctx, Violation};

/// Returns one violation per forbidden field the campaign reads.
pub fn check(fields: &SymbolSet, cx: &Ctx<'_>) -> Vec<Violation> {
    cx.campaign
        .model
        .data_fields()
        .filter(|f| set_contains(fields, &f.value))
        .map(|f| {
            Violation::new(
                f.span,
                "this field may not be used",
                format!(
                    "the campaign reads `{}`, a field this policy forbids",
                    f.value
                ),
            )
            .var("field", f.value.clone())
            .var("value", f.value.clone())
        })
        .collect()
}
