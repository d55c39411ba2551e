//! Source text shared by every later stage.
//!
//! Policies and campaigns are read once into a [`SourceFile`]; every AST node,
//! campaign value and diagnostic refers back to it through a byte [`Span`], so
//! diagnostics are built from spans, never by searching the text again.

use std::fmt;
use std::io::Read;
use std::sync::Arc;

use crate::diag::Diag;

/// The largest campaign or policy input read by default: 16 MiB
/// (`--max-input-bytes`, or `max_input_bytes` in `scruple.toml`).
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// Why an input was not read.
#[derive(Debug)]
pub enum ReadError {
    /// It holds more than the cap.
    TooLarge,
    /// The read failed.
    Io(std::io::Error),
}

/// Reads everything up to `cap` bytes; an input holding more is refused
/// after reading `cap + 1` bytes, never whole (`check -` on `/dev/zero`).
pub fn read_capped(reader: impl Read, cap: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    reader
        .take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > cap {
        Err(ReadError::TooLarge)
    } else {
        Ok(bytes)
    }
}

/// The diagnostic for an input over the cap.
pub fn too_large(name: &str, cap: u64) -> Diag {
    Diag::error(
        "scruple::input::too_large",
        format!("`{name}` is larger than {cap} bytes, the most scruple reads from one input"),
    )
    .with_help("split it, or raise the limit with `--max-input-bytes` or `max_input_bytes` under `[check]` in scruple.toml")
}

/// A named piece of source text (a policy file, a campaign, stdin).
#[derive(Debug)]
pub struct SourceFile {
    /// Display name: a path relative to where the user ran scruple, `<stdin>`,
    /// or `builtin:gdpr.scruple` for packs compiled into the binary.
    pub name: String,
    /// The full text.
    pub text: Arc<str>,
    /// Byte offset of each line's start, computed on first use: a file with
    /// thousands of diagnostics must not be rescanned from its start for each.
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

impl PartialEq for SourceFile {
    fn eq(&self, other: &SourceFile) -> bool {
        self.name == other.name && self.text == other.text
    }
}

impl Eq for SourceFile {}

/// Shared handle to a source file.
pub type Source = Arc<SourceFile>;

impl SourceFile {
    /// Wraps text under a display name.
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Source {
        Arc::new(SourceFile {
            name: name.into(),
            text: text.into(),
            line_starts: std::sync::OnceLock::new(),
        })
    }

    /// The text a span covers (empty if the span is out of range).
    pub fn slice(&self, span: Span) -> &str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }

    /// Byte offset of the start of each line (the first is 0).
    pub fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| line_starts(&self.text))
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let offset = (offset as usize).min(self.text.len());
        let starts = self.line_starts();
        let line = starts.partition_point(|&s| s <= offset).max(1);
        let line_start = starts.get(line - 1).copied().unwrap_or(0);
        let col = self
            .text
            .get(line_start..offset)
            .map_or(0, |s| s.chars().count())
            + 1;
        (line, col)
    }
}

/// Byte offset of the start of each line of `text` (the first is 0).
pub fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .collect()
}

/// A half-open byte range `[start, end)` into a [`SourceFile`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from byte offsets (saturating at 4 GiB, far past any input we accept).
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }

    /// True for an empty span (a point, such as end of file).
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        miette::SourceSpan::new((span.start as usize).into(), span.len())
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}
