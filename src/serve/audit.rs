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

use sha2::{Digest, Sha256};

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
            format!("sha256:{}", hex_digest(id.as_bytes()))
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

/// Lowercase hex of the SHA-256 of `data` (the `sha2` crate, as for SARIF
/// fingerprints).
fn hex_digest(data: &[u8]) -> String {
    use std::fmt::Write as _;
    Sha256::digest(data)
        .iter()
        .fold(String::with_capacity(64), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

#[cfg(test)]
mod tests {
    use super::hex_digest;

    /// The ids in logs written before the crate replaced the hand-written
    /// digest must hash the same: FIPS 180-4 examples and padding edges.
    #[test]
    fn hashed_ids_match_the_fips_180_examples() {
        assert_eq!(
            hex_digest(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex_digest(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex_digest(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        assert_eq!(
            hex_digest(&[b'a'; 55]),
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"
        );
        assert_eq!(
            hex_digest(&[b'a'; 64]),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"
        );
    }
}
