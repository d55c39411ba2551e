//! The progress line of `scruple gate` on a terminal, drawn with
//! [`indicatif`] on standard error: a bar with percentage and ETA when the
//! input's size is known (a file), a spinner with the record rate otherwise
//! (standard input). The gate clears it through [`Progress::finish`] before
//! it writes its summary, so the two never share a line.

use std::cell::Cell;
use std::io::Read;
use std::rc::Rc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::stream::Summary;

/// What a gate run reports its progress to.
pub trait Progress {
    /// The run starts reading an input of `total_bytes` (`None`: unknown).
    fn start(&mut self, total_bytes: Option<u64>);
    /// Called after each record: input bytes read so far and the counts.
    fn update(&mut self, bytes_read: u64, summary: &Summary);
    /// The run is over: leave the line empty for what is written next.
    /// Called once, before the summary, whether the run succeeded or not.
    fn finish(&mut self);
}

/// Whether `scruple gate` draws its progress line: not with `--quiet`, only
/// when standard error is a terminal, and not when the decisions go to
/// standard output and that is the same screen (they would interleave).
pub fn should_draw(
    quiet: bool,
    stderr_is_terminal: bool,
    stdout_is_terminal: bool,
    decisions_on_stdout: bool,
) -> bool {
    !quiet && stderr_is_terminal && !(stdout_is_terminal && decisions_on_stdout)
}

/// Draws on standard error; a display built disabled draws nothing.
pub struct TerminalProgress {
    enabled: bool,
    bar: Option<ProgressBar>,
    last: Instant,
}

/// How often the counts are redrawn (and the spinner turns).
const REDRAW: Duration = Duration::from_millis(100);

impl TerminalProgress {
    /// A display that draws only when `enabled` (see [`should_draw`]).
    pub fn new(enabled: bool) -> TerminalProgress {
        TerminalProgress {
            enabled,
            bar: None,
            last: Instant::now(),
        }
    }
}

impl Progress for TerminalProgress {
    fn start(&mut self, total_bytes: Option<u64>) {
        if !self.enabled {
            return;
        }
        // `wide_msg` takes the width left and is cut to it: the line never
        // wraps, or clearing it would leave its first half on screen.
        let (length, template) = match total_bytes {
            Some(total) => (Some(total), "{bar:20} {percent:>3}% ETA {eta} · {wide_msg}"),
            None => (None, "{spinner} {wide_msg}"),
        };
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bar =
            ProgressBar::with_draw_target(length, ProgressDrawTarget::stderr()).with_style(style);
        // Ticks from its own thread so a stalled input still shows life.
        bar.enable_steady_tick(REDRAW);
        self.bar = Some(bar);
    }

    fn update(&mut self, bytes_read: u64, s: &Summary) {
        let Some(bar) = &self.bar else { return };
        // Reading the clock every record costs about as much as deciding one.
        if !s.read.is_multiple_of(64) {
            return;
        }
        let now = Instant::now();
        if now.duration_since(self.last) < REDRAW {
            return;
        }
        self.last = now;
        bar.set_position(bytes_read);
        let secs = bar.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!("{} · {:.0}/s", counts(s), s.read as f64 / secs));
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl Drop for TerminalProgress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The counts shown on the line.
pub fn counts(s: &Summary) -> String {
    format!(
        "{} read · {} allowed · {} suppressed · {} bad",
        s.read, s.allowed, s.suppressed, s.bad
    )
}

/// A reader that counts the bytes it reads, for the bar's position.
pub struct CountingReader<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> CountingReader<R> {
    /// Wraps `inner`; the returned cell holds the bytes read so far.
    pub fn new(inner: R) -> (CountingReader<R>, Rc<Cell<u64>>) {
        let count = Rc::new(Cell::new(0));
        (
            CountingReader {
                inner,
                count: Rc::clone(&count),
            },
            count,
        )
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_drawn_only_on_a_terminal_and_never_over_decisions() {
        assert!(should_draw(false, true, false, true));
        assert!(should_draw(false, true, true, false));
        // --quiet, or stderr redirected.
        assert!(!should_draw(true, true, false, false));
        assert!(!should_draw(false, false, false, false));
        // Decisions printed on the same terminal.
        assert!(!should_draw(false, true, true, true));
    }

    #[test]
    fn a_disabled_display_never_draws() {
        let mut p = TerminalProgress::new(false);
        p.start(Some(10));
        assert!(p.bar.is_none());
        p.update(10, &Summary::default());
        p.finish();
    }

    #[test]
    fn finish_clears_the_bar_and_can_be_called_twice() {
        let mut p = TerminalProgress::new(true);
        p.start(None);
        assert!(p.bar.is_some());
        p.finish();
        assert!(p.bar.is_none());
        p.finish();
    }

    #[test]
    fn counting_reader_counts_bytes() {
        let (mut r, count) = CountingReader::new(&b"hello world"[..]);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap_or_default();
        assert_eq!(count.get(), 11);
    }
}
