//! Formatting one policy text: the canonical form of [`super::print`] with
//! the comments kept (see `syntax::comments` and docs/fmt.md), checked
//! before it is handed out.
//!
//! [`format()`] parses the formatted text again and compares it with the
//! original: the same AST (spans aside) and the same comments, each as
//! often. A difference is a bug in scruple; it is reported as
//! `scruple::fmt::internal` and no text is returned, so a caller can never
//! write a policy that means something else.

use super::ast::{Item, PolicyFile};
use super::comments::{self, Comment};
use super::parse;
use super::print::{self, item_span};
use crate::diag::Diag;
use crate::source::{Source, SourceFile, Span};

/// Formats a policy text. Errors are the file's own diagnostics when it does
/// not parse or lower cleanly, or one `scruple::fmt::internal` diagnostic
/// when the formatted text would differ from the original in meaning or
/// comments.
pub fn format(source: &Source) -> Result<String, Vec<Diag>> {
    let (file, diags) = parse(source);
    let file = match file {
        Some(file) if !diags.iter().any(Diag::is_error) => file,
        _ => return Err(diags),
    };
    let found = comments::scan(&source.text);
    let Some(attached) = comments::attach(&source.text, &found) else {
        return Err(vec![internal(
            source,
            Span::new(0, 0),
            "the file parsed once but not a second time",
        )]);
    };
    let output = print::print_with_comments(&file, &attached);
    verify(source, &file, &found, &output).map_err(|diag| vec![*diag])?;
    Ok(output)
}

/// Checks that `output` parses to the same AST as `original` and holds the
/// same comments as its source.
fn verify(
    source: &Source,
    original: &PolicyFile,
    comments: &[Comment],
    output: &str,
) -> Result<(), Box<Diag>> {
    let printed = SourceFile::new(source.name.clone(), output);
    let (reparsed, diags) = parse(&printed);
    let reparsed = match reparsed {
        Some(file) if !diags.iter().any(Diag::is_error) => file,
        _ => {
            let why = diags
                .first()
                .map_or_else(|| "no AST".to_string(), |d| d.message.clone());
            return Err(Box::new(internal(
                source,
                Span::new(0, 0),
                &format!("the formatted text does not parse: {why}"),
            )));
        }
    };
    if meaning(original) != meaning(&reparsed) {
        let at = first_difference(original, &reparsed);
        return Err(Box::new(internal(
            source,
            at,
            "the formatted text would mean something else here",
        )));
    }
    let mut before: Vec<&str> = comments.iter().map(|c| c.text.as_str()).collect();
    let after_comments = comments::scan(output);
    let mut after: Vec<&str> = after_comments.iter().map(|c| c.text.as_str()).collect();
    before.sort_unstable();
    after.sort_unstable();
    if before != after {
        // The first comment written fewer times than in the source.
        let lost = comments.iter().find(|c| {
            let count = |list: &[&str]| list.iter().filter(|t| **t == c.text).count();
            count(&after) < count(&before)
        });
        let (span, label) = match lost {
            Some(c) => (c.span, "this comment would be lost or changed"),
            None => (Span::new(0, 0), "the formatted text would add a comment"),
        };
        return Err(Box::new(internal(source, span, label)));
    }
    Ok(())
}

/// The `scruple::fmt::internal` diagnostic.
fn internal(source: &Source, span: Span, label: &str) -> Diag {
    Diag::error(
        "scruple::fmt::internal",
        "formatting would change the policy; this is a bug in scruple",
    )
    .with_label(source, span, label)
    .with_note(format!("`{}` was left as it is", source.name))
    .with_help("please report this, with the policy file, to the scruple maintainers")
}

/// The span of the first declaration (or the header) whose meaning differs.
fn first_difference(a: &PolicyFile, b: &PolicyFile) -> Span {
    if without_spans(&format!("{:?}", a.header)) != without_spans(&format!("{:?}", b.header)) {
        return a.header.as_ref().map_or(Span::new(0, 0), |h| h.span);
    }
    let differs = |(x, y): &(&Item, &Item)| {
        without_spans(&format!("{x:?}")) != without_spans(&format!("{y:?}"))
    };
    match a.items.iter().zip(&b.items).find(differs) {
        Some((item, _)) => item_span(item),
        None => a
            .items
            .get(b.items.len())
            .map_or(Span::new(0, 0), item_span),
    }
}

/// What a parsed file means: its AST with every span left out, as text. Two
/// files that mean the same have equal meanings whatever their layout.
pub fn meaning(file: &PolicyFile) -> String {
    without_spans(&format!(
        "{:?}\n{:?}\n{:?}",
        file.header, file.items, file.skipped_rules
    ))
}

/// Replaces every `Span { start: N, end: M }` of a `Debug` text by `Span`,
/// leaving string literals alone.
fn without_spans(debug: &str) -> String {
    const OPEN: &str = "Span { start: ";
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug;
    while let Some(c) = rest.chars().next() {
        if c == '"' {
            // Copy the literal up to its closing quote, escapes included.
            let mut end = 1;
            let mut escaped = false;
            for (i, ch) in rest.char_indices().skip(1) {
                end = i + ch.len_utf8();
                match ch {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => break,
                    _ => {}
                }
            }
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else if let Some(after) = rest.strip_prefix(OPEN) {
            let close = after.find('}').map_or(after.len(), |i| i + 1);
            out.push_str("Span");
            rest = &after[close..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> Source {
        SourceFile::new("test.scruple", text)
    }

    fn parsed(text: &str) -> PolicyFile {
        let (file, diags) = parse(&source(text));
        assert!(diags.is_empty(), "{diags:?}");
        file.expect("parses")
    }

    #[test]
    fn spans_are_left_out_of_the_meaning_but_strings_are_not() {
        assert_eq!(
            without_spans(
                r#"Str { value: "Span { start: 1, end: 2 } \" x", span: Span { start: 3, end: 4 } }"#
            ),
            r#"Str { value: "Span { start: 1, end: 2 } \" x", span: Span }"#
        );
        assert_eq!(
            meaning(&parsed("rule r { minimum age 3 }")),
            meaning(&parsed("\n\nrule   r {\n minimum age 3\n}"))
        );
        assert_ne!(
            meaning(&parsed("rule r { minimum age 3 }")),
            meaning(&parsed("rule r { minimum age 4 }"))
        );
    }

    #[test]
    fn keeps_comments_and_is_idempotent() {
        let text = "# about\npolicy \"p\" version \"1\" # v\n\n// rule r\nrule r { minimum age 3 } # end\n";
        let once = format(&source(text)).expect("formats");
        assert_eq!(
            once,
            "# about\npolicy \"p\"\n  version \"1\"  # v\n\n// rule r\nrule r {\n  minimum age 3\n}  # end\n"
        );
        assert_eq!(format(&source(&once)).expect("formats"), once);
    }

    #[test]
    fn a_changed_meaning_is_an_internal_error() {
        let text = "rule r { minimum age 3 }\n";
        let original = parsed(text);
        let diag = verify(
            &source(text),
            &original,
            &[],
            "rule r {\n  minimum age 4\n}\n",
        )
        .expect_err("differs");
        assert_eq!(diag.code, "scruple::fmt::internal");
        assert_eq!(
            diag.message,
            "formatting would change the policy; this is a bug in scruple"
        );
        assert_eq!(
            diag.labels[0].span,
            original.items.first().map(item_span).expect("item")
        );
    }

    #[test]
    fn a_lost_comment_is_an_internal_error() {
        let text = "# keep me\nrule r { minimum age 3 }\n";
        let comments = comments::scan(text);
        let diag = verify(
            &source(text),
            &parsed(text),
            &comments,
            "rule r {\n  minimum age 3\n}\n",
        )
        .expect_err("comment lost");
        assert_eq!(diag.code, "scruple::fmt::internal");
        assert_eq!(diag.labels[0].span, comments[0].span);
        let unparsable = verify(&source(text), &parsed(text), &comments, "rule r {")
            .expect_err("does not parse");
        assert!(unparsable.labels[0].text.contains("does not parse"));
    }

    #[test]
    fn parse_errors_are_returned_as_they_are() {
        let diags = format(&source("rule r {")).expect_err("syntax error");
        assert_eq!(diags[0].code, "scruple::parse::syntax");
        let diags =
            format(&source("rule r { minimum age 3 minimum age 4 }")).expect_err("two constraints");
        assert!(diags.iter().any(Diag::is_error));
    }
}
