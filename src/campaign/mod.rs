//! Campaign files: YAML descriptions of a marketing campaign, loaded with
//! spans so every finding can point at the text that caused it.
//!
//! [`load`] runs three steps:
//! 1. `yaml` parses the text with serde-saphyr into a spanned [`Node`] tree
//!    (syntax errors, empty files, duplicate keys);
//! 2. `build` walks the tree along the schema and builds the typed
//!    [`CampaignModel`], collecting every problem rather than stopping at
//!    the first (unknown keys, wrong types, missing keys, bad values);
//! 3. the [`Campaign`] keeps the source, the tree and the model together.
//!
//! The schema is documented in `docs/campaign.md` and published as JSON
//! Schema in [`CAMPAIGN_SCHEMA`].

pub mod advice;
mod build;
pub mod model;
mod shape;
pub mod tree;
mod yaml;

#[cfg(test)]
mod tests;

pub use model::*;
pub use tree::{Entry, Node, Value};

use crate::diag::Diag;
use crate::source::{Source, Span};

/// The campaign JSON Schema (draft 2020-12), matching what [`load`] accepts.
pub const CAMPAIGN_SCHEMA: &str = include_str!("../../schemas/campaign.schema.json");

/// Diagnostic codes produced while loading a campaign.
pub mod codes {
    /// The text is not YAML (or is too large or deeply nested to read).
    pub const SYNTAX: &str = "scruple::campaign::syntax";
    /// The file holds no document.
    pub const EMPTY: &str = "scruple::campaign::empty";
    /// A mapping repeats a key.
    pub const DUPLICATE_KEY: &str = "scruple::campaign::duplicate_key";
    /// A key the schema does not have.
    pub const UNKNOWN_KEY: &str = "scruple::campaign::unknown_key";
    /// A required key is absent.
    pub const MISSING_KEY: &str = "scruple::campaign::missing_key";
    /// A value of the wrong kind (a number where a list was expected…).
    pub const TYPE_ERROR: &str = "scruple::campaign::type_error";
    /// A word outside a closed set: a channel, category, operator, time zone…
    pub const UNKNOWN_VALUE: &str = "scruple::campaign::unknown_value";
    /// A value of the right kind but wrong form or range: a jurisdiction
    /// code, a date, an interval, an empty age range, a lookalike cycle.
    pub const INVALID_VALUE: &str = "scruple::campaign::invalid_value";
    /// Two segments with one name, or two waivers for one rule.
    pub const DUPLICATE_NAME: &str = "scruple::campaign::duplicate_name";
    /// A bug in the loader (a model could not be built but nothing was reported).
    pub const INTERNAL: &str = "scruple::campaign::internal";
}

/// A loaded campaign.
#[derive(Clone, Debug)]
pub struct Campaign {
    /// The file it was read from.
    pub source: Source,
    /// Every value with its span, for lookups outside the typed model.
    pub tree: Node,
    /// The validated, typed campaign.
    pub model: CampaignModel,
}

/// Reads and validates a campaign. On failure, returns every problem found,
/// in document order.
pub fn load(source: &Source) -> Result<Campaign, Vec<Diag>> {
    let mut diags = Vec::new();
    let Some(tree) = yaml::parse(source, &mut diags) else {
        return Err(diags);
    };
    validate(source, tree, diags)
}

/// Parses YAML text into a spanned tree with the campaign loader's settings,
/// for other YAML inputs (policy test files). Diagnostics carry the
/// `scruple::campaign::` codes; `None` when the text is not YAML or empty.
pub(crate) fn parse_tree(source: &Source, diags: &mut Vec<Diag>) -> Option<Node> {
    yaml::parse(source, diags)
}

/// Validates a campaign written as a mapping inside another YAML document
/// (an inline campaign in a policy test file); spans point into `source`.
pub(crate) fn from_tree(source: &Source, tree: Node) -> Result<Campaign, Vec<Diag>> {
    validate(source, tree, Vec::new())
}

/// Builds the model from a parsed tree; `diags` holds problems found so far.
fn validate(source: &Source, tree: Node, mut diags: Vec<Diag>) -> Result<Campaign, Vec<Diag>> {
    let model = build::build(source, &tree, &mut diags);
    match model {
        Some(model) if diags.is_empty() => {
            let mut tree = tree;
            canonical_jurisdictions(&mut tree, &model);
            Ok(Campaign {
                source: source.clone(),
                tree,
                model,
            })
        }
        _ => {
            if diags.is_empty() {
                diags.push(Diag::error(
                    codes::INTERNAL,
                    "the campaign could not be loaded, but no problem was reported (a bug in scruple)",
                ));
            }
            diags.sort_by_key(|d| d.labels.first().map(|l| l.span.start));
            Err(diags)
        }
    }
}

/// Writes the model's jurisdiction codes into the tree, which rule
/// conditions read: `FR` as written is `EU-FR` to `jurisdiction in [EU]`.
fn canonical_jurisdictions(tree: &mut Node, model: &CampaignModel) {
    let Value::Map(entries) = &mut tree.value else {
        return;
    };
    let Some(entry) = entries.iter_mut().find(|e| e.key == "jurisdictions") else {
        return;
    };
    let Value::List(items) = &mut entry.value.value else {
        return;
    };
    for (item, code) in items.iter_mut().zip(model.jurisdictions()) {
        item.value = Value::Str(code.as_str().to_owned());
    }
}

impl Campaign {
    /// The span of the value at `path` (keys and list indices, e.g.
    /// `["audience", "segments", "0"]`). An empty value (`key:`) gives its
    /// key's span. A missing path gives where it would go: the key of the
    /// deepest existing map entry on the path (`message:` for a missing
    /// `message.unsubscribe`), the `-` (or first bracket) of a list item, or
    /// the start of the document; so "missing field" diagnostics can point at
    /// the parent.
    pub fn span_of(&self, path: &[&str]) -> Option<Span> {
        let found = self.tree.locate(&self.source.text, path);
        Some(match found.node {
            Some(node) if !node.span.is_empty() => node.span,
            _ => found.anchor,
        })
    }

    /// The span of the key at the end of `path`, if it exists and ends at a
    /// map entry (list items have no key).
    pub fn key_span_of(&self, path: &[&str]) -> Option<Span> {
        let found = self.tree.locate(&self.source.text, path);
        found.node.and(found.key_span)
    }

    /// The value at `path`, if present.
    pub fn get(&self, path: &[&str]) -> Option<&Node> {
        self.tree.get_path(path)
    }
}
