//! Resolved conditions: `when` and `ensure` expressions after name resolution.
//!
//! Set references are replaced by their members, regexes are compiled and
//! path aliases are expanded, so evaluation does no lookups by name.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::syntax::ast::CompareOp;

/// A set of symbols after resolution (members of named sets flattened).
pub type SymbolSet = BTreeSet<String>;

/// The prefix of a set member that stands for a taxonomy category rather
/// than a name (`category health` in a policy is the member
/// `category:health`).
pub const CATEGORY_PREFIX: &str = "category:";

/// The set member standing for the taxonomy category `id`.
pub fn category_member(id: &str) -> String {
    format!("{CATEGORY_PREFIX}{id}")
}

/// The taxonomy categories a set holds, as dotted ids.
pub fn set_categories(set: &SymbolSet) -> Vec<&str> {
    set.iter()
        .filter_map(|m| m.strip_prefix(CATEGORY_PREFIX))
        .collect()
}

/// A campaign path, aliases expanded (`channel` → `channels`).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldPath {
    /// The segments.
    pub segments: Vec<String>,
}

impl FieldPath {
    /// Builds a path from written segments, expanding the singular aliases
    /// that read naturally in conditions.
    pub fn new(written: impl IntoIterator<Item = String>) -> FieldPath {
        let mut segments: Vec<String> = written.into_iter().collect();
        if let Some(first) = segments.first_mut() {
            let plural = match first.as_str() {
                "channel" => Some("channels"),
                "jurisdiction" => Some("jurisdictions"),
                "purpose" => Some("purposes"),
                _ => None,
            };
            if let Some(plural) = plural {
                *first = plural.to_string();
            }
        }
        FieldPath { segments }
    }

    /// Dotted form for messages.
    pub fn dotted(&self) -> String {
        self.segments.join(".")
    }
}

/// A resolved operand.
#[derive(Clone, Debug, PartialEq)]
pub enum Term {
    /// A campaign field (or a field of a quantified variable).
    Path(FieldPath),
    /// A symbol (`email`, `housing`).
    Symbol(String),
    /// A string.
    Str(String),
    /// A number.
    Number(f64),
    /// A boolean.
    Bool(bool),
    /// A literal list of symbols.
    List(Vec<String>),
}

/// A resolved boolean condition.
#[derive(Clone, Debug)]
pub enum Cond {
    /// Any holds.
    Or(Vec<Cond>),
    /// All hold.
    And(Vec<Cond>),
    /// Negation.
    Not(Box<Cond>),
    /// Comparison; a list on the left matches if any element matches.
    Compare {
        /// Left side.
        lhs: Term,
        /// Operator.
        op: CompareOp,
        /// Right side.
        rhs: Term,
    },
    /// Membership, hierarchical for codes (`EU-FR` is in `[EU]`).
    In {
        /// The value tested.
        lhs: Term,
        /// `not in`.
        negated: bool,
        /// The members.
        set: Arc<SymbolSet>,
    },
    /// Regex match on a string.
    Matches {
        /// The value tested.
        lhs: Term,
        /// The compiled pattern.
        regex: regex::Regex,
    },
    /// `is present` / `is absent`.
    Presence {
        /// The value tested.
        lhs: Term,
        /// `is present`.
        present: bool,
    },
    /// A bare value: present and not false, zero or empty.
    Truthy(Term),
    /// `any`/`all` over a list field.
    Quantified {
        /// `all` rather than `any`.
        all: bool,
        /// The bound name.
        var: String,
        /// The list.
        list: FieldPath,
        /// Condition per element.
        body: Box<Cond>,
    },
}

impl Cond {
    /// Every campaign path the condition reads, for labels and docs.
    pub fn paths(&self, out: &mut Vec<FieldPath>) {
        let term = |t: &Term, out: &mut Vec<FieldPath>| {
            if let Term::Path(p) = t {
                out.push(p.clone());
            }
        };
        match self {
            Cond::Or(cs) | Cond::And(cs) => cs.iter().for_each(|c| c.paths(out)),
            Cond::Not(c) => c.paths(out),
            Cond::Compare { lhs, rhs, .. } => {
                term(lhs, out);
                term(rhs, out);
            }
            Cond::In { lhs, .. }
            | Cond::Matches { lhs, .. }
            | Cond::Presence { lhs, .. }
            | Cond::Truthy(lhs) => term(lhs, out),
            Cond::Quantified { list, .. } => out.push(list.clone()),
        }
    }
}

/// True if `code` equals `ancestor` or lies within it (`EU-FR` within `EU`).
pub fn within(code: &str, ancestor: &str) -> bool {
    code == ancestor
        || (code.len() > ancestor.len()
            && code.starts_with(ancestor)
            && code.as_bytes().get(ancestor.len()) == Some(&b'-'))
}

/// True if `value` is a member of `set`, hierarchically.
pub fn set_contains(set: &SymbolSet, value: &str) -> bool {
    if set.contains(value) {
        return true;
    }
    // Walk up `EU-FR-75` → `EU-FR` → `EU`.
    let mut rest = value;
    while let Some((parent, _)) = rest.rsplit_once('-') {
        if set.contains(parent) {
            return true;
        }
        rest = parent;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jurisdictions_are_hierarchical() {
        assert!(within("EU-FR", "EU"));
        assert!(within("EU", "EU"));
        assert!(!within("EUX", "EU"));
        assert!(!within("EU", "EU-FR"));
        let set: SymbolSet = ["EU".to_string()].into_iter().collect();
        assert!(set_contains(&set, "EU-FR"));
        assert!(!set_contains(&set, "US-CA"));
    }

    #[test]
    fn aliases_expand() {
        let p = FieldPath::new(["channel".to_string()]);
        assert_eq!(p.dotted(), "channels");
        let p = FieldPath::new(["message".to_string(), "channel".to_string()]);
        assert_eq!(p.dotted(), "message.channel");
    }
}
