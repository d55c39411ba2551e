//! Bounded excerpts of a source file for rendering diagnostics.
//!
//! miette's graphical handler prints whole lines and panics past column
//! 65,535 (its format widths are `u16`), and merges labels far apart into one
//! snippet holding every line between them. So it is never given the real
//! file: an [`Excerpt`] holds only the lines around the labels, each cut to a
//! window of [`BEFORE`] characters before and [`AFTER`] after the labelled
//! part (`…` where cut), with the label spans moved onto that text. As a
//! [`miette::SourceCode`] it reports the original line and column numbers, so
//! headers and gutters stay right.

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::source::Span;

/// Characters shown before the labelled part of a long line.
pub const BEFORE: usize = 40;
/// Characters of a labelled part shown (longer spans are cut).
pub const SPAN: usize = 60;
/// Characters shown after the labelled part of a long line.
pub const AFTER: usize = 40;
/// Lines up to this many characters are shown whole.
pub const WHOLE_LINE: usize = BEFORE + SPAN + AFTER;
/// Lines of a multi-line span shown (the rest is cut).
pub const SPAN_LINES: usize = 6;
/// Context lines shown before and after the labelled lines.
const CONTEXT: usize = 1;
/// Gaps of at most this many lines between shown lines are shown too.
const BRIDGE: usize = 2;

const ELLIPSIS: &str = "…";

/// The lines of a source around some spans, windowed, as miette source code.
#[derive(Debug)]
pub struct Excerpt {
    name: String,
    text: String,
    lines: Vec<ExcerptLine>,
}

#[derive(Debug)]
struct ExcerptLine {
    /// Byte range of this line in `Excerpt::text` (without the newline).
    start: usize,
    end: usize,
    /// 0-based line number in the original source.
    line: usize,
    /// 0-based character column, in the original line, of the first
    /// character after the leading `…` (or of the line start).
    column: usize,
    /// Bytes of the leading `…` (0 when the line is not cut at its start).
    prefix: usize,
    /// Lines with the same segment id are consecutive in the original.
    segment: usize,
    /// Byte offset of the original line's start.
    line_start: usize,
    /// Original byte range shown, absolute in the original source.
    orig_start: usize,
    orig_end: usize,
}

/// A line of the original source: number and byte range (without newline).
#[derive(Clone, Copy)]
struct OrigLine {
    line: usize,
    start: usize,
    end: usize,
}

impl Excerpt {
    /// The excerpt of `text` that shows `spans`, and each span moved onto it
    /// (in the same order).
    /// `line_starts` are the byte offsets of the lines of `text`
    /// ([`crate::source::line_starts`]).
    pub fn new(
        name: &str,
        text: &str,
        line_starts: &[usize],
        spans: &[Span],
    ) -> (Excerpt, Vec<SourceSpan>) {
        let clamped: Vec<(usize, usize)> = spans
            .iter()
            .map(|s| {
                let start = floor_boundary(text, s.start as usize);
                let end = floor_boundary(text, (s.end as usize).max(start));
                (start, end.max(start))
            })
            .collect();
        // Which original lines are shown, and which part of each.
        let mut shown: std::collections::BTreeMap<usize, OrigLine> = Default::default();
        let mut points: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
        let mut ends = Vec::with_capacity(clamped.len());
        for &(start, end) in &clamped {
            let first = line_at(text, line_starts, start);
            let mut last = line_at_end(text, first, start, end);
            // A span over many lines shows only its first lines.
            let mut cur = first;
            let mut taken = vec![first];
            while cur.line < last.line && taken.len() < SPAN_LINES {
                cur = next_line(text, cur).unwrap_or(cur);
                taken.push(cur);
            }
            if cur.line < last.line {
                last = cur;
                ends.push(last.end);
            } else {
                ends.push(end);
            }
            points.entry(first.line).or_default().push(start);
            if end <= last.end {
                points.entry(last.line).or_default().push(end);
            }
            let mut before = first;
            for _ in 0..CONTEXT {
                match prev_line(text, before) {
                    Some(p) => {
                        shown.entry(p.line).or_insert(p);
                        before = p;
                    }
                    None => break,
                }
            }
            for l in taken {
                shown.entry(l.line).or_insert(l);
            }
            let mut after = last;
            for _ in 0..CONTEXT {
                match next_line(text, after) {
                    Some(n) => {
                        shown.entry(n.line).or_insert(n);
                        after = n;
                    }
                    None => break,
                }
            }
        }
        // Close gaps of a line or two, as one snippet reads better than two.
        let mut bridges = Vec::new();
        for (a, b) in shown.values().zip(shown.values().skip(1)) {
            let mut cur = *a;
            while b.line - cur.line > 1 && b.line - a.line <= BRIDGE + 1 {
                match next_line(text, cur) {
                    Some(n) => {
                        bridges.push(n);
                        cur = n;
                    }
                    None => break,
                }
            }
        }
        for line in bridges {
            shown.insert(line.line, line);
        }
        let mut excerpt = Excerpt {
            name: name.to_string(),
            text: String::new(),
            lines: Vec::with_capacity(shown.len()),
        };
        let mut segment = 0;
        let mut previous: Option<usize> = None;
        for orig in shown.values() {
            if previous.is_some_and(|p| p + 1 != orig.line) {
                segment += 1;
            }
            previous = Some(orig.line);
            let full = &text[orig.start..orig.end];
            let (from, to) = match points.get(&orig.line) {
                _ if full.chars().count() <= WHOLE_LINE => (orig.start, orig.end),
                Some(marks) => {
                    let lo = marks.iter().copied().min().unwrap_or(orig.start);
                    let hi = marks.iter().copied().max().unwrap_or(lo);
                    let from = back_chars(text, orig.start, lo, BEFORE);
                    let hi = forward_chars(text, hi.min(orig.end), lo, SPAN).min(hi);
                    (from, forward_chars(text, orig.end, hi, AFTER))
                }
                None => (
                    orig.start,
                    forward_chars(text, orig.end, orig.start, WHOLE_LINE),
                ),
            };
            if !excerpt.lines.is_empty() {
                excerpt.text.push('\n');
            }
            let start = excerpt.text.len();
            let prefix = if from > orig.start {
                excerpt.text.push_str(ELLIPSIS);
                ELLIPSIS.len()
            } else {
                0
            };
            excerpt.text.push_str(&text[from..to]);
            let end = excerpt.text.len();
            if to < orig.end {
                excerpt.text.push_str(ELLIPSIS);
            }
            excerpt.lines.push(ExcerptLine {
                start,
                end,
                line: orig.line,
                column: text[orig.start..from].chars().count(),
                prefix,
                segment,
                line_start: orig.start,
                orig_start: from,
                orig_end: to,
            });
        }
        let moved = clamped
            .iter()
            .zip(ends)
            .map(|(&(start, _), end)| {
                let s = excerpt.map(start);
                let e = excerpt.map(end).max(s);
                SourceSpan::new(s.into(), e - s)
            })
            .collect();
        (excerpt, moved)
    }

    /// Moves an original byte offset onto the excerpt: into the window of
    /// the last line shown that starts at or before it.
    fn map(&self, offset: usize) -> usize {
        let i = self
            .lines
            .partition_point(|l| l.line_start <= offset)
            .saturating_sub(1);
        let Some(line) = self.lines.get(i) else {
            return 0;
        };
        let shown = offset.clamp(line.orig_start, line.orig_end);
        line.start + line.prefix + (shown - line.orig_start)
    }

    /// The index of the excerpt line holding an excerpt offset.
    fn line_index(&self, offset: usize) -> Option<usize> {
        if offset > self.text.len() {
            return None;
        }
        Some(
            self.lines
                .partition_point(|l| l.start <= offset)
                .saturating_sub(1),
        )
    }
}

/// Bytes of the trailing `…` after a line's shown text.
fn tail(line: &ExcerptLine, text: &str) -> usize {
    if text[line.end..].starts_with(ELLIPSIS) {
        ELLIPSIS.len()
    } else {
        0
    }
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        if self.lines.is_empty() {
            return Err(MietteError::OutOfBounds);
        }
        let start = span.offset();
        let last = start + span.len().saturating_sub(1);
        let (Some(first_idx), Some(last_idx)) = (self.line_index(start), self.line_index(last))
        else {
            return Err(MietteError::OutOfBounds);
        };
        let segment = self.lines[first_idx].segment;
        // Lines far apart in the original are separate snippets.
        if self.lines[last_idx].segment != segment {
            return Err(MietteError::OutOfBounds);
        }
        let mut from = first_idx;
        while from > 0
            && first_idx - from < context_lines_before
            && self.lines[from - 1].segment == segment
        {
            from -= 1;
        }
        let mut to = last_idx;
        while to + 1 < self.lines.len()
            && to - last_idx < context_lines_after
            && self.lines[to + 1].segment == segment
        {
            to += 1;
        }
        let segment_end = self.lines[to..]
            .iter()
            .take_while(|l| l.segment == segment)
            .last()
            .map_or(self.lines[to].line, |l| l.line);
        let data_start = self.lines[from].start;
        let mut data_end = self.lines[to].end + tail(&self.lines[to], &self.text);
        if data_end < self.text.len() {
            data_end += 1;
        }
        let first = &self.lines[first_idx];
        let column = if context_lines_before == 0 {
            let within = start.saturating_sub(first.start + first.prefix);
            let shown = &self.text[first.start + first.prefix..];
            first.column + shown.get(..within).map_or(0, |s| s.chars().count())
        } else {
            0
        };
        Ok(Box::new(
            MietteSpanContents::new_named(
                self.name.clone(),
                &self.text.as_bytes()[data_start..data_end],
                SourceSpan::new(data_start.into(), data_end - data_start),
                self.lines[from].line,
                column,
                // miette tries to merge two snippets when this reaches the
                // next one's first line: count to the end of the segment,
                // so snippets merge exactly when they share a segment.
                segment_end - self.lines[from].line + 1,
            )
            .with_language("text"),
        ))
    }
}

/// The largest char boundary at or before `offset` (clamped to the text).
fn floor_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The line holding byte `offset`.
fn line_at(text: &str, line_starts: &[usize], offset: usize) -> OrigLine {
    // A binary search, not a count from the file's start: a file with
    // thousands of diagnostics made rendering them quadratic.
    let line = line_starts
        .partition_point(|&s| s <= offset)
        .saturating_sub(1);
    let start = line_starts.get(line).copied().unwrap_or(0);
    OrigLine {
        line,
        start,
        end: line_end(text, start),
    }
}

/// The line holding the last byte of `[start, end)`, given the first line.
fn line_at_end(text: &str, first: OrigLine, start: usize, end: usize) -> OrigLine {
    let last_byte = end.saturating_sub(1).max(start);
    if last_byte <= first.end {
        return first;
    }
    let between = &text.as_bytes()[first.end..last_byte];
    let newlines = between.iter().filter(|&&b| b == b'\n').count();
    let line_start = first.end
        + between
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
    OrigLine {
        line: first.line + newlines,
        start: line_start,
        end: line_end(text, line_start),
    }
}

/// The end of the line starting at `start`, before its `\n` or `\r\n`.
fn line_end(text: &str, start: usize) -> usize {
    let end = text.as_bytes()[start..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |i| start + i);
    if end > start && text.as_bytes()[end - 1] == b'\r' {
        end - 1
    } else {
        end
    }
}

fn next_line(text: &str, line: OrigLine) -> Option<OrigLine> {
    let newline = text.as_bytes()[line.end..]
        .iter()
        .position(|&b| b == b'\n')?
        + line.end;
    let start = newline + 1;
    Some(OrigLine {
        line: line.line + 1,
        start,
        end: line_end(text, start),
    })
}

fn prev_line(text: &str, line: OrigLine) -> Option<OrigLine> {
    if line.start == 0 {
        return None;
    }
    let start = text.as_bytes()[..line.start - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    Some(OrigLine {
        line: line.line - 1,
        start,
        end: line_end(text, start),
    })
}

/// The offset `n` characters before `offset`, not before `floor`.
fn back_chars(text: &str, floor: usize, offset: usize, n: usize) -> usize {
    text[floor..offset]
        .char_indices()
        .rev()
        .take(n)
        .last()
        .map_or(offset, |(i, _)| floor + i)
}

/// The offset `n` characters after `offset`, not past `ceiling`.
fn forward_chars(text: &str, ceiling: usize, offset: usize, n: usize) -> usize {
    let offset = offset.min(ceiling);
    text[offset..ceiling]
        .char_indices()
        .nth(n)
        .map_or(ceiling, |(i, _)| offset + i)
}
