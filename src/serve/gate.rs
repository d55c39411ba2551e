//! `POST /v1/gate`: a batch of recipients through the gate, with the
//! campaign named (inside `--campaigns`), inline, or as text; decisions
//! logged to the decision log and, on request, sends recorded in the ledger.

use std::path::{Component, Path};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::audit::{DecisionLog, Entry};
use super::error::{json_body, ApiError};
use super::metrics::GateCounts;
use super::routes::{
    bad_at, blocking, campaign_error, read_body, send_when, timed_out, PolicyRef, REQUEST_NAME,
};
use super::state::{AppState, Served};
use crate::eval::Options;
use crate::gate::stream::{
    self, InputFormat, JsonLinesSink, LedgerRun, OnBadRecord, RunError, RunOptions, Sink,
};
use crate::gate::{Decision, GatePlan, NoHistory};
use crate::ledger::backend::{self, Backend, Location, Mode, Written};
use crate::ledger::postgres::PgLedger;
use crate::ledger::SendSlot;
use crate::source::{Source, SourceFile};

/// Version tag of the `POST /v1/gate` response.
pub const GATE_SCHEMA: &str = "scruple.gate/v1";

/// Body of `POST /v1/gate`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GateRequest {
    /// A reference (a path inside `--campaigns`) or the campaign as an object.
    campaign: Option<Value>,
    /// The campaign as YAML or JSON text.
    campaign_text: Option<String>,
    /// Planned send time (default: now).
    at: Option<String>,
    /// The recipient records.
    recipients: Vec<Value>,
    /// Record the allowed sends in the ledger.
    #[serde(default)]
    record: bool,
    /// Without `record`: reserve the allowed sends (the default), or only
    /// read the ledger (`false`, a preview).
    #[serde(default = "yes")]
    reserve: bool,
    /// How long a reservation counts unless committed or released.
    lease_seconds: Option<i64>,
    /// What to do with a record that cannot be read.
    #[serde(default)]
    on_bad_record: BadRecord,
}

#[derive(Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum BadRecord {
    #[default]
    Suppress,
    Fail,
}

#[derive(Serialize)]
struct GateHead<'a> {
    schema: &'static str,
    campaign: &'a str,
    policy: PolicyRef<'a>,
    at: String,
    recorded: Option<RecordedOut>,
    /// Reservations taken (a request without `"record": true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    reserved: Option<RecordedOut>,
    summary: stream::Summary,
}

fn yes() -> bool {
    true
}

/// Sends written to the ledger by a gate request with `"record": true`.
#[derive(Serialize)]
struct RecordedOut {
    /// New sends.
    inserted: u64,
    /// Sends already in the ledger (the same send decided again).
    already: u64,
}

pub(super) async fn gate(
    State(state): State<Arc<AppState>>,
    req: Request,
) -> Result<Response, ApiError> {
    let deadline = Instant::now() + state.settings.timeout;
    let body = read_body(req, deadline).await?;
    let request: GateRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::malformed(format!("the body is not a gate request: {e}")))?;
    drop(body);
    let when = send_when(request.at.as_deref())?;
    let served = state.current();
    let job = Arc::clone(&state);
    let text = blocking(deadline, move || {
        decide_batch(&job, &served, request, when, deadline)
    })
    .await?;
    Ok((StatusCode::OK, json_body(text)).into_response())
}

/// The gate's work: load the campaign, plan, decide every recipient, then
/// (only if the deadline still holds) log the decisions and record the sends.
fn decide_batch(
    state: &AppState,
    served: &Served,
    request: GateRequest,
    when: Option<crate::campaign::When>,
    deadline: Instant,
) -> Result<String, ApiError> {
    let source = campaign_source(
        state.settings.campaigns.as_deref(),
        request.campaign,
        request.campaign_text,
    )?;
    let campaign = crate::campaign::load(&source).map_err(campaign_error)?;
    // As `scruple gate --at`: a civil time is in the campaign's zone, and a
    // bare date is refused (which hour it means decides quiet hours).
    let at = match &when {
        None => Timestamp::now(),
        Some(when) => campaign
            .model
            .send_instant(when)
            .map_err(|diag| match &diag.help {
                Some(help) => bad_at(format!("{} ({help})", diag.message)),
                None => bad_at(diag.message.clone()),
            })?,
    };
    let plan = GatePlan::new(&served.policy, &campaign, Options { now: at })
        .map_err(|report| violates_policy(*report, &served.policy))?;
    let input = json_lines(request.recipients)?;

    // The ledger, for this request: an SQLite file opened per request (one
    // connection each, so requests and the CLI use it at once), or a
    // connection from the PostgreSQL pool. Recipients are decided in chunks,
    // each one transaction that locks its recipients, reads their history
    // and reserves (or, with `"record": true`, records) the allowed sends:
    // concurrent requests, processes and machines never exceed a cap.
    let ledger_path = &state.settings.ledger;
    let ledger_failed =
        |e: crate::ledger::LedgerError| super::settle::ledger_error(ledger_path, &e);
    let deciding = request.record || request.reserve;
    let mut backend: Option<Box<dyn Backend>> = match &state.settings.pool {
        Some(pool) => {
            let url = ledger_path.to_string_lossy();
            // The schema is brought up to date by the first request only.
            let first = !pool.migrated.load(std::sync::atomic::Ordering::Acquire);
            let ledger = PgLedger::pooled(&pool.pool, &url, first).map_err(ledger_failed)?;
            pool.migrated
                .store(true, std::sync::atomic::Ordering::Release);
            Some(Box::new(ledger))
        }
        None => backend::open(&Location::parse(ledger_path), deciding).map_err(ledger_failed)?,
    };
    let slot = SendSlot {
        campaign: plan.campaign_id.clone(),
        slot: at.as_second(),
    };
    let mode = if request.record {
        Mode::Record
    } else if request.reserve {
        Mode::Reserve {
            // At least a second: a lease that has already ended would
            // reserve nothing.
            lease_seconds: request
                .lease_seconds
                .unwrap_or(crate::ledger::backend::DEFAULT_LEASE_SECONDS)
                .max(1),
        }
    } else {
        Mode::Read
    };
    let mut written = Written::default();
    let mut on_allow = |_: &str| -> std::io::Result<()> { Ok(()) };
    let mut sink = Collect::new(state.decision_log.is_some() || state.audit.is_some());
    let options = RunOptions {
        at,
        history: &NoHistory,
        on_bad: match request.on_bad_record {
            BadRecord::Suppress => OnBadRecord::Suppress,
            BadRecord::Fail => OnBadRecord::Fail,
        },
        progress: None,
        ledger: backend.as_deref_mut().map(|backend| LedgerRun {
            backend,
            send: slot.clone(),
            mode,
            written: &mut written,
        }),
    };
    let summary = stream::run(
        &plan,
        input.as_slice(),
        InputFormat::JsonLines,
        &mut sink,
        options,
        &mut on_allow,
    )
    .map_err(|e| match e {
        RunError::Stream(stream::StreamError::BadRecord { line, error }) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_record",
            format!("recipient {line}: {error} (\"on_bad_record\": \"fail\")"),
        ),
        RunError::Ledger(e) => ledger_failed(e),
        other => ApiError::internal(format!("cannot decide the batch: {other}")),
    })?;

    // Nothing is logged or recorded for a request the client has given up on.
    if Instant::now() >= deadline {
        return Err(timed_out());
    }
    let at_text = at.to_string();
    if let Some(log) = &state.decision_log {
        log_decisions(log, &sink.log, &at_text, &plan.campaign_id, &served.hash)?;
    }
    let written_out = RecordedOut {
        inserted: written.written,
        already: written.already,
    };
    let (recorded, reserved) = match mode {
        Mode::Record => (Some(written_out), None),
        Mode::Reserve { .. } => (None, Some(written_out)),
        Mode::Read => (None, None),
    };
    state.metrics.gate(&sink.counts);
    // The audit gauges count every decided recipient of the campaign.
    if let Some(audit) = &state.audit {
        let mut audit = audit.lock().unwrap_or_else(|e| e.into_inner());
        for item in &sink.log {
            if let Some(id) = item.recipient.as_deref() {
                audit.add_decision(&plan.campaign_id, id, item.decision == "allow");
            }
        }
    }

    let head = GateHead {
        schema: GATE_SCHEMA,
        campaign: &plan.campaign_id,
        policy: PolicyRef { hash: &served.hash },
        at: at_text,
        recorded,
        reserved,
        summary,
    };
    gate_body(&head, &sink.lines.allowed)
}

/// 422 for a campaign the gate refuses, with its findings as diagnostics and
/// as the `scruple.check/v1` document (`check`) that `POST /v1/check` answers.
fn violates_policy(
    report: crate::eval::CampaignReport,
    policy: &crate::compile::Policy,
) -> ApiError {
    let diags = report
        .diagnostics
        .iter()
        .cloned()
        .chain(report.findings.iter().map(|f| f.to_diag()))
        .collect();
    let run = crate::check::CheckRun {
        reports: vec![report],
        ..crate::check::CheckRun::default()
    };
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "campaign_violates_policy",
        "the campaign itself violates the policy; no recipient was decided (see `check`)",
    )
    .with_diagnostics(diags)
    .with_check(crate::render::json::to_value(&run, policy, false))
}

/// The records as JSON Lines, the input of [`stream::run`]: record *n* of
/// the array is line *n*. Re-encoding puts each on one line.
fn json_lines(records: Vec<Value>) -> Result<Vec<u8>, ApiError> {
    let mut input = Vec::with_capacity(records.len() * 128);
    for record in records {
        serde_json::to_writer(&mut input, &record)
            .map_err(|e| ApiError::internal(format!("cannot re-encode a record: {e}")))?;
        input.push(b'\n');
    }
    Ok(input)
}

/// Appends a batch's decisions to the decision log.
fn log_decisions(
    log: &DecisionLog,
    items: &[LogItem],
    at: &str,
    campaign: &str,
    policy: &str,
) -> Result<(), ApiError> {
    let time = Timestamp::now().to_string();
    let entries: Vec<Entry<'_>> = items
        .iter()
        .map(|item| Entry {
            time: &time,
            at,
            campaign,
            line: item.line,
            recipient: item.recipient.as_deref().map(|id| log.recipient(id)),
            decision: item.decision,
            rules: &item.rules,
            error: item.error.as_deref(),
            policy,
        })
        .collect();
    log.append(&entries).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "decision_log",
            format!("cannot write the decision log: {e}; nothing was recorded"),
        )
    })
}

/// The response: `head` with the decision lines of `scruple gate` spliced in
/// as an array, so `{…head…}` becomes `{…head…,"decisions":[line,line]}`.
fn gate_body(head: &GateHead<'_>, lines: &[u8]) -> Result<String, ApiError> {
    let mut out = serde_json::to_string(head)
        .map_err(|e| ApiError::internal(format!("cannot encode the response: {e}")))?;
    out.pop();
    out.push_str(",\"decisions\":[");
    for (i, line) in lines
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        if i > 0 {
            out.push(',');
        }
        out.push_str(std::str::from_utf8(line).unwrap_or("null"));
    }
    out.push_str("]}");
    Ok(out)
}

/// The campaign of a gate request: a reference inside the campaign
/// directory, an inline object, or text.
fn campaign_source(
    root: Option<&Path>,
    campaign: Option<Value>,
    text: Option<String>,
) -> Result<Source, ApiError> {
    let bad = |message: &str| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message);
    match (campaign, text) {
        (Some(_), Some(_)) => Err(bad(
            "give the campaign once: `campaign` (a reference or an object) or `campaign_text`",
        )),
        (None, None) => Err(bad(
            "no campaign: give `campaign` (a reference or an object) or `campaign_text`",
        )),
        (None, Some(text)) => Ok(SourceFile::new(REQUEST_NAME, text)),
        (Some(Value::String(reference)), None) => read_reference(root, &reference),
        (Some(object @ Value::Object(_)), None) => {
            // Diagnostics point into this rendering of the object.
            let text = serde_json::to_string_pretty(&object)
                .map_err(|e| ApiError::internal(format!("cannot re-encode the campaign: {e}")))?;
            Ok(SourceFile::new(REQUEST_NAME, text))
        }
        (Some(_), None) => Err(bad(
            "`campaign` must be a reference (a string) or a campaign (an object)",
        )),
    }
}

/// Reads a campaign by reference: a relative path inside the campaign
/// directory, never outside it (no `..`, no absolute path, no link out).
fn read_reference(root: Option<&Path>, reference: &str) -> Result<Source, ApiError> {
    let Some(root) = root else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "no_campaign_directory",
            "this server takes no campaign references (start it with --campaigns DIR); send the campaign itself",
        ));
    };
    let relative = Path::new(reference);
    let plain = !reference.is_empty()
        && !reference.contains('\\')
        && relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    if !plain {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_reference",
            format!("`{reference}` is not a relative path inside the campaign directory"),
        ));
    }
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "campaign_not_found",
            format!("no campaign `{reference}` in the campaign directory"),
        )
    };
    let path = root
        .join(relative)
        .canonicalize()
        .map_err(|_| not_found())?;
    if !path.starts_with(root) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_reference",
            format!("`{reference}` leads outside the campaign directory"),
        ));
    }
    let bytes = std::fs::read(&path).map_err(|_| not_found())?;
    let text = String::from_utf8(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_campaign",
            format!(
                "`{reference}` is not UTF-8 text (first bad byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    Ok(SourceFile::new(reference, text))
}

/// One decision kept for the decision log.
struct LogItem {
    line: u64,
    recipient: Option<String>,
    decision: &'static str,
    rules: Vec<String>,
    error: Option<String>,
}

/// Collects a batch's decisions: the JSON lines of `scruple gate`, the
/// metric counts, and (when logging) one item per decision.
struct Collect {
    lines: JsonLinesSink<Vec<u8>, Vec<u8>>,
    counts: GateCounts,
    log: Vec<LogItem>,
    logging: bool,
}

impl Collect {
    fn new(logging: bool) -> Collect {
        Collect {
            lines: JsonLinesSink::new(Vec::new(), None),
            counts: GateCounts::default(),
            log: Vec::new(),
            logging,
        }
    }
}

impl Sink for Collect {
    fn decision(&mut self, line: u64, recipient: &str, decision: &Decision) -> std::io::Result<()> {
        self.lines.decision(line, recipient, decision)?;
        let (outcome, rules) = match decision {
            Decision::Allow => ("allow", Vec::new()),
            Decision::Suppress(reasons) => {
                let mut rules: Vec<String> = reasons.iter().map(|r| r.rule.to_string()).collect();
                rules.dedup();
                ("suppress", rules)
            }
        };
        *self.counts.outcomes.entry(outcome).or_default() += 1;
        for rule in &rules {
            *self.counts.rules.entry(rule.clone()).or_default() += 1;
        }
        if self.logging {
            self.log.push(LogItem {
                line,
                recipient: Some(recipient.to_string()),
                decision: outcome,
                rules,
                error: None,
            });
        }
        Ok(())
    }

    fn bad(&mut self, line: u64, recipient: Option<&str>, error: &str) -> std::io::Result<()> {
        self.lines.bad(line, recipient, error)?;
        *self.counts.outcomes.entry("bad").or_default() += 1;
        if self.logging {
            self.log.push(LogItem {
                line,
                recipient: recipient.map(str::to_string),
                decision: "suppress",
                rules: Vec::new(),
                error: Some(error.to_string()),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_stay_inside_the_directory() {
        let root = std::env::temp_dir();
        for reference in [
            "../etc/passwd",
            "/etc/passwd",
            "a/../../b",
            "",
            "./x.yaml",
            "a\\b",
        ] {
            let err = read_reference(Some(&root), reference).err();
            assert_eq!(err.map(|e| e.code), Some("bad_reference"), "{reference}");
        }
        let err = read_reference(None, "x.yaml").err();
        assert_eq!(err.map(|e| e.code), Some("no_campaign_directory"));
    }
}
