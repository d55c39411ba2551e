//! `scruple gate`: load and check the campaign, stream the recipients
//! through its [`GatePlan`], write the decisions, and record the allowed
//! sends in the ledger.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use jiff::Timestamp;

use super::progress::{CountingReader, Progress};
use super::stream::{
    self, InputFormat, JsonLinesSink, LedgerRun, OnBadRecord, RunError, RunOptions, Summary,
};
use super::{GatePlan, NoHistory};
use crate::check::{CheckRun, InvalidInput};
use crate::compile::Policy;
use crate::diag::Diag;
use crate::ledger::backend::{self, Location, Mode, Written};
use crate::ledger::command::{ledger_error, sends};
use crate::ledger::SendSlot;

/// What `scruple gate` was asked to do.
#[derive(Clone, Debug)]
pub struct GateCommand {
    /// The campaign file.
    pub campaign: PathBuf,
    /// The recipients file; `-` reads the given standard input.
    pub recipients: String,
    /// Input format (default: CSV for a `.csv` file, else JSON Lines).
    pub input_format: Option<InputFormat>,
    /// Planned send time (default: now). With `record`, it is also the send
    /// slot: re-running with the same campaign and time records nothing twice.
    /// A time without offset is in the campaign's zone
    /// ([`crate::campaign::CampaignModel::send_instant`]).
    pub at: Option<crate::campaign::When>,
    /// Write allowed decisions here instead of standard output.
    pub allowed: Option<PathBuf>,
    /// Write suppressed decisions (and bad records) here instead of standard output.
    pub suppressed: Option<PathBuf>,
    /// What to do with a record that cannot be read.
    pub on_bad: OnBadRecord,
    /// The send ledger: an SQLite file or a `postgres://` URL.
    pub ledger: PathBuf,
    /// Record the allowed sends in the ledger (committed, chunk by chunk).
    pub record: bool,
    /// Without `record`: reserve the allowed sends for `lease_seconds` (the
    /// default), or only read the ledger (`--no-reserve`, a preview).
    pub reserve: bool,
    /// How long a reservation counts unless committed or released.
    pub lease_seconds: i64,
    /// How a campaign that is refused (invalid, or violating the policy) is
    /// reported.
    pub format: GateFormat,
}

/// How `scruple gate` reports a campaign it refuses before reading any
/// recipient. The decisions themselves are always JSON Lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GateFormat {
    /// Diagnostics for people, on standard error.
    #[default]
    Human,
    /// The `scruple.check/v1` document of `scruple check --format json` on
    /// standard output (where no decision is written then), so a sending
    /// tool reads the findings as data.
    Json,
}

/// The streams of a gate run.
pub struct GateIo<'a> {
    /// Standard input (for `--recipients -`).
    pub stdin: &'a mut dyn BufRead,
    /// Standard output: the decisions, unless written to files.
    pub stdout: &'a mut dyn Write,
    /// Standard error: the summary and error messages.
    pub stderr: &'a mut dyn Write,
    /// Renders diagnostics (campaign load errors, the campaign's findings).
    pub diagnostics: &'a mut dyn FnMut(&[Diag]),
    /// The progress display; finished before the summary is written.
    pub progress: Option<&'a mut dyn Progress>,
}

/// Exit code: every record decided.
pub const EXIT_OK: u8 = 0;
/// Exit code: the campaign violates the policy; no recipient was processed.
pub const EXIT_CAMPAIGN: u8 = 1;
/// Exit code: usage, input, output or ledger error.
pub const EXIT_INPUT: u8 = 2;

/// Runs the gate for `command` against `policy`; returns the exit code.
pub fn run(command: &GateCommand, policy: &Policy, io: GateIo<'_>) -> u8 {
    let GateIo {
        stdin,
        stdout,
        stderr,
        diagnostics,
        mut progress,
    } = io;
    let result = execute(
        command,
        policy,
        stdin,
        stdout,
        diagnostics,
        progress.as_deref_mut(),
    );
    // The progress line is cleared before anything else is written to
    // standard error, or the summary would be glued to it.
    if let Some(p) = progress {
        p.finish();
    }
    match result {
        Ok(notes) => {
            for note in notes {
                let _ = writeln!(stderr, "{note}");
            }
            EXIT_OK
        }
        Err((code, notes)) => {
            for note in notes {
                let _ = writeln!(stderr, "{note}");
            }
            code
        }
    }
}

type Failure = (u8, Vec<String>);

fn input_error(message: String) -> Failure {
    (EXIT_INPUT, vec![format!("error: {message}")])
}

fn execute(
    command: &GateCommand,
    policy: &Policy,
    stdin: &mut dyn BufRead,
    stdout: &mut dyn Write,
    diagnostics: &mut dyn FnMut(&[Diag]),
    progress: Option<&mut (dyn Progress + '_)>,
) -> Result<Vec<String>, Failure> {
    // A refused campaign: its diagnostics for people, or the check document.
    let mut refuse = |run: CheckRun, code: u8, notes: Vec<String>| -> Failure {
        match command.format {
            GateFormat::Human => {
                let diags: Vec<Diag> = run
                    .usage
                    .into_iter()
                    .chain(run.invalid.into_iter().flat_map(|i| i.diags))
                    .chain(run.reports.into_iter().flat_map(|r| {
                        let findings: Vec<Diag> = r.findings.iter().map(|f| f.to_diag()).collect();
                        r.diagnostics.into_iter().chain(findings)
                    }))
                    .collect();
                diagnostics(&diags);
            }
            GateFormat::Json => {
                let text = crate::render::json::render(&run, policy, false);
                if let Err(e) = writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
                    return input_error(format!("cannot write the report: {e}"));
                }
            }
        }
        (code, notes)
    };
    let (sources, invalid, usage) =
        crate::check::read_inputs(&[command.campaign.display().to_string()]);
    let Some(source) = sources.into_iter().next() else {
        let run = CheckRun {
            reports: Vec::new(),
            invalid,
            usage,
        };
        return Err(refuse(run, EXIT_INPUT, Vec::new()));
    };
    let campaign = match crate::campaign::load(&source) {
        Ok(campaign) => campaign,
        Err(diags) => {
            let run = CheckRun {
                invalid: vec![InvalidInput {
                    name: source.name.clone(),
                    diags,
                }],
                ..CheckRun::default()
            };
            return Err(refuse(run, EXIT_INPUT, Vec::new()));
        }
    };
    let at = match &command.at {
        None => Timestamp::now(),
        Some(when) => match campaign.model.send_instant(when) {
            Ok(at) => at,
            Err(diag) => {
                let run = CheckRun {
                    invalid: vec![InvalidInput {
                        name: source.name.clone(),
                        diags: vec![*diag],
                    }],
                    ..CheckRun::default()
                };
                return Err(refuse(run, EXIT_INPUT, Vec::new()));
            }
        },
    };
    let plan = match GatePlan::new(policy, &campaign, crate::eval::Options { now: at }) {
        Ok(plan) => plan,
        Err(report) => {
            let run = CheckRun {
                reports: vec![*report],
                ..CheckRun::default()
            };
            let note = "gate: the campaign violates the policy; no recipient was processed";
            return Err(refuse(run, EXIT_CAMPAIGN, vec![note.to_string()]));
        }
    };

    let format = command
        .input_format
        .unwrap_or(if command.recipients.ends_with(".csv") {
            InputFormat::Csv
        } else {
            InputFormat::JsonLines
        });
    // Bytes read, for the progress bar; its size is known for a regular file.
    let mut bytes_read = None;
    let mut total_bytes = None;
    let input: Box<dyn BufRead + '_> = if command.recipients == "-" {
        Box::new(stdin)
    } else {
        let file = std::fs::File::open(&command.recipients)
            .map_err(|e| input_error(format!("cannot read `{}`: {e}", command.recipients)))?;
        total_bytes = file
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        let (file, count) = CountingReader::new(file);
        bytes_read = Some(count);
        Box::new(std::io::BufReader::with_capacity(1 << 16, file))
    };
    // The ledger before the output files, so a refused ledger leaves them
    // untouched. Deciding (recording or reserving) creates it; a preview
    // (`--no-reserve`) reads it when it exists.
    let location = Location::parse(&command.ledger);
    let ledger_failed = |e| input_error(ledger_error(&command.ledger, &e));
    let send = SendSlot {
        campaign: plan.campaign_id.clone(),
        slot: at.as_second(),
    };
    let deciding = command.record || command.reserve;
    let mode = if command.record {
        Mode::Record
    } else if command.reserve {
        Mode::Reserve {
            lease_seconds: command.lease_seconds,
        }
    } else {
        Mode::Read
    };
    let mut backend = backend::open(&location, deciding).map_err(ledger_failed)?;
    let allowed_file = create(command.allowed.as_ref())?;
    let suppressed_file = create(command.suppressed.as_ref())?;
    let allowed_out: Box<dyn Write + '_> = match allowed_file {
        Some(f) => Box::new(f),
        None => Box::new(std::io::BufWriter::new(stdout)),
    };
    let suppressed_out: Option<Box<dyn Write>> = match suppressed_file {
        Some(f) => Some(Box::new(f)),
        None if command.allowed.is_some() => Some(Box::new(std::io::sink())),
        None => None,
    };
    let mut sink = JsonLinesSink::new(allowed_out, suppressed_out);

    let mut on_allow = |_: &str| -> std::io::Result<()> { Ok(()) };
    let mut written = Written::default();
    let mut progress = progress;
    if let Some(p) = progress.as_mut() {
        p.start(total_bytes);
    }
    let mut report = |s: &Summary| {
        if let Some(p) = progress.as_mut() {
            p.update(bytes_read.as_ref().map_or(0, |c| c.get()), s);
        }
    };
    let options = RunOptions {
        at,
        history: &NoHistory,
        on_bad: command.on_bad,
        progress: Some(&mut report),
        ledger: backend.as_deref_mut().map(|backend| LedgerRun {
            backend,
            send: send.clone(),
            mode,
            written: &mut written,
        }),
    };
    let result = stream::run(&plan, input, format, &mut sink, options, &mut on_allow);
    let flushed = sink.flush();
    let summary = match (result, flushed) {
        (Ok(summary), Ok(())) => summary,
        (Err(RunError::Ledger(e)), _) => {
            return Err(input_error(format!(
                "{}; the run stopped: the decisions written before were reserved or recorded, \
                 the others were not made (re-run the same --at to finish)",
                ledger_error(&command.ledger, &e)
            )))
        }
        (Err(e), _) => return Err(input_error(e.to_string())),
        (_, Err(e)) => return Err(input_error(format!("cannot write decisions: {e}"))),
    };
    let mut notes = vec![format!(
        "gate: {} read, {} allowed, {} suppressed, {} bad",
        summary.read, summary.allowed, summary.suppressed, summary.bad
    )];
    if summary.conflicts > 0 {
        // Only when there are any: the summary line of every other run stays as it was.
        notes.push(format!(
            "gate: {} suppressed where a consent signal (tcf, gpp, gpc) conflicts with a stored consent",
            summary.conflicts
        ));
    }
    if deciding {
        let what = if command.record {
            "recorded"
        } else {
            "reserved"
        };
        notes.push(format!(
            "gate: {what} {} in {} ({} already there)",
            sends(written.written),
            location.display(),
            written.already
        ));
    }
    Ok(notes)
}

/// Creates an output file, buffered.
fn create(path: Option<&PathBuf>) -> Result<Option<std::io::BufWriter<std::fs::File>>, Failure> {
    match path {
        None => Ok(None),
        Some(p) => std::fs::File::create(p)
            .map(|f| Some(std::io::BufWriter::new(f)))
            .map_err(|e| input_error(format!("cannot write `{}`: {e}", p.display()))),
    }
}
