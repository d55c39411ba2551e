//! The send ledger on PostgreSQL, shared by deciders on many machines
//! (`--ledger postgres://…`; documented in `docs/ledger.md`).
//!
//! Same rows and meaning as the SQLite ledger, in the table `scruple_sends`.
//! A chunk of recipients is decided in one READ COMMITTED transaction that
//! first takes a transaction-level advisory lock per recipient
//! (`pg_advisory_xact_lock(SCRP, hashtext(recipient))`, in hash order so two
//! deciders cannot deadlock), then reads the chunk's history in one query —
//! a statement started after the locks were granted sees every send and
//! reservation committed by the decider that held them before — and writes
//! the allowed sends in one statement. Deciders of disjoint recipients never
//! wait for each other; deciders of the same recipient are serialised per
//! chunk, never per run.
//!
//! A connection that fails (the server restarting, a dropped link) is
//! retried with a new connection [`ATTEMPTS`] times with backoff; then the
//! run fails closed: nothing is allowed without a committed reservation.

use std::time::Duration;

use postgres::error::SqlState;
use postgres::types::Type;
use postgres::{Client, Config, NoTls};
use r2d2_postgres::{r2d2, PostgresConnectionManager};

use super::backend::{self, Backend, Chunk, Mode, Prefetched, Written};
use super::rows::Send;
use super::{LedgerError, Recorded, SendSlot};
use crate::gate::History;

/// A pool of connections (`scruple serve`).
pub type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

/// How many times a transaction is tried when the connection fails or the
/// server asks for a retry (deadlock, serialisation failure, shutdown).
pub const ATTEMPTS: u32 = 5;

/// The first wait between attempts; it doubles (0.2 + 0.4 + 0.8 + 1.6 s).
const BACKOFF: Duration = Duration::from_millis(200);

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a request waits for a pooled connection (each attempt).
const POOL_WAIT: Duration = Duration::from_secs(2);

/// First key of every advisory lock scruple takes (`SCRP`), so its locks
/// cannot collide with another application's single-key locks.
const LOCK_SPACE: i32 = 0x5343_5250;

/// The schema steps, in order; the version is the number applied (the
/// rows of `scruple_migrations`). Steps are only appended.
pub const MIGRATIONS: &[&str] = &[
    // 1: sends and reservations. The primary key is the idempotence key;
    // the lookup index carries everything the cap query reads (an
    // index-only scan); leases are found by a partial index for pruning.
    "CREATE TABLE scruple_sends (
        campaign    text   NOT NULL,
        slot        bigint NOT NULL,
        recipient   text   NOT NULL,
        channel     text   NOT NULL,
        sent_at     bigint NOT NULL,
        lease_until bigint,
        PRIMARY KEY (campaign, slot, recipient, channel)
    );
    CREATE INDEX scruple_sends_by_recipient
        ON scruple_sends (recipient, channel, sent_at) INCLUDE (campaign, slot, lease_until);
    CREATE INDEX scruple_sends_leases
        ON scruple_sends (lease_until) WHERE lease_until IS NOT NULL;",
    // 2: sends that count toward no cap (issue 14 item 4), as SQLite's
    // step 3; the lookup index includes the flag for an index-only scan.
    "ALTER TABLE scruple_sends ADD COLUMN counts boolean NOT NULL DEFAULT true;
    DROP INDEX scruple_sends_by_recipient;
    CREATE INDEX scruple_sends_by_recipient
        ON scruple_sends (recipient, channel, sent_at) INCLUDE (campaign, slot, lease_until, counts);",
];

/// A PostgreSQL error as one line, with its SQLSTATE when the server sent one.
pub fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("PostgreSQL: {} ({})", db.message(), db.code().code()),
        None => {
            let mut text = format!("PostgreSQL: {e}");
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            text
        }
    }
}

/// Where connections come from.
enum Source {
    Config(Box<Config>),
    Pool(Pool),
}

enum Conn {
    Own(Client),
    Pooled(r2d2::PooledConnection<PostgresConnectionManager<NoTls>>),
}

impl Conn {
    fn client(&mut self) -> &mut Client {
        match self {
            Conn::Own(c) => c,
            Conn::Pooled(c) => c,
        }
    }
}

/// A ledger in a PostgreSQL database.
pub struct PgLedger {
    source: Source,
    conn: Option<Conn>,
    url: String,
}

/// The connection settings of `url`, with a connect timeout unless it sets
/// one.
pub fn config(url: &str) -> Result<Config, LedgerError> {
    let mut config: Config = url.parse().map_err(|e: postgres::Error| {
        LedgerError::Unavailable(format!("not a PostgreSQL URL: {}", describe(&e)))
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    config.application_name("scruple");
    Ok(config)
}

/// A connection pool for `url` of at most `size` connections; connects
/// lazily (the server need not be up yet), and migrates on first use.
pub fn pool(url: &str, size: u32) -> Result<Pool, LedgerError> {
    let manager = PostgresConnectionManager::new(config(url)?, NoTls);
    Ok(r2d2::Pool::builder()
        .max_size(size.max(1))
        .connection_timeout(POOL_WAIT)
        .build_unchecked(manager))
}

impl PgLedger {
    /// Connects to `url` and brings its schema up to date.
    pub fn connect(url: &str) -> Result<PgLedger, LedgerError> {
        let mut ledger = PgLedger {
            source: Source::Config(Box::new(config(url)?)),
            conn: None,
            url: url.to_string(),
        };
        ledger.with_retries(&mut |client| migrate(client).map_err(Retry::from))?;
        Ok(ledger)
    }

    /// A ledger taking its connections from `pool`; with `migrate`, first
    /// brings the schema up to date (once per pool is enough).
    pub fn pooled(pool: &Pool, url: &str, migrate_first: bool) -> Result<PgLedger, LedgerError> {
        let mut ledger = PgLedger {
            source: Source::Pool(pool.clone()),
            conn: None,
            url: url.to_string(),
        };
        if migrate_first {
            ledger.with_retries(&mut |client| migrate(client).map_err(Retry::from))?;
        }
        Ok(ledger)
    }

    fn connection(&mut self) -> Result<&mut Client, Retry> {
        if self.conn.is_none() {
            let conn = match &self.source {
                Source::Config(config) => Conn::Own(config.connect(NoTls).map_err(Retry::from)?),
                Source::Pool(pool) => Conn::Pooled(
                    pool.get()
                        .map_err(|e| Retry::Transient(format!("PostgreSQL: {e}")))?,
                ),
            };
            self.conn = Some(conn);
        }
        match self.conn.as_mut() {
            Some(c) => Ok(c.client()),
            None => Err(Retry::Transient("no connection".into())),
        }
    }

    /// Runs `work` (one transaction), retrying a transient failure with a
    /// fresh connection, at most [`ATTEMPTS`] times.
    fn with_retries<T>(
        &mut self,
        work: &mut dyn FnMut(&mut Client) -> Result<T, Retry>,
    ) -> Result<T, LedgerError> {
        let mut wait = BACKOFF;
        let mut attempt = 1;
        loop {
            let result = self.connection().and_then(&mut *work);
            match result {
                Ok(v) => return Ok(v),
                Err(Retry::Fatal(e)) => return Err(e),
                Err(Retry::Transient(why)) => {
                    // A broken connection is not reused (a pooled one is
                    // dropped from the pool by r2d2's health check).
                    self.conn = None;
                    if attempt >= ATTEMPTS {
                        return Err(LedgerError::Unavailable(format!(
                            "PostgreSQL at {} is unavailable ({why}); gave up after {ATTEMPTS} attempts; \
                             nothing was allowed without a reservation",
                            backend::Location::Postgres(self.url.clone()).display()
                        )));
                    }
                    std::thread::sleep(wait);
                    wait = wait.saturating_mul(2);
                    attempt += 1;
                }
            }
        }
    }
}

/// A failure, and whether trying again may help.
enum Retry {
    Transient(String),
    Fatal(LedgerError),
}

impl From<postgres::Error> for Retry {
    fn from(e: postgres::Error) -> Retry {
        let transient = e.is_closed()
            || match e.code() {
                None => e.as_db_error().is_none(),
                Some(code) => {
                    *code == SqlState::T_R_SERIALIZATION_FAILURE
                        || *code == SqlState::T_R_DEADLOCK_DETECTED
                        || *code == SqlState::ADMIN_SHUTDOWN
                        || *code == SqlState::CRASH_SHUTDOWN
                        || *code == SqlState::CANNOT_CONNECT_NOW
                        || code.code().starts_with("08")
                }
            };
        if transient {
            Retry::Transient(describe(&e))
        } else {
            Retry::Fatal(LedgerError::Postgres(e))
        }
    }
}

impl From<LedgerError> for Retry {
    fn from(e: LedgerError) -> Retry {
        match e {
            LedgerError::Postgres(e) => Retry::from(e),
            other => Retry::Fatal(other),
        }
    }
}

/// Applies the missing [`MIGRATIONS`] in one transaction, under an advisory
/// lock so that two processes starting at once do not both migrate.
fn migrate(client: &mut Client) -> Result<(), LedgerError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1, 0)", &[&LOCK_SPACE])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS scruple_migrations (
            version    integer PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT now()
        )",
    )?;
    let row = tx.query_one(
        "SELECT coalesce(max(version), 0) FROM scruple_migrations",
        &[],
    )?;
    let version: i32 = row.get(0);
    let known = MIGRATIONS.len() as i32;
    if version > known {
        return Err(LedgerError::TooNew {
            found: i64::from(version),
            known: i64::from(known),
        });
    }
    for (index, step) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.batch_execute(step)?;
        tx.execute(
            "INSERT INTO scruple_migrations (version) VALUES ($1)",
            &[&(index as i32 + 1)],
        )?;
    }
    tx.commit()?;
    Ok(())
}

const LOCK_RECIPIENTS: &str = "SELECT count(pg_advisory_xact_lock($1, h)) FROM (
        SELECT DISTINCT hashtext(r) AS h FROM unnest($2::text[]) AS r ORDER BY h
    ) AS locks";

const READ_HISTORY: &str = "SELECT recipient, channel, sent_at FROM scruple_sends
    WHERE recipient = ANY($1) AND channel = ANY($2) AND sent_at > $3 AND sent_at < $4
      AND NOT (campaign = $5 AND slot = $6)
      AND (lease_until IS NULL OR lease_until > $7)
      AND counts";

const WRITE_SENDS: &str = "INSERT INTO scruple_sends
        (campaign, slot, recipient, channel, sent_at, lease_until, counts)
    SELECT $1::text, $2::bigint, r, c, $2::bigint, $5::bigint, $6::boolean
    FROM unnest($3::text[]) AS r CROSS JOIN unnest($4::text[]) AS c
    ON CONFLICT (campaign, slot, recipient, channel) DO UPDATE
      SET lease_until = CASE WHEN excluded.lease_until IS NULL THEN NULL
                             ELSE greatest(scruple_sends.lease_until, excluded.lease_until) END
    WHERE scruple_sends.lease_until IS NOT NULL";

fn send_of_row(row: &postgres::Row) -> Send {
    Send {
        campaign: row.get(0),
        slot: row.get(1),
        recipient: row.get(2),
        channel: row.get(3),
        sent_at: row.get(4),
        counts: row.get(5),
    }
}

impl Backend for PgLedger {
    fn decide_chunk(
        &mut self,
        chunk: &Chunk<'_>,
        decide: &mut dyn FnMut(&dyn History) -> Vec<usize>,
    ) -> Result<Written, LedgerError> {
        let ids = backend::distinct_sorted(chunk.recipients);
        let (lease, read_only): (Option<i64>, bool) = match chunk.mode {
            Mode::Record => (None, false),
            Mode::Reserve { lease_seconds } => {
                (Some(chunk.now.saturating_add(lease_seconds)), false)
            }
            Mode::Read => (None, true),
        };
        // No cap counts any channel: nothing to read, so nothing to lock
        // (writing a row is idempotent on its own).
        let capped = chunk.window > 0 && !chunk.counted.is_empty();
        self.with_retries(&mut |client| {
            // Each statement is sent with its parameter types
            // (`query_typed`): one round trip, where a statement prepared
            // first costs two.
            let mut tx = client.transaction()?;
            if capped && !read_only {
                tx.query_typed(
                    LOCK_RECIPIENTS,
                    &[(&LOCK_SPACE, Type::INT4), (&ids, Type::TEXT_ARRAY)],
                )?;
            }
            let mut history = Prefetched::new(chunk.counted);
            if capped {
                let after = chunk.send.slot.saturating_sub(chunk.window);
                let before = chunk.send.slot.saturating_add(chunk.window);
                let rows = tx.query_typed(
                    READ_HISTORY,
                    &[
                        (&ids, Type::TEXT_ARRAY),
                        (&chunk.counted, Type::TEXT_ARRAY),
                        (&after, Type::INT8),
                        (&before, Type::INT8),
                        (&chunk.send.campaign, Type::TEXT),
                        (&chunk.send.slot, Type::INT8),
                        (&chunk.now, Type::INT8),
                    ],
                )?;
                for row in &rows {
                    history.push(row.get(0), row.get(1), row.get(2));
                }
            }
            history.finish();
            let allowed = decide(&history);
            if read_only {
                return Ok(Written::default());
            }
            let mut allowed_ids: Vec<&str> = allowed
                .iter()
                .filter_map(|&i| chunk.recipients.get(i).copied())
                .collect();
            let total = (allowed_ids.len() * chunk.channels.len()) as u64;
            // One row per key per statement (ON CONFLICT may not touch a
            // row twice).
            allowed_ids.sort_unstable();
            allowed_ids.dedup();
            let mut written = 0;
            if !allowed_ids.is_empty() {
                written = tx.execute_typed(
                    WRITE_SENDS,
                    &[
                        (&chunk.send.campaign, Type::TEXT),
                        (&chunk.send.slot, Type::INT8),
                        (&allowed_ids, Type::TEXT_ARRAY),
                        (&chunk.channels, Type::TEXT_ARRAY),
                        (&lease, Type::INT8),
                        (&chunk.counts, Type::BOOL),
                    ],
                )?;
            }
            tx.commit()?;
            Ok(Written {
                written,
                already: total.saturating_sub(written),
            })
        })
    }

    fn import(
        &mut self,
        sends: &mut dyn Iterator<Item = Result<Send, String>>,
    ) -> Result<Result<Recorded, String>, LedgerError> {
        // Read first: the input cannot be replayed if the transaction is.
        let mut all = Vec::new();
        for send in sends {
            match send {
                Ok(s) => all.push(s),
                Err(e) => return Ok(Err(e)),
            }
        }
        // Repeats in the input are counted as already there (one statement
        // may not touch a row twice).
        let mut seen = std::collections::HashSet::new();
        let mut repeats = 0u64;
        all.retain(|s| {
            let fresh = seen.insert((
                s.campaign.clone(),
                s.slot,
                s.recipient.clone(),
                s.channel.clone(),
            ));
            if !fresh {
                repeats += 1;
            }
            fresh
        });
        drop(seen);
        self.with_retries(&mut |client| {
            let mut tx = client.transaction()?;
            let mut recorded = Recorded {
                inserted: 0,
                already: repeats,
            };
            // One statement per 10,000 rows, not one round trip per row.
            for part in all.chunks(10_000) {
                let campaigns: Vec<&str> = part.iter().map(|s| s.campaign.as_str()).collect();
                let slots: Vec<i64> = part.iter().map(|s| s.slot).collect();
                let recipients: Vec<&str> = part.iter().map(|s| s.recipient.as_str()).collect();
                let channels: Vec<&str> = part.iter().map(|s| s.channel.as_str()).collect();
                let sent: Vec<i64> = part.iter().map(|s| s.sent_at).collect();
                let counts: Vec<bool> = part.iter().map(|s| s.counts).collect();
                let n = tx.execute(
                    "INSERT INTO scruple_sends (campaign, slot, recipient, channel, sent_at, counts)
                     SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::boolean[])
                     ON CONFLICT (campaign, slot, recipient, channel) DO UPDATE
                       SET lease_until = NULL, sent_at = excluded.sent_at
                     WHERE scruple_sends.lease_until IS NOT NULL",
                    &[&campaigns, &slots, &recipients, &channels, &sent, &counts],
                )?;
                recorded.inserted += n;
                recorded.already += part.len() as u64 - n;
            }
            tx.commit()?;
            Ok(Ok(recorded))
        })
    }

    fn sends_to(&mut self, recipient: &str) -> Result<Vec<Send>, LedgerError> {
        self.with_retries(&mut |client| {
            let rows = client.query(
                "SELECT campaign, slot, recipient, channel, sent_at, counts FROM scruple_sends
                 WHERE recipient = $1 AND lease_until IS NULL
                 ORDER BY sent_at DESC, campaign, channel",
                &[&recipient],
            )?;
            Ok(rows.iter().map(send_of_row).collect())
        })
    }

    fn for_each(
        &mut self,
        each: &mut dyn FnMut(Send) -> Result<(), String>,
    ) -> Result<Result<(), String>, LedgerError> {
        let client = self.connection().map_err(|r| match r {
            Retry::Fatal(e) => e,
            Retry::Transient(why) => LedgerError::Unavailable(why),
        })?;
        // Streamed (a portal), not retried: part of the output is written.
        let mut tx = client.transaction()?;
        let portal = tx.bind(
            "SELECT campaign, slot, recipient, channel, sent_at, counts FROM scruple_sends
             WHERE lease_until IS NULL ORDER BY campaign, slot, recipient, channel",
            &[],
        )?;
        loop {
            let rows = tx.query_portal(&portal, 10_000)?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                if let Err(e) = each(send_of_row(row)) {
                    return Ok(Err(e));
                }
            }
        }
        tx.commit()?;
        Ok(Ok(()))
    }

    fn prune(&mut self, before: i64, now: i64) -> Result<(u64, u64), LedgerError> {
        self.with_retries(&mut |client| {
            let mut tx = client.transaction()?;
            let sends = tx.execute(
                "DELETE FROM scruple_sends WHERE sent_at < $1 AND lease_until IS NULL",
                &[&before],
            )?;
            let leases =
                tx.execute("DELETE FROM scruple_sends WHERE lease_until <= $1", &[&now])?;
            tx.commit()?;
            Ok((sends, leases))
        })
    }

    fn settle(
        &mut self,
        send: &SendSlot,
        recipients: Option<&[String]>,
        commit: bool,
        now: i64,
    ) -> Result<(u64, u64), LedgerError> {
        let every = recipients.is_none();
        let list: Vec<&str> = recipients
            .unwrap_or_default()
            .iter()
            .map(String::as_str)
            .collect();
        self.with_retries(&mut |client| {
            let mut tx = client.transaction()?;
            let filter = "campaign = $1 AND slot = $2 AND lease_until IS NOT NULL
                 AND ($3 OR recipient = ANY($4))";
            let expired: i64 = if commit {
                tx.query_one(
                    &format!(
                        "SELECT count(*) FROM scruple_sends WHERE {filter} AND lease_until <= $5"
                    ),
                    &[&send.campaign, &send.slot, &every, &list, &now],
                )?
                .get(0)
            } else {
                0
            };
            let sql = if commit {
                format!("UPDATE scruple_sends SET lease_until = NULL WHERE {filter}")
            } else {
                format!("DELETE FROM scruple_sends WHERE {filter}")
            };
            let n = tx.execute(&sql, &[&send.campaign, &send.slot, &every, &list])?;
            tx.commit()?;
            Ok((n, expired as u64))
        })
    }
}
