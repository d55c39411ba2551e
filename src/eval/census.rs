//! How a campaign's targeting inputs were understood: for each attribute
//! name, filter string, URL and segment name, whether the policy knows it by
//! name, the taxonomy's vocabulary places it, or nothing does. Reported per
//! campaign in `scruple check --format json` (`targeting`), so a team can see
//! how much of its targeting the checks actually read: an input nobody
//! understood is one no `forbid targeting` rule can judge.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::campaign::model::{items, regex_words, CampaignModel, FilterValue, Scalar};
use crate::compile::cond::set_contains;
use crate::compile::dictionary::operand_kind;
use crate::compile::Policy;
use crate::taxonomy::Kind;

/// Counts of targeting inputs by the evidence that placed them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TargetingCensus {
    /// Distinct inputs read (an input used twice counts once).
    pub inputs: usize,
    /// Placed by a data dictionary entry (`attribute … category …`,
    /// `values … category …`), `category none` included.
    pub dictionary: usize,
    /// Known to the policy by name: a declared `attribute` or a set member.
    pub name: usize,
    /// Placed by the taxonomy's vocabulary: in a category, or recognised as
    /// a look-alike that is none (`age_verified`).
    pub vocabulary: usize,
    /// Neither known by name nor placed by the vocabulary.
    pub unclassified: usize,
    /// The same inputs by what they are.
    pub by_input: InputCounts,
}

/// Distinct targeting inputs by kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct InputCounts {
    /// Attribute names in filters, personalization, derivations and features.
    pub attribute_names: usize,
    /// Strings in filter values (list items one by one), URLs excepted.
    pub values: usize,
    /// URLs and page paths in filter values.
    pub urls: usize,
    /// Segment, exclusion and external lookalike-seed names.
    pub audience_names: usize,
}

/// Reads every targeting input of `model` once and counts the evidence.
pub fn census(policy: &Policy, model: &CampaignModel) -> TargetingCensus {
    let mut seen: BTreeSet<(u8, String)> = BTreeSet::new();
    let mut add = |kind: Kind, text: &str| {
        let tag = match kind {
            Kind::AttributeName => 0,
            Kind::Value => 1,
            Kind::Url => 2,
            Kind::AudienceName => 3,
        };
        seen.insert((tag, text.to_string()));
    };
    let segments = model.segments().chain(model.exclusions());
    for segment in segments {
        add(Kind::AudienceName, &segment.name.value);
        if let Some(seed) = model.lookalike_chain(segment).unresolved {
            add(Kind::AudienceName, &seed.value);
        }
        for filter in items(&segment.filters) {
            add(Kind::AttributeName, &filter.attribute.value);
            let strings: Vec<&str> = match filter.value.value.as_ref().map(|v| &v.value) {
                Some(FilterValue::One(Scalar::Str(s))) => vec![s.as_str()],
                Some(FilterValue::Many(list)) => list
                    .iter()
                    .filter_map(|i| match &i.value {
                        Scalar::Str(s) => Some(s.as_str()),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            for s in strings {
                // Read as `forbid targeting` reads it: a regex by its words,
                // a page rule as a URL.
                let text = if filter.op.value.is_regex() {
                    regex_words(s)
                } else {
                    s.to_string()
                };
                add(operand_kind(&filter.attribute.value, &text), &text);
            }
        }
    }
    for attr in model.personalization_attributes() {
        add(Kind::AttributeName, &attr.value);
    }
    if let Some(audience) = &model.audience {
        for d in items(&audience.derived_attributes) {
            add(Kind::AttributeName, &d.name.value);
        }
        for f in items(&audience.model_features) {
            add(Kind::AttributeName, &f.name.value);
        }
    }
    let mut out = TargetingCensus {
        inputs: seen.len(),
        ..TargetingCensus::default()
    };
    for (tag, text) in seen {
        let kind = match tag {
            0 => Kind::AttributeName,
            1 => Kind::Value,
            2 => Kind::Url,
            _ => Kind::AudienceName,
        };
        match kind {
            Kind::AttributeName => out.by_input.attribute_names += 1,
            Kind::Value => out.by_input.values += 1,
            Kind::Url => out.by_input.urls += 1,
            Kind::AudienceName => out.by_input.audience_names += 1,
        }
        if policy.dictionary.lookup(&text, kind).is_some() {
            out.dictionary += 1;
        } else if known_by_name(policy, &text) {
            out.name += 1;
        } else if policy.dictionary.read(&text, kind).is_placed() {
            out.vocabulary += 1;
        } else {
            out.unclassified += 1;
        }
    }
    out
}

/// Whether the policy declares `text` as an attribute or lists it in a set.
fn known_by_name(policy: &Policy, text: &str) -> bool {
    policy.attributes.contains_key(text)
        || policy.sets.values().any(|s| set_contains(&s.members, text))
}
