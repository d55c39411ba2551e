//! The canonical pretty-printer of the policy AST, and the base of
//! `scruple fmt` (see docs/fmt.md).
//!
//! The output parses back to the same AST (spans aside): the header first,
//! then the declarations in source order, one blank line between them (runs
//! of `import`, `attribute` and `purpose` lines stay together); rule bodies
//! indented by two spaces with their statements in the order of the shipped
//! packs (`severity`, `cite`, `tags`, `when`, `requires`, `defers to`, `unwaivable`,
//! `message`, `help`, `description`, then the constraint: what the rule is
//! about first, what it checks last); strings re-escaped; conditions with
//! only the parentheses the AST needs, and around what `not` applies to
//! unless that is a bare value (`not (channel in [sms])`, `not x.opted_out`);
//! `is` rather than `==` before a bare name or a boolean (`channel is
//! email`, `x is true`).
//!
//! [`print()`] writes no comments, since the AST holds none;
//! `print_with_comments` writes the comments `syntax::comments` attached to
//! the nodes, and keeps blank lines where the source had them between
//! grouped one-line declarations, among comments before a declaration, and
//! between table entries.
//!
//! Known limits:
//! - Spellings that lower to the same AST come out in one form: `is` for a
//!   comparison with a bare name or a boolean on the right, `==`
//!   otherwise; `not not x` is `x`; several `cite`, `tags`, `requires`,
//!   `proxy_for` or `derived_from` clauses are merged into one each.
//! - Parentheses the author added around an `and` inside an `and` (or an
//!   `or` inside an `or`) are kept, since the AST keeps that grouping.
//! - Lines are wrapped only in two places: set declarations longer than 100
//!   columns (a list opens at the end of the first line and its members are
//!   filled to 100 columns; a union that starts with a name goes on the next
//!   line) and `when` / `ensure` conditions longer than 100 columns (one line
//!   per operand of the outermost `and` or `or`, and so on inside
//!   parentheses while a line is still too long). Strings are never broken.

use std::fmt::Write as _;

use super::ast::*;
use super::comments::{Anchor, Attached, Stmt};
use crate::diag::Severity;
use crate::source::Span;

/// Lines longer than this are wrapped where the printer knows how.
const WIDTH: usize = 100;

/// One level of indentation.
const INDENT: usize = 2;

/// Prints a policy file in canonical form, without comments. See the module
/// docs for what is and is not preserved.
pub fn print(file: &PolicyFile) -> String {
    print_with_comments(file, &Attached::default())
}

/// Prints a policy file in canonical form with the comments attached to its
/// nodes.
pub(crate) fn print_with_comments(file: &PolicyFile, comments: &Attached) -> String {
    let mut printer = Printer {
        notes: comments,
        lines: Vec::new(),
    };
    printer.file(file);
    render(&printer.lines)
}

/// An output line before trailing comments are aligned.
enum Line {
    Blank,
    Comment {
        indent: usize,
        text: String,
    },
    Code {
        indent: usize,
        text: String,
        trailing: Option<String>,
    },
}

/// What separates the first line of a node (or of its leading comments) from
/// the line before.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Gap {
    /// Nothing.
    Tight,
    /// One blank line.
    Blank,
    /// One blank line if the source had at least one there.
    AsWritten,
}

impl Gap {
    /// Whether a blank line goes before a line: the first one written for a
    /// node follows the gap, later ones the source (`written`) when blank
    /// lines are kept.
    fn blank(self, first: bool, keep: bool, written: bool) -> bool {
        if first {
            self == Gap::Blank || (self == Gap::AsWritten && written)
        } else {
            keep && written
        }
    }
}

struct Printer<'a> {
    notes: &'a Attached,
    lines: Vec<Line>,
}

impl Printer<'_> {
    fn file(&mut self, file: &PolicyFile) {
        if let Some(header) = &file.header {
            self.header(header);
        }
        let mut previous: Option<&Item> = None;
        for item in &file.items {
            let gap = match previous {
                _ if self.lines.is_empty() => Gap::Tight,
                Some(p) if same_line_group(p, item) => Gap::AsWritten,
                _ => Gap::Blank,
            };
            self.item(item, gap);
            previous = Some(item);
        }
        self.comments(Anchor::End, 0, Gap::AsWritten, true);
    }

    /// Writes the comments on lines of their own attached before a node;
    /// returns whether there were none.
    fn comments(&mut self, anchor: Anchor, indent: usize, gap: Gap, keep_blanks: bool) -> bool {
        let notes = self.notes;
        let mut first = true;
        for note in notes.leading(anchor) {
            if gap.blank(first, keep_blanks, note.blank_before) {
                self.lines.push(Line::Blank);
            }
            self.lines.push(Line::Comment {
                indent,
                text: note.text.clone(),
            });
            first = false;
        }
        first
    }

    /// Starts a node: its leading comments and the blank lines around them.
    fn open(&mut self, anchor: Anchor, indent: usize, gap: Gap, keep_blanks: bool) {
        let first = self.comments(anchor, indent, gap, keep_blanks);
        if gap.blank(first, keep_blanks, self.notes.blank_before(anchor)) {
            self.lines.push(Line::Blank);
        }
    }

    fn code(&mut self, indent: usize, text: impl Into<String>) {
        self.lines.push(Line::Code {
            indent,
            text: text.into(),
            trailing: None,
        });
    }

    /// Ends a node whose first line is `self.lines[start]`: its trailing
    /// comment goes at the end of its last line; any earlier ones (merged
    /// statements) on lines of their own before its first line.
    fn finish(&mut self, start: usize, anchor: Anchor) {
        let notes = self.notes;
        let Some((last, earlier)) = notes.trailing(anchor).split_last() else {
            return;
        };
        let indent = match self.lines.get(start) {
            Some(Line::Code { indent, .. } | Line::Comment { indent, .. }) => *indent,
            _ => 0,
        };
        let has_lines = start < self.lines.len();
        match self.lines.last_mut() {
            Some(Line::Code { trailing, .. }) if trailing.is_none() && has_lines => {
                *trailing = Some(last.clone());
            }
            _ => self.lines.push(Line::Comment {
                indent,
                text: last.clone(),
            }),
        }
        let start = start.min(self.lines.len());
        self.lines.splice(
            start..start,
            earlier.iter().map(|text| Line::Comment {
                indent,
                text: text.clone(),
            }),
        );
    }

    /// A one-line node with its comments.
    fn line_node(
        &mut self,
        anchor: Anchor,
        indent: usize,
        gap: Gap,
        keep_blanks: bool,
        text: String,
    ) {
        self.open(anchor, indent, gap, keep_blanks);
        let start = self.lines.len();
        self.code(indent, text);
        self.finish(start, anchor);
    }

    fn header(&mut self, header: &Header) {
        let anchor = Anchor::Item(header.span.start);
        self.open(anchor, 0, Gap::Tight, true);
        let start = self.lines.len();
        self.code(0, format!("policy {}", quote(&header.name.value)));
        self.finish(start, Anchor::Head(header.span.start));
        for (key, value) in [
            ("version", &header.version),
            ("owner", &header.owner),
            ("description", &header.description),
        ] {
            if let Some(value) = value {
                let text = format!("{key} {}", quote(&value.value));
                self.line_node(Anchor::HeaderField(key), INDENT, Gap::Tight, false, text);
            }
        }
        self.finish(start, anchor);
    }

    fn item(&mut self, item: &Item, gap: Gap) {
        let anchor = Anchor::Item(item_span(item).start);
        self.open(anchor, 0, gap, true);
        let start = self.lines.len();
        match item {
            Item::Import(import) => self.code(0, format!("import {}", quote(&import.path.value))),
            Item::Set(decl) => self.set(decl),
            Item::Attribute(decl) => {
                let mut text = format!("attribute {}", decl.name.name);
                if let Some(description) = &decl.description {
                    text.push(' ');
                    text.push_str(&quote(&description.value));
                }
                if let Some(category) = &decl.category {
                    let _ = write!(text, " category {}", category.name);
                }
                for (keyword, names) in [
                    ("proxy_for", &decl.proxy_for),
                    ("derived_from", &decl.derived_from),
                ] {
                    if !names.is_empty() {
                        let _ = write!(text, " {keyword} {}", join_names(names));
                    }
                }
                if let Some(because) = &decl.because {
                    let _ = write!(text, " because {}", quote(&because.value));
                }
                self.code(0, text);
            }
            Item::Values(decl) => {
                let values: Vec<String> =
                    decl.values.iter().map(|v| value_item(&v.value)).collect();
                let mut text = format!(
                    "values [{}] category {}",
                    values.join(", "),
                    decl.category.name
                );
                if let Some(because) = &decl.because {
                    let _ = write!(text, " because {}", quote(&because.value));
                }
                self.code(0, text);
            }
            Item::Purpose(decl) => {
                let mut text = format!(
                    "purpose {} {}",
                    decl.name.name,
                    quote(&decl.description.value)
                );
                if let Some(tcf) = &decl.tcf {
                    let _ = write!(text, " tcf {}", id_list(&tcf.purposes));
                    if !tcf.special_features.is_empty() {
                        let _ =
                            write!(text, " special_features {}", id_list(&tcf.special_features));
                    }
                }
                self.code(0, text);
            }
            Item::Table(decl) => self.table(decl),
            Item::Rule(rule) => self.rule(rule),
        }
        self.finish(start, anchor);
    }

    fn table(&mut self, decl: &TableDecl) {
        let mut head = format!("table {}", decl.name.name);
        if let Some(description) = &decl.description {
            head.push(' ');
            head.push_str(&quote(&description.value));
        }
        if let Some(default) = &decl.default {
            head.push_str(" default ");
            head.push_str(&scalar(default));
        }
        let (head_anchor, close) = (
            Anchor::Head(decl.span.start),
            Anchor::Close(decl.span.start),
        );
        if decl.entries.is_empty()
            && !self.notes.has_any(head_anchor)
            && self.notes.leading(close).is_empty()
        {
            self.code(0, head + " {}");
            return;
        }
        let start = self.lines.len();
        self.code(0, head + " {");
        self.finish(start, head_anchor);
        let mut gap = Gap::Tight;
        for (key, value) in &decl.entries {
            let text = format!("{} = {}", key.name, scalar(value));
            self.line_node(Anchor::Entry(key.span.start), INDENT, gap, true, text);
            gap = Gap::AsWritten;
        }
        self.comments(close, INDENT, gap, true);
        self.code(0, "}");
    }

    fn set(&mut self, decl: &SetDecl) {
        let mut head = format!("set {}", decl.name.name);
        if let Some(description) = &decl.description {
            head.push(' ');
            head.push_str(&quote(&description.value));
        }
        head.push_str(" =");
        let commented = decl.value.terms.iter().any(|term| match term {
            SetTerm::List(items, span) => self.list_has_comments(items, *span),
            SetTerm::Ref(_) | SetTerm::Category(_) | SetTerm::Law(_) => false,
        });
        let flat = set_expr(&decl.value);
        if !commented && width(&head) + 1 + width(&flat) <= WIDTH {
            self.code(0, format!("{head} {flat}"));
            return;
        }
        // A union that starts with a name may go on the next line; one that
        // starts with a list opens it at the end of the first line.
        let starts_with_list = matches!(decl.value.terms.first(), Some(SetTerm::List(..)));
        if !commented && !starts_with_list && INDENT + width(&flat) <= WIDTH {
            // On the next line, where it fits.
            self.code(0, head);
            self.code(INDENT, flat);
            return;
        }
        // Each list on its own lines; the whole union on the lines after the
        // `=` when even its start does not fit after it.
        let mut start = String::new();
        for term in &decl.value.terms {
            match term {
                SetTerm::Ref(_) | SetTerm::Category(_) | SetTerm::Law(_) => {
                    start.push_str(&format!("{} + ", set_term_word(term)));
                }
                SetTerm::List(..) => {
                    start.push('[');
                    break;
                }
            }
        }
        let (mut line, base) = if !starts_with_list && width(&head) + 1 + width(&start) > WIDTH {
            self.code(0, head);
            (String::new(), INDENT)
        } else {
            (head + " ", 0)
        };
        // The indent of the line being built: `base`, or one step more on a
        // line that continues a long union (`  + category familial_status`).
        let mut indent = base;
        for (i, term) in decl.value.terms.iter().enumerate() {
            let word = set_term_word(term);
            let is_list = matches!(term, SetTerm::List(..));
            if i > 0 && !is_list && indent + width(&line) + 3 + width(&word) > WIDTH {
                self.code(indent, std::mem::take(&mut line));
                indent = base + INDENT;
                line.push_str("+ ");
            } else if i > 0 {
                line.push_str(" + ");
            }
            match term {
                SetTerm::Ref(_) | SetTerm::Category(_) | SetTerm::Law(_) => {
                    line.push_str(&word);
                }
                SetTerm::List(items, span)
                    if items.is_empty() && !self.list_has_comments(items, *span) =>
                {
                    line.push_str("[]");
                }
                SetTerm::List(items, span) => {
                    line.push('[');
                    self.code(indent, std::mem::take(&mut line));
                    self.members(items, *span, indent + INDENT);
                    line.push(']');
                }
            }
        }
        self.code(indent, line);
    }

    fn list_has_comments(&self, items: &[Ident], span: Span) -> bool {
        !self.notes.leading(Anchor::Close(span.start)).is_empty()
            || items
                .iter()
                .any(|item| self.notes.has_any(Anchor::Entry(item.span.start)))
    }

    /// The members of a list at `indent`, filled to [`WIDTH`]; a member with
    /// comments before it starts a line, one with a comment after it ends one.
    fn members(&mut self, items: &[Ident], span: Span, indent: usize) {
        let mut line = String::new();
        for item in items {
            let anchor = Anchor::Entry(item.span.start);
            if !self.notes.leading(anchor).is_empty() {
                self.flush(&mut line, indent);
                self.comments(anchor, indent, Gap::Tight, false);
            }
            let piece = format!("{},", item.name);
            if !line.is_empty() && indent + width(&line) + 1 + width(&piece) > WIDTH {
                self.flush(&mut line, indent);
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&piece);
            if !self.notes.trailing(anchor).is_empty() {
                let start = self.lines.len();
                self.flush(&mut line, indent);
                self.finish(start, anchor);
            }
        }
        self.flush(&mut line, indent);
        self.comments(Anchor::Close(span.start), indent, Gap::Tight, false);
    }

    fn flush(&mut self, line: &mut String, indent: usize) {
        if !line.is_empty() {
            self.code(indent, std::mem::take(line));
        }
    }

    fn rule(&mut self, rule: &RuleDecl) {
        let at = rule.span.start;
        let start = self.lines.len();
        self.code(0, format!("rule {} {{", rule.id.name));
        self.finish(start, Anchor::Head(at));
        let mut statement = |kind: Stmt, lines: Vec<(usize, String)>| {
            let anchor = Anchor::Statement(at, kind);
            self.open(anchor, INDENT, Gap::Tight, false);
            let start = self.lines.len();
            for (depth, text) in lines {
                self.code(INDENT * (depth + 1), text);
            }
            self.finish(start, anchor);
        };
        let one = |text: String| vec![(0, text)];
        if let Some(severity) = &rule.severity {
            let text = format!("severity {}", severity_word(severity.value));
            statement(Stmt::Severity, one(text));
        }
        if !rule.cites.is_empty() {
            let cites: Vec<String> = rule.cites.iter().map(|c| quote(&c.value)).collect();
            statement(Stmt::Cite, one(format!("cite {}", cites.join(", "))));
        }
        if !rule.tags.is_empty() {
            statement(Stmt::Tags, one(format!("tags {}", join_names(&rule.tags))));
        }
        if let Some(when) = &rule.when {
            statement(Stmt::When, condition("when", when));
        }
        if !rule.requires.is_empty() {
            let text = format!("requires {}", join_names(&rule.requires));
            statement(Stmt::Requires, one(text));
        }
        if !rule.defers_to.is_empty() {
            let text = format!("defers to {}", join_names(&rule.defers_to));
            statement(Stmt::DefersTo, one(text));
        }
        if rule.unwaivable.is_some() {
            statement(Stmt::Unwaivable, one("unwaivable".into()));
        }
        for (kind, keyword, text) in [
            (Stmt::Message, "message", &rule.message),
            (Stmt::Help, "help", &rule.help),
            (Stmt::Description, "description", &rule.description),
        ] {
            if let Some(text) = text {
                statement(kind, one(format!("{keyword} {}", quote(&text.value))));
            }
        }
        let check = match &rule.constraint {
            Constraint::Ensure { expr, .. } => condition("ensure", expr),
            other => one(constraint(other)),
        };
        statement(Stmt::Constraint, check);
        self.comments(Anchor::Close(at), INDENT, Gap::Tight, false);
        self.code(0, "}");
    }
}

/// Joins the lines, aligning the trailing comments of consecutive code lines
/// of one indentation (two spaces after the longest; a line longer than
/// [`WIDTH`] is not aligned with others).
fn render(lines: &[Line]) -> String {
    let code_width = |line: &Line| match line {
        Line::Code {
            indent,
            text,
            trailing: Some(_),
        } if indent + width(text) <= WIDTH => Some((*indent, indent + width(text))),
        _ => None,
    };
    let mut columns = vec![0; lines.len()];
    let mut i = 0;
    while i < lines.len() {
        let Some((indent, mut column)) = code_width(&lines[i]) else {
            i += 1;
            continue;
        };
        let mut end = i + 1;
        while let Some((next_indent, next_width)) = lines.get(end).and_then(code_width) {
            if next_indent != indent {
                break;
            }
            column = column.max(next_width);
            end += 1;
        }
        columns[i..end].fill(column + 2);
        i = end;
    }
    let mut out = String::new();
    for (line, column) in lines.iter().zip(columns) {
        match line {
            Line::Blank => {
                if !out.is_empty() && !out.ends_with("\n\n") {
                    out.push('\n');
                }
            }
            Line::Comment { indent, text } => {
                let _ = writeln!(out, "{:indent$}{text}", "");
            }
            Line::Code {
                indent,
                text,
                trailing,
            } => {
                let _ = write!(out, "{:indent$}{text}", "");
                if let Some(comment) = trailing {
                    let pad = column.saturating_sub(indent + width(text)).max(2);
                    let _ = write!(out, "{:pad$}{comment}", "");
                }
                out.push('\n');
            }
        }
    }
    out
}

/// A value of a `values` list: bare when it reads back as the same symbol
/// (`asthma`, `EU-FR`), quoted otherwise (`"type 2 diabetes"`).
fn value_item(value: &str) -> String {
    let mut chars = value.chars();
    let bare = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        value.to_string()
    } else {
        quote(value)
    }
}

/// Display width of a line, counted in characters.
fn width(text: &str) -> usize {
    text.chars().count()
}

/// The whole span of a declaration.
pub(super) fn item_span(item: &Item) -> Span {
    match item {
        Item::Import(import) => import.span,
        Item::Set(decl) => decl.span,
        Item::Attribute(decl) => decl.span,
        Item::Values(decl) => decl.span,
        Item::Purpose(decl) => decl.span,
        Item::Table(decl) => decl.span,
        Item::Rule(rule) => rule.span,
    }
}

/// One-line declarations of one kind are kept together without blank lines.
fn same_line_group(a: &Item, b: &Item) -> bool {
    matches!(
        (a, b),
        (Item::Import(_), Item::Import(_))
            | (Item::Attribute(_), Item::Attribute(_))
            | (Item::Values(_), Item::Values(_))
            | (Item::Purpose(_), Item::Purpose(_))
    )
}

/// A condition statement (`when …`, `ensure …`) as lines, each with its
/// depth below the statement: on one line if it fits, else see [`wrap`].
fn condition(keyword: &str, e: &Expr) -> Vec<(usize, String)> {
    let mut lines = Vec::new();
    wrap(&mut lines, 0, format!("{keyword} "), e, Slot::Top, "");
    lines
}

/// Writes `lead`, the expression (in `slot`) and `tail` on one line at
/// `depth` when that fits in [`WIDTH`]. Otherwise an `and` or `or` goes one
/// operand per line, the first after `lead` and the others one level deeper
/// behind their operator, each wrapped the same way; parentheses the slot
/// needs open after `lead` and close after the last operand.
fn wrap(
    lines: &mut Vec<(usize, String)>,
    depth: usize,
    lead: String,
    e: &Expr,
    slot: Slot,
    tail: &str,
) {
    let mut flat = lead.clone();
    write_expr(&mut flat, e, slot);
    flat.push_str(tail);
    let split = match e {
        Expr::Or(parts, _) if parts.len() > 1 => Some((parts, "or", Slot::OrOperand)),
        Expr::And(parts, _) if parts.len() > 1 => Some((parts, "and", Slot::AndOperand)),
        _ => None,
    };
    let Some((parts, word, inner)) = split.filter(|_| INDENT * (depth + 1) + width(&flat) > WIDTH)
    else {
        lines.push((depth, flat));
        return;
    };
    let (open, close) = if needs_parens(e, slot) {
        ("(", ")")
    } else {
        ("", "")
    };
    for (i, part) in parts.iter().enumerate() {
        let part_tail = if i + 1 == parts.len() {
            format!("{close}{tail}")
        } else {
            String::new()
        };
        if i == 0 {
            wrap(
                lines,
                depth,
                format!("{lead}{open}"),
                part,
                inner,
                &part_tail,
            );
        } else {
            wrap(
                lines,
                depth + 1,
                format!("{word} "),
                part,
                inner,
                &part_tail,
            );
        }
    }
}

fn severity_word(severity: Severity) -> &'static str {
    severity.as_str()
}

fn constraint(constraint: &Constraint) -> String {
    match constraint {
        Constraint::ForbidTargeting {
            attributes,
            including_proxies,
            ..
        } => {
            let mut text = format!("forbid targeting on {}", set_expr(attributes));
            if *including_proxies {
                text.push_str(" including proxies");
            }
            text
        }
        Constraint::ForbidFields { fields, .. } => format!("forbid fields {}", set_expr(fields)),
        Constraint::AllowOnlyFields {
            fields, purpose, ..
        } => {
            let mut text = format!("allow only fields {}", set_expr(fields));
            if let Some(purpose) = purpose {
                let _ = write!(text, " for {}", purpose.name);
            }
            text
        }
        Constraint::RequireConsent {
            scope,
            within,
            written,
            ..
        } => {
            let mut text = String::from(if *written {
                "require written consent for "
            } else {
                "require consent for "
            });
            match scope {
                ConsentScope::EachDeclared(_) => text.push_str("each purpose"),
                ConsentScope::Listed(set) => text.push_str(&set_expr(set)),
            }
            if let Some(within) = within {
                let _ = write!(text, " within {within}");
            }
            text
        }
        Constraint::RequireTcf {
            legitimate_interest,
            if_signalled,
            ..
        } => {
            let mut text = String::from("require tcf consent for each purpose");
            if !legitimate_interest.is_empty() {
                let _ = write!(
                    text,
                    " or legitimate interest for {}",
                    id_list(legitimate_interest)
                );
            }
            if *if_signalled {
                text.push_str(" if signalled");
            }
            text
        }
        Constraint::FrequencyCap {
            max,
            window,
            calendar,
            channels,
            ..
        } => {
            let mut text = if *calendar {
                let unit = window.unit.as_str();
                format!(
                    "cap {} sends per calendar {} per recipient",
                    max.value,
                    &unit[..unit.len() - 1]
                )
            } else {
                format!("cap {} sends per {window} per recipient", max.value)
            };
            if let Some(channels) = channels {
                let _ = write!(text, " on {}", set_expr(channels));
            }
            text
        }
        Constraint::QuietHours { from, to, .. } => format!("quiet hours from {from} to {to}"),
        Constraint::MinimumAge { limit, unless, .. } => {
            let mut text = match limit {
                AgeLimit::Fixed(age) => format!("minimum age {}", age.value),
                AgeLimit::Table(table) => format!("minimum age {}", table.name),
            };
            if let Some(u) = unless {
                let _ = write!(text, " unless consent to {} by ", u.purpose.name);
                match &u.self_from {
                    Some(n) => {
                        let _ = write!(text, "self from {} else parent", n.value);
                    }
                    None => text.push_str("parent"),
                }
            }
            text
        }
        Constraint::RequireField { path, .. } => format!("require {}", path.dotted()),
        Constraint::Ensure { expr: e, .. } => format!("ensure {}", expr(e)),
        Constraint::RequireParity {
            attributes,
            ratio,
            offers,
            ..
        } => {
            let mut text = format!(
                "require parity on {} at least {}",
                set_expr(attributes),
                ratio.value
            );
            if let Some(offers) = offers {
                let _ = write!(text, " for offers in {}", set_expr(offers));
            }
            text
        }
        Constraint::LimitRate {
            metric,
            percent,
            channels,
            ..
        } => {
            let mut text = format!("limit {} below {}%", metric.name, percent.value);
            if let Some(channels) = channels {
                let _ = write!(text, " on {}", set_expr(channels));
            }
            text
        }
    }
}

/// `[1, 3, 4]`.
fn id_list(ids: &[Spanned<u32>]) -> String {
    let ids: Vec<String> = ids.iter().map(|i| i.value.to_string()).collect();
    format!("[{}]", ids.join(", "))
}

/// Where an expression stands, which decides whether it needs parentheses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// A whole condition (`when …`, `ensure …`, inside parentheses).
    Top,
    /// An operand of `or`.
    OrOperand,
    /// An operand of `and`.
    AndOperand,
    /// What `not` applies to.
    NotOperand,
    /// The body of `any … satisfies` / `all … satisfies`: a parenthesised
    /// condition or a single comparison.
    QuantifierBody,
}

fn expr(e: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, e, Slot::Top);
    out
}

/// Whether an expression written in `slot` needs parentheses to read back
/// the same.
fn needs_parens(e: &Expr, slot: Slot) -> bool {
    match e {
        // Nested groups of the same operator are kept as written (the AST
        // keeps them), so only the top level goes without parentheses.
        Expr::Or(..) => slot != Slot::Top,
        Expr::And(..) => !matches!(slot, Slot::Top | Slot::OrOperand),
        // `not not x` would read back as `x`.
        Expr::Not(..) => matches!(slot, Slot::NotOperand | Slot::QuantifierBody),
        // `not` is followed by a bare value or a parenthesised condition, so
        // that `not (a in b)` is not read as `(not a) in b`.
        Expr::Quantified { .. } => matches!(slot, Slot::NotOperand | Slot::QuantifierBody),
        Expr::Compare { .. } | Expr::In { .. } | Expr::Matches { .. } | Expr::Presence { .. } => {
            slot == Slot::NotOperand
        }
        Expr::Truthy(_) => false,
    }
}

fn write_expr(out: &mut String, e: &Expr, slot: Slot) {
    let needs_parens = needs_parens(e, slot);
    if needs_parens {
        out.push('(');
        write_expr(out, e, Slot::Top);
        out.push(')');
        return;
    }
    match e {
        Expr::Or(parts, _) | Expr::And(parts, _) => {
            let (word, inner) = match e {
                Expr::Or(..) => (" or ", Slot::OrOperand),
                _ => (" and ", Slot::AndOperand),
            };
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    out.push_str(word);
                }
                write_expr(out, part, inner);
            }
        }
        Expr::Not(inner, _) => {
            out.push_str("not ");
            write_expr(out, inner, Slot::NotOperand);
        }
        Expr::Compare { lhs, op, rhs, .. } => {
            let op = match (op, rhs) {
                (CompareOp::Eq, Operand::Symbol(_) | Operand::Bool(..)) => "is",
                (CompareOp::Ne, Operand::Symbol(_) | Operand::Bool(..)) => "is not",
                (op, _) => op.as_str(),
            };
            let _ = write!(out, "{} {op} {}", operand(lhs), operand(rhs));
        }
        Expr::In {
            lhs, negated, set, ..
        } => {
            let not = if *negated { "not " } else { "" };
            let _ = write!(out, "{} {not}in {}", operand(lhs), set_expr(set));
        }
        Expr::Matches { lhs, pattern, .. } => {
            let _ = write!(out, "{} matches {}", operand(lhs), quote(&pattern.value));
        }
        Expr::Presence { lhs, present, .. } => {
            let word = if *present { "present" } else { "absent" };
            let _ = write!(out, "{} is {word}", operand(lhs));
        }
        Expr::Truthy(value) => out.push_str(&operand(value)),
        Expr::Quantified {
            all,
            var,
            list,
            body,
            ..
        } => {
            let quantifier = if *all { "all" } else { "any" };
            let _ = write!(
                out,
                "{quantifier} {} in {} satisfies ",
                var.name,
                list.dotted()
            );
            write_expr(out, body, Slot::QuantifierBody);
        }
    }
}

fn operand(operand: &Operand) -> String {
    match operand {
        Operand::Path(path) => path.dotted(),
        Operand::Symbol(name) => name.name.clone(),
        Operand::Str(s) => quote(&s.value),
        Operand::Number(n, _) => number(*n),
        Operand::Bool(b, _) => b.to_string(),
        Operand::List(items, _) => list(items),
    }
}

fn scalar(scalar: &Scalar) -> String {
    match scalar {
        Scalar::Number(n, _) => number(*n),
        Scalar::Str(s) => quote(&s.value),
        Scalar::Symbol(name) => name.name.clone(),
    }
}

/// Numbers as the grammar reads them: no exponent (Rust's `Display` for
/// `f64` never writes one) and the shortest digits that read back the same.
fn number(n: f64) -> String {
    format!("{n}")
}

fn set_expr(set: &SetExpr) -> String {
    let terms: Vec<String> = set
        .terms
        .iter()
        .map(|term| match term {
            SetTerm::List(items, _) => list(items),
            _ => set_term_word(term),
        })
        .collect();
    terms.join(" + ")
}

/// A set term that is not a list, as written: `name`, `category health`,
/// `law gdpr_art9`.
fn set_term_word(term: &SetTerm) -> String {
    match term {
        SetTerm::Ref(name) => name.name.clone(),
        SetTerm::Category(name) => format!("category {}", name.name),
        SetTerm::Law(name) => format!("law {}", name.name),
        SetTerm::List(items, _) => list(items),
    }
}

fn list(items: &[Ident]) -> String {
    format!("[{}]", join_names(items))
}

fn join_names(names: &[Ident]) -> String {
    let names: Vec<&str> = names.iter().map(|n| n.name.as_str()).collect();
    names.join(", ")
}

/// A string literal that lowers back to `value`.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    fn reprint(text: &str) -> String {
        let source = SourceFile::new("test.scruple", text);
        let (file, diags) = crate::syntax::parse(&source);
        assert!(diags.is_empty(), "{diags:?}");
        print(&file.expect("parses"))
    }

    #[test]
    fn prints_statements_in_canonical_order() {
        let text = "rule r { help \"h\" minimum age 3 severity info description \"d\" }";
        assert_eq!(
            reprint(text),
            "rule r {\n  severity info\n  help \"h\"\n  description \"d\"\n  minimum age 3\n}\n"
        );
    }

    #[test]
    fn keeps_double_negation_apart() {
        assert_eq!(
            reprint("rule r { ensure not (not a) }"),
            "rule r {\n  ensure not (not a)\n}\n"
        );
        assert_eq!(
            reprint("rule r { ensure not not a }"),
            "rule r {\n  ensure a\n}\n"
        );
    }

    #[test]
    fn escapes_strings() {
        assert_eq!(quote("a\"b\\c\nd\u{1}é"), "\"a\\\"b\\\\c\\nd\\u{1}é\"");
    }
}
