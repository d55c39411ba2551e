//! Unknown targeting attributes: a warning (or, with `[check]
//! unknown_attributes = "error"` in scruple.toml, an error) for each
//! attribute a campaign selects or personalises on that nothing understands.
//!
//! **Checks** every attribute name in segment, exclusion and lookalike-seed
//! filters and in `personalization.attributes`, when the policy judges
//! targeting by meaning (a `forbid targeting` rule whose set holds
//! `category …` or `law …`).
//!
//! **Why**: `forbid targeting` can only judge what it can read. An attribute
//! that no dictionary entry declares, no set or `attribute` declaration
//! names, and the taxonomy's vocabulary cannot place passes every rule
//! unjudged; saying so keeps a miss from looking like a clean result.
//!
//! **Fires**: `loyalty_x7` in a segment filter, with no declaration.
//!
//! **Passes**: `medical_history` (the vocabulary places it),
//! `attribute loyalty_x7 category purchase` (declared), an attribute the
//! campaign derives from others (`derived_attributes`, `model_features`: its
//! inputs are judged), and any policy without category terms.

use std::collections::BTreeSet;

use crate::campaign::model::items;
use crate::campaign::Campaign;
use crate::compile::cond::{set_categories, set_contains};
use crate::compile::{Check, Policy};
use crate::diag::{did_you_mean, Diag};
use crate::source::Span;
use crate::taxonomy::categories::ALIASES;
use crate::taxonomy::{Kind, CATEGORIES};

/// Diagnostic code of this module.
pub const UNKNOWN_ATTRIBUTE: &str = "scruple::campaign::unknown_attribute";

/// Whether some rule judges targeting by meaning.
fn judges_by_meaning(policy: &Policy) -> bool {
    policy.rules.iter().any(|r| match &r.check {
        Check::ForbidTargeting { attributes, .. } => !set_categories(attributes).is_empty(),
        _ => false,
    })
}

/// One diagnostic per distinct targeting attribute that nothing places, at
/// its first use.
pub fn unknown_attributes(policy: &Policy, campaign: &Campaign) -> Vec<Diag> {
    if !judges_by_meaning(policy) {
        return Vec::new();
    }
    let model = &campaign.model;
    let mut derived: BTreeSet<&str> = BTreeSet::new();
    if let Some(audience) = &model.audience {
        derived.extend(items(&audience.derived_attributes).map(|d| d.name.value.as_str()));
        derived.extend(items(&audience.model_features).map(|f| f.name.value.as_str()));
    }
    let mut uses: Vec<(&str, Span)> = model
        .targeted_attributes()
        .iter()
        .map(|t| (t.name, t.span))
        .collect();
    uses.extend(
        model
            .personalization_attributes()
            .map(|a| (a.value.as_str(), a.span)),
    );
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::new();
    for (name, span) in uses {
        if !seen.insert(name) || derived.contains(name) || is_placed(policy, name) {
            continue;
        }
        out.push(diag(policy, campaign, name, span));
    }
    out
}

/// Declared in the dictionary or as an attribute, named by a set, or
/// placed by the vocabulary.
fn is_placed(policy: &Policy, name: &str) -> bool {
    policy.attributes.contains_key(name)
        || policy.sets.values().any(|s| set_contains(&s.members, name))
        || policy
            .dictionary
            .read(name, Kind::AttributeName)
            .is_placed()
}

fn diag(policy: &Policy, campaign: &Campaign, name: &str, span: Span) -> Diag {
    let candidates = CATEGORIES
        .iter()
        .map(|c| c.id)
        .chain(ALIASES.iter().map(|(a, _)| *a));
    let near = did_you_mean(name, candidates);
    let category = near.unwrap_or("CATEGORY");
    let fix = format!("attribute {name} category {category}");
    let help = match near {
        Some(near) => format!(
            "did you mean the category `{near}`? Declare what `{name}` means in the policy's data dictionary: `{fix}` (or `category none because \"…\"` when it is no personal data)"
        ),
        None => format!(
            "declare what `{name}` means in the policy's data dictionary: `{fix}` with a category from docs/taxonomy.md (or `category none because \"…\"` when it is no personal data)"
        ),
    };
    let mut diag = Diag::warning(
        UNKNOWN_ATTRIBUTE,
        format!(
            "nothing understands the targeting attribute `{name}`: no `forbid targeting` rule can judge it"
        ),
    );
    diag.severity = policy.dictionary.unknown_attributes;
    diag.with_label(
        &campaign.source,
        span,
        "not in the data dictionary, and the taxonomy cannot place it",
    )
    .with_help(help)
}
