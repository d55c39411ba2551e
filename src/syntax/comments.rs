//! Comments of a policy file and where they belong, for `scruple fmt`.
//!
//! The AST holds no comments, so [`attach`] finds them in the text and ties
//! each one to a node the printer prints (an [`Anchor`]): a top-level
//! declaration, a header field, a rule statement, a table entry or a member
//! of a set's list.
//!
//! - A comment on its own line belongs to the node that follows it (a
//!   *leading* comment). It remembers whether a blank line preceded it.
//! - A comment after code on the same line belongs to the node that ended
//!   on that line (a *trailing* comment), or, right after `rule id {`,
//!   `table … {` or `policy "name"`, to that opening line (its *head*).
//! - A comment after the last node of a rule, table or list belongs before
//!   its closing bracket; one after the last declaration stays at the end of
//!   the file.
//! - A comment inside a node that cannot hold one where it stands (between
//!   the parts of a statement, an attribute or a set union) moves before
//!   that node, so nothing is dropped.

use std::collections::HashMap;

use pest::iterators::Pair;
use pest::Parser as _;

use super::lower::span_of;
use super::{PolicyParser, Rule};
use crate::source::Span;

/// One comment: `#` or `//` to the end of the line, outside strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// The comment as written, from `#` or `//` on, without trailing
    /// whitespace.
    pub text: String,
    /// Where it stands (including trailing whitespace before the line end).
    pub span: Span,
}

/// Every comment of a policy text, in order. The text need not parse: the
/// scan only tells strings and comments apart.
pub fn scan(text: &str) -> Vec<Comment> {
    let bytes = text.as_bytes();
    let mut comments = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'#' | b'/' if bytes[i] == b'#' || bytes.get(i + 1) == Some(&b'/') => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                comments.push(Comment {
                    text: text[i..end].trim_end().to_string(),
                    span: Span::new(i, end),
                });
                i = end;
            }
            _ => i += 1,
        }
    }
    comments
}

/// The kinds of statement of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stmt {
    /// `severity …`.
    Severity,
    /// `cite …`.
    Cite,
    /// `tags …`.
    Tags,
    /// `when …`.
    When,
    /// `requires …`.
    Requires,
    /// `defers to …`.
    DefersTo,
    /// `unwaivable`.
    Unwaivable,
    /// `message "…"`.
    Message,
    /// `help "…"`.
    Help,
    /// `description "…"`.
    Description,
    /// The constraint (`forbid …`, `ensure …`, …).
    Constraint,
}

/// A place the printer can put comments, named by what the AST knows: byte
/// offsets of node starts, which printing does not change within one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Anchor {
    /// The header or a top-level declaration starting at this offset.
    Item(u32),
    /// The opening line of the rule, table or header starting at this offset.
    Head(u32),
    /// Before the closing bracket of the rule, table or list starting at
    /// this offset.
    Close(u32),
    /// Statements of one kind in the rule starting at this offset (several
    /// `cite` statements are printed as one).
    Statement(u32, Stmt),
    /// The header field with this key (`version`, `owner`, `description`).
    HeaderField(&'static str),
    /// The table entry or list member starting at this offset.
    Entry(u32),
    /// The end of the file.
    End,
}

/// A comment on a line of its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The comment as written.
    pub text: String,
    /// Whether a blank line separated it from what came before.
    pub blank_before: bool,
}

/// Comments by the node they belong to. Empty for printing without comments.
#[derive(Debug, Default)]
pub struct Attached {
    leading: HashMap<Anchor, Vec<Note>>,
    trailing: HashMap<Anchor, Vec<String>>,
    blank_before: HashMap<Anchor, bool>,
}

impl Attached {
    /// Comments on their own lines before the node, in source order.
    pub fn leading(&self, anchor: Anchor) -> &[Note] {
        self.leading.get(&anchor).map_or(&[], Vec::as_slice)
    }

    /// Comments at the end of the node's last line, in source order (more
    /// than one when several statements of a kind were merged).
    pub fn trailing(&self, anchor: Anchor) -> &[String] {
        self.trailing.get(&anchor).map_or(&[], Vec::as_slice)
    }

    /// Whether a blank line separated the node from its leading comments
    /// (or, without any, from what came before).
    pub fn blank_before(&self, anchor: Anchor) -> bool {
        self.blank_before.get(&anchor).copied().unwrap_or(false)
    }

    /// Whether any comment is attached to the anchor.
    pub fn has_any(&self, anchor: Anchor) -> bool {
        !self.leading(anchor).is_empty() || !self.trailing(anchor).is_empty()
    }
}

/// Finds where each comment of `text` belongs. `None` when the text does not
/// parse (callers format only text that parsed).
pub fn attach(text: &str, comments: &[Comment]) -> Option<Attached> {
    let file = PolicyParser::parse(Rule::file, text).ok()?.next()?;
    let mut attacher = Attacher {
        text,
        line_ends: text.match_indices('\n').map(|(i, _)| i).collect(),
        attached: Attached::default(),
    };
    let root = attacher.file_node(file);
    for comment in comments {
        attacher.place(&root, comment);
    }
    Some(attacher.attached)
}

/// A node of the outline comments are placed in.
struct Node {
    /// Where comments inside it go when it cannot hold them, and where its
    /// leading comments go.
    anchor: Anchor,
    /// Where a comment at the end of its last line goes.
    trail: Anchor,
    start: usize,
    end: usize,
    /// The offset ending the opening line (`rule id {`), and the anchor of
    /// comments after it on that line.
    head: Option<(usize, Anchor)>,
    children: Vec<Node>,
    /// Whether comments between its children stay there; if not, they move
    /// before the node.
    holds: bool,
    /// Where comments after the last child go (else before the node).
    close: Option<Anchor>,
}

impl Node {
    /// A node whose inner comments move before it.
    fn leaf(anchor: Anchor, span: Span) -> Node {
        Node {
            anchor,
            trail: anchor,
            start: span.start as usize,
            end: span.end as usize,
            head: None,
            children: Vec::new(),
            holds: false,
            close: None,
        }
    }
}

struct Attacher<'t> {
    text: &'t str,
    /// Offsets of the line breaks, to tell which line an offset is on.
    line_ends: Vec<usize>,
    attached: Attached,
}

impl Attacher<'_> {
    /// Registers a node's own blank-line flag and returns it as a leaf.
    fn leaf(&mut self, anchor: Anchor, span: Span) -> Node {
        let blank = self.blank_before(span.start as usize);
        self.attached.blank_before.insert(anchor, blank);
        Node::leaf(anchor, span)
    }

    fn file_node(&mut self, file: Pair<'_, Rule>) -> Node {
        let mut children = Vec::new();
        for pair in file.into_inner() {
            let span = span_of(&pair);
            let anchor = Anchor::Item(span.start);
            let node = match pair.as_rule() {
                Rule::header => self.header_node(pair, anchor, span),
                Rule::set_decl => self.set_node(pair, anchor, span),
                Rule::table_decl => self.container(pair, anchor, span, Rule::table_entry),
                Rule::rule_decl => self.container(pair, anchor, span, Rule::rule_decl),
                Rule::EOI => continue,
                _ => self.leaf(anchor, span),
            };
            children.push(node);
        }
        Node {
            anchor: Anchor::End,
            trail: Anchor::End,
            start: 0,
            end: self.text.len(),
            head: None,
            children,
            holds: true,
            close: Some(Anchor::End),
        }
    }

    /// `policy "name"` with its fields as children; a comment after the
    /// header's last line goes with the field written last.
    fn header_node(&mut self, pair: Pair<'_, Rule>, anchor: Anchor, span: Span) -> Node {
        let mut node = self.leaf(anchor, span);
        node.holds = true;
        let head = Anchor::Head(span.start);
        node.trail = head;
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::string => node.head = Some((span_of(&inner).end as usize, head)),
                Rule::header_field => {
                    let key = match inner.clone().into_inner().next().map(|k| k.as_str()) {
                        Some("version") => "version",
                        Some("owner") => "owner",
                        _ => "description",
                    };
                    let field = self.leaf(Anchor::HeaderField(key), span_of(&inner));
                    node.trail = field.anchor;
                    node.children.push(field);
                }
                _ => {}
            }
        }
        node
    }

    /// A set declaration: comments inside its lists stay with the members;
    /// others move before the declaration.
    fn set_node(&mut self, pair: Pair<'_, Rule>, anchor: Anchor, span: Span) -> Node {
        let mut node = self.leaf(anchor, span);
        let lists = pair
            .into_inner()
            .filter(|p| p.as_rule() == Rule::set_expr)
            .flat_map(Pair::into_inner)
            .filter(|p| p.as_rule() == Rule::list);
        for list in lists {
            let list_span = span_of(&list);
            let mut list_node = Node::leaf(Anchor::Close(list_span.start), list_span);
            list_node.holds = true;
            list_node.close = Some(Anchor::Close(list_span.start));
            for member in list.into_inner() {
                let member_span = span_of(&member);
                list_node
                    .children
                    .push(self.leaf(Anchor::Entry(member_span.start), member_span));
            }
            node.children.push(list_node);
        }
        node
    }

    /// A rule (`kind` is `Rule::rule_decl`; children: its statements) or a
    /// table (`kind` is `Rule::table_entry`; children: its entries). The head
    /// line ends after the last part before the first child.
    fn container(&mut self, pair: Pair<'_, Rule>, anchor: Anchor, span: Span, kind: Rule) -> Node {
        let mut node = self.leaf(anchor, span);
        node.holds = true;
        node.close = Some(Anchor::Close(span.start));
        let head = Anchor::Head(span.start);
        let mut head_end = span.start as usize;
        for inner in pair.into_inner() {
            let inner_span = span_of(&inner);
            let child = match (kind, inner.as_rule()) {
                (Rule::table_entry, Rule::table_entry) => Anchor::Entry(inner_span.start),
                (Rule::rule_decl, rule) => match statement_kind(rule) {
                    Some(stmt) => Anchor::Statement(span.start, stmt),
                    None => {
                        head_end = inner_span.end as usize;
                        continue;
                    }
                },
                _ => {
                    head_end = inner_span.end as usize;
                    continue;
                }
            };
            let leaf = self.leaf(child, inner_span);
            node.children.push(leaf);
        }
        node.head = Some((head_end, head));
        node
    }

    /// Puts one comment where it belongs within `node`.
    fn place(&mut self, node: &Node, comment: &Comment) {
        let at = comment.span.start as usize;
        // Children are in source order and do not overlap.
        let next = node.children.partition_point(|c| c.start <= at);
        let previous = next.checked_sub(1).map(|i| &node.children[i]);
        if let Some(child) = previous.filter(|c| at < c.end) {
            return self.place(child, comment);
        }
        if !node.holds {
            return self.hoist(node.anchor, comment);
        }
        let line = self.line(at);
        if let Some(previous) = previous {
            if self.line(previous.end) == line {
                return self.trail(previous.trail, comment);
            }
        } else if let Some((head_end, head)) = node.head {
            if head_end <= at && self.line(head_end) == line {
                return self.trail(head, comment);
            }
        }
        let blank = self.blank_before(at);
        match node.children.get(next) {
            Some(next) => self.lead(next.anchor, comment, blank),
            None => match node.close {
                Some(close) => self.lead(close, comment, blank),
                None => self.hoist(node.anchor, comment),
            },
        }
    }

    fn lead(&mut self, anchor: Anchor, comment: &Comment, blank_before: bool) {
        self.attached.leading.entry(anchor).or_default().push(Note {
            text: comment.text.clone(),
            blank_before,
        });
    }

    /// Moves a comment from inside a node to before it. The blank line the
    /// source had before the node, if any, now goes before the comment.
    fn hoist(&mut self, anchor: Anchor, comment: &Comment) {
        let blank = self.attached.blank_before.insert(anchor, false);
        self.lead(anchor, comment, blank.unwrap_or(false));
    }

    fn trail(&mut self, anchor: Anchor, comment: &Comment) {
        self.attached
            .trailing
            .entry(anchor)
            .or_default()
            .push(comment.text.clone());
    }

    /// 0-based line of a byte offset.
    fn line(&self, offset: usize) -> usize {
        self.line_ends.partition_point(|&end| end < offset)
    }

    /// Whether the whitespace before `offset` holds a blank line.
    fn blank_before(&self, offset: usize) -> bool {
        let before = self.text.get(..offset).unwrap_or("");
        let gap = before.len()
            - before
                .trim_end_matches([' ', '\t', '\r', '\n', '\u{FEFF}'])
                .len();
        before[before.len() - gap..].matches('\n').count() >= 2
    }
}

/// Which statement a pair of a rule body is, if it is one.
fn statement_kind(rule: Rule) -> Option<Stmt> {
    Some(match rule {
        Rule::description_stmt => Stmt::Description,
        Rule::severity_stmt => Stmt::Severity,
        Rule::tags_stmt => Stmt::Tags,
        Rule::cite_stmt => Stmt::Cite,
        Rule::when_stmt => Stmt::When,
        Rule::requires_stmt => Stmt::Requires,
        Rule::defers_stmt => Stmt::DefersTo,
        Rule::unwaivable_stmt => Stmt::Unwaivable,
        Rule::message_stmt => Stmt::Message,
        Rule::help_stmt => Stmt::Help,
        Rule::forbid_targeting
        | Rule::forbid_fields
        | Rule::allow_fields
        | Rule::require_consent
        | Rule::frequency_cap
        | Rule::quiet_hours
        | Rule::minimum_age
        | Rule::require_field
        | Rule::ensure
        | Rule::require_parity
        | Rule::limit_rate => Stmt::Constraint,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_skips_strings_and_trims() {
        let text = "a \"# not // one\" # one  \n// two\r\nb \"\\\"#\" #three";
        let texts: Vec<String> = scan(text).into_iter().map(|c| c.text).collect();
        assert_eq!(texts, ["# one", "// two", "#three"]);
    }

    #[test]
    fn attaches_leading_trailing_head_and_close() {
        let text = "# lead\n\nrule r { # head\n  severity info # sev\n  # before age\n  minimum age 3\n  # close\n} # after\n# end\n";
        let attached = attach(text, &scan(text)).expect("parses");
        let rule = text.find("rule").expect("rule") as u32;
        let lead = attached.leading(Anchor::Item(rule));
        assert_eq!(lead.len(), 1);
        assert!(!lead[0].blank_before);
        assert!(attached.blank_before(Anchor::Item(rule)));
        assert_eq!(attached.trailing(Anchor::Head(rule)), ["# head"]);
        assert_eq!(
            attached.trailing(Anchor::Statement(rule, Stmt::Severity)),
            ["# sev"]
        );
        assert_eq!(
            attached.leading(Anchor::Statement(rule, Stmt::Constraint))[0].text,
            "# before age"
        );
        assert_eq!(attached.leading(Anchor::Close(rule))[0].text, "# close");
        assert_eq!(attached.trailing(Anchor::Item(rule)), ["# after"]);
        assert_eq!(attached.leading(Anchor::End)[0].text, "# end");
    }

    #[test]
    fn comments_inside_a_statement_move_before_it() {
        let text = "rule r {\n  when a # inside\n    and b\n  minimum age 3\n}\n";
        let attached = attach(text, &scan(text)).expect("parses");
        let lead = attached.leading(Anchor::Statement(0, Stmt::When));
        assert_eq!(lead[0].text, "# inside");
    }

    #[test]
    fn list_members_and_header_fields_hold_comments() {
        let text = "policy \"p\" # name\n  version \"1\" # v\nset s = [\n  # first\n  a, # a\n  b,\n  # last\n]\n";
        let attached = attach(text, &scan(text)).expect("parses");
        assert_eq!(attached.trailing(Anchor::Head(0)), ["# name"]);
        assert_eq!(attached.trailing(Anchor::HeaderField("version")), ["# v"]);
        let a = text.find("a,").expect("a") as u32;
        assert_eq!(attached.leading(Anchor::Entry(a))[0].text, "# first");
        assert_eq!(attached.trailing(Anchor::Entry(a)), ["# a"]);
        let list = text.find('[').expect("list") as u32;
        assert_eq!(attached.leading(Anchor::Close(list))[0].text, "# last");
    }
}
