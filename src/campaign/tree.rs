//! The generic spanned value tree of a campaign file.
//!
//! The typed model ([`super::model`]) covers the schema; rules that need to
//! look at arbitrary places (or at a place that is missing) use this tree,
//! where every value keeps the byte span it was written at and every map
//! entry also keeps the span of its key.

use crate::source::Span;

/// One YAML value with the span of its text.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where the value is written. Scalars cover their text (quotes included,
    /// trailing blank lines of block scalars excluded); block mappings start at
    /// their first key and flow collections at their bracket; both end with
    /// their last child. A value reached through an alias (`*name`) spans the
    /// alias. An empty value (`key:` with nothing after it) is an empty span.
    pub span: Span,
}

/// A YAML value. Mapping keys are kept as text, in document order.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`, `~` or nothing at all.
    Null,
    /// `true` or `false` (YAML 1.2: `yes`/`no`/`on`/`off` are strings).
    Bool(bool),
    /// An integer that fits in `i64`.
    Int(i64),
    /// Any other number, including integers too large for `i64`, `.inf` and `.nan`.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    List(Vec<Node>),
    /// A mapping; duplicate keys are rejected while loading, so keys are unique.
    Map(Vec<Entry>),
}

/// One `key: value` pair of a mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The key as text (non-string scalar keys such as `1` are kept as written).
    pub key: String,
    /// Where the key is written.
    pub key_span: Span,
    /// The value.
    pub value: Node,
}

/// The outcome of following a path as far as it exists (see [`Node::locate`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Located<'a> {
    /// The node at the end of the path, if the whole path exists.
    pub node: Option<&'a Node>,
    /// The span of the last key on the path, if the path ends at a map entry.
    pub key_span: Option<Span>,
    /// Where to point when the node is missing (or empty): the key of the
    /// deepest existing map entry, the [`item_anchor`] of the deepest existing
    /// list item, or the start of the document.
    pub anchor: Span,
}

impl Node {
    /// The entry for `key` when this is a mapping.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.as_map()?.iter().find(|e| e.key == key)
    }

    /// The value for `key` when this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// Item `index` when this is a list.
    pub fn index(&self, index: usize) -> Option<&Node> {
        self.as_list()?.get(index)
    }

    /// One path step: a key of a mapping, or a decimal index into a list.
    pub fn child(&self, step: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(_) => self.get(step),
            Value::List(items) => step.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        }
    }

    /// Follows a path of keys and list indices, e.g.
    /// `["audience", "segments", "0", "name"]`.
    pub fn get_path(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, step| node.child(step))
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The integer, if this is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self.value {
            Value::Int(i) => Some(i),
            _ => None,
        }
    }

    /// The number as a float, if this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self.value {
            // Precision loss above 2^53 is acceptable for comparisons.
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            _ => None,
        }
    }

    /// The items, if this is a list.
    pub fn as_list(&self) -> Option<&[Node]> {
        match &self.value {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// True for `null`, `~` and empty values.
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// True for null, booleans, numbers and strings.
    pub fn is_scalar(&self) -> bool {
        !matches!(self.value, Value::List(_) | Value::Map(_))
    }

    /// What kind of value this is, in plain words with an article
    /// ("a number", "a list"), for "expected …, found …" messages.
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null if self.span.is_empty() => "nothing",
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Float(f) if f.fract() != 0.0 => "a decimal number",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::List(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// A short span that stands for this node in a label: the first key of a
    /// block mapping, the first `-` of a block list, the opening bracket of a
    /// flow collection, or the whole of a scalar.
    pub fn head_span(&self) -> Span {
        let first_child = match &self.value {
            Value::Map(entries) => entries.first().map(|e| e.key_span),
            Value::List(items) => items.first().map(Node::head_span),
            _ => return self.span,
        };
        match first_child {
            // A flow collection starts before its first child: point at the bracket.
            Some(child) if child.start == self.span.start => child,
            _ => Span {
                start: self.span.start,
                end: self.span.start.saturating_add(1).min(self.span.end),
            },
        }
    }

    /// Follows `path` from this (root) node as far as it exists; `text` is
    /// the source the tree was read from.
    pub(crate) fn locate<'a>(&'a self, text: &str, path: &[&str]) -> Located<'a> {
        let mut node = self;
        let mut key_span = None;
        let mut anchor = Span {
            start: self.span.start,
            end: self.span.start,
        };
        for step in path {
            let next = match &node.value {
                Value::Map(_) => node.entry(step).map(|e| {
                    key_span = Some(e.key_span);
                    anchor = e.key_span;
                    &e.value
                }),
                Value::List(_) => node.child(step).inspect(|item| {
                    key_span = None;
                    anchor = item_anchor(text, item);
                }),
                _ => None,
            };
            match next {
                Some(next) => node = next,
                None => {
                    return Located {
                        node: None,
                        key_span: None,
                        anchor,
                    };
                }
            }
        }
        Located {
            node: Some(node),
            key_span,
            anchor,
        }
    }

    /// Every node in document order, depth first, with its path (for rules
    /// that search the whole campaign, e.g. for an attribute name).
    pub fn walk(&self) -> Vec<(Vec<String>, &Node)> {
        let mut out = Vec::new();
        let mut stack = vec![(Vec::new(), self)];
        while let Some((path, node)) = stack.pop() {
            match &node.value {
                Value::Map(entries) => {
                    for e in entries.iter().rev() {
                        let mut p = path.clone();
                        p.push(e.key.clone());
                        stack.push((p, &e.value));
                    }
                }
                Value::List(items) => {
                    for (i, item) in items.iter().enumerate().rev() {
                        let mut p = path.clone();
                        p.push(i.to_string());
                        stack.push((p, item));
                    }
                }
                _ => {}
            }
            out.push((path, node));
        }
        out
    }
}

/// Where to point for a list item as a whole (to say something is missing
/// from it): the `-` of a block list item, else the item's [`Node::head_span`].
pub(crate) fn item_anchor(text: &str, item: &Node) -> Span {
    let before = text.get(..item.span.start as usize).unwrap_or("");
    let before = before.trim_end_matches([' ', '\t']);
    if before.ends_with('-') {
        Span::new(before.len() - 1, before.len())
    } else {
        item.head_span()
    }
}
