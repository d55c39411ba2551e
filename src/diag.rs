//! Diagnostics: one renderer-neutral type for every problem scruple reports.
//!
//! Parsing, resolution, campaign loading and evaluation all produce [`Diag`]s.
//! A diagnostic may label spans in several files (the campaign line and the
//! rule that fired); [`Diag::to_report`] turns it into a miette report whose
//! labels in other files become related diagnostics, so each snippet is shown
//! with its own file name.

use std::fmt;

use miette::{LabeledSpan, MietteDiagnostic, NamedSource};

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
        let mut help = self.help.clone().unwrap_or_default();
        for note in &self.notes {
            if !help.is_empty() {
                help.push('\n');
            }
            help.push_str(note);
        }
        let mut main = MietteDiagnostic::new(self.message.clone())
            .with_code(self.code.clone())
            .with_severity(severity);
        if !help.is_empty() {
            main = main.with_help(help);
        }
        let Some(first) = self.labels.first() else {
            return miette::Report::new(main);
        };
        let primary_source = first.source.clone();
        let mut others: Vec<(Source, Vec<&Label>)> = Vec::new();
        let mut own = Vec::new();
        for (i, label) in self.labels.iter().enumerate() {
            if std::sync::Arc::ptr_eq(&label.source, &primary_source) {
                own.push(to_labeled(label, i == 0));
            } else if let Some(group) = others
                .iter_mut()
                .find(|(s, _)| std::sync::Arc::ptr_eq(s, &label.source))
            {
                group.1.push(label);
            } else {
                others.push((label.source.clone(), vec![label]));
            }
        }
        main = main.with_labels(own);
        let related: Vec<miette::Report> = others
            .into_iter()
            .map(|(source, labels)| {
                let title = labels.first().map(|l| l.text.clone()).unwrap_or_default();
                let diag = MietteDiagnostic::new(title)
                    .with_severity(miette::Severity::Advice)
                    .with_labels(labels.iter().map(|l| to_labeled(l, false)));
                miette::Report::new(diag).with_source_code(named(&source))
            })
            .collect();
        let report = miette::Report::new(WithRelated {
            inner: main,
            related,
        });
        report.with_source_code(named(&primary_source))
    }
}

fn to_labeled(label: &Label, primary: bool) -> LabeledSpan {
    let text = if label.text.is_empty() {
        None
    } else {
        Some(label.text.clone())
    };
    if primary {
        LabeledSpan::new_primary_with_span(text, label.span)
    } else {
        LabeledSpan::new_with_span(text, label.span)
    }
}

fn named(source: &Source) -> NamedSource<std::sync::Arc<str>> {
    NamedSource::new(source.name.clone(), source.text.clone()).with_language("text")
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
/// `color` is false, at the given width.
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
    for diag in diags {
        let report = diag.to_report();
        // Writing to a String cannot fail.
        let _ = handler.render_report(&mut out, report.as_ref());
    }
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
}
