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
use super::{BadRecord, Decision, GatePlan, History, Moment, Prepared, Reason};
use crate::ledger::backend::{Backend, Chunk, Mode, Written, CHUNK};
use crate::ledger::{LedgerError, SendSlot};

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
    /// Send history for frequency caps, when no [`LedgerRun`] is given.
    pub history: &'h dyn History,
    /// Bad-record policy.
    pub on_bad: OnBadRecord,
    /// Called after each record with the running counts (progress display).
    pub progress: Option<&'h mut dyn FnMut(&Summary)>,
    /// Decide against a ledger, in chunks that reserve or record the
    /// allowed sends (then `history` is not used).
    pub ledger: Option<LedgerRun<'h>>,
}

/// A run that decides against a ledger ([`crate::ledger::backend`]): each
/// chunk of [`CHUNK`](crate::ledger::backend::CHUNK) records is decided in
/// one transaction that reserves (or records) its allowed sends, and its
/// decisions are written only once that transaction has committed.
pub struct LedgerRun<'h> {
    /// The ledger.
    pub backend: &'h mut dyn Backend,
    /// The send being decided.
    pub send: SendSlot,
    /// Record or reserve.
    pub mode: Mode,
    /// Adds the rows written.
    pub written: &'h mut Written,
}

/// A run that failed.
#[derive(Debug)]
pub enum RunError {
    /// Reading, writing or a bad record.
    Stream(StreamError),
    /// The ledger: nothing of the chunk being decided was allowed.
    Ledger(LedgerError),
}

impl From<StreamError> for RunError {
    fn from(e: StreamError) -> Self {
        RunError::Stream(e)
    }
}

impl From<std::io::Error> for RunError {
    fn from(e: std::io::Error) -> Self {
        RunError::Stream(StreamError::Io(e))
    }
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Stream(e) => write!(f, "{e}"),
            RunError::Ledger(e) => write!(f, "{e}"),
        }
    }
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
) -> Result<Summary, RunError> {
    let RunOptions {
        at,
        history,
        on_bad,
        mut progress,
        ledger,
    } = options;
    let moment = plan.moment(at);
    let mut summary = Summary::default();
    if let Some(ledger) = ledger {
        let mut chunked = Chunked {
            plan,
            moment: &moment,
            ledger,
            items: Vec::with_capacity(CHUNK),
            on_bad,
            now: Timestamp::now().as_second(),
            cap_reads: plan.cap_reads(),
        };
        let mut out = |item: Item, decided: Option<Result<Decision, String>>| {
            let done = emit(sink, &mut summary, on_bad, item, decided, on_allow);
            if let Some(p) = progress.as_mut() {
                p(&summary);
            }
            done
        };
        read_records(plan, input, format, &mut |line, prepared| {
            let item = match prepared {
                Ok(p) => Item::Ready(line, Box::new(p.into_owned())),
                Err(BadRecord { id, error }) => Item::Bad(line, id.map(Cow::into_owned), error),
            };
            let stop = on_bad == OnBadRecord::Fail && matches!(item, Item::Bad(..));
            chunked.items.push(item);
            if stop || chunked.items.len() >= CHUNK {
                chunked.flush(&mut out)?;
            }
            Ok(())
        })?;
        chunked.flush(&mut out)?;
        return Ok(summary);
    }
    let mut handle =
        |line: u64, prepared: Result<Prepared<'_>, BadRecord<'_>>| -> Result<(), RunError> {
            summary.read += 1;
            let recipient = match prepared {
                Ok(p) => p,
                Err(BadRecord { id, error }) => {
                    return Ok(bad(sink, &mut summary, on_bad, line, id.as_deref(), error)?)
                }
            };
            match plan.decide_with_reasons(&recipient, &moment, history) {
                Ok(decision) => {
                    count(&mut summary, &decision);
                    if decision == Decision::Allow {
                        on_allow(&recipient.id)?;
                    }
                    sink.decision(line, &recipient.id, &decision)?;
                }
                Err(error) => {
                    return Ok(bad(
                        sink,
                        &mut summary,
                        on_bad,
                        line,
                        Some(&recipient.id),
                        error,
                    )?)
                }
            }
            if let Some(p) = progress.as_mut() {
                p(&summary);
            }
            Ok(())
        };
    read_records(plan, input, format, &mut handle)?;
    Ok(summary)
}

/// A record of a chunk.
enum Item {
    Ready(u64, Box<Prepared<'static>>),
    Bad(u64, Option<String>, String),
}

/// Records waiting to be decided together.
struct Chunked<'a, 'p, 'h> {
    plan: &'a GatePlan<'p>,
    moment: &'a Moment,
    ledger: LedgerRun<'h>,
    items: Vec<Item>,
    on_bad: OnBadRecord,
    now: i64,
    cap_reads: (Vec<String>, i64),
}

impl Chunked<'_, '_, '_> {
    /// Decides the waiting records in one ledger transaction, then emits
    /// their decisions in input order.
    fn flush(
        &mut self,
        emit: &mut dyn FnMut(Item, Option<Result<Decision, String>>) -> Result<(), RunError>,
    ) -> Result<(), RunError> {
        if self.items.is_empty() {
            return Ok(());
        }
        let items = std::mem::take(&mut self.items);
        let ready: Vec<&Prepared<'static>> = items
            .iter()
            .filter_map(|i| match i {
                Item::Ready(_, p) => Some(p.as_ref()),
                Item::Bad(..) => None,
            })
            .collect();
        let ids: Vec<&str> = ready.iter().map(|p| p.id.as_ref()).collect();
        let mut decided: Vec<Result<Decision, String>> = Vec::with_capacity(ready.len());
        let (plan, moment, on_bad) = (self.plan, self.moment, self.on_bad);
        // Leases run from each chunk's decision, not from the run's start.
        self.now = Timestamp::now().as_second();
        let chunk = Chunk {
            send: &self.ledger.send,
            recipients: &ids,
            counted: &self.cap_reads.0,
            window: self.cap_reads.1,
            channels: &plan.channels,
            counts: plan.counts_toward_caps,
            mode: self.ledger.mode,
            now: self.now,
        };
        let written = self
            .ledger
            .backend
            .decide_chunk(&chunk, &mut |history| {
                decided.clear();
                let mut allowed = Vec::new();
                for (i, p) in ready.iter().enumerate() {
                    let d = plan.decide_with_reasons(p, moment, history);
                    let failed = d.is_err();
                    if matches!(d, Ok(Decision::Allow)) {
                        allowed.push(i);
                    }
                    decided.push(d);
                    // The run stops at this record: nothing after it is
                    // reserved.
                    if failed && on_bad == OnBadRecord::Fail {
                        break;
                    }
                }
                allowed
            })
            .map_err(RunError::Ledger)?;
        self.ledger.written.written += written.written;
        self.ledger.written.already += written.already;
        let mut decided = decided.into_iter();
        for item in items {
            match item {
                Item::Ready(..) => match decided.next() {
                    Some(d) => emit(item, Some(d))?,
                    // Not decided: the run stopped before it.
                    None => break,
                },
                Item::Bad(..) => emit(item, None)?,
            }
        }
        Ok(())
    }
}

/// Writes one decided (or bad) record of a chunk.
/// Counts a decision in the summary: allowed or suppressed, and a
/// suppression a consent signal decided against a stored consent.
fn count(summary: &mut Summary, decision: &Decision) {
    match decision {
        Decision::Allow => summary.allowed += 1,
        Decision::Suppress(reasons) => {
            summary.suppressed += 1;
            if reasons.iter().any(|r| r.conflict.is_some()) {
                summary.conflicts += 1;
            }
        }
    }
}

fn emit(
    sink: &mut dyn Sink,
    summary: &mut Summary,
    on_bad: OnBadRecord,
    item: Item,
    decided: Option<Result<Decision, String>>,
    on_allow: &mut dyn FnMut(&str) -> std::io::Result<()>,
) -> Result<(), RunError> {
    summary.read += 1;
    match (item, decided) {
        (Item::Ready(line, p), Some(Ok(decision))) => {
            count(summary, &decision);
            if decision == Decision::Allow {
                on_allow(&p.id)?;
            }
            sink.decision(line, &p.id, &decision)?;
        }
        (Item::Ready(line, p), Some(Err(error))) => {
            bad(sink, summary, on_bad, line, Some(&p.id), error)?
        }
        // Never built: a record not decided is not emitted.
        (Item::Ready(line, p), None) => bad(
            sink,
            summary,
            on_bad,
            line,
            Some(&p.id),
            "not decided".into(),
        )?,
        (Item::Bad(line, id, error), _) => bad(sink, summary, on_bad, line, id.as_deref(), error)?,
    }
    Ok(())
}

/// What [`read_records`] calls with each record: its line, and the record
/// prepared or why it is bad.
type RecordHandler<'h> =
    dyn FnMut(u64, Result<Prepared<'_>, BadRecord<'_>>) -> Result<(), RunError> + 'h;

/// Reads every record of `input`, prepared for `plan`, into `handle`.
fn read_records(
    plan: &GatePlan<'_>,
    input: impl BufRead,
    format: InputFormat,
    handle: &mut RecordHandler<'_>,
) -> Result<(), RunError> {
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
                handle(line, prepared)?;
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
                        handle(line, prepared)?
                    }
                    Err(e) => {
                        if let csv::ErrorKind::Io(_) = e.kind() {
                            return Err(
                                StreamError::Io(std::io::Error::other(e.to_string())).into()
                            );
                        }
                        handle(line, Err(BadRecord::unread(e.to_string())))?;
                    }
                }
            }
        }
    }
    Ok(())
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
