//! YAML text → spanned [`Node`] tree, through serde-saphyr.
//!
//! serde-saphyr does the parsing (with its budgets against alias bombs and
//! deep nesting) and hands each value to a visitor wrapped in
//! [`serde_saphyr::Spanned`], which carries the value's location. The visitor
//! builds a raw tree; [`Lowering`] then turns locations into byte [`Span`]s,
//! rejects duplicate and non-scalar keys, and fixes up container spans, which
//! serde-saphyr only reports as a start position.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{DuplicateKeyPolicy, MessageFormatter as _, NonFiniteFloatPolicy};

use super::codes;
use super::tree::{Entry, Node, Value};
use crate::diag::Diag;
use crate::source::{Source, Span};

/// Deepest nesting accepted. The schema needs 7 levels; the cap keeps the
/// recursive visitor well within a 2 MiB thread stack.
const MAX_DEPTH: usize = 32;

/// Parses `source` into a tree. Returns `None` (with a diagnostic) when the
/// text is not YAML or holds no document; otherwise the tree plus diagnostics
/// about duplicate or unusable keys.
pub(crate) fn parse(source: &Source, diags: &mut Vec<Diag>) -> Option<Node> {
    let text: &str = &source.text;
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    let options = serde_saphyr::options! {
        budget: Some(budget),
        // YAML 1.2 booleans, so `NO` (Norway) and `on` stay strings.
        strict_booleans: true,
        // Duplicates reach the visitor, which reports them all with both spans.
        duplicate_keys: DuplicateKeyPolicy::PassThrough,
        // `.inf` and `1e999` become floats; the schema rejects them where it matters.
        non_finite_float_policy: NonFiniteFloatPolicy::PassThrough,
        // `0123` is an identifier (a postal code), not the number 123.
        leading_zero_numbers_as_strings: true,
        emit_comments: false,
        with_snippet: false,
    };
    let raw = match serde_saphyr::from_str_with_options::<Raw>(text, options) {
        Ok(raw) => raw,
        Err(err) => {
            diags.push(syntax_error(source, &err));
            return None;
        }
    };
    let root = Lowering { source, diags }.node(raw, &mut Vec::new());
    if root.is_null() && root.span.is_empty() {
        diags.push(
            Diag::error(codes::EMPTY, format!("`{}` is empty", source.name)).with_help(
                "a campaign needs at least an `id`, such as `id: spring-sale`; see docs/campaign.md",
            ),
        );
        return None;
    }
    Some(root)
}

/// The byte span of a serde-saphyr location in `text`.
fn location_span(text: &str, location: &serde_saphyr::Location) -> Option<Span> {
    if *location == serde_saphyr::Location::UNKNOWN {
        return None;
    }
    let span = location.span();
    let (start, len) = match (span.byte_offset(), span.byte_len()) {
        (Some(start), Some(len)) => (to_usize(start), to_usize(len)),
        // Parser errors only carry character offsets; walk the text to find
        // the bytes (a `\r\n` counts as two characters on both sides).
        _ => {
            let start = char_to_byte(text, to_usize(span.offset()));
            let len = char_to_byte(text.get(start..).unwrap_or(""), to_usize(span.len()));
            (start, len)
        }
    };
    let start = floor_char_boundary(text, start);
    let end = floor_char_boundary(text, start.saturating_add(len));
    Some(Span::new(start, end))
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Byte offset of the `chars`-th character (the text length if past the end).
fn char_to_byte(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(i, _)| i)
}

/// The largest char boundary at or below `i`, clamped to the text.
fn floor_char_boundary(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A diagnostic for text serde-saphyr could not read.
fn syntax_error(source: &Source, err: &serde_saphyr::Error) -> Diag {
    let inner = innermost(err);
    let detail = if let serde_saphyr::Error::MultipleDocuments { .. } = inner {
        "a second YAML document starts here".to_owned()
    } else {
        // The formatter omits the "at line …" suffix: the label shows the place.
        serde_saphyr::UserMessageFormatter
            .format_message(inner)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect()
    };
    let help = if let serde_saphyr::Error::MultipleDocuments { .. } = inner {
        "a campaign file holds one document: remove the `---` separator or split the file"
    } else if let serde_saphyr::Error::UnknownAnchor { .. } = inner {
        "an alias `*name` must refer to an anchor `&name` defined earlier in the file"
    } else if detail.contains(" tab") {
        "YAML indentation must use spaces, not tabs"
    } else if detail.contains("mapping values are not allowed") {
        "a value containing `: ` must be quoted, and nested keys need consistent indentation"
    } else if detail.contains("too large or too complex") || detail.contains("recursion limit") {
        "campaign files are small and shallow; this one nests too deeply or is too large"
    } else {
        "check indentation, quotes and brackets around this position"
    };
    let diag = Diag::error(
        codes::SYNTAX,
        format!("`{}` is not valid YAML", source.name),
    );
    let Some(mut span) = err.location().and_then(|l| location_span(&source.text, &l)) else {
        return diag.with_help(help).with_note(detail);
    };
    if detail.contains("found a tab") {
        // The parser points at the scalar it was reading; point at the tab.
        let tab = source
            .text
            .get(span.start as usize..)
            .and_then(|t| t.find('\t'));
        if let Some(offset) = tab {
            let at = span.start as usize + offset;
            span = Span::new(at, at + 1);
        }
    }
    // The parser often notices an unclosed `[` or `{` only lines later, at
    // the next `key:`; point at the bracket first.
    match unclosed_bracket(&source.text, span.start as usize) {
        Some(open) => diag
            .with_label(source, open, "this bracket is never closed")
            .with_label(source, span, format!("reading stopped here: {detail}"))
            .with_help("close the bracket, or write the list one `- item` per line"),
        _ => {
            // A value starting with an indicator (`op: >=` in a flow mapping).
            let token: String = source
                .slice(Span::new(span.start as usize, source.text.len()))
                .chars()
                .take_while(|c| !c.is_whitespace() && !",]}".contains(*c))
                .collect();
            let indicator = token.chars().next().filter(|c| ">|!&*%@`".contains(*c));
            let help = match indicator {
                Some(c) => format!("a value starting with `{c}` must be quoted: `\"{token}\"`"),
                None => help.to_owned(),
            };
            diag.with_label(source, span, detail).with_help(help)
        }
    }
}

/// The last flow bracket (`[` or `{`) before byte `before` that is still
/// open at the end of the text, skipping comments and quoted strings. Only
/// brackets that can start a flow collection count (after `:`, `-`, `,`,
/// another bracket, or at the start of a line), so a `[` inside plain text
/// is not mistaken for one.
fn unclosed_bracket(text: &str, before: usize) -> Option<Span> {
    let mut open: Vec<usize> = Vec::new();
    let mut prev = '\n';
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '#' if prev.is_whitespace() => while chars.next_if(|&(_, c)| c != '\n').is_some() {},
            '"' | '\'' if prev.is_whitespace() || "[{,:".contains(prev) => {
                // Skip the string: `\` escapes in double quotes, `''` in single
                // quotes reads as two strings back to back, which is the same.
                while let Some((_, q)) = chars.next() {
                    if q == '\\' && c == '"' {
                        chars.next();
                    } else if q == c {
                        break;
                    }
                }
            }
            '[' | '{' => {
                let before = text.get(..i).unwrap_or("").trim_end_matches([' ', '\t']);
                if before.is_empty() || before.ends_with(['\n', ':', '-', ',', '[', '{']) {
                    open.push(i);
                }
            }
            ']' | '}' => {
                open.pop();
            }
            _ => {}
        }
        prev = c;
    }
    open.iter()
        .rev()
        .find(|&&i| i < before)
        .map(|&i| Span::new(i, i + 1))
}

/// The error an alias or snippet wrapper carries.
fn innermost(err: &serde_saphyr::Error) -> &serde_saphyr::Error {
    match err {
        serde_saphyr::Error::AliasError { error, .. }
        | serde_saphyr::Error::WithSnippet { error, .. } => innermost(error),
        other => other,
    }
}

/// A value as serde-saphyr hands it over, with its location.
struct Raw(serde_saphyr::Spanned<RawValue>);

enum RawValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Raw>),
    Map(Vec<(Raw, Raw)>),
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde_saphyr::Spanned::deserialize(deserializer).map(Raw)
    }
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }

    fn visit_none<E>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<RawValue, E> {
        Ok(RawValue::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<RawValue, E> {
        Ok(RawValue::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<RawValue, E> {
        // Integers past i64 are far outside anything a campaign counts.
        Ok(i64::try_from(v).map_or(RawValue::Float(v as f64), RawValue::Int))
    }

    fn visit_i128<E>(self, v: i128) -> Result<RawValue, E> {
        Ok(i64::try_from(v).map_or(RawValue::Float(v as f64), RawValue::Int))
    }

    fn visit_u128<E>(self, v: u128) -> Result<RawValue, E> {
        Ok(i64::try_from(v).map_or(RawValue::Float(v as f64), RawValue::Int))
    }

    fn visit_f64<E>(self, v: f64) -> Result<RawValue, E> {
        Ok(RawValue::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<RawValue, E> {
        Ok(RawValue::Str(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<RawValue, E> {
        Ok(RawValue::Str(v))
    }

    fn visit_bytes<E>(self, v: &[u8]) -> Result<RawValue, E> {
        Ok(RawValue::Str(String::from_utf8_lossy(v).into_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(RawValue::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawValue, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key()? {
            entries.push((key, map.next_value()?));
        }
        Ok(RawValue::Map(entries))
    }
}

/// Turns the raw tree into [`Node`]s, reporting key problems as it goes.
struct Lowering<'a> {
    source: &'a Source,
    diags: &'a mut Vec<Diag>,
}

impl Lowering<'_> {
    /// Lowers one value; `path` names it for messages.
    fn node(&mut self, raw: Raw, path: &mut Vec<String>) -> Node {
        let text: &str = &self.source.text;
        // Use-site location: for a value reached through an alias, the alias.
        let start = location_span(text, &raw.0.referenced).unwrap_or_default();
        let value = match raw.0.value {
            RawValue::Null => Value::Null,
            RawValue::Bool(b) => Value::Bool(b),
            RawValue::Int(i) => Value::Int(i),
            RawValue::Float(f) => Value::Float(f),
            RawValue::Str(s) => Value::Str(s),
            RawValue::List(items) => Value::List(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| {
                        path.push(format!("[{i}]"));
                        let node = self.node(item, path);
                        path.pop();
                        node
                    })
                    .collect(),
            ),
            RawValue::Map(pairs) => Value::Map(self.entries(pairs, path)),
        };
        let span = match &value {
            Value::List(items) => container_span(text, start, items.iter().map(|n| n.span)),
            Value::Map(entries) => container_span(
                text,
                start,
                entries.iter().flat_map(|e| [e.key_span, e.value.span]),
            ),
            _ => trim_end(text, start),
        };
        Node { value, span }
    }

    fn entries(&mut self, pairs: Vec<(Raw, Raw)>, path: &mut Vec<String>) -> Vec<Entry> {
        let mut entries: Vec<Entry> = Vec::with_capacity(pairs.len());
        for (raw_key, raw_value) in pairs {
            let key_node = self.node(raw_key, path);
            let key_span = key_node.span;
            let key = match key_node.value {
                Value::Str(s) => s,
                Value::List(_) | Value::Map(_) => {
                    self.diags.push(
                        Diag::error(
                            codes::TYPE_ERROR,
                            format!("a key {} is {}", where_(path), key_node.kind()),
                        )
                        .with_label(self.source, key_span, "keys must be plain names")
                        .with_help("campaign keys are plain names such as `id` or `audience`"),
                    );
                    continue;
                }
                // `1:` or `true:`: keep the key as written so "unknown key" can quote it.
                _ => self.source.slice(key_span).to_owned(),
            };
            path.push(key.clone());
            let value = self.node(raw_value, path);
            path.pop();
            if let Some(first) = entries.iter().find(|e| e.key == key) {
                self.diags.push(
                    Diag::error(
                        codes::DUPLICATE_KEY,
                        format!("duplicate key `{key}` {}", where_(path)),
                    )
                    .with_label(self.source, key_span, "duplicate key")
                    .with_label(self.source, first.key_span, "first defined here")
                    .with_help("keys must be unique within a mapping: remove or merge one of them"),
                );
                continue;
            }
            entries.push(Entry {
                key,
                key_span,
                value,
            });
        }
        entries
    }
}

/// "in `a.b[0]`" or "in the campaign" for the root.
pub(crate) fn where_(path: &[String]) -> String {
    if path.is_empty() {
        "in the campaign".to_owned()
    } else {
        format!("in `{}`", join_path(path))
    }
}

/// Joins steps such as `["audience", "[0]", "name"]` into `audience[0].name`.
pub(crate) fn join_path(path: &[String]) -> String {
    let mut out = String::new();
    for step in path {
        if !out.is_empty() && !step.starts_with('[') {
            out.push('.');
        }
        out.push_str(step);
    }
    out
}

/// A collection's span: from its start to its last child, plus the closing
/// bracket of a flow collection.
fn container_span(text: &str, start: Span, children: impl Iterator<Item = Span>) -> Span {
    let open = text.as_bytes().get(start.start as usize).copied();
    let end = children.fold(start.end, |end, child| end.max(child.end));
    let close = match open {
        Some(b'[') => b']',
        Some(b'{') => b'}',
        _ => {
            return Span {
                start: start.start,
                end,
            }
        }
    };
    // Skip the separators and blanks between the last child and the bracket;
    // anything else (a comment) means we stop at the last child.
    let rest = text.as_bytes().get(end as usize..).unwrap_or(&[]);
    let skipped = rest
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b','))
        .count();
    let end = if rest.get(skipped) == Some(&close) {
        end as usize + skipped + 1
    } else {
        end as usize
    };
    Span::new(start.start as usize, end)
}

/// Drops trailing blanks and line breaks (block scalars include them).
fn trim_end(text: &str, span: Span) -> Span {
    let slice = text
        .get(span.start as usize..span.end as usize)
        .unwrap_or("");
    Span::new(
        span.start as usize,
        span.start as usize + slice.trim_end().len(),
    )
}
