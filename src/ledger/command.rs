//! `scruple ledger`: import past sends, show a recipient's history, prune
//! what no cap can count any more, export.

use std::io::{BufRead, Write};
use std::path::Path;

use jiff::Timestamp;

use super::backend::{self, Backend, Location};
use super::rows::{self, time_text, RowFormat, RowWriter};
use super::{longest_cap_window, LedgerError, SendSlot};
use crate::compile::Policy;
use crate::syntax::ast::{Duration, TimeUnit};

/// A `scruple ledger` subcommand.
#[derive(Clone, Debug)]
pub enum LedgerCommand {
    /// Import sends from a file (`-` for standard input), all or nothing.
    Import {
        /// The file.
        file: String,
        /// Its format (default: from the extension; JSON Lines for stdin).
        format: Option<RowFormat>,
    },
    /// Show every send to a recipient, newest first.
    History {
        /// The recipient id.
        recipient: String,
        /// A table, or rows as CSV or JSON Lines.
        format: Option<RowFormat>,
    },
    /// Delete sends older than a duration before `at`.
    Prune {
        /// How old; default: the longest cap window of the policy.
        older_than: Option<Duration>,
        /// Reference time (default: now).
        at: Option<Timestamp>,
    },
    /// Write every send to standard output.
    Export {
        /// The format.
        format: RowFormat,
    },
    /// Commit (`commit: true`) or release the reservations of a send
    /// (issue 14): of every recipient, or of the ids in `recipients`.
    Settle {
        /// The campaign id.
        campaign: String,
        /// The send slot (the `--at` of the gate run that reserved).
        slot: Timestamp,
        /// A file of recipient ids (one per line, or JSON Lines with `id`);
        /// `-` for standard input; none for every reservation of the send.
        recipients: Option<String>,
        /// Commit, or release.
        commit: bool,
    },
}

impl LedgerCommand {
    /// Whether the command needs the policy: only `prune` without
    /// `--older-than`, which prunes by the longest cap window.
    pub fn needs_policy(&self) -> bool {
        matches!(
            self,
            LedgerCommand::Prune {
                older_than: None,
                ..
            }
        )
    }
}

/// The streams of a ledger command.
pub struct LedgerIo<'a> {
    /// Standard input (`import -`).
    pub stdin: &'a mut dyn BufRead,
    /// Standard output (history, export).
    pub stdout: &'a mut dyn Write,
    /// Standard error (what was done, errors).
    pub stderr: &'a mut dyn Write,
}

/// Runs a ledger command on the ledger at `path`; returns the exit code
/// (0, or 2 for an input or ledger error). `policy` is needed only when
/// [`LedgerCommand::needs_policy`].
pub fn run(path: &Path, command: &LedgerCommand, policy: Option<&Policy>, io: LedgerIo<'_>) -> u8 {
    let LedgerIo {
        stdin,
        stdout,
        stderr,
    } = io;
    let done = execute(path, command, policy, stdin, stdout)
        .and_then(|note| stdout.flush().map(|()| note).map_err(write_error));
    match done {
        Ok(note) => {
            if !note.is_empty() {
                let _ = writeln!(stderr, "{note}");
            }
            0
        }
        Err(message) => {
            let _ = writeln!(stderr, "error: {message}");
            2
        }
    }
}

/// Does the work; returns a note for standard error.
fn execute(
    path: &Path,
    command: &LedgerCommand,
    policy: Option<&Policy>,
    stdin: &mut dyn BufRead,
    stdout: &mut dyn Write,
) -> Result<String, String> {
    let failed = |e: LedgerError| ledger_error(path, &e);
    match command {
        LedgerCommand::Import { file, format } => {
            let format = format.unwrap_or_else(|| RowFormat::of_path(file));
            let input: Box<dyn BufRead + '_> = if file == "-" {
                Box::new(stdin)
            } else {
                let f =
                    std::fs::File::open(file).map_err(|e| format!("cannot read `{file}`: {e}"))?;
                Box::new(std::io::BufReader::new(f))
            };
            let mut ledger = open(path, true)?;
            let mut rows = rows::read(input, format).map(|r| r.map_err(|e| e.to_string()));
            match ledger.import(&mut rows).map_err(failed)? {
                Ok(done) => Ok(format!(
                    "ledger: imported {} into {} ({} already there)",
                    sends(done.inserted),
                    Location::parse(path).display(),
                    done.already
                )),
                Err(row) => Err(format!("{file}: {row}; nothing was imported")),
            }
        }
        LedgerCommand::History { recipient, format } => {
            let mut ledger = existing(path)?;
            let found = ledger.sends_to(recipient).map_err(failed)?;
            let written = match format {
                Some(format) => {
                    let mut out = RowWriter::new(&mut *stdout, *format).map_err(write_error)?;
                    found
                        .iter()
                        .try_for_each(|s| out.write(s))
                        .map_err(write_error)?;
                    out.finish()
                }
                None if found.is_empty() => Ok(()),
                None => stdout.write_all(history_table(&found).as_bytes()),
            };
            written.map_err(write_error)?;
            Ok(if found.is_empty() {
                format!(
                    "ledger: no sends to `{recipient}` in {}",
                    Location::parse(path).display()
                )
            } else {
                String::new()
            })
        }
        LedgerCommand::Prune { older_than, at } => {
            let (window, why) = match (older_than, policy.and_then(longest_cap_window)) {
                (Some(d), _) => (crate::gate::window_seconds(d), format!("older than {d}")),
                (None, Some((seconds, rule))) => (
                    seconds,
                    format!(
                        "older than the longest cap window ({} of `{rule}`)",
                        seconds_text(seconds)
                    ),
                ),
                (None, None) => return Err(
                    "the policy has no frequency cap; say how old a send must be with --older-than"
                        .into(),
                ),
            };
            let now = at.unwrap_or_else(Timestamp::now).as_second();
            let before = now.saturating_sub(window);
            let mut ledger = existing(path)?;
            let (pruned, leases) = ledger.prune(before, now).map_err(failed)?;
            Ok(format!(
                "ledger: pruned {} {why}, made before {}, and {leases} expired reservation{}",
                sends(pruned),
                time_text(before),
                if leases == 1 { "" } else { "s" }
            ))
        }
        LedgerCommand::Export { format } => {
            let mut ledger = existing(path)?;
            let mut out = RowWriter::new(&mut *stdout, *format).map_err(write_error)?;
            ledger
                .for_each(&mut |send| out.write(&send).map_err(|e| e.to_string()))
                .map_err(failed)?
                .map_err(|e| format!("cannot write: {e}"))?;
            out.finish().map_err(write_error)?;
            Ok(String::new())
        }
        LedgerCommand::Settle {
            campaign,
            slot,
            recipients,
            commit,
        } => {
            let ids = match recipients {
                None => None,
                Some(file) => Some(read_ids(file, stdin)?),
            };
            let mut ledger = existing(path)?;
            let send = SendSlot {
                campaign: campaign.clone(),
                slot: slot.as_second(),
            };
            let now = Timestamp::now().as_second();
            let (n, expired) = ledger
                .settle(&send, ids.as_deref(), *commit, now)
                .map_err(failed)?;
            let mut note = if *commit {
                format!(
                    "ledger: committed {n} reserved send{} of `{campaign}` at {}",
                    if n == 1 { "" } else { "s" },
                    time_text(send.slot)
                )
            } else {
                format!(
                    "ledger: released {n} reservation{} of `{campaign}` at {}",
                    if n == 1 { "" } else { "s" },
                    time_text(send.slot)
                )
            };
            if expired > 0 {
                note.push_str(&format!(
                    "\nwarning: {expired} of them had an expired lease: other deciders may have \
                     used their place under a cap since (commit sends before the lease ends)"
                ));
            }
            Ok(note)
        }
    }
}

/// The ledger at `path` (a file or a URL), created if `create`.
fn open(path: &Path, create: bool) -> Result<Box<dyn Backend>, String> {
    match backend::open(&Location::parse(path), create) {
        Ok(Some(ledger)) => Ok(ledger),
        Ok(None) => Err(format!(
            "no ledger at `{}` (record sends with `scruple gate --record`, or `scruple ledger import`)",
            path.display()
        )),
        Err(e) => Err(ledger_error(path, &e)),
    }
}

/// The ledger at `path`, which must exist: reading commands create nothing.
fn existing(path: &Path) -> Result<Box<dyn Backend>, String> {
    open(path, false)
}

/// Recipient ids, one per line: a bare id, or a JSON object with `id` (the
/// `--allowed` output of `scruple gate`).
fn read_ids(file: &str, stdin: &mut dyn BufRead) -> Result<Vec<String>, String> {
    let input: Box<dyn BufRead + '_> = if file == "-" {
        Box::new(stdin)
    } else {
        let f = std::fs::File::open(file).map_err(|e| format!("cannot read `{file}`: {e}"))?;
        Box::new(std::io::BufReader::new(f))
    };
    let mut ids = Vec::new();
    for (n, line) in input.lines().enumerate() {
        let line = line.map_err(|e| format!("cannot read `{file}`: {e}"))?;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('{') {
            let value: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| format!("{file}:{}: not JSON: {e}", n + 1))?;
            match value.get("id").and_then(|v| v.as_str()) {
                Some(id) => ids.push(id.to_string()),
                None => return Err(format!("{file}:{}: no string `id`", n + 1)),
            }
        } else {
            ids.push(line.to_string());
        }
    }
    Ok(ids)
}

/// The message for a ledger error, naming the ledger (a URL without its
/// password).
pub fn ledger_error(path: &Path, e: &LedgerError) -> String {
    format!("ledger `{}`: {e}", Location::parse(path).display())
}

fn write_error(e: std::io::Error) -> String {
    format!("cannot write: {e}")
}

/// A recipient's sends as an aligned table.
fn history_table(sends: &[rows::Send]) -> String {
    let rows: Vec<[String; 4]> = sends
        .iter()
        .map(|s| {
            [
                time_text(s.sent_at),
                s.channel.clone(),
                s.campaign.clone(),
                // A send no cap counts (transactional) says so; the header
                // stays as it was for the others.
                if s.counts {
                    time_text(s.slot)
                } else {
                    format!("{}  (counted by no cap)", time_text(s.slot))
                },
            ]
        })
        .collect();
    let header = ["sent_at", "channel", "campaign", "slot"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(header.map(String::from)).chain(rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// "1 send", "2 sends".
pub fn sends(n: u64) -> String {
    format!("{n} send{}", if n == 1 { "" } else { "s" })
}

/// Seconds as the largest whole unit (`7 days`, `36 hours`).
fn seconds_text(seconds: i64) -> String {
    for (unit, name) in [(86_400, "day"), (3_600, "hour"), (60, "minute")] {
        if seconds % unit == 0 {
            let n = seconds / unit;
            return format!("{n} {name}{}", if n == 1 { "" } else { "s" });
        }
    }
    format!("{seconds} seconds")
}

/// Parses a reservation lease (`15 minutes`, `2h`, or seconds: `90s`,
/// `30 seconds`); in seconds, at least 1.
pub fn parse_lease(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (amount, unit) = t.split_at(digits);
    let seconds = match unit.trim() {
        "s" | "sec" | "secs" | "second" | "seconds" => amount.parse::<i64>().ok(),
        _ => parse_duration(t)
            .ok()
            .map(|d| crate::gate::window_seconds(&d)),
    };
    match seconds {
        Some(n) if n >= 1 => Ok(n),
        _ => Err("expected a lease such as `15 minutes`, `2h` or `90s`".into()),
    }
}

/// Parses a duration such as `30 days`, `12w`, `6 months` or `90d` (units:
/// minutes `min`, hours `h`, days `d`, weeks `w`, months `mo`, years `y`;
/// months count 30 days and years 365, as in cap windows).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (amount, unit) = text.split_at(digits);
    let unit = match unit.trim().to_ascii_lowercase().as_str() {
        "min" | "mins" | "minute" | "minutes" => Some(TimeUnit::Minutes),
        "h" | "hour" | "hours" => Some(TimeUnit::Hours),
        "d" | "day" | "days" => Some(TimeUnit::Days),
        "w" | "week" | "weeks" => Some(TimeUnit::Weeks),
        "mo" | "month" | "months" => Some(TimeUnit::Months),
        "y" | "year" | "years" => Some(TimeUnit::Years),
        _ => None,
    };
    match (amount.parse::<u32>(), unit) {
        (Ok(amount), Some(unit)) => Ok(Duration {
            amount,
            unit,
            span: Default::default(),
        }),
        _ => Err("expected a duration such as `30 days`, `12w` or `6 months`".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_long_and_short() {
        for (text, seconds) in [
            ("30 days", 30 * 86_400),
            ("12w", 12 * 7 * 86_400),
            ("6 months", 180 * 86_400),
            ("90min", 5_400),
        ] {
            let d = parse_duration(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(crate::gate::window_seconds(&d), seconds, "{text}");
        }
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("7 fortnights").is_err());
        assert!(parse_duration("days").is_err());
    }

    #[test]
    fn leases_parse_seconds_and_durations() {
        assert_eq!(parse_lease("15 minutes"), Ok(900));
        assert_eq!(parse_lease("90s"), Ok(90));
        assert_eq!(parse_lease("2 seconds"), Ok(2));
        assert!(parse_lease("0s").is_err());
        assert!(parse_lease("soon").is_err());
    }

    #[test]
    fn seconds_read_as_the_largest_unit() {
        assert_eq!(seconds_text(7 * 86_400), "7 days");
        assert_eq!(seconds_text(3_600), "1 hour");
        assert_eq!(seconds_text(90), "90 seconds");
    }
}
