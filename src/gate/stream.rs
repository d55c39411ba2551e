//! Streaming recipients through a [`GatePlan`]: JSON Lines or CSV in, one
//! decision per record out, constant memory.
//!
//! Every record read is counted exactly once as allowed, suppressed or bad,
//! so `read = allowed + suppressed + bad` always holds. A bad record (not
//! JSON, wrong types, unknown time zone, …) is suppressed with its line
//! number, or stops the run with [`OnBadRecord::Fail`].

use std::borrow::Cow;
use std::io::{BufRead, Write};

use jiff::Timestamp;
use serde::Serialize;

use super::recipient::CsvLayout;
use super::{BadRecord, Decision, GatePlan, History, Prepared, Reason};

/// The UTF-8 byte order mark.
const BOM: &[u8] = "\u{feff}".as_bytes();

/// Input format of the recipient stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// One JSON object per line.
    JsonLines,
    /// CSV with a header row.
    Csv,
}

/// What to do with a record that cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OnBadRecord {
    /// Suppress it and go on (the default: never allow what cannot be read).
    #[default]
    Suppress,
    /// Stop the run.
    Fail,
}

/// Counts of a gate run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Records read.
    pub read: u64,
    /// Recipients allowed.
    pub allowed: u64,
    /// Recipients suppressed by a rule.
    pub suppressed: u64,
    /// Records that could not be read (also suppressed).
    pub bad: u64,
    /// Suppressed recipients whose stored consent conflicts with a consent
    /// signal (`tcf`, `gpp`, `gpc`): counted among `suppressed` too.
    pub conflicts: u64,
}

/// Where decisions go.
pub trait Sink {
    /// One decision.
    fn decision(&mut self, line: u64, recipient: &str, decision: &Decision) -> std::io::Result<()>;
    /// One bad record.
    fn bad(&mut self, line: u64, recipient: Option<&str>, error: &str) -> std::io::Result<()>;
}

#[derive(Serialize)]
struct DecisionOut<'a> {
    line: u64,
    recipient: Option<&'a str>,
    decision: &'static str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    reasons: &'a [Reason],
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

impl Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let fields = if self.conflict.is_some() { 5 } else { 4 };
        let mut st = s.serialize_struct("Reason", fields)?;
        st.serialize_field("rule", &self.rule)?;
        st.serialize_field("severity", self.severity.as_str())?;
        st.serialize_field("message", &self.message)?;
        st.serialize_field("citations", &self.citations)?;
        if let Some(conflict) = &self.conflict {
            st.serialize_field("conflict", conflict)?;
        }
        st.end()
    }
}

/// Writes every decision as a JSON line to one writer, or allowed and
/// suppressed ones to separate writers.
pub struct JsonLinesSink<A: Write, S: Write> {
    /// Allowed decisions (or all, when `suppressed` is `None`).
    pub allowed: A,
    /// Suppressed decisions and bad records, if split.
    pub suppressed: Option<S>,
    buffer: Vec<u8>,
}

impl<A: Write, S: Write> JsonLinesSink<A, S> {
    /// A sink writing to `allowed`, and suppressed records to `suppressed` if given.
    pub fn new(allowed: A, suppressed: Option<S>) -> Self {
        JsonLinesSink {
            allowed,
            suppressed,
            buffer: Vec::with_capacity(256),
        }
    }

    fn write(&mut self, out: &DecisionOut<'_>, allowed: bool) -> std::io::Result<()> {
        self.buffer.clear();
        serde_json::to_writer(&mut self.buffer, out).map_err(std::io::Error::other)?;
        self.buffer.push(b'\n');
        match (&mut self.suppressed, allowed) {
            (Some(s), false) => s.write_all(&self.buffer),
            _ => self.allowed.write_all(&self.buffer),
        }
    }

    /// Flushes both writers.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.allowed.flush()?;
        if let Some(s) = &mut self.suppressed {
            s.flush()?;
        }
        Ok(())
    }
}

impl<A: Write, S: Write> Sink for JsonLinesSink<A, S> {
    fn decision(&mut self, line: u64, recipient: &str, decision: &Decision) -> std::io::Result<()> {
        let (name, reasons, allowed): (&'static str, &[Reason], bool) = match decision {
            Decision::Allow => ("allow", &[], true),
            Decision::Suppress(r) => ("suppress", r, false),
        };
        let out = DecisionOut {
            line,
            recipient: Some(recipient),
            decision: name,
            reasons,
            error: None,
        };
        self.write(&out, allowed)
    }

    fn bad(&mut self, line: u64, recipient: Option<&str>, error: &str) -> std::io::Result<()> {
        let out = DecisionOut {
            line,
            recipient,
            decision: "suppress",
            reasons: &[],
            error: Some(error),
        };
        self.write(&out, false)
    }
}

/// Why a run stopped early.
#[derive(Debug)]
pub enum StreamError {
    /// Reading input or writing output failed.
    Io(std::io::Error),
    /// A bad record with `--on-bad-record fail`.
    BadRecord {
        /// Line number (1-based; CSV counts the header as line 1).
        line: u64,
        /// What was wrong.
        error: String,
    },
    /// The CSV header row is unusable.
    Header(String),
}

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StreamError::Io(e) => write!(f, "{e}"),
            StreamError::BadRecord { line, error } => write!(f, "line {line}: {error}"),
            StreamError::Header(e) => write!(f, "CSV header: {e}"),
        }
    }
}

impl From<std::io::Error> for StreamError {
    fn from(e: std::io::Error) -> Self {
        StreamError::Io(e)
    }
}

/// Options of a gate run.
pub struct RunOptions<'h> {
    /// Planned send time.
    pub at: Timestamp,
    /// Send history for frequency caps.
    pub history: &'h dyn History,
    /// Bad-record policy.
    pub on_bad: OnBadRecord,
    /// Called after each record with the running counts (progress display).
    pub progress: Option<&'h mut dyn FnMut(&Summary)>,
}

/// Streams recipients from `input` through `plan` into `sink`.
/// `on_allow` sees each allowed recipient id (to record sends).
pub fn run(
    plan: &GatePlan<'_>,
    input: impl BufRead,
    format: InputFormat,
    sink: &mut dyn Sink,
    options: RunOptions<'_>,
    on_allow: &mut dyn FnMut(&str) -> std::io::Result<()>,
) -> Result<Summary, StreamError> {
    let RunOptions {
        at,
        history,
        on_bad,
        mut progress,
    } = options;
    let moment = plan.moment(at);
    let mut summary = Summary::default();
    let mut handle = |line: u64,
                      prepared: Result<Prepared<'_>, BadRecord<'_>>,
                      summary: &mut Summary|
     -> Result<(), StreamError> {
        summary.read += 1;
        let recipient = match prepared {
            Ok(p) => p,
            Err(BadRecord { id, error }) => {
                return bad(sink, summary, on_bad, line, id.as_deref(), error)
            }
        };
        match plan.decide_with_reasons(&recipient, &moment, history) {
            Ok(decision) => {
                if decision == Decision::Allow {
                    summary.allowed += 1;
                    on_allow(&recipient.id)?;
                } else {
                    summary.suppressed += 1;
                    if let Decision::Suppress(reasons) = &decision {
                        if reasons.iter().any(|r| r.conflict.is_some()) {
                            summary.conflicts += 1;
                        }
                    }
                }
                sink.decision(line, &recipient.id, &decision)?;
            }
            Err(error) => return bad(sink, summary, on_bad, line, Some(&recipient.id), error),
        }
        if let Some(p) = progress.as_mut() {
            p(summary);
        }
        Ok(())
    };
    match format {
        InputFormat::JsonLines => {
            let mut input = input;
            let mut buffer: Vec<u8> = Vec::with_capacity(1024);
            let mut line = 0u64;
            loop {
                buffer.clear();
                if input.read_until(b'\n', &mut buffer)? == 0 {
                    break;
                }
                line += 1;
                // A byte order mark starts the first line of files saved
                // by some editors; CSV drops it, and so does JSON Lines.
                let bytes = match buffer.strip_prefix(BOM) {
                    Some(rest) if line == 1 => rest,
                    _ => &buffer[..],
                };
                let prepared = match std::str::from_utf8(bytes) {
                    Ok(text) if text.trim().is_empty() => continue,
                    Ok(text) => plan.prepare_json(text.trim()),
                    Err(_) => Err(BadRecord::unread("the line is not valid UTF-8".into())),
                };
                handle(line, prepared, &mut summary)?;
            }
        }
        InputFormat::Csv => {
            // Row lengths are checked by the layout, so that a short or
            // long row is reported with its id.
            let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
            let headers = reader
                .headers()
                .map_err(|e| StreamError::Header(e.to_string()))?
                .clone();
            let layout = CsvLayout::new(&headers).map_err(StreamError::Header)?;
            let mut row = csv::StringRecord::new();
            loop {
                // The position is where the next record starts.
                let line = reader.position().line();
                match reader.read_record(&mut row) {
                    Ok(false) => break,
                    Ok(true) => {
                        let prepared = layout
                            .recipient(&row)
                            .map_err(|error| BadRecord {
                                id: layout.id_of(&row).map(Cow::Borrowed),
                                error,
                            })
                            .and_then(|r| {
                                plan.prepare(&r).map_err(|error| BadRecord {
                                    id: Some(r.id.clone()),
                                    error,
                                })
                            });
                        handle(line, prepared, &mut summary)?
                    }
                    Err(e) => {
                        if let csv::ErrorKind::Io(_) = e.kind() {
                            return Err(StreamError::Io(std::io::Error::other(e.to_string())));
                        }
                        handle(line, Err(BadRecord::unread(e.to_string())), &mut summary)?;
                    }
                }
            }
        }
    }
    Ok(summary)
}

fn bad(
    sink: &mut dyn Sink,
    summary: &mut Summary,
    on_bad: OnBadRecord,
    line: u64,
    recipient: Option<&str>,
    error: String,
) -> Result<(), StreamError> {
    summary.bad += 1;
    if on_bad == OnBadRecord::Fail {
        return Err(StreamError::BadRecord { line, error });
    }
    sink.bad(line, recipient, &error)?;
    Ok(())
}
