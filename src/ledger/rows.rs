//! Ledger rows as text: reading sends to import (CSV or JSON Lines) and
//! writing them out (export, history).
//!
//! A row has `campaign`, `recipient`, `channel`, `sent_at` and optionally
//! `slot` (the campaign's planned send time; default `sent_at`). Times are
//! RFC 3339 times, dates (midnight UTC) or whole seconds since the Unix
//! epoch; they are written back as RFC 3339 times in UTC.

use std::io::{BufRead, Write};

use serde::de::{self, Visitor};
use serde::{Deserialize, Serialize};

/// One recorded send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Send {
    /// Campaign id.
    pub campaign: String,
    /// The campaign's planned send time (seconds since the Unix epoch).
    pub slot: i64,
    /// Recipient id.
    pub recipient: String,
    /// Channel (`email`, `sms`, …).
    pub channel: String,
    /// When it was sent (seconds since the Unix epoch).
    pub sent_at: i64,
    /// Whether it counts toward frequency caps (false for a transactional
    /// campaign's sends; issue 14 item 4).
    pub counts: bool,
}

/// A text format of ledger rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowFormat {
    /// CSV with a header row.
    Csv,
    /// One JSON object per line.
    JsonLines,
}

impl RowFormat {
    /// The format a file name implies: CSV for `.csv`, else JSON Lines.
    pub fn of_path(name: &str) -> RowFormat {
        if name.to_ascii_lowercase().ends_with(".csv") {
            RowFormat::Csv
        } else {
            RowFormat::JsonLines
        }
    }
}

/// A row that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Line number (1-based; in CSV the header is line 1).
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            f.write_str(&self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

/// A time as written in a row: seconds since the epoch, or text.
struct Time(i64);

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Time, D::Error> {
        struct TimeVisitor;
        impl Visitor<'_> for TimeVisitor {
            type Value = Time;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an RFC 3339 time, a date, or seconds since the Unix epoch")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Time, E> {
                Ok(Time(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Time, E> {
                i64::try_from(v)
                    .map(Time)
                    .map_err(|_| E::custom("the time is out of range"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Time, E> {
                let v = v.trim();
                if let Ok(seconds) = v.parse::<i64>() {
                    return Ok(Time(seconds));
                }
                crate::gate::parse_time(v)
                    .map(|t| Time(t.as_second()))
                    .map_err(E::custom)
            }
        }
        d.deserialize_any(TimeVisitor)
    }
}

/// A row as read, before checks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RowIn {
    campaign: String,
    #[serde(default)]
    slot: Option<Time>,
    recipient: String,
    channel: String,
    sent_at: Time,
    /// Absent: the send counts (a doubt about a cap counts the send).
    #[serde(default)]
    counts: Option<bool>,
}

impl RowIn {
    fn into_send(self) -> Result<Send, String> {
        for (name, value) in [
            ("campaign", &self.campaign),
            ("recipient", &self.recipient),
            ("channel", &self.channel),
        ] {
            if value.trim().is_empty() {
                return Err(format!("`{name}` is empty"));
            }
        }
        Ok(Send {
            slot: self.slot.map_or(self.sent_at.0, |s| s.0),
            campaign: self.campaign,
            recipient: self.recipient,
            channel: self.channel,
            sent_at: self.sent_at.0,
            counts: self.counts.unwrap_or(true),
        })
    }
}

/// Reads sends from `input`, one `Result` per row, stopping after the first
/// error. Blank JSON lines are skipped.
pub fn read<'a>(
    input: impl BufRead + 'a,
    format: RowFormat,
) -> Box<dyn Iterator<Item = Result<Send, RowError>> + 'a> {
    match format {
        RowFormat::JsonLines => {
            let mut lines = input.lines().enumerate();
            Box::new(std::iter::from_fn(move || loop {
                let (index, line) = lines.next()?;
                let line_no = index as u64 + 1;
                let err = |message: String| RowError {
                    line: line_no,
                    message,
                };
                let text = match line {
                    Ok(text) => text,
                    Err(e) => return Some(Err(err(e.to_string()))),
                };
                if text.trim().is_empty() {
                    continue;
                }
                let row = serde_json::from_str::<RowIn>(&text).map_err(|e| e.to_string());
                return Some(row.and_then(RowIn::into_send).map_err(err));
            }))
        }
        RowFormat::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .trim(csv::Trim::All)
                .from_reader(input);
            let headers = match reader.headers() {
                Ok(h) => h.clone(),
                Err(e) => {
                    let error = RowError {
                        line: 1,
                        message: format!("CSV header: {e}"),
                    };
                    return Box::new(std::iter::once(Err(error)));
                }
            };
            let mut record = csv::StringRecord::new();
            Box::new(std::iter::from_fn(move || {
                // The position is where the next record starts.
                let line = reader.position().line();
                let row = match reader.read_record(&mut record) {
                    Ok(false) => return None,
                    Ok(true) => record
                        .deserialize::<RowIn>(Some(&headers))
                        .map_err(|e| csv_message(&e))
                        .and_then(RowIn::into_send),
                    Err(e) => Err(csv_message(&e)),
                };
                Some(row.map_err(|message| RowError { line, message }))
            }))
        }
    }
}

/// A csv error without the position the row number already gives.
fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => match err.field() {
            Some(field) => format!("field {}: {}", field + 1, err.kind()),
            None => err.kind().to_string(),
        },
        _ => e.to_string(),
    }
}

/// A row as written.
#[derive(Serialize)]
struct RowOut<'a> {
    campaign: &'a str,
    slot: String,
    recipient: &'a str,
    channel: &'a str,
    sent_at: String,
    /// Written only for a send that counts toward no cap (`false`), so rows
    /// of counted sends read as before; CSV has no such column, and a
    /// re-import counts every row (never fewer sends than were made).
    #[serde(skip_serializing_if = "Option::is_none")]
    counts: Option<bool>,
}

/// An RFC 3339 time in UTC for seconds since the epoch (the number itself
/// if it is out of range).
pub fn time_text(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds).map_or_else(|_| seconds.to_string(), |t| t.to_string())
}

/// The columns of a row, in the order written.
pub const COLUMNS: [&str; 5] = ["campaign", "slot", "recipient", "channel", "sent_at"];

/// Writes sends as CSV (with a header row) or JSON Lines.
pub enum RowWriter<W: Write> {
    /// CSV.
    Csv(Box<csv::Writer<W>>),
    /// JSON Lines, through a reused line buffer.
    JsonLines(W, Vec<u8>),
}

impl<W: Write> RowWriter<W> {
    /// A writer of `format` to `out`; CSV starts with its header row, so an
    /// empty export is still a valid file.
    pub fn new(out: W, format: RowFormat) -> std::io::Result<RowWriter<W>> {
        Ok(match format {
            RowFormat::Csv => {
                let mut csv = csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(out);
                csv.write_record(COLUMNS).map_err(std::io::Error::other)?;
                RowWriter::Csv(Box::new(csv))
            }
            RowFormat::JsonLines => RowWriter::JsonLines(out, Vec::with_capacity(256)),
        })
    }

    /// Writes one send.
    pub fn write(&mut self, send: &Send) -> std::io::Result<()> {
        let row = RowOut {
            campaign: &send.campaign,
            slot: time_text(send.slot),
            recipient: &send.recipient,
            channel: &send.channel,
            sent_at: time_text(send.sent_at),
            counts: None,
        };
        match self {
            RowWriter::Csv(csv) => csv.serialize(&row).map_err(std::io::Error::other),
            RowWriter::JsonLines(out, buffer) => {
                let row = RowOut {
                    counts: (!send.counts).then_some(false),
                    ..row
                };
                buffer.clear();
                serde_json::to_writer(&mut *buffer, &row).map_err(std::io::Error::other)?;
                buffer.push(b'\n');
                out.write_all(buffer)
            }
        }
    }

    /// Flushes the output.
    pub fn finish(self) -> std::io::Result<()> {
        match self {
            RowWriter::Csv(mut csv) => csv.flush(),
            RowWriter::JsonLines(mut out, _) => out.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &'static str, format: RowFormat) -> Vec<Result<Send, RowError>> {
        read(std::io::Cursor::new(text.as_bytes()), format).collect()
    }

    #[test]
    fn jsonl_and_csv_read_the_same_send() {
        let json = read_all(
            "{\"campaign\":\"c\",\"recipient\":\"r1\",\"channel\":\"email\",\"sent_at\":\"2026-11-20T10:00:00Z\"}\n\n",
            RowFormat::JsonLines,
        );
        let csv = read_all(
            "campaign,slot,recipient,channel,sent_at\nc,,r1,email,1795168800\n",
            RowFormat::Csv,
        );
        let expected = Send {
            counts: true,
            campaign: "c".into(),
            slot: 1_795_168_800,
            recipient: "r1".into(),
            channel: "email".into(),
            sent_at: 1_795_168_800,
        };
        assert_eq!(json, vec![Ok(expected.clone())]);
        assert_eq!(csv, vec![Ok(expected)]);
    }

    #[test]
    fn bad_rows_name_their_line() {
        let json = read_all(
            "{\"campaign\":\"c\",\"recipient\":\"r1\",\"channel\":\"email\",\"sent_at\":1}\n{\"campaign\":\"c\"}\n",
            RowFormat::JsonLines,
        );
        assert!(
            matches!(&json[1], Err(RowError { line: 2, message }) if message.contains("missing field"))
        );
        let csv = read_all(
            "campaign,recipient,channel,sent_at\nc,r1,email,yesterday\n",
            RowFormat::Csv,
        );
        assert!(
            matches!(&csv[0], Err(RowError { line: 2, message }) if message.contains("yesterday")),
            "{csv:?}"
        );
    }
}
