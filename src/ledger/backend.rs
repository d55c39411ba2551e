//! What every ledger backend (SQLite, PostgreSQL) does, with one meaning.
//!
//! The gate decides recipients in chunks ([`CHUNK`] at a time). For each
//! chunk a backend runs one transaction ([`Backend::decide_chunk`]): it locks
//! the chunk's recipients against every other decider, reads their sends
//! and live reservations in the cap windows, lets the caller decide them on
//! that history ([`Prefetched`]), writes a row for each allowed send —
//! committed (`--record`) or reserved until a lease expires — and commits.
//! Nothing is decided without the lock, and no lock outlives a chunk, so
//! concurrent deciders (processes, `serve` requests, machines) never exceed
//! a cap and never wait for a whole run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::rows::Send;
use super::{LedgerError, Recorded, SendSlot};
use crate::gate::History;

/// Recipients decided per transaction: one round trip (PostgreSQL) or one
/// write lock (SQLite) per chunk. Large enough to amortise the round trip,
/// small enough that a lock is held for milliseconds.
pub const CHUNK: usize = 1_000;

/// How long an uncommitted reservation counts against caps unless
/// `--lease` says otherwise: 15 minutes.
pub const DEFAULT_LEASE_SECONDS: i64 = 15 * 60;

/// Where a ledger is: an SQLite file, or a PostgreSQL database URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A `postgres://` or `postgresql://` URL.
    Postgres(String),
}

impl Location {
    /// A `--ledger` value: a PostgreSQL URL, or else a file path.
    pub fn parse(text: &Path) -> Location {
        match text.to_str() {
            Some(s) if s.starts_with("postgres://") || s.starts_with("postgresql://") => {
                Location::Postgres(s.to_string())
            }
            _ => Location::Sqlite(text.to_path_buf()),
        }
    }

    /// How messages name the ledger: the path, or the URL without its
    /// password.
    pub fn display(&self) -> String {
        match self {
            Location::Sqlite(path) => path.display().to_string(),
            Location::Postgres(url) => redact(url),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`; the
/// query string (which may carry `password=`) is dropped.
fn redact(url: &str) -> String {
    let url = url.split('?').next().unwrap_or(url);
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.rsplit_once('@') {
        Some((auth, host)) => match auth.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => format!("{scheme}://{auth}@{host}"),
        },
        None => format!("{scheme}://{rest}"),
    }
}

/// What a chunk's allowed sends become.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Committed sends (`--record`, `"record": true`).
    Record,
    /// Reservations that count against caps for `lease_seconds` after
    /// their chunk is decided ([`Chunk::now`]), unless committed or
    /// released before.
    Reserve {
        /// How long the lease lasts.
        lease_seconds: i64,
    },
    /// Nothing written, no lock taken: a preview (`gate --no-reserve`),
    /// whose allowed decisions no other decider counts.
    Read,
}

/// One chunk of a run.
pub struct Chunk<'a> {
    /// The send being decided (its own rows are not counted).
    pub send: &'a SendSlot,
    /// The chunk's recipient ids, in input order (repeats allowed).
    pub recipients: &'a [&'a str],
    /// The channels whose sends some cap counts.
    pub counted: &'a [String],
    /// The longest cap window, in seconds (0: no cap, nothing is read).
    pub window: i64,
    /// The campaign's channels: one row per allowed recipient and channel.
    pub channels: &'a [String],
    /// Whether the rows written count toward caps (issue 14 item 4: a
    /// transactional campaign's sends are recorded but never counted).
    pub counts: bool,
    /// Commit or reserve.
    pub mode: Mode,
    /// The time reservations' leases are compared with (Unix seconds).
    pub now: i64,
}

/// Rows a chunk wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Rows written (new, or a reservation committed or renewed).
    pub written: u64,
    /// Rows already committed (the same send decided again).
    pub already: u64,
}

/// A ledger backend. Every method is one transaction.
pub trait Backend {
    /// Locks the chunk's recipients, reads their history, calls `decide`
    /// (which returns the indexes into `chunk.recipients` of the allowed
    /// ones), writes their rows per [`Chunk::mode`] and commits. `decide` may
    /// be called again if the transaction is retried; only the decisions
    /// of the call whose transaction committed count.
    fn decide_chunk(
        &mut self,
        chunk: &Chunk<'_>,
        decide: &mut dyn FnMut(&dyn History) -> Vec<usize>,
    ) -> Result<Written, LedgerError>;

    /// Writes committed `sends`, all or nothing; a send already committed is
    /// counted in [`Recorded::already`]; a reservation of it is committed.
    fn import(
        &mut self,
        sends: &mut dyn Iterator<Item = Result<Send, String>>,
    ) -> Result<Result<Recorded, String>, LedgerError>;

    /// Every committed send to `recipient`, newest first.
    fn sends_to(&mut self, recipient: &str) -> Result<Vec<Send>, LedgerError>;

    /// Calls `each` with every committed send in key order (campaign, slot,
    /// recipient, channel); stops at its first error.
    fn for_each(
        &mut self,
        each: &mut dyn FnMut(Send) -> Result<(), String>,
    ) -> Result<Result<(), String>, LedgerError>;

    /// Deletes committed sends made before `before` and reservations whose
    /// lease ended by `now`; returns (sends, reservations) deleted.
    fn prune(&mut self, before: i64, now: i64) -> Result<(u64, u64), LedgerError>;

    /// Commits (`commit`) or releases (deletes) the reservations of `send`,
    /// of every recipient or only of `recipients`; returns how many rows,
    /// and how many of the committed ones had an expired lease.
    fn settle(
        &mut self,
        send: &SendSlot,
        recipients: Option<&[String]>,
        commit: bool,
        now: i64,
    ) -> Result<(u64, u64), LedgerError>;
}

/// Opens the ledger at `location`: with `create`, creating it if needed;
/// without, `None` when an SQLite file does not exist (a PostgreSQL ledger
/// always exists once reachable; its schema is created on first use).
pub fn open(location: &Location, create: bool) -> Result<Option<Box<dyn Backend>>, LedgerError> {
    match location {
        Location::Sqlite(path) => {
            let ledger = if create {
                Some(super::Ledger::open(path)?)
            } else {
                super::Ledger::open_existing(path)?
            };
            Ok(ledger.map(|l| Box::new(l) as Box<dyn Backend>))
        }
        Location::Postgres(url) => Ok(Some(Box::new(super::postgres::PgLedger::connect(url)?))),
    }
}

/// The history of one chunk, read in its transaction: per recipient, the
/// (channel, time) of every counted send, sorted by time.
#[derive(Debug, Default)]
pub struct Prefetched {
    sends: HashMap<String, Vec<(u16, i64)>>,
    channels: Vec<String>,
}

impl Prefetched {
    /// An empty history over the counted `channels`.
    pub fn new(channels: &[String]) -> Prefetched {
        Prefetched {
            sends: HashMap::new(),
            channels: channels.to_vec(),
        }
    }

    /// Adds a send (ignored on a channel no cap counts).
    pub fn push(&mut self, recipient: &str, channel: &str, at: i64) {
        if let Some(c) = self.channels.iter().position(|c| c == channel) {
            let c = u16::try_from(c).unwrap_or(u16::MAX);
            match self.sends.get_mut(recipient) {
                Some(v) => v.push((c, at)),
                None => {
                    self.sends.insert(recipient.to_string(), vec![(c, at)]);
                }
            }
        }
    }

    /// Sorts each recipient's sends by time (once, after the last push).
    pub fn finish(&mut self) {
        for v in self.sends.values_mut() {
            v.sort_unstable_by_key(|&(_, at)| at);
        }
    }
}

impl History for Prefetched {
    fn sends_between(
        &self,
        recipient: &str,
        channel: &str,
        after: i64,
        before: i64,
        out: &mut Vec<i64>,
    ) -> Result<(), String> {
        let Some(c) = self.channels.iter().position(|c| c == channel) else {
            // A channel the chunk did not read: never guess it is empty.
            return Err(format!(
                "reading the ledger: channel `{channel}` was not read"
            ));
        };
        let c = u16::try_from(c).unwrap_or(u16::MAX);
        if let Some(v) = self.sends.get(recipient) {
            out.extend(
                v.iter()
                    .filter(|&&(ch, at)| ch == c && after < at && at < before)
                    .map(|&(_, at)| at),
            );
        }
        Ok(())
    }
}

/// The distinct recipients of a chunk, sorted (the lock order: two deciders
/// that lock in one order cannot deadlock).
pub fn distinct_sorted<'a>(recipients: &[&'a str]) -> Vec<&'a str> {
    let mut ids = recipients.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_from_paths_and_passwords_hidden() {
        assert_eq!(
            Location::parse(Path::new("postgres://u:pw@db:5432/l?sslmode=disable")).display(),
            "postgres://u:***@db:5432/l"
        );
        assert_eq!(
            Location::parse(Path::new(".scruple/ledger.db")),
            Location::Sqlite(PathBuf::from(".scruple/ledger.db"))
        );
        assert_eq!(redact("postgresql://h/db"), "postgresql://h/db");
    }

    #[test]
    fn prefetched_history_counts_only_its_channel_and_window() {
        let channels = vec!["email".to_string()];
        let mut h = Prefetched::new(&channels);
        h.push("r", "email", 10);
        h.push("r", "sms", 11);
        h.push("r", "email", 5);
        h.finish();
        let mut out = Vec::new();
        assert_eq!(h.sends_between("r", "email", 4, 10, &mut out), Ok(()));
        assert_eq!(out, vec![5]);
        assert!(h.sends_between("r", "sms", 0, 100, &mut out).is_err());
    }
}
