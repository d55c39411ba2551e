//! The decision log: one JSON line per gate decision, appended to a file
//! (`--decision-log PATH`), so there is a record of who was suppressed, when,
//! by which rules, under which policy.
//!
//! A request's lines are written with one `write_all` on a file opened in
//! append mode, under a lock, so lines of concurrent requests never
//! interleave. With `--hash-ids` the recipient id is written as
//! `sha256:<hex of SHA-256 of the id>`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use serde::Serialize;

use super::sha256;

/// One logged decision.
#[derive(Debug, Serialize)]
pub struct Entry<'a> {
    /// When the decision was made (RFC 3339, UTC).
    pub time: &'a str,
    /// The planned send time the decision was made for.
    pub at: &'a str,
    /// The campaign id.
    pub campaign: &'a str,
    /// Position of the recipient in the request's batch (1-based).
    pub line: u64,
    /// The recipient id, its hash with `--hash-ids`, or `null` for a record
    /// that could not be read.
    pub recipient: Option<String>,
    /// `allow` or `suppress`.
    pub decision: &'static str,
    /// Ids of the rules that suppressed the recipient (empty when allowed).
    pub rules: &'a [String],
    /// Why the record could not be read, for bad records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
    /// Content hash of the policy that decided.
    pub policy: &'a str,
}

/// The open decision log.
pub struct DecisionLog {
    file: Mutex<File>,
    hash_ids: bool,
}

impl DecisionLog {
    /// Opens (creating if needed) `path` for appending.
    pub fn open(path: &Path, hash_ids: bool) -> std::io::Result<DecisionLog> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(DecisionLog {
            file: Mutex::new(file),
            hash_ids,
        })
    }

    /// How a recipient id is written: as given, or hashed.
    pub fn recipient(&self, id: &str) -> String {
        if self.hash_ids {
            format!("sha256:{}", sha256::hex_digest(id.as_bytes()))
        } else {
            id.to_string()
        }
    }

    /// Appends the entries of one request.
    pub fn append(&self, entries: &[Entry<'_>]) -> std::io::Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut buffer = Vec::with_capacity(entries.len() * 160);
        for entry in entries {
            serde_json::to_writer(&mut buffer, entry).map_err(std::io::Error::other)?;
            buffer.push(b'\n');
        }
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.write_all(&buffer)?;
        file.flush()
    }
}
