//! The send ledger: every send the gate allowed and recorded, in an embedded
//! SQLite database (documented in `docs/ledger.md`).
//!
//! Frequency caps read it through [`LedgerHistory`], one covering-index range
//! per recipient and channel: the sends within one cap window either side of
//! the send being decided (see [`History`] for what a cap means). `scruple gate --record` stages the allowed
//! recipients of a run and writes them at the end ([`Batch`]), in one write
//! transaction taken before the run's first cap lookup, so a killed run
//! records nothing, a re-run of the same campaign send slot records nothing
//! twice, and overlapping recording runs are serialised and keep the caps.
//! Several processes may use one ledger at once: it runs in WAL mode and
//! waits for locks up to [`BUSY_TIMEOUT`], [`LOCK_ATTEMPTS`] times.
//!
//! The schema is versioned with `PRAGMA user_version`: [`MIGRATIONS`] are
//! numbered steps applied in order, in one transaction; a ledger written by a
//! newer scruple is refused rather than guessed at.

pub mod backend;
pub mod command;
pub mod postgres;
pub mod rows;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, Statement, Transaction, TransactionBehavior};

use crate::compile::{Check, Policy};
use crate::gate::History;
use rows::Send;

/// Where the ledger lives unless `--ledger` says otherwise.
pub const DEFAULT_PATH: &str = ".scruple/ledger.db";

/// How long one attempt waits for another process's lock before failing.
/// A recording run holds the write lock for its whole batch (deciding and
/// recording), so a wait lasts as long as the runs ahead of it.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// `PRAGMA application_id` of a scruple ledger (`SCRP`), so `file(1)` and
/// scruple itself can tell a ledger from another SQLite database.
pub const APPLICATION_ID: i32 = 0x5343_5250;

/// The schema steps, in order: step *n* (1-based) brings `user_version`
/// from *n − 1* to *n*. Steps are only ever appended, never edited.
pub const MIGRATIONS: &[&str] = &[
    // 1: the sends table, keyed by the send (campaign, slot) and the
    // recipient and channel, so recording a send twice is a no-op; the
    // index answers the cap question "when did this recipient get sends on
    // this channel between T1 and T2" as a range scan. Being WITHOUT ROWID, the
    // index entries carry the key columns too, which makes it covering.
    "CREATE TABLE sends (
        campaign  TEXT    NOT NULL,
        slot      INTEGER NOT NULL,
        recipient TEXT    NOT NULL,
        channel   TEXT    NOT NULL,
        sent_at   INTEGER NOT NULL,
        PRIMARY KEY (campaign, slot, recipient, channel)
    ) WITHOUT ROWID;
    CREATE INDEX sends_by_recipient ON sends (recipient, channel, sent_at);",
    // 2: reservations (issue 14). A row with `lease_until` is a send decided
    // but not yet made: it counts against caps until the lease ends (Unix
    // seconds); NULL is a committed send. The lookup index carries the lease
    // so it stays covering.
    "ALTER TABLE sends ADD COLUMN lease_until INTEGER;
    DROP INDEX sends_by_recipient;
    CREATE INDEX sends_by_recipient ON sends (recipient, channel, sent_at, lease_until);",
    // 3: sends that count toward no cap (issue 14 item 4: transactional
    // campaigns, and service ones that opt out): recorded, `counts = 0`,
    // never read by a cap. Every existing row counts. The lookup index
    // carries the flag so it stays covering.
    "ALTER TABLE sends ADD COLUMN counts INTEGER NOT NULL DEFAULT 1;
    DROP INDEX sends_by_recipient;
    CREATE INDEX sends_by_recipient ON sends (recipient, channel, sent_at, lease_until, counts);",
];

/// The schema version this binary writes: the number of [`MIGRATIONS`].
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Why a ledger operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// SQLite reported an error (locked too long, not a database, disk full…).
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL reported an error, or could not be reached.
    #[error("{}", postgres::describe(.0))]
    Postgres(#[from] ::postgres::Error),
    /// The database could not be reached or stopped answering, after
    /// bounded retries: nothing was allowed without a reservation.
    #[error("{0}")]
    Unavailable(String),
    /// The ledger's directory could not be created.
    #[error("cannot create the directory `{}`: {source}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The ledger was written by a newer scruple.
    #[error(
        "the ledger has schema version {found}, newer than this scruple knows ({known}); \
         upgrade scruple to use it"
    )]
    TooNew {
        /// The ledger's `user_version`.
        found: i64,
        /// [`SCHEMA_VERSION`].
        known: i64,
    },
    /// The file is an SQLite database, but not a scruple ledger.
    #[error("not a scruple ledger: {0}")]
    Foreign(String),
}

/// An open ledger.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
}

/// What recording a batch or importing rows did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Rows written.
    pub inserted: u64,
    /// Rows that were already in the ledger (or repeated in the batch).
    pub already: u64,
}

/// A send of a campaign: the campaign id and the send slot (the planned send
/// time, seconds since the Unix epoch). With the recipient and channel it is
/// the idempotence key of the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendSlot {
    /// Campaign id.
    pub campaign: String,
    /// Planned send time (seconds since the Unix epoch).
    pub slot: i64,
}

impl Ledger {
    /// Opens the ledger at `path`, creating it (and its directory) if needed,
    /// and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Ledger, LedgerError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| LedgerError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        Ledger::connect(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        )
    }

    /// Opens the ledger at `path` if the file exists; creates nothing.
    pub fn open_existing(path: &Path) -> Result<Option<Ledger>, LedgerError> {
        if !path.exists() {
            return Ok(None);
        }
        Ledger::connect(path, OpenFlags::SQLITE_OPEN_READ_WRITE).map(Some)
    }

    /// A ledger in memory (tests and benchmarks).
    pub fn in_memory() -> Result<Ledger, LedgerError> {
        let conn = Connection::open_in_memory()?;
        tune(&conn)?;
        migrate(&conn)?;
        Ok(Ledger {
            conn,
            path: PathBuf::from(":memory:"),
        })
    }

    fn connect(path: &Path, flags: OpenFlags) -> Result<Ledger, LedgerError> {
        let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Readers never block the writer, nor it them; commits append to the
        // write-ahead log.
        let _mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        tune(&conn)?;
        migrate(&conn)?;
        Ok(Ledger {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Where the ledger is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The frequency-cap history for a send of `send`: sends of every other
    /// campaign send, so re-deciding a send already recorded (a re-run)
    /// gives the same decisions, and a recipient listed twice in one batch
    /// is decided the same way twice.
    pub fn history(&self, send: &SendSlot) -> Result<LedgerHistory<'_>, LedgerError> {
        let between = self.conn.prepare(SENDS_BETWEEN)?;
        Ok(LedgerHistory {
            between: RefCell::new(between),
            send: send.clone(),
            now: jiff::Timestamp::now().as_second(),
            error: RefCell::new(None),
        })
    }

    /// Writes `sends` in one transaction: all or nothing. A send already in
    /// the ledger is counted in [`Recorded::already`] and left unchanged.
    pub fn import<E>(
        &self,
        sends: impl IntoIterator<Item = Result<Send, E>>,
    ) -> Result<Result<Recorded, E>, LedgerError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let mut recorded = Recorded::default();
        {
            let mut insert = tx.prepare(
                "INSERT INTO sends (campaign, slot, recipient, channel, sent_at, counts)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (campaign, slot, recipient, channel)
                 DO UPDATE SET lease_until = NULL, sent_at = excluded.sent_at
                 WHERE sends.lease_until IS NOT NULL",
            )?;
            for send in sends {
                let send = match send {
                    Ok(send) => send,
                    // Dropping the transaction rolls it back.
                    Err(e) => return Ok(Err(e)),
                };
                let n = insert.execute(params![
                    send.campaign,
                    send.slot,
                    send.recipient,
                    send.channel,
                    send.sent_at,
                    send.counts
                ])?;
                if n == 0 {
                    recorded.already += 1;
                } else {
                    recorded.inserted += 1;
                }
            }
        }
        tx.commit()?;
        Ok(Ok(recorded))
    }

    /// Every send to `recipient`, newest first.
    pub fn sends_to(&self, recipient: &str) -> Result<Vec<Send>, LedgerError> {
        let mut stmt = self.conn.prepare(
            "SELECT campaign, slot, recipient, channel, sent_at, counts FROM sends
             WHERE recipient = ?1 AND lease_until IS NULL
             ORDER BY sent_at DESC, campaign, channel",
        )?;
        let rows = stmt.query_map([recipient], send_of_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Calls `each` with every send, in key order (campaign, slot,
    /// recipient, channel), streaming. Stops at the first error of `each`.
    pub fn for_each<E>(
        &self,
        mut each: impl FnMut(Send) -> Result<(), E>,
    ) -> Result<Result<(), E>, LedgerError> {
        let mut stmt = self.conn.prepare(
            "SELECT campaign, slot, recipient, channel, sent_at, counts FROM sends
             WHERE lease_until IS NULL
             ORDER BY campaign, slot, recipient, channel",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            if let Err(e) = each(send_of_row(row)?) {
                return Ok(Err(e));
            }
        }
        Ok(Ok(()))
    }

    /// Deletes the sends made before `before` (seconds since the Unix
    /// epoch); returns how many.
    pub fn prune(&self, before: i64) -> Result<u64, LedgerError> {
        let n = self.conn.execute(
            "DELETE FROM sends WHERE sent_at < ?1 AND lease_until IS NULL",
            [before],
        )?;
        Ok(n as u64)
    }
}

fn send_of_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Send> {
    Ok(Send {
        campaign: row.get(0)?,
        slot: row.get(1)?,
        recipient: row.get(2)?,
        channel: row.get(3)?,
        sent_at: row.get(4)?,
        counts: row.get(5)?,
    })
}

/// How many times [`begin_immediate`] asks for the write lock, each time
/// waiting up to [`BUSY_TIMEOUT`], before giving up with "database is locked".
pub const LOCK_ATTEMPTS: u32 = 4;

/// `BEGIN IMMEDIATE`: a write transaction that holds the ledger's write lock
/// from its start. SQLite's busy handler waits up to [`BUSY_TIMEOUT`] for
/// another writer; a run that holds the lock longer (a large batch, a slow
/// input stream) makes the wait fail, so it is retried, a bounded number of
/// times ([`LOCK_ATTEMPTS`]), before the error reaches the user.
fn begin_immediate(conn: &Connection) -> Result<Transaction<'_>, LedgerError> {
    let mut attempt = 1;
    loop {
        match Transaction::new_unchecked(conn, TransactionBehavior::Immediate) {
            Ok(tx) => return Ok(tx),
            Err(e)
                if attempt < LOCK_ATTEMPTS
                    && e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) =>
            {
                attempt += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Bytes of the ledger file mapped into memory ([`tune`]).
pub const MMAP_BYTES: i64 = 1 << 30;

/// Pages of the ledger SQLite keeps in its own cache, in KiB ([`tune`]).
pub const CACHE_KIB: i64 = 64 * 1024;

/// Pages the write-ahead log grows by between checkpoints ([`tune`]): 32 MiB.
pub const CHECKPOINT_PAGES: i64 = 8_192;

/// Read- and write-path settings of a connection (issue 14, speed): a chunk's cap
/// lookups are random index probes into a file that may be gigabytes, so
/// the file is memory-mapped (a page already in the OS cache costs no
/// `pread` and no copy) and SQLite keeps 64 MiB of pages instead of 2 MiB;
/// the `rarray` table-valued function lets one statement read a whole
/// chunk. Durability is unchanged (`synchronous` stays FULL: a cap must
/// never undercount after a power cut).
fn tune(conn: &Connection) -> Result<(), LedgerError> {
    rusqlite::vtab::array::load_module(conn)?;
    // Answers the size granted (none for a database in memory): not read.
    conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
    // A chunk of random recipients dirties about a page per send; with the
    // default (a checkpoint every 1,000 pages) nearly every commit also
    // copied its pages into the file and synced it. Every commit still
    // syncs the log, so nothing committed can be lost.
    conn.pragma_update(None, "wal_autocheckpoint", CHECKPOINT_PAGES)?;
    Ok(())
}

/// Brings the schema of `conn` up to [`SCHEMA_VERSION`], or refuses it.
fn migrate(conn: &Connection) -> Result<(), LedgerError> {
    check_identity(conn)?;
    if user_version(conn)? == SCHEMA_VERSION {
        return Ok(());
    }
    // Migrate under the write lock, re-reading the version: another process
    // may have migrated while this one waited.
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let version = user_version(&tx)?;
    if version == 0 {
        let tables: i64 = tx.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
        if tables > 0 {
            return Err(LedgerError::Foreign(
                "the database already has tables but no scruple schema version".into(),
            ));
        }
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    }
    let start = usize::try_from(version).unwrap_or(usize::MAX);
    for (index, step) in MIGRATIONS.iter().enumerate().skip(start) {
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
    }
    tx.commit()?;
    Ok(())
}

/// Refuses a newer schema, and a database that belongs to something else.
fn check_identity(conn: &Connection) -> Result<(), LedgerError> {
    let version = user_version(conn)?;
    if !(0..=SCHEMA_VERSION).contains(&version) {
        return Err(LedgerError::TooNew {
            found: version,
            known: SCHEMA_VERSION,
        });
    }
    let id: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    if id != 0 && id != APPLICATION_ID {
        return Err(LedgerError::Foreign(format!(
            "its application id is {id:#x}"
        )));
    }
    Ok(())
}

fn user_version(conn: &Connection) -> Result<i64, LedgerError> {
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
}

/// The sends to a recipient on a channel in an open time interval, in time
/// order, but those of one campaign send: a range of the covering index
/// `sends_by_recipient`.
const SENDS_BETWEEN: &str = "SELECT sent_at FROM sends
     WHERE recipient = ?1 AND channel = ?2 AND sent_at > ?3 AND sent_at < ?4
       AND NOT (campaign = ?5 AND slot = ?6)
       AND (lease_until IS NULL OR lease_until > ?7)
       AND counts = 1
     ORDER BY sent_at";

/// [`SENDS_BETWEEN`] for a whole chunk: the sends to any of the recipients
/// `rarray(?1)` on any of the channels `rarray(?2)`, each id and channel one
/// range of the covering index `sends_by_recipient`.
const CHUNK_SENDS: &str = "SELECT recipient, channel, sent_at FROM sends
     WHERE recipient IN rarray(?1) AND channel IN rarray(?2)
       AND sent_at > ?3 AND sent_at < ?4
       AND NOT (campaign = ?5 AND slot = ?6)
       AND (lease_until IS NULL OR lease_until > ?7)
       AND counts = 1";

/// Frequency-cap history read from the ledger, leaving out the send being
/// decided (see [`Ledger::history`]). One prepared statement, one index range
/// per call.
pub struct LedgerHistory<'l> {
    between: RefCell<Statement<'l>>,
    send: SendSlot,
    now: i64,
    error: RefCell<Option<String>>,
}

impl LedgerHistory<'_> {
    /// The first error reading the ledger, if any: the records it hit were
    /// suppressed as bad, and the run should not be trusted.
    pub fn error(&self) -> Option<String> {
        self.error.borrow().clone()
    }
}

impl History for LedgerHistory<'_> {
    fn sends_between(
        &self,
        recipient: &str,
        channel: &str,
        after: i64,
        before: i64,
        out: &mut Vec<i64>,
    ) -> Result<(), String> {
        let read = match self.between.try_borrow_mut() {
            Ok(mut stmt) => {
                let args = params![
                    recipient,
                    channel,
                    after,
                    before,
                    self.send.campaign,
                    self.send.slot,
                    self.now
                ];
                stmt.query_map(args, |row| row.get::<_, i64>(0))
                    .and_then(|rows| {
                        for time in rows {
                            out.push(time?);
                        }
                        Ok(())
                    })
                    .map_err(|e| format!("reading the ledger: {e}"))
            }
            Err(_) => Err("reading the ledger: re-entrant call".to_string()),
        };
        read.inspect_err(|e| {
            self.error.borrow_mut().get_or_insert_with(|| e.clone());
        })
    }
}

/// Upsert of one allowed send: a new row, or a reservation renewed
/// (`?6` a lease) or committed (`?6` NULL); a committed row is left as it is
/// (no change counted).
const WRITE_SEND: &str =
    "INSERT INTO sends (campaign, slot, recipient, channel, sent_at, lease_until, counts)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
     ON CONFLICT (campaign, slot, recipient, channel) DO UPDATE
       SET lease_until = CASE WHEN excluded.lease_until IS NULL THEN NULL
                              ELSE max(sends.lease_until, excluded.lease_until) END
     WHERE sends.lease_until IS NOT NULL";

impl backend::Backend for Ledger {
    /// One `BEGIN IMMEDIATE` transaction per chunk: the write lock is the
    /// lock of every recipient (SQLite has one writer), held while the
    /// chunk's history is read, decided and written, then released.
    fn decide_chunk(
        &mut self,
        chunk: &backend::Chunk<'_>,
        decide: &mut dyn FnMut(&dyn History) -> Vec<usize>,
    ) -> Result<backend::Written, LedgerError> {
        let tx = if chunk.mode == backend::Mode::Read {
            Transaction::new_unchecked(&self.conn, TransactionBehavior::Deferred)?
        } else {
            begin_immediate(&self.conn)?
        };
        let mut history = backend::Prefetched::new(chunk.counted);
        if chunk.window > 0 && !chunk.counted.is_empty() {
            // One statement per chunk (preparing it costs microseconds per
            // 1,000 records): SQLite sorts the ids of the `rarray` and
            // probes the covering index once per id and channel, in index
            // order.
            let mut chunk_sends = tx.prepare(CHUNK_SENDS)?;
            let ids: Vec<rusqlite::types::Value> = backend::distinct_sorted(chunk.recipients)
                .into_iter()
                .map(|r| rusqlite::types::Value::Text(r.to_string()))
                .collect();
            let channels: Vec<rusqlite::types::Value> = chunk
                .counted
                .iter()
                .map(|c| rusqlite::types::Value::Text(c.clone()))
                .collect();
            let args = params![
                std::rc::Rc::new(ids),
                std::rc::Rc::new(channels),
                chunk.send.slot.saturating_sub(chunk.window),
                chunk.send.slot.saturating_add(chunk.window),
                chunk.send.campaign,
                chunk.send.slot,
                chunk.now
            ];
            let mut rows = chunk_sends.query(args)?;
            while let Some(row) = rows.next()? {
                let recipient = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
                let channel = row.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
                history.push(recipient, channel, row.get(2)?);
            }
        }
        history.finish();
        let allowed = decide(&history);
        let lease = match chunk.mode {
            backend::Mode::Record => None,
            backend::Mode::Reserve { lease_seconds } => {
                Some(chunk.now.saturating_add(lease_seconds))
            }
            backend::Mode::Read => return Ok(backend::Written::default()),
        };
        let mut written = backend::Written::default();
        {
            let mut write = tx.prepare(WRITE_SEND)?;
            for &i in &allowed {
                let Some(recipient) = chunk.recipients.get(i) else {
                    continue;
                };
                for channel in chunk.channels {
                    let n = write.execute(params![
                        chunk.send.campaign,
                        chunk.send.slot,
                        recipient,
                        channel,
                        chunk.send.slot,
                        lease,
                        chunk.counts
                    ])?;
                    if n == 0 {
                        written.already += 1;
                    } else {
                        written.written += 1;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(written)
    }

    fn import(
        &mut self,
        sends: &mut dyn Iterator<Item = Result<Send, String>>,
    ) -> Result<Result<Recorded, String>, LedgerError> {
        Ledger::import(self, sends)
    }

    fn sends_to(&mut self, recipient: &str) -> Result<Vec<Send>, LedgerError> {
        Ledger::sends_to(self, recipient)
    }

    fn for_each(
        &mut self,
        each: &mut dyn FnMut(Send) -> Result<(), String>,
    ) -> Result<Result<(), String>, LedgerError> {
        Ledger::for_each(self, each)
    }

    fn prune(&mut self, before: i64, now: i64) -> Result<(u64, u64), LedgerError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let sends = tx.execute(
            "DELETE FROM sends WHERE sent_at < ?1 AND lease_until IS NULL",
            [before],
        )?;
        let leases = tx.execute("DELETE FROM sends WHERE lease_until <= ?1", [now])?;
        tx.commit()?;
        Ok((sends as u64, leases as u64))
    }

    fn settle(
        &mut self,
        send: &SendSlot,
        recipients: Option<&[String]>,
        commit: bool,
        now: i64,
    ) -> Result<(u64, u64), LedgerError> {
        let tx = begin_immediate(&self.conn)?;
        let mut expired = 0u64;
        let mut count = 0u64;
        {
            let expired_sql = "SELECT count(*) FROM sends WHERE campaign = ?1 AND slot = ?2
                 AND lease_until IS NOT NULL AND lease_until <= ?3
                 AND (?4 IS NULL OR recipient = ?4)";
            let change_sql = if commit {
                "UPDATE sends SET lease_until = NULL WHERE campaign = ?1 AND slot = ?2
                 AND lease_until IS NOT NULL AND (?3 IS NULL OR recipient = ?3)"
            } else {
                "DELETE FROM sends WHERE campaign = ?1 AND slot = ?2
                 AND lease_until IS NOT NULL AND (?3 IS NULL OR recipient = ?3)"
            };
            let mut expired_q = tx.prepare(expired_sql)?;
            let mut change = tx.prepare(change_sql)?;
            let mut one = |who: Option<&str>| -> Result<(), LedgerError> {
                if commit {
                    let n: i64 = expired_q
                        .query_row(params![send.campaign, send.slot, now, who], |r| r.get(0))?;
                    expired += n as u64;
                }
                count += change.execute(params![send.campaign, send.slot, who])? as u64;
                Ok(())
            };
            match recipients {
                None => one(None)?,
                Some(list) => {
                    for r in list {
                        one(Some(r))?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok((count, expired))
    }
}

/// The longest frequency-cap window of the enabled rules of `policy`, in
/// seconds, with the id of its rule: sends older than that can no longer
/// affect a decision.
pub fn longest_cap_window(policy: &Policy) -> Option<(i64, &str)> {
    policy
        .rules
        .iter()
        .filter(|r| r.disabled.is_none())
        .filter_map(|r| match &r.check {
            Check::FrequencyCap {
                window, calendar, ..
            } => Some((
                if *calendar {
                    crate::gate::calendar::reach_seconds(window.unit)
                } else {
                    crate::gate::window_seconds(window)
                },
                r.id.as_str(),
            )),
            _ => None,
        })
        // The first of the longest, so the rule named is stable.
        .min_by_key(|(seconds, _)| std::cmp::Reverse(*seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(campaign: &str, slot: i64, recipient: &str, channel: &str) -> Send {
        Send {
            counts: true,
            campaign: campaign.into(),
            slot,
            recipient: recipient.into(),
            channel: channel.into(),
            sent_at: slot,
        }
    }

    fn ledger() -> Ledger {
        Ledger::in_memory().unwrap_or_else(|e| panic!("{e}"))
    }

    fn import(ledger: &Ledger, sends: Vec<Send>) -> Recorded {
        let rows = sends.into_iter().map(Ok::<_, String>);
        match ledger.import(rows) {
            Ok(Ok(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn counts_exclude_the_send_being_decided() {
        let ledger = ledger();
        import(
            &ledger,
            vec![
                send("a", 100, "r1", "email"),
                send("b", 200, "r1", "email"),
                send("b", 200, "r1", "sms"),
                send("c", 300, "r2", "email"),
            ],
        );
        let slot = SendSlot {
            campaign: "b".into(),
            slot: 200,
        };
        let history = ledger.history(&slot).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(history.busiest_window("r1", "email", 200, 1_000), Ok(1));
        assert_eq!(history.busiest_window("r1", "email", 200, 100), Ok(0));
        assert_eq!(history.busiest_window("r1", "sms", 200, 1_000), Ok(0));
        assert_eq!(history.busiest_window("r2", "email", 200, 1_000), Ok(1));
        assert_eq!(history.busiest_window("r3", "email", 200, 1_000), Ok(0));
    }

    const DAY: i64 = 86_400;
    const WEEK: i64 = 7 * DAY;

    /// Issue 10 item 4: the cap query had no upper bound, so sends long
    /// after the one decided counted against it. It now counts the busiest
    /// window of the cap's length that holds the send, and no other.
    #[test]
    fn frequency_cap_counts_only_sends_within_the_window() {
        let ledger = ledger();
        let t = 1_795_000_000; // 2026-11-18
        let year = 365 * DAY;
        let mut sends = Vec::new();
        for i in 0..3 {
            // A year later: outside every window that holds `t`.
            sends.push(send(
                &format!("later-{i}"),
                t + year + i * DAY,
                "next-year",
                "email",
            ));
            // Two days later: inside.
            sends.push(send(
                &format!("soon-{i}"),
                t + 2 * DAY,
                "in-two-days",
                "email",
            ));
        }
        // Exactly one window length before and after: in no window with `t`.
        sends.push(send("edge-0", t - WEEK, "edges", "email"));
        sends.push(send("edge-1", t + WEEK, "edges", "email"));
        // Just inside, on either side, but never both in one window.
        sends.push(send("near-0", t - WEEK + 1, "far-apart", "email"));
        sends.push(send("near-1", t + WEEK - 1, "far-apart", "email"));
        import(&ledger, sends);
        let slot = SendSlot {
            campaign: "now".into(),
            slot: t,
        };
        let history = ledger.history(&slot).unwrap_or_else(|e| panic!("{e}"));
        let busiest = |who| history.busiest_window(who, "email", t, WEEK);
        assert_eq!(busiest("next-year"), Ok(0));
        assert_eq!(busiest("in-two-days"), Ok(3));
        assert_eq!(busiest("edges"), Ok(0));
        assert_eq!(busiest("far-apart"), Ok(1));
    }

    #[test]
    fn the_busiest_window_is_found_by_sweeping() {
        use crate::gate::busiest_window;
        let t = 1_000 * DAY;
        // Earlier and later sends that no one window holds together.
        let times = [
            t - 6 * DAY,
            t - 5 * DAY,
            t + 3 * DAY,
            t + 4 * DAY,
            t + 5 * DAY,
        ];
        assert_eq!(busiest_window(&times, t, WEEK), 3);
        // One window holds five: [t - 2d, t + 5d).
        let times = [t - 2 * DAY, t - DAY, t, t + DAY, t + 4 * DAY, t + 6 * DAY];
        assert_eq!(busiest_window(&times, t, WEEK), 5);
        // Sends at `t` itself are in every window.
        assert_eq!(busiest_window(&[t, t], t, 1), 2);
        assert_eq!(busiest_window(&[], t, WEEK), 0);
        // Brute force over every start, on a small grid.
        let grid: Vec<i64> = (0..40).map(|i| i * i % 23).collect();
        let mut sorted = grid.clone();
        sorted.sort_unstable();
        for at in 0..23 {
            for window in 1..9 {
                let brute = (at - window + 1..=at)
                    .map(|s| sorted.iter().filter(|&&x| s <= x && x < s + window).count())
                    .max()
                    .unwrap_or(0);
                assert_eq!(
                    busiest_window(&sorted, at, window) as usize,
                    brute,
                    "at {at}, window {window}"
                );
            }
        }
    }

    #[test]
    fn the_cap_lookup_is_a_covering_index_range() {
        let ledger = ledger();
        let plan: Vec<String> = ledger
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {SENDS_BETWEEN}"))
            .and_then(|mut s| {
                s.query_map(params!["r", "email", 0, 10, "c", 0, 5], |r| r.get(3))?
                    .collect()
            })
            .unwrap_or_else(|e| panic!("{e}"));
        let plan = plan.join("\n");
        assert!(
            plan.contains(
                "COVERING INDEX sends_by_recipient (recipient=? AND channel=? AND sent_at>? AND sent_at<?)"
            ),
            "{plan}"
        );
        assert!(!plan.contains("TEMP B-TREE"), "sorted by the index: {plan}");
    }

    /// Issue 14 (speed): a chunk's history is one statement whose ids are
    /// probes of the covering index, not a scan of the ledger.
    #[test]
    fn the_chunk_read_probes_the_covering_index_per_id() {
        use rusqlite::types::Value;
        use std::rc::Rc;
        let ledger = ledger();
        let ids = Rc::new(vec![Value::Text("r1".into()), Value::Text("r2".into())]);
        let channels = Rc::new(vec![Value::Text("email".into())]);
        let plan: Vec<String> = ledger
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {CHUNK_SENDS}"))
            .and_then(|mut s| {
                s.query_map(params![ids, channels, 0, 10, "c", 0, 5], |r| r.get(3))?
                    .collect()
            })
            .unwrap_or_else(|e| panic!("{e}"));
        let plan = plan.join("\n");
        assert!(
            plan.contains(
                "COVERING INDEX sends_by_recipient (recipient=? AND channel=? AND sent_at>? AND sent_at<?)"
            ),
            "{plan}"
        );
        assert!(!plan.contains("SCAN sends"), "{plan}");
    }

    /// Issue 14 item 1: a reservation counts against the cap for every
    /// decider until its lease ends; committing makes it a send; re-deciding
    /// the same slot writes nothing twice.
    #[test]
    fn reservations_count_until_committed_released_or_expired() {
        use backend::{Backend, Chunk, Mode, Written};
        let mut ledger = ledger();
        fn chunk(
            send: &'static SendSlot,
            mode: Mode,
            now: i64,
        ) -> impl Fn(&mut Ledger) -> (bool, Written) {
            move |ledger: &mut Ledger| {
                let channels = vec!["email".to_string()];
                let ids = ["r1"];
                let c = Chunk {
                    send,
                    recipients: &ids,
                    counted: &channels,
                    window: 1_000,
                    channels: &channels,
                    counts: true,
                    mode,
                    now,
                };
                let mut allowed = false;
                let w = ledger
                    .decide_chunk(&c, &mut |h| {
                        // cap 1 per 1,000 seconds
                        allowed = h.busiest_window("r1", "email", send.slot, 1_000) == Ok(0);
                        if allowed {
                            vec![0]
                        } else {
                            vec![]
                        }
                    })
                    .unwrap_or_else(|e| panic!("{e}"));
                (allowed, w)
            }
        }
        static A: SendSlot = SendSlot {
            campaign: String::new(),
            slot: 10_000,
        };
        static B: SendSlot = SendSlot {
            campaign: String::new(),
            slot: 10_100,
        };
        // Leases of 400 s from each decision.
        let lease = Mode::Reserve { lease_seconds: 400 };
        // A reserves r1 until 500; B, deciding at the same time, is suppressed.
        assert!(chunk(&A, lease, 100)(&mut ledger).0);
        assert!(!chunk(&B, lease, 100)(&mut ledger).0);
        // Re-deciding A is idempotent: allowed again, nothing new counted
        // (its lease renewed to 600).
        assert!(chunk(&A, lease, 200)(&mut ledger).0);
        // Once A's lease has expired, B gets the slot.
        assert!(chunk(&B, lease, 600)(&mut ledger).0);
        // B records: its reservation becomes a committed send.
        let (allowed, w) = chunk(&B, Mode::Record, 600)(&mut ledger);
        assert!(allowed);
        assert_eq!(
            w,
            Written {
                written: 1,
                already: 0
            }
        );
        let (_, w) = chunk(&B, Mode::Record, 600)(&mut ledger);
        assert_eq!(
            w,
            Written {
                written: 0,
                already: 1
            }
        );
        assert_eq!(ledger.sends_to("r1").map(|v| v.len()).ok(), Some(1));
        // A's expired reservation is pruned; B's send is kept.
        assert_eq!(Backend::prune(&mut ledger, 0, 600).ok(), Some((0, 1)));
        // An explicit release frees a reservation at once.
        static C: SendSlot = SendSlot {
            campaign: String::new(),
            slot: 50_000,
        };
        static D: SendSlot = SendSlot {
            campaign: String::new(),
            slot: 50_001,
        };
        assert!(chunk(&C, lease, 100)(&mut ledger).0);
        assert!(!chunk(&D, lease, 100)(&mut ledger).0);
        assert_eq!(ledger.settle(&C, None, false, 100).ok(), Some((1, 0)));
        assert!(chunk(&D, lease, 100)(&mut ledger).0);
        // Committing a reservation by recipient.
        assert_eq!(
            ledger.settle(&D, Some(&["r1".to_string()]), true, 100).ok(),
            Some((1, 0))
        );
        assert_eq!(ledger.sends_to("r1").map(|v| v.len()).ok(), Some(2));
    }

    #[test]
    fn prune_deletes_only_older_sends() {
        let ledger = ledger();
        import(
            &ledger,
            vec![send("a", 100, "r1", "email"), send("a", 200, "r1", "email")],
        );
        assert_eq!(ledger.prune(150).ok(), Some(1));
        assert_eq!(
            ledger.sends_to("r1").ok(),
            Some(vec![send("a", 200, "r1", "email")])
        );
    }

    #[test]
    fn a_newer_schema_and_a_foreign_database_are_refused() {
        let conn = Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(migrate(&conn), Err(LedgerError::TooNew { .. })));

        let conn = Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        conn.execute_batch("CREATE TABLE t (x)")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(migrate(&conn), Err(LedgerError::Foreign(_))));
    }
}
