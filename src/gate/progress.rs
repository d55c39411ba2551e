//! A one-line progress display for `scruple gate` on a terminal: counts and
//! rate, redrawn at most ten times a second, on standard error.

use std::io::Write;
use std::time::{Duration, Instant};

use super::stream::Summary;

/// Redraws a status line while records stream through.
pub struct Progress {
    enabled: bool,
    started: Instant,
    last: Instant,
}

impl Progress {
    /// A display that draws only when `enabled` (standard error is a terminal).
    pub fn new(enabled: bool) -> Progress {
        let now = Instant::now();
        Progress {
            enabled,
            started: now,
            last: now,
        }
    }

    /// Called after each record.
    pub fn update(&mut self, s: &Summary) {
        // Checking the clock every record costs more than deciding one.
        if !self.enabled || !s.read.is_multiple_of(1024) {
            return;
        }
        let now = Instant::now();
        if now.duration_since(self.last) < Duration::from_millis(100) {
            return;
        }
        self.last = now;
        let secs = now.duration_since(self.started).as_secs_f64().max(1e-9);
        let rate = s.read as f64 / secs;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K{} read · {} allowed · {} suppressed · {} bad · {:.0}/s",
            s.read, s.allowed, s.suppressed, s.bad, rate
        );
        let _ = err.flush();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if self.enabled && self.last != self.started {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}
