//! `forbid targeting on SET [including proxies]`: no audience selection on
//! sensitive attributes, or on anything computed from them.
//!
//! **Checks** every attribute the campaign selects people on — segment
//! filters, exclusions, the filters of lookalike seeds, personalization
//! attributes and the inputs of model features — and follows its lineage
//! transitively: the campaign's own `derived_attributes` and `model_features`,
//! the policy's `derived_from` declarations and, with `including proxies`,
//! its `proxy_for` declarations. The finding shows the chain
//! (`likely_parent` ← `baby_products_score` ← `health`).
//!
//! **Why**: GDPR Art. 9(1) prohibits processing special categories of data
//! without an exception; DSA Art. 26(3) bans ads based on profiling with them
//! on online platforms; US fair-lending and fair-housing law bans
//! discrimination through proxies such as postal codes. A derived score is
//! still the sensitive data it was computed from, and a lookalike audience
//! seeded from a health segment targets on health.
//!
//! **Fires**: `forbid targeting on [health]` with a segment filter on
//! `baby_products_score` that the campaign declares `derived_from: [health]`.
//!
//! **Passes**: the same rule with segments filtered on declared interests
//! (`interested_in_running`) whose lineage reaches no forbidden attribute.

use std::collections::VecDeque;

use crate::campaign::model::items;
use crate::compile::cond::{set_contains, SymbolSet};
use crate::eval::{Ctx, Violation};
use crate::source::Span;

/// How one attribute leads to another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    DerivedInCampaign,
    DerivedInPolicy,
    Proxy,
}

/// Returns one violation per use of an attribute whose lineage reaches a
/// forbidden attribute.
pub fn check(forbidden: &SymbolSet, including_proxies: bool, cx: &Ctx<'_>) -> Vec<Violation> {
    let model = &cx.campaign.model;
    let mut out = Vec::new();

    for target in model.targeted_attributes() {
        let Some(chain) = lineage(target.name, forbidden, including_proxies, cx) else {
            continue;
        };
        let (span, label) = match target.via.first() {
            Some(lookalike) => (
                lookalike
                    .lookalike_of
                    .as_ref()
                    .map_or(lookalike.name.span, |l| l.span),
                format!("lookalike of a segment that targets on `{}`", target.name),
            ),
            None if target.excluded => {
                (target.span, format!("excludes people on `{}`", target.name))
            }
            None => (target.span, format!("targets on `{}`", target.name)),
        };
        let mut v = violation(span, label, &chain, including_proxies);
        if !target.via.is_empty() {
            v = v.note(format!(
                "{}; a lookalike audience targets on what its seed targets on",
                target.explain()
            ));
        }
        out.push(v);
    }
    // Content that varies by a proxy (an offer by postal code) discriminates
    // like targeting does, so proxies count here too. A name used only in a
    // greeting is a known false positive; waive it with that justification.
    for attr in model.personalization_attributes() {
        if let Some(chain) = lineage(&attr.value, forbidden, including_proxies, cx) {
            out.push(violation(
                attr.span,
                format!("personalizes on `{}`", attr.value),
                &chain,
                including_proxies,
            ));
        }
    }
    if let Some(audience) = &model.audience {
        for feature in items(&audience.model_features) {
            if let Some(chain) = lineage(&feature.name.value, forbidden, including_proxies, cx) {
                out.push(violation(
                    feature.name.span,
                    format!(
                        "model feature `{}` selects the audience",
                        feature.name.value
                    ),
                    &chain,
                    including_proxies,
                ));
            }
        }
    }
    out
}

fn violation(
    span: Span,
    label: String,
    chain: &[(String, Option<Link>)],
    proxies: bool,
) -> Violation {
    let used = chain.first().map_or("", |(n, _)| n.as_str());
    let forbidden = chain.last().map_or("", |(n, _)| n.as_str());
    let arrows: Vec<String> = chain.iter().map(|(n, _)| format!("`{n}`")).collect();
    let arrows = arrows.join(" ← ");
    let message = if chain.len() > 1 {
        format!("audience is targeted on `{used}`, which comes from `{forbidden}`, an attribute this policy forbids targeting on")
    } else {
        format!(
            "audience is targeted on `{forbidden}`, an attribute this policy forbids targeting on"
        )
    };
    let mut v = Violation::new(span, label, message)
        .var("attribute", forbidden)
        .var("value", used)
        .var("chain", arrows.clone())
        // Empty when the attribute itself is used, so that messages do not
        // name it twice ("on `religion`, … (`religion`)").
        .var(
            "origin",
            if chain.len() > 1 {
                format!(", derived from `{forbidden}`")
            } else {
                String::new()
            },
        );
    if chain.len() > 1 {
        let steps: Vec<String> = chain
            .windows(2)
            .map(|w| {
                let how = match w[1].1 {
                    Some(Link::Proxy) => "is a proxy for",
                    Some(Link::DerivedInCampaign) => "is derived (in the campaign) from",
                    _ => "is derived (in the policy) from",
                };
                format!("`{}` {how} `{}`", w[0].0, w[1].0)
            })
            .collect();
        v = v.note(format!("chain: {arrows} ({})", steps.join(", ")));
        if proxies && chain.iter().any(|(_, l)| *l == Some(Link::Proxy)) {
            v = v.note("this rule counts proxies: an attribute that stands in for a protected one discriminates just the same");
        }
    }
    v
}

/// Breadth-first search from `start` to the nearest forbidden attribute;
/// returns the chain from `start` to it.
fn lineage(
    start: &str,
    forbidden: &SymbolSet,
    proxies: bool,
    cx: &Ctx<'_>,
) -> Option<Vec<(String, Option<Link>)>> {
    if set_contains(forbidden, start) {
        return Some(vec![(start.to_string(), None)]);
    }
    let mut parents: Vec<(String, Option<usize>, Option<Link>)> =
        vec![(start.to_string(), None, None)];
    let mut queue = VecDeque::from([0usize]);
    while let Some(at) = queue.pop_front() {
        let name = parents[at].0.clone();
        for (next, link) in sources(&name, proxies, cx) {
            if parents.iter().any(|(n, _, _)| *n == next) {
                continue;
            }
            parents.push((next.clone(), Some(at), Some(link)));
            let index = parents.len() - 1;
            if set_contains(forbidden, &next) {
                let mut chain = Vec::new();
                let mut cursor = Some(index);
                while let Some(i) = cursor {
                    chain.push((parents[i].0.clone(), parents[i].2));
                    cursor = parents[i].1;
                }
                chain.reverse();
                return Some(chain);
            }
            queue.push_back(index);
        }
    }
    None
}

/// Direct sources of an attribute: campaign derivations first, then policy
/// lineage.
fn sources(name: &str, proxies: bool, cx: &Ctx<'_>) -> Vec<(String, Link)> {
    let mut out = Vec::new();
    if let Some(audience) = &cx.campaign.model.audience {
        for derived in items(&audience.derived_attributes).filter(|d| d.name.value == name) {
            out.extend(
                items(&derived.derived_from).map(|s| (s.value.clone(), Link::DerivedInCampaign)),
            );
        }
        for feature in items(&audience.model_features).filter(|f| f.name.value == name) {
            out.extend(items(&feature.inputs).map(|s| (s.value.clone(), Link::DerivedInCampaign)));
        }
    }
    let (proxy_for, derived_from) = cx.policy.lineage(name);
    out.extend(
        derived_from
            .iter()
            .map(|i| (i.name.clone(), Link::DerivedInPolicy)),
    );
    if proxies {
        out.extend(proxy_for.iter().map(|i| (i.name.clone(), Link::Proxy)));
    }
    out
}
