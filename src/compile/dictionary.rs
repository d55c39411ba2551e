//! The data dictionary: what a team's attributes and values mean, declared
//! once next to its policies and used for every campaign and recipient.
//!
//! ```text
//! attribute medical_history category health.condition
//! attribute age_verified category none because "a yes/no flag, not an age"
//! values [asthma, copd, "type 2 diabetes"] category health.condition
//! ```
//!
//! A declaration overrides the taxonomy's classifier
//! ([`crate::taxonomy::classify`]) both ways: it makes a name the vocabulary
//! does not know sensitive, and it clears a look-alike the vocabulary reads as
//! sensitive. Clearing needs a `because` (checked when compiling), so that a
//! declaration never lets sensitive data through without a recorded reason.
//! [`Dictionary::read`] is the one place that reads a targeting input: the
//! dictionary first, the vocabulary otherwise.

use std::collections::BTreeMap;
use std::fmt;

use crate::diag::Severity;
use crate::source::Span;
use crate::taxonomy::normalize::tokens;
use crate::taxonomy::{classify, CategoryId, Classification, Ignored, Kind};

/// What one declaration says a name or value means.
#[derive(Clone, Debug)]
pub struct Meaning {
    /// The category; `None` for `category none`.
    pub category: Option<CategoryId>,
    /// The `because` text.
    pub reason: Option<String>,
    /// The name or value as declared.
    pub written: String,
    /// Index of the declaring file.
    pub file: usize,
    /// Where the name or value is written.
    pub span: Span,
}

/// Every `attribute … category …` and `values … category …` of a policy.
#[derive(Clone, Debug)]
pub struct Dictionary {
    /// Attribute names (as written) to their meaning.
    pub attributes: BTreeMap<String, Meaning>,
    /// Values, by [`Dictionary::key`], to their meaning.
    pub values: BTreeMap<String, Meaning>,
    /// How a targeting attribute nothing places is reported: a warning by
    /// default, an error with `[check] unknown_attributes = "error"`.
    pub unknown_attributes: Severity,
}

impl Default for Dictionary {
    fn default() -> Self {
        Dictionary {
            attributes: BTreeMap::new(),
            values: BTreeMap::new(),
            unknown_attributes: Severity::Warning,
        }
    }
}

/// How a targeting input was read.
#[derive(Clone, Debug)]
pub enum Reading {
    /// By a dictionary declaration.
    Dictionary(Meaning),
    /// By the taxonomy's vocabulary (which may place it nowhere).
    Vocabulary(Classification),
}

impl Reading {
    /// The category, if any.
    pub fn category(&self) -> Option<CategoryId> {
        match self {
            Reading::Dictionary(m) => m.category,
            Reading::Vocabulary(c) => c.category,
        }
    }

    /// Whether anything placed the input: a dictionary entry (even
    /// `category none`, which is a decision), a vocabulary category, or a
    /// known look-alike (`age_verified` is understood: it is not an age).
    pub fn is_placed(&self) -> bool {
        match self {
            Reading::Dictionary(_) => true,
            Reading::Vocabulary(c) => {
                c.category.is_some()
                    || c.evidence
                        .matches
                        .iter()
                        .any(|m| m.ignored == Ignored::Negative)
            }
        }
    }

    /// The deciding evidence in words: `data dictionary: declared
    /// health.condition` or `word `copd`: chronic lung disease`.
    pub fn evidence(&self) -> String {
        match self {
            Reading::Dictionary(m) => {
                let what = m.category.map_or("none", CategoryId::as_str);
                match &m.reason {
                    Some(r) => format!(
                        "data dictionary: `{}` declared {what} because {r:?}",
                        m.written
                    ),
                    None => format!("data dictionary: `{}` declared {what}", m.written),
                }
            }
            Reading::Vocabulary(c) => {
                let parts: Vec<String> = c.deciding().map(ToString::to_string).collect();
                parts.join("; ")
            }
        }
    }
}

impl fmt::Display for Reading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.category() {
            Some(c) => write!(f, "{c} ({})", self.evidence()),
            None => write!(f, "unclassified"),
        }
    }
}

impl Dictionary {
    /// The key a value is declared and looked up under: its normalised
    /// tokens, so `sign_language`, `Sign Language` and `signLanguage` are one.
    pub fn key(text: &str) -> String {
        tokens(text, false).0.join(" ")
    }

    /// Whether nothing is declared.
    pub fn is_empty(&self) -> bool {
        self.attributes.is_empty() && self.values.is_empty()
    }

    /// The declaration for `text` read as `kind`, if any: attribute names
    /// by name, everything else by value.
    pub fn lookup(&self, text: &str, kind: Kind) -> Option<&Meaning> {
        match kind {
            Kind::AttributeName => self.attributes.get(text),
            _ if self.values.is_empty() => None,
            _ => self.values.get(&Dictionary::key(text)),
        }
    }

    /// Reads one targeting input: the dictionary's declaration when there
    /// is one, else the vocabulary's classification.
    pub fn read(&self, text: &str, kind: Kind) -> Reading {
        match self.lookup(text, kind) {
            Some(m) => Reading::Dictionary(m.clone()),
            None => Reading::Vocabulary(classify(text, kind)),
        }
    }
}

/// The kind to read a filter string as: URLs and page paths are tokenised
/// differently from plain values.
pub fn value_kind(text: &str) -> Kind {
    let t = text.trim_start();
    if t.contains("://") || t.starts_with("www.") || t.starts_with('/') {
        Kind::Url
    } else {
        Kind::Value
    }
}

/// The kind to read an operand of a filter on `attribute` as: a URL when
/// it looks like one ([`value_kind`]), or when the attribute holds pages
/// (`page_url`, `pages_viewed`, `referrer`) and the operand has a path or a
/// host in it (`cancer.org`, `health/oncology`) — page-path rules are
/// written without the scheme.
pub fn operand_kind(attribute: &str, text: &str) -> Kind {
    let kind = value_kind(text);
    if kind == Kind::Url {
        return kind;
    }
    let lower = attribute.to_ascii_lowercase();
    let pages = [
        "url", "uri", "page", "path", "referrer", "referer", "landing",
    ]
    .iter()
    .any(|w| lower.contains(w));
    let looks_like_path = text.contains('/')
        || text
            .split('.')
            .skip(1)
            .any(|part| part.chars().next().is_some_and(|c| c.is_ascii_alphabetic()));
    if pages && looks_like_path && !text.contains(' ') {
        Kind::Url
    } else {
        Kind::Value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_operands_read_as_urls() {
        assert_eq!(operand_kind("page_url", "health/oncology"), Kind::Url);
        assert_eq!(operand_kind("pages_viewed", "cancer.org"), Kind::Url);
        assert_eq!(operand_kind("pages_viewed", "oncology"), Kind::Value);
        assert_eq!(operand_kind("interests", "cancer.org"), Kind::Value);
        assert_eq!(operand_kind("interests", "/oncology"), Kind::Url);
    }

    #[test]
    fn values_are_keyed_by_their_tokens() {
        assert_eq!(
            Dictionary::key("Sign-Language"),
            Dictionary::key("sign_language")
        );
        assert_eq!(Dictionary::key("signLanguage"), "sign language");
    }
}
