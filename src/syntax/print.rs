//! A canonical pretty-printer of the policy AST: the base of a future
//! `scruple fmt`.
//!
//! The output parses back to the same AST (spans aside): the header first,
//! then the declarations in source order; rule bodies indented by two spaces
//! with their statements in one fixed order (`description`, `severity`,
//! `tags`, `cite`, `when`, `requires`, `unwaivable`, the constraint,
//! `message`, `help`); strings re-escaped; conditions with only the
//! parentheses the AST needs.
//!
//! Known limits:
//! - Comments are not kept yet: the AST does not hold them, so formatting a
//!   file with this printer drops every comment.
//! - Spellings that lower to the same AST come out in one form: `is` for a
//!   comparison with a bare name on the right (`channel is email`), `==`
//!   otherwise; `not not x` is `x`; several `cite`, `tags`, `requires`,
//!   `proxy_for` or `derived_from` clauses are merged into one each.
//! - Parentheses the author added around an `and` inside an `and` (or an
//!   `or` inside an `or`) are kept, since the AST keeps that grouping.
//! - Only set declarations are wrapped (long lists, filled to 100 columns);
//!   other lines are never broken.

use std::fmt::Write as _;

use super::ast::*;
use crate::diag::Severity;

/// Lines longer than this are wrapped where the printer knows how.
const WIDTH: usize = 100;

/// Prints a policy file in canonical form. See the module docs for what is
/// and is not preserved.
pub fn print(file: &PolicyFile) -> String {
    let mut out = String::new();
    if let Some(header) = &file.header {
        print_header(&mut out, header);
    }
    let mut previous: Option<&Item> = None;
    for item in &file.items {
        let grouped = previous.is_some_and(|p| same_line_group(p, item));
        if !out.is_empty() && !grouped {
            out.push('\n');
        }
        print_item(&mut out, item);
        previous = Some(item);
    }
    out
}

/// One-line declarations of one kind are kept together without blank lines.
fn same_line_group(a: &Item, b: &Item) -> bool {
    matches!(
        (a, b),
        (Item::Import(_), Item::Import(_))
            | (Item::Attribute(_), Item::Attribute(_))
            | (Item::Purpose(_), Item::Purpose(_))
    )
}

fn print_header(out: &mut String, header: &Header) {
    let _ = writeln!(out, "policy {}", quote(&header.name.value));
    for (key, value) in [
        ("version", &header.version),
        ("owner", &header.owner),
        ("description", &header.description),
    ] {
        if let Some(value) = value {
            let _ = writeln!(out, "  {key} {}", quote(&value.value));
        }
    }
}

fn print_item(out: &mut String, item: &Item) {
    match item {
        Item::Import(import) => {
            let _ = writeln!(out, "import {}", quote(&import.path.value));
        }
        Item::Set(decl) => print_set(out, decl),
        Item::Attribute(decl) => {
            out.push_str("attribute ");
            out.push_str(&decl.name.name);
            if let Some(description) = &decl.description {
                out.push(' ');
                out.push_str(&quote(&description.value));
            }
            for (keyword, names) in [
                ("proxy_for", &decl.proxy_for),
                ("derived_from", &decl.derived_from),
            ] {
                if !names.is_empty() {
                    let _ = write!(out, " {keyword} {}", join_names(names));
                }
            }
            out.push('\n');
        }
        Item::Purpose(decl) => {
            let _ = writeln!(
                out,
                "purpose {} {}",
                decl.name.name,
                quote(&decl.description.value)
            );
        }
        Item::Table(decl) => {
            out.push_str("table ");
            out.push_str(&decl.name.name);
            if let Some(description) = &decl.description {
                out.push(' ');
                out.push_str(&quote(&description.value));
            }
            if let Some(default) = &decl.default {
                out.push_str(" default ");
                out.push_str(&scalar(default));
            }
            if decl.entries.is_empty() {
                out.push_str(" {}\n");
            } else {
                out.push_str(" {\n");
                for (key, value) in &decl.entries {
                    let _ = writeln!(out, "  {} = {}", key.name, scalar(value));
                }
                out.push_str("}\n");
            }
        }
        Item::Rule(rule) => print_rule(out, rule),
    }
}

fn print_set(out: &mut String, decl: &SetDecl) {
    let mut head = format!("set {}", decl.name.name);
    if let Some(description) = &decl.description {
        head.push(' ');
        head.push_str(&quote(&description.value));
    }
    head.push_str(" =");
    let flat = set_expr(&decl.value);
    if head.len() + 1 + flat.len() <= WIDTH {
        let _ = writeln!(out, "{head} {flat}");
        return;
    }
    // Too long for one line: each list on its own lines, filled to WIDTH.
    let mut terms = Vec::new();
    for term in &decl.value.terms {
        match term {
            SetTerm::Ref(name) => terms.push(name.name.clone()),
            SetTerm::List(items, _) if items.is_empty() => terms.push("[]".into()),
            SetTerm::List(items, _) => {
                let mut text = String::from("[\n");
                let mut line = String::new();
                for item in items {
                    let piece = format!("{},", item.name);
                    if !line.is_empty() && 2 + line.len() + 1 + piece.len() > WIDTH {
                        let _ = writeln!(text, "  {line}");
                        line.clear();
                    }
                    if !line.is_empty() {
                        line.push(' ');
                    }
                    line.push_str(&piece);
                }
                let _ = writeln!(text, "  {line}");
                text.push(']');
                terms.push(text);
            }
        }
    }
    let _ = writeln!(out, "{head} {}", terms.join(" + "));
}

fn print_rule(out: &mut String, rule: &RuleDecl) {
    let _ = writeln!(out, "rule {} {{", rule.id.name);
    let mut line = |text: String| {
        out.push_str("  ");
        out.push_str(&text);
        out.push('\n');
    };
    if let Some(description) = &rule.description {
        line(format!("description {}", quote(&description.value)));
    }
    if let Some(severity) = &rule.severity {
        line(format!("severity {}", severity_word(severity.value)));
    }
    if !rule.tags.is_empty() {
        line(format!("tags {}", join_names(&rule.tags)));
    }
    if !rule.cites.is_empty() {
        let cites: Vec<String> = rule.cites.iter().map(|c| quote(&c.value)).collect();
        line(format!("cite {}", cites.join(", ")));
    }
    if let Some(when) = &rule.when {
        line(format!("when {}", expr(when)));
    }
    if !rule.requires.is_empty() {
        line(format!("requires {}", join_names(&rule.requires)));
    }
    if rule.unwaivable.is_some() {
        line("unwaivable".into());
    }
    line(constraint(&rule.constraint));
    if let Some(message) = &rule.message {
        line(format!("message {}", quote(&message.value)));
    }
    if let Some(help) = &rule.help {
        line(format!("help {}", quote(&help.value)));
    }
    out.push_str("}\n");
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
        Constraint::RequireConsent { scope, within, .. } => {
            let mut text = String::from("require consent for ");
            match scope {
                ConsentScope::EachDeclared(_) => text.push_str("each purpose"),
                ConsentScope::Listed(set) => text.push_str(&set_expr(set)),
            }
            if let Some(within) = within {
                let _ = write!(text, " within {within}");
            }
            text
        }
        Constraint::FrequencyCap {
            max,
            window,
            channels,
            ..
        } => {
            let mut text = format!("cap {} sends per {window} per recipient", max.value);
            if let Some(channels) = channels {
                let _ = write!(text, " on {}", set_expr(channels));
            }
            text
        }
        Constraint::QuietHours { from, to, .. } => format!("quiet hours from {from} to {to}"),
        Constraint::MinimumAge { limit, .. } => match limit {
            AgeLimit::Fixed(age) => format!("minimum age {}", age.value),
            AgeLimit::Table(table) => format!("minimum age {}", table.name),
        },
        Constraint::RequireField { path, .. } => format!("require {}", path.dotted()),
        Constraint::Ensure { expr: e, .. } => format!("ensure {}", expr(e)),
    }
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

fn write_expr(out: &mut String, e: &Expr, slot: Slot) {
    let needs_parens = match e {
        // Nested groups of the same operator are kept as written (the AST
        // keeps them), so only the top level goes without parentheses.
        Expr::Or(..) => slot != Slot::Top,
        Expr::And(..) => !matches!(slot, Slot::Top | Slot::OrOperand),
        // `not not x` would read back as `x`.
        Expr::Not(..) => matches!(slot, Slot::NotOperand | Slot::QuantifierBody),
        Expr::Quantified { .. } => slot == Slot::QuantifierBody,
        Expr::Compare { .. }
        | Expr::In { .. }
        | Expr::Matches { .. }
        | Expr::Presence { .. }
        | Expr::Truthy(_) => false,
    };
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
                (CompareOp::Eq, Operand::Symbol(_)) => "is",
                (CompareOp::Ne, Operand::Symbol(_)) => "is not",
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
            SetTerm::Ref(name) => name.name.clone(),
            SetTerm::List(items, _) => list(items),
        })
        .collect();
    terms.join(" + ")
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
            "rule r {\n  description \"d\"\n  severity info\n  minimum age 3\n  help \"h\"\n}\n"
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
