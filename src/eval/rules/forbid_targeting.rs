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
//! **By meaning**: when the forbidden set holds taxonomy categories
//! (`category health`, `law gdpr_art9`), the rule also classifies
//! ([`crate::taxonomy::classify`]) every attribute name on the way, each
//! string of a filter's value (list items one by one; URLs as URLs), and
//! each segment and lookalike-seed name, and fires when one falls within a
//! forbidden category: `chronic_conditions in [asthma, copd]` is health data
//! even though no set lists those words. The finding points at the name or
//! value and carries the classifier's evidence. Name matches come first, so
//! a set's own members keep their existing messages.
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

use crate::campaign::model::{items, regex_words, FilterOp, FilterValue, Scalar, Spanned};
use crate::compile::cond::{set_categories, set_contains, SymbolSet};
use crate::compile::dictionary::{operand_kind, Dictionary, Reading as DictReading};
use crate::eval::{Ctx, Violation};
use crate::source::Span;
use crate::taxonomy::{classify, CategoryId, Kind};

/// How one attribute leads to another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    DerivedInCampaign,
    DerivedInPolicy,
    Proxy,
}

/// What a rule forbids: names (members of the set, with lineage) and
/// taxonomy categories (members written `category …` or `law …`).
struct Forbidden<'a> {
    names: &'a SymbolSet,
    categories: Vec<&'a str>,
    dictionary: &'a Dictionary,
}

/// How a text was read into a forbidden category.
#[derive(Clone, Debug)]
struct Reading {
    /// The text as written in the campaign.
    text: String,
    /// The category it was classified into.
    category: CategoryId,
    /// The deciding evidence (`word `copd`: chronic lung disease`).
    evidence: String,
}

impl Reading {
    /// "`copd` is health.condition data (word `copd`: chronic lung disease)".
    fn sentence(&self) -> String {
        format!(
            "`{}` is {} data ({})",
            self.text, self.category, self.evidence
        )
    }
}

impl Forbidden<'_> {
    /// Classifies `text` and returns how it was read when its category lies
    /// within a forbidden one. Nothing is classified for a set without
    /// categories, so name-only sets behave exactly as before.
    fn read(&self, text: &str, kind: Kind) -> Option<Reading> {
        if self.categories.is_empty() || text.trim().is_empty() {
            return None;
        }
        let found = self.dictionary.read(text, kind);
        let category = found.category()?;
        let c = category.category();
        if !self.categories.iter().any(|f| c.is_within(f)) {
            return None;
        }
        // A page says what it is about; the site's name decides only when
        // the page does not. `shop.pharmacy.example/shoes/running` is a shoe
        // page, not health data, while `cancer.org/` stays health. A
        // dictionary entry for the whole URL is a decision and stands.
        if kind == Kind::Url && matches!(found, DictReading::Vocabulary(_)) {
            if let Some(path) = url_path(text) {
                let page = classify(path, Kind::Url);
                if page.category.is_some_and(|p| !p.is_sensitive()) {
                    return None;
                }
            }
        }
        Some(Reading {
            text: text.to_string(),
            category,
            evidence: found.evidence(),
        })
    }

    /// Whether the attribute `name` is forbidden: by being in the set
    /// (`Some(None)`), or, when `by_meaning`, by what its name means
    /// (`Some(Some(reading))`).
    fn attribute(&self, name: &str, by_meaning: bool) -> Option<Option<Reading>> {
        if !by_meaning {
            return set_contains(self.names, name).then_some(None);
        }
        self.read(name, Kind::AttributeName).map(Some)
    }
}

/// The path of a URL (`/shoes/running`), without host, query or fragment;
/// `None` when there is no path beyond `/`.
fn url_path(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = &rest[rest.find('/')?..];
    let path = path.split(['?', '#']).next().unwrap_or(path);
    (path.len() > 1).then_some(path)
}

/// The strings of a filter value as written, as read, and where each is
/// written; a regular expression (`matches`) is read by its words
/// ([`regex_words`]) and shown as written.
fn strings(value: &Spanned<FilterValue>, op: FilterOp) -> Vec<(&str, String, Span)> {
    let text = |s: &str| {
        if op.is_regex() {
            regex_words(s)
        } else {
            s.to_string()
        }
    };
    match &value.value {
        FilterValue::One(Scalar::Str(s)) => vec![(s.as_str(), text(s), value.span)],
        FilterValue::One(_) => Vec::new(),
        FilterValue::Many(list) => list
            .iter()
            .filter_map(|item| match &item.value {
                Scalar::Str(s) => Some((s.as_str(), text(s), item.span)),
                _ => None,
            })
            .collect(),
    }
}

/// Returns one violation per use of an attribute whose lineage reaches a
/// forbidden attribute or category, per filter whose value is read into a
/// forbidden category, and per segment whose name is.
pub fn check(forbidden: &SymbolSet, including_proxies: bool, cx: &Ctx<'_>) -> Vec<Violation> {
    let forbidden = Forbidden {
        names: forbidden,
        categories: set_categories(forbidden),
        dictionary: &cx.policy.dictionary,
    };
    let model = &cx.campaign.model;
    let mut out = Vec::new();
    // Segments (as named in the audience) that already have a finding from
    // their filters: their names then add nothing but noise.
    let mut reported: Vec<&str> = Vec::new();

    for target in model.targeted_attributes() {
        // The attribute first; its values only when the name itself passes,
        // so that one filter gives one finding.
        let (chain, reading, value_at) =
            match lineage(target.name, &forbidden, including_proxies, cx) {
                Some((chain, reading)) => (chain, reading, None),
                None => {
                    let hits: Vec<(Reading, Span)> = target
                        .value
                        .map(|v| strings(v, target.op))
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|(written, text, span)| {
                            let kind = operand_kind(target.name, &text);
                            let mut r = forbidden.read(&text, kind)?;
                            r.text = written.to_string();
                            Some((r, span))
                        })
                        .collect();
                    let Some((first, span)) = hits.first().cloned() else {
                        continue;
                    };
                    let others: Vec<String> =
                        hits.iter().skip(1).map(|(r, _)| r.sentence()).collect();
                    let mut first = first;
                    if !others.is_empty() {
                        first.evidence = format!("{}; also {}", first.evidence, others.join(", "));
                    }
                    (vec![(first.text.clone(), None)], Some(first), Some(span))
                }
            };
        let what = match &value_at {
            Some(_) => format!("`{}` value `{}`", target.name, chain[0].0),
            None => format!("`{}`", target.name),
        };
        let (span, label) = match target.via.first() {
            Some(lookalike) => (
                lookalike
                    .lookalike_of
                    .as_ref()
                    .map_or(lookalike.name.span, |l| l.span),
                format!("lookalike of a segment that targets on {what}"),
            ),
            None if target.excluded => (
                value_at.unwrap_or(target.span),
                format!("excludes people on {what}"),
            ),
            None => (
                value_at.unwrap_or(target.span),
                format!("targets on {what}"),
            ),
        };
        reported.push(&target.via.first().unwrap_or(&target.segment).name.value);
        let mut v = violation(span, label, &chain, including_proxies, reading.as_ref());
        if !target.via.is_empty() {
            v = v.note(format!(
                "{}; a lookalike audience targets on what its seed targets on",
                target.explain()
            ));
        }
        out.push(v);
    }
    // A segment's name says whom it holds: an audience called "Debt-stressed
    // renters" selects on financial hardship whatever its filters say (Meta
    // has flagged such names since 2025). A lookalike seeded from an audience
    // kept elsewhere is judged by that audience's name, the only thing known.
    let segments = model.segments().map(|s| (s, false));
    for (segment, excluded) in segments.chain(model.exclusions().map(|s| (s, true))) {
        if reported.contains(&segment.name.value.as_str()) {
            continue;
        }
        if let Some(r) = forbidden.read(&segment.name.value, Kind::AudienceName) {
            let verb = if excluded { "excludes" } else { "targets" };
            out.push(violation(
                segment.name.span,
                format!("{verb} the segment `{}`", r.text),
                &[(r.text.clone(), None)],
                including_proxies,
                Some(&r),
            ));
        }
        let chain = model.lookalike_chain(segment);
        if let Some(seed) = chain.unresolved {
            if let Some(r) = forbidden.read(&seed.value, Kind::AudienceName) {
                out.push(
                    violation(
                        seed.span,
                        format!("lookalike of the audience `{}`", r.text),
                        &[(r.text.clone(), None)],
                        including_proxies,
                        Some(&r),
                    )
                    .note("a lookalike audience targets on what its seed targets on"),
                );
            }
        }
    }
    // Content that varies by a proxy (an offer by postal code) discriminates
    // like targeting does, so proxies count here too. A name used only in a
    // greeting is a known false positive; waive it with that justification.
    for attr in model.personalization_attributes() {
        if let Some((chain, reading)) = lineage(&attr.value, &forbidden, including_proxies, cx) {
            out.push(violation(
                attr.span,
                format!("personalizes on `{}`", attr.value),
                &chain,
                including_proxies,
                reading.as_ref(),
            ));
        }
    }
    if let Some(audience) = &model.audience {
        for feature in items(&audience.model_features) {
            if let Some((chain, reading)) =
                lineage(&feature.name.value, &forbidden, including_proxies, cx)
            {
                out.push(violation(
                    feature.name.span,
                    format!(
                        "model feature `{}` selects the audience",
                        feature.name.value
                    ),
                    &chain,
                    including_proxies,
                    reading.as_ref(),
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
    reading: Option<&Reading>,
) -> Violation {
    let used = chain.first().map_or("", |(n, _)| n.as_str());
    let last = chain.last().map_or("", |(n, _)| n.as_str());
    let arrows: Vec<String> = chain.iter().map(|(n, _)| format!("`{n}`")).collect();
    let arrows = arrows.join(" ← ");
    if let Some(r) = reading {
        return by_meaning(span, label, chain, used, last, &arrows, r, proxies);
    }
    let forbidden = last;
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

/// The violation for a chain that ends in a text read into a forbidden
/// category: `{attribute}` is the category, `{origin}` says how it was read.
#[allow(clippy::too_many_arguments)]
fn by_meaning(
    span: Span,
    label: String,
    chain: &[(String, Option<Link>)],
    used: &str,
    last: &str,
    arrows: &str,
    r: &Reading,
    proxies: bool,
) -> Violation {
    let message = if chain.len() > 1 {
        format!("audience is targeted on `{used}`, which comes from `{last}`, read as {} data, a category this policy forbids targeting on", r.category)
    } else {
        format!(
            "audience is targeted on `{used}`, read as {} data, a category this policy forbids targeting on",
            r.category
        )
    };
    let origin = if chain.len() > 1 {
        format!(", derived from `{last}` ({} data)", r.category)
    } else {
        format!(", read as {} data", r.category)
    };
    let mut v = Violation::new(span, label, message)
        .var("attribute", r.category.as_str())
        .var("value", used)
        .var("chain", arrows.to_string())
        .var("origin", origin)
        .note(format!("read by meaning: {}", r.sentence()));
    if chain.len() > 1 {
        v = v.note(format!("chain: {arrows}"));
        if proxies && chain.iter().any(|(_, l)| *l == Some(Link::Proxy)) {
            v = v.note("this rule counts proxies: an attribute that stands in for a protected one discriminates just the same");
        }
    }
    v
}

/// What [`lineage`] returns: the chain from the attribute used to the
/// forbidden one, and how the last one was read when it is forbidden by
/// meaning rather than by name.
type Found = (Vec<(String, Option<Link>)>, Option<Reading>);

/// The chain from `start` to the nearest forbidden attribute. Names and
/// declared lineage are searched first, so that a policy's own facts
/// (`graduation_year proxy_for age`) explain a finding before the
/// classifier's reading of a name does; meaning is the fallback.
fn lineage(start: &str, forbidden: &Forbidden<'_>, proxies: bool, cx: &Ctx<'_>) -> Option<Found> {
    search(start, forbidden, false, proxies, cx)
        .or_else(|| search(start, forbidden, true, proxies, cx))
}

/// Breadth-first search from `start` to the nearest attribute forbidden by
/// name, or by meaning when `by_meaning`.
fn search(
    start: &str,
    forbidden: &Forbidden<'_>,
    by_meaning: bool,
    proxies: bool,
    cx: &Ctx<'_>,
) -> Option<Found> {
    if let Some(reading) = forbidden.attribute(start, by_meaning) {
        return Some((vec![(start.to_string(), None)], reading));
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
            if let Some(reading) = forbidden.attribute(&next, by_meaning) {
                let mut chain = Vec::new();
                let mut cursor = Some(index);
                while let Some(i) = cursor {
                    chain.push((parents[i].0.clone(), parents[i].2));
                    cursor = parents[i].1;
                }
                chain.reverse();
                return Some((chain, reading));
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
