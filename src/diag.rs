//! Diagnostics: one renderer-neutral type for every problem scruple reports.
//!
//! Parsing, resolution, campaign loading and evaluation all produce [`Diag`]s.
//! A diagnostic may label spans in several files (the campaign line and the
//! rule that fired); [`Diag::to_report`] turns it into a miette report whose
//! labels in other files become related diagnostics, so each snippet is shown
//! with its own file name.

pub mod excerpt;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use miette::{LabeledSpan, MietteDiagnostic};

use excerpt::Excerpt;

use crate::source::{Source, Span};

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational; never fails a run.
    Info,
    /// Fails a run only with `--deny-warnings`.
    Warning,
    /// Fails the run.
    Error,
}

impl Severity {
    /// The lowercase name used in policies and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A labelled span in some source file.
#[derive(Clone, Debug)]
pub struct Label {
    /// The file the span points into.
    pub source: Source,
    /// The labelled bytes.
    pub span: Span,
    /// Text shown next to the span (may be empty).
    pub text: String,
}

impl Label {
    /// A label on `span` of `source`.
    pub fn new(source: &Source, span: Span, text: impl Into<String>) -> Label {
        Label {
            source: source.clone(),
            span,
            text: text.into(),
        }
    }
}

/// A problem found in a policy or a campaign.
#[derive(Clone, Debug)]
pub struct Diag {
    /// Stable machine-readable code such as `scruple::resolve::unknown_set`.
    pub code: String,
    /// Severity.
    pub severity: Severity,
    /// One-line message.
    pub message: String,
    /// Labels; the first one is the primary location.
    pub labels: Vec<Label>,
    /// How to fix it.
    pub help: Option<String>,
    /// Extra lines shown after the help (citations, chains, reasons).
    pub notes: Vec<String>,
}

impl Diag {
    /// An error with a code and a message and nothing else yet.
    pub fn error(code: impl Into<String>, message: impl Into<String>) -> Diag {
        Diag {
            code: code.into(),
            severity: Severity::Error,
            message: message.into(),
            labels: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    /// A warning with a code and a message.
    pub fn warning(code: impl Into<String>, message: impl Into<String>) -> Diag {
        Diag {
            severity: Severity::Warning,
            ..Diag::error(code, message)
        }
    }

    /// Adds a label.
    pub fn with_label(mut self, source: &Source, span: Span, text: impl Into<String>) -> Diag {
        self.labels.push(Label::new(source, span, text));
        self
    }

    /// Sets the help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Diag {
        self.help = Some(help.into());
        self
    }

    /// Sets the help text if there is one.
    pub fn with_help_opt(mut self, help: Option<String>) -> Diag {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// Adds a note line.
    pub fn with_note(mut self, note: impl Into<String>) -> Diag {
        self.notes.push(note.into());
        self
    }

    /// True if this diagnostic is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Builds a miette report: labels in the primary label's file stay on the
    /// main diagnostic, labels in other files become related diagnostics.
    pub fn to_report(&self) -> miette::Report {
        let severity = match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        };
        let mut help = clip(self.help.as_deref().unwrap_or_default()).into_owned();
        for note in &self.notes {
            if !help.is_empty() {
                help.push('\n');
            }
            help.push_str(&clip(note));
        }
        let mut main = MietteDiagnostic::new(clip(&self.message))
            .with_code(self.code.clone())
            .with_severity(severity);
        if !help.is_empty() {
            main = main.with_help(help);
        }
        let Some(first) = self.labels.first() else {
            return miette::Report::new(main);
        };
        let primary_source = first.source.clone();
        let mut others: Vec<(Source, Vec<(&Label, bool)>)> = Vec::new();
        let mut own = Vec::new();
        for (i, label) in self.labels.iter().enumerate() {
            if std::sync::Arc::ptr_eq(&label.source, &primary_source) {
                own.push((label, i == 0));
            } else if let Some(group) = others
                .iter_mut()
                .find(|(s, _)| std::sync::Arc::ptr_eq(s, &label.source))
            {
                group.1.push((label, false));
            } else {
                others.push((label.source.clone(), vec![(label, false)]));
            }
        }
        let (excerpt, own) = excerpt_of(&primary_source, &own);
        main = main.with_labels(own);
        let related: Vec<miette::Report> = others
            .into_iter()
            .map(|(source, labels)| {
                let title = labels.first().map(|(l, _)| clip(&l.text).into_owned());
                let (excerpt, labels) = excerpt_of(&source, &labels);
                let diag = MietteDiagnostic::new(title.unwrap_or_default())
                    .with_severity(miette::Severity::Advice)
                    .with_labels(labels);
                miette::Report::new(diag).with_source_code(excerpt)
            })
            .collect();
        let report = miette::Report::new(WithRelated {
            inner: main,
            related,
        });
        report.with_source_code(excerpt)
    }
}

/// The most characters of a message, label, help or note rendered: texts
/// quote user values, which may be megabytes long.
pub const MAX_TEXT: usize = 1000;

/// `text` cut to [`MAX_TEXT`] characters, `…` where cut.
pub fn clip(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(MAX_TEXT) {
        Some((cut, _)) => Cow::Owned(format!("{}…", &text[..cut])),
        None => Cow::Borrowed(text),
    }
}

/// The bounded excerpt of `source` showing `labels` (the first one primary
/// when `primary`), and the labels moved onto it.
fn excerpt_of(source: &Source, labels: &[(&Label, bool)]) -> (Excerpt, Vec<LabeledSpan>) {
    let spans: Vec<Span> = labels.iter().map(|(l, _)| l.span).collect();
    let (excerpt, moved) = Excerpt::new(&source.name, &source.text, source.line_starts(), &spans);
    let labeled = labels
        .iter()
        .zip(moved)
        .map(|((label, primary), span)| {
            let text = (!label.text.is_empty()).then(|| clip(&label.text).into_owned());
            if *primary {
                LabeledSpan::new_primary_with_span(text, span)
            } else {
                LabeledSpan::new_with_span(text, span)
            }
        })
        .collect();
    (excerpt, labeled)
}

/// A miette diagnostic plus related reports (miette's own `MietteDiagnostic`
/// has no slot for related diagnostics).
#[derive(Debug)]
struct WithRelated {
    inner: MietteDiagnostic,
    related: Vec<miette::Report>,
}

impl fmt::Display for WithRelated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

impl std::error::Error for WithRelated {}

impl miette::Diagnostic for WithRelated {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.inner.code()
    }
    fn severity(&self) -> Option<miette::Severity> {
        self.inner.severity()
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.inner.help()
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.inner.labels()
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(self.related.iter().map(|r| r.as_ref())))
        }
    }
}

/// The closest candidate to `word` by edit distance, if close enough to be a
/// plausible typo ("did you mean …?").
pub fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut best: Option<(f64, &'a str)> = None;
    for candidate in candidates {
        if candidate == word {
            continue;
        }
        let score = strsim::jaro_winkler(word, candidate);
        let distance = strsim::damerau_levenshtein(word, candidate);
        let close = score >= 0.85 || distance <= word.len().max(candidate.len()) / 3;
        if close && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// Renders diagnostics as miette's graphical output, without colour when
/// `color` is false, at the given width: a blank line between diagnostics,
/// no trailing spaces, and each source shown as a bounded [`Excerpt`].
pub fn render_human(diags: &[Diag], color: bool, width: usize) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_width(width)
        .with_links(false);
    let mut out = String::new();
    let mut shown_per_code: HashMap<&str, usize> = HashMap::new();
    let mut hidden_per_code: BTreeMap<&str, (Severity, usize)> = BTreeMap::new();
    let mut rendered = 0usize;
    for diag in diags {
        // The same mistake repeated thousands of times (20,000 unused sets)
        // must not bury everything else: show the first few of each code.
        let shown = shown_per_code.entry(diag.code.as_str()).or_insert(0);
        if *shown >= MAX_RENDERED_PER_CODE {
            hidden_per_code
                .entry(diag.code.as_str())
                .or_insert((diag.severity, 0))
                .1 += 1;
            continue;
        }
        *shown += 1;
        let i = rendered;
        rendered += 1;
        let report = diag.to_report();
        let mut one = String::new();
        // Writing to a String cannot fail.
        let _ = handler.render_report(&mut one, report.as_ref());
        if i > 0 {
            out.push('\n');
        }
        for line in one.trim_end().lines() {
            out.push_str(&trim_line_end(line));
            out.push('\n');
        }
    }
    for (code, (severity, hidden)) in hidden_per_code {
        let kind = match severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "note",
        };
        out.push_str(&format!(
            "\n  … and {hidden} more {kind}{} like this ({code}) not shown.\n",
            if hidden == 1 { "" } else { "s" }
        ));
    }
    out
}

/// How many diagnostics of one code [`render_human`] shows before it
/// summarises the rest in one line.
pub const MAX_RENDERED_PER_CODE: usize = 50;

/// A line without trailing whitespace, also before trailing colour codes
/// (miette pads empty snippet lines and its "Advice: " heading).
fn trim_line_end(line: &str) -> String {
    let mut body = line.trim_end();
    let mut codes = Vec::new();
    // Peel trailing SGR sequences (`ESC [ digits;… m`) off, trim what is
    // before them, put them back.
    while let Some(esc) = body.rfind('\x1b') {
        let seq = &body[esc..];
        let is_sgr = seq.len() >= 3
            && seq.starts_with("\x1b[")
            && seq.ends_with('m')
            && seq[2..seq.len() - 1]
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b';');
        if !is_sgr {
            break;
        }
        codes.push(seq);
        body = body[..esc].trim_end();
    }
    let mut out = body.to_string();
    out.extend(codes.into_iter().rev());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names_only() {
        let names = ["special_categories", "sensitive", "proxies"];
        assert_eq!(
            did_you_mean("special_catgories", names),
            Some("special_categories")
        );
        assert_eq!(did_you_mean("proxy", names), Some("proxies"));
        assert_eq!(did_you_mean("weather", names), None);
    }

    use crate::source::SourceFile;

    #[test]
    fn thousands_of_one_code_render_a_bounded_summary() {
        let source = SourceFile::new("p.scruple", "set unused = [a]\n".to_string());
        let mut diags: Vec<Diag> = (0..20_000)
            .map(|_| {
                Diag::warning("scruple::resolve::unused_set", "set `unused` is never used")
                    .with_label(&source, Span::new(4, 10), "declared here")
            })
            .collect();
        diags.push(Diag::error("scruple::other", "a different problem"));
        let out = render_human(&diags, false, 100);
        assert_eq!(
            out.matches("set `unused` is never used").count(),
            MAX_RENDERED_PER_CODE
        );
        assert!(
            out.contains("a different problem"),
            "other codes still shown"
        );
        assert!(
            out.contains(
                "… and 19950 more warnings like this (scruple::resolve::unused_set) not shown."
            ),
            "{}",
            &out[out.len().saturating_sub(300)..]
        );
        assert!(out.lines().count() < 1_000, "{} lines", out.lines().count());
    }

    fn one(text: String, span: Span, label: &str) -> String {
        let source = SourceFile::new("t.yaml", text);
        let diag = Diag::error("scruple::test", "something").with_label(&source, span, label);
        render_human(&[diag], false, 100)
    }

    #[test]
    fn diagnostic_past_column_65535_renders() {
        // miette's handler panics on columns past u16::MAX.
        let text = format!("{{{}bogus: 1}}\n", " ".repeat(65_600));
        let out = one(text, Span::new(65_601, 65_606), "unknown key");
        assert!(out.contains("[t.yaml:1:65602]"), "{out}");
        assert!(out.contains("…") && out.contains("bogus: 1}"), "{out}");
        assert!(out.len() < 1_000, "{} bytes:\n{out}", out.len());
    }

    #[test]
    fn diagnostic_on_a_10_mb_line_is_bounded() {
        let value = "é".repeat(5_000_000);
        let text = format!("id: x\nname: {value}\nowner: y\n");
        let start = text.find("name").unwrap_or_default();
        let out = one(text.clone(), Span::new(start, text.len() - 10), &value);
        assert!(out.len() < 6_000, "{} bytes", out.len());
        assert!(out.contains("[t.yaml:2:1]"), "{out}");
        assert!(out.lines().all(|l| l == l.trim_end()), "{out}");
        // The label text quoting the value is cut as well.
        assert!(out.contains("éé…"), "{out}");
    }

    #[test]
    fn column_counts_characters_after_a_cut() {
        let text = format!("{}bad\n", "ü".repeat(1000));
        let out = one(text, Span::new(2000, 2003), "here");
        assert!(out.contains("[t.yaml:1:1001]"), "{out}");
        assert!(out.contains("…üü"), "{out}");
    }

    #[test]
    fn long_multi_line_span_is_cut() {
        let text: String = (0..100_000).map(|i| format!("line {i}\n")).collect();
        let out = one(text.clone(), Span::new(0, text.len()), "all of it");
        assert!(out.lines().count() < 20, "{out}");
        assert!(out.contains("[t.yaml:1:1]"), "{out}");
    }

    #[test]
    fn labels_far_apart_are_separate_snippets() {
        let text: String = (0..10_000).map(|i| format!("line {i}\r\n")).collect();
        let source = SourceFile::new("t.yaml", text.clone());
        let at = |n: usize| {
            let s = text.find(&format!("line {n}\r")).unwrap_or_default();
            Span::new(s, s + 4)
        };
        let diag = Diag::error("scruple::test", "two")
            .with_label(&source, at(3), "first")
            .with_label(&source, at(9_000), "second");
        let out = render_human(&[diag], false, 100);
        assert!(out.contains("[t.yaml:4:1]"), "{out}");
        assert!(out.contains("[t.yaml:9001:1]"), "{out}");
        assert!(out.contains("9000 │ line 8999"), "{out}");
        assert!(!out.contains("line 100\n") && !out.contains('\r'), "{out}");
        assert!(out.lines().count() < 25, "{out}");
    }

    #[test]
    fn a_span_past_the_end_renders() {
        let out = one("short".into(), Span::new(3, 900), "past the end");
        assert!(out.contains("[t.yaml:1:4]"), "{out}");
        // An empty file has no line to show; the location still is.
        let out = one(String::new(), Span::new(0, 0), "empty file");
        assert!(out.contains("[t.yaml:1:1]"), "{out}");
    }

    #[test]
    fn findings_are_separated_and_lines_unpadded() {
        let source = SourceFile::new("t.yaml", "a: 1\n\nb: 2\n");
        let d = |s, e| Diag::error("scruple::test", "x").with_label(&source, Span::new(s, e), "");
        let out = render_human(&[d(0, 1), d(6, 7)], false, 100);
        assert!(out.contains("╰────\n\nscruple::test"), "{out}");
        assert!(out.lines().all(|l| l == l.trim_end()), "{out:?}");
        assert_eq!(
            trim_line_end("ab  \x1b[0m  \x1b[1;2m "),
            "ab\x1b[0m\x1b[1;2m"
        );
    }
}
