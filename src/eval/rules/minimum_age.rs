//! `minimum age N` / `minimum age TABLE`: no audience below an age.
//!
//! **Checks** `audience.age.min` against a fixed age, or against a table
//! keyed by jurisdiction (looked up for each campaign jurisdiction, falling
//! back from `EU-FR` to `EU` to the table's default). A rule confined to
//! jurisdictions (`when jurisdiction in [...]`) looks up only the campaign's
//! jurisdictions within them: in a campaign for `EU-FR` and `US-NY`, GDPR
//! Art. 8's table decides France (15), not New York (the table's default
//! would wrongly ask 16 there). A campaign with no minimum age may reach
//! anyone and fails.
//!
//! **Why**: GDPR Art. 8(1) sets the age from which a child can consent to
//! online services at 16, which member states may lower to 13–15; DSA
//! Art. 28(2) bans profiling-based ads to minors; CCPA 1798.120(c) requires
//! opt-in before selling data of consumers under 16.
//!
//! With `unless consent to PURPOSE by …` (CCPA 1798.120(c): the minor's
//! own opt-in from 13, a parent's below), a younger audience is allowed
//! when the campaign declares PURPOSE (in `purposes` or `consent.purposes`):
//! it then relies on the authorisation of each minor, which a campaign file
//! cannot show and `gate` checks per recipient (docs/recipients.md, Minors'
//! consent).
//!
//! **Fires**: `minimum age digital_age_of_consent` (EU-DE: 16) with
//! `audience: {age: {min: 13}}` and `jurisdictions: [EU-DE]`.
//!
//! **Passes**: the same with `min: 16`; `minimum age 16 unless consent to
//! sale_sharing by self from 13 else parent` with `min: 13` and
//! `purposes: [targeted_advertising, sale_sharing]`.

use crate::compile::cond::{set_contains, SymbolSet};
use crate::compile::MinorConsent;
use crate::eval::{Ctx, Violation};

/// Returns one violation per distinct age requirement the audience misses.
/// `confined`: the jurisdictions the rule is confined to, if any.
pub fn check(
    fixed: Option<u32>,
    table: Option<&str>,
    unless: Option<&MinorConsent>,
    confined: Option<&SymbolSet>,
    cx: &Ctx<'_>,
) -> Vec<Violation> {
    let campaign = cx.campaign;
    let model = &campaign.model;
    // The campaign relies on each minor's authorisation: the gate decides.
    if let Some(u) = unless {
        if model
            .purposes()
            .chain(model.consented_purposes())
            .any(|p| p.value == u.purpose)
        {
            return Vec::new();
        }
    }
    // (required age, where it applies)
    let mut required: Vec<(u32, Vec<String>)> = Vec::new();
    let mut add = |age: u32, place: String| match required.iter_mut().find(|(a, _)| *a == age) {
        Some((_, places)) => places.push(place),
        None => required.push((age, vec![place])),
    };
    match (fixed, table.and_then(|t| cx.policy.tables.get(t))) {
        (Some(age), _) => add(age, String::new()),
        (None, Some(table)) => {
            let mut any = false;
            for j in model
                .jurisdictions()
                .filter(|j| confined.is_none_or(|set| set_contains(set, j.value.as_str())))
            {
                any = true;
                if let Some((age, _)) = table.lookup_number(j.value.as_str()) {
                    add(age.max(0.0) as u32, j.value.to_string());
                }
            }
            if !any {
                if let Some((age, _)) = table.lookup_number("") {
                    add(age.max(0.0) as u32, String::new());
                }
            }
        }
        (None, None) => {}
    }
    let age_range = model.audience.as_ref().and_then(|a| a.age.as_ref());
    let min = age_range.and_then(|r| r.min.as_ref());
    let mut out = Vec::new();
    for (age, places) in required {
        let places: Vec<String> = places.into_iter().filter(|p| !p.is_empty()).collect();
        let where_ = if places.is_empty() {
            String::new()
        } else {
            format!(" in {}", places.join(", "))
        };
        match min {
            Some(min) if min.value >= i64::from(age) => {}
            Some(min) => out.push(
                Violation::new(
                    min.span,
                    format!("starts at {}, below {age}", min.value),
                    format!("the audience includes people aged {}, below the minimum age of {age}{where_}", min.value),
                )
                .var("age", min.value.to_string())
                .var("value", min.value.to_string())
                .var("limit", age.to_string())
                .var("jurisdiction", places.join(", ")),
            ),
            None => {
                let span = age_range
                    .map(|r| r.span)
                    .or_else(|| campaign.key_span_of(&["audience"]))
                    .unwrap_or(model.id.span);
                out.push(
                    Violation::new(
                        span,
                        "no minimum age set",
                        format!("the audience has no minimum age, so it may include people under {age}{where_}"),
                    )
                    .var("age", "not set")
                    .var("value", "not set")
                    .var("limit", age.to_string())
                    .var("jurisdiction", places.join(", ")),
                );
            }
        }
    }
    out
}
