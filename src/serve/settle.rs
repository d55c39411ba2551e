//! `POST /v1/commit` and `POST /v1/release`: settle the reservations a gate
//! request took (issue 14), as `scruple ledger commit` / `ledger release`
//! do. A sender that gated without `"record": true` commits the sends it
//! made, and releases the ones it did not make, so their place under a cap
//! is free again before the lease ends.
//!
//! The send is named as the gate response names it: the campaign id and
//! the instant `at` of that response (an RFC 3339 instant, never a civil
//! time: which zone a civil time is in would be a guess, and a wrong guess
//! would settle nothing). Without `recipients`, every reservation of the
//! send is settled.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::error::{json_body, ApiError};
use super::routes::{blocking, read_body};
use super::state::AppState;
use crate::ledger::backend::{self, Backend, Location};
use crate::ledger::postgres::PgLedger;
use crate::ledger::SendSlot;

/// Version tag of the `POST /v1/commit` and `/v1/release` responses.
pub const SETTLE_SCHEMA: &str = "scruple.settle/v1";

/// Most recipient ids one request may name: the body limit bounds the
/// bytes, this bounds the work per request.
const MAX_RECIPIENTS: usize = 100_000;

/// Body of `POST /v1/commit` and `POST /v1/release`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettleRequest {
    /// The campaign id (`campaign` of the gate response).
    campaign: String,
    /// The send slot: `at` of the gate response, an instant.
    at: String,
    /// Only these recipients' reservations (default: every one of the send).
    recipients: Option<Vec<String>>,
}

#[derive(Serialize)]
struct SettleResponse<'a> {
    schema: &'static str,
    campaign: &'a str,
    at: String,
    /// `commit` or `release`.
    action: &'static str,
    /// Ledger rows settled (one per recipient and channel).
    settled: u64,
    /// Of the committed rows, how many had an expired lease (their place
    /// under a cap may have been taken by another decider since).
    expired: u64,
}

/// `POST /v1/commit`.
pub(super) async fn commit(
    State(state): State<Arc<AppState>>,
    req: Request,
) -> Result<Response, ApiError> {
    settle(state, req, true).await
}

/// `POST /v1/release`.
pub(super) async fn release(
    State(state): State<Arc<AppState>>,
    req: Request,
) -> Result<Response, ApiError> {
    settle(state, req, false).await
}

async fn settle(state: Arc<AppState>, req: Request, commit: bool) -> Result<Response, ApiError> {
    let deadline = Instant::now() + state.settings.timeout;
    let body = read_body(req, deadline).await?;
    let request: SettleRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::malformed(format!(
            "the body is not a {} request: {e}",
            if commit { "commit" } else { "release" }
        ))
    })?;
    drop(body);
    let send = slot(&request)?;
    let job = Arc::clone(&state);
    let recipients = request.recipients;
    let (settled, expired) = blocking(deadline, move || {
        run(&job, &send, recipients.as_deref(), commit)
    })
    .await?;
    let response = SettleResponse {
        schema: SETTLE_SCHEMA,
        campaign: &request.campaign,
        at: request.at.clone(),
        action: if commit { "commit" } else { "release" },
        settled,
        expired,
    };
    let text = serde_json::to_string(&response)
        .map_err(|e| ApiError::internal(format!("cannot encode the response: {e}")))?;
    Ok((StatusCode::OK, json_body(text)).into_response())
}

/// The send a request names, or a 400 saying what is wrong with it.
fn slot(request: &SettleRequest) -> Result<SendSlot, ApiError> {
    let bad = |message: String| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message);
    if request.campaign.trim().is_empty() {
        return Err(bad(
            "`campaign` is empty: give the campaign id of the gate response".into(),
        ));
    }
    let at: Timestamp = request.at.parse().map_err(|e| {
        bad(format!(
            "`at`: `{}` is not an instant ({e}); give the `at` of the gate response, \
             e.g. 2026-12-01T10:00:00Z",
            request.at
        ))
    })?;
    if let Some(list) = &request.recipients {
        if list.len() > MAX_RECIPIENTS {
            return Err(bad(format!(
                "`recipients` names {} ids; at most {MAX_RECIPIENTS} per request",
                list.len()
            )));
        }
        if let Some(i) = list.iter().position(|id| id.is_empty()) {
            return Err(bad(format!("`recipients[{i}]` is an empty id")));
        }
    }
    Ok(SendSlot {
        campaign: request.campaign.clone(),
        slot: at.as_second(),
    })
}

/// Settles on the server's ledger; 503 when it cannot be reached (nothing
/// is settled then: the transaction did not commit), 404 when an SQLite
/// ledger does not exist yet (it holds no reservation to settle).
fn run(
    state: &AppState,
    send: &SendSlot,
    recipients: Option<&[String]>,
    commit: bool,
) -> Result<(u64, u64), ApiError> {
    let path = &state.settings.ledger;
    let failed = |e: crate::ledger::LedgerError| ledger_error(path, &e);
    let mut ledger: Box<dyn Backend> = match &state.settings.pool {
        Some(pool) => {
            let url = path.to_string_lossy();
            let first = !pool.migrated.load(std::sync::atomic::Ordering::Acquire);
            let ledger = PgLedger::pooled(&pool.pool, &url, first).map_err(failed)?;
            pool.migrated
                .store(true, std::sync::atomic::Ordering::Release);
            Box::new(ledger)
        }
        None => match backend::open(&Location::parse(path), false).map_err(failed)? {
            Some(ledger) => ledger,
            None => {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "no_ledger",
                    format!(
                        "no ledger at `{}`: no gate request has reserved or recorded a send yet",
                        path.display()
                    ),
                ))
            }
        },
    };
    ledger
        .settle(send, recipients, commit, Timestamp::now().as_second())
        .map_err(failed)
}

/// 503 when the ledger cannot be reached after bounded retries, 500 for
/// any other ledger error; the code is `ledger` either way.
pub(super) fn ledger_error(path: &Path, e: &crate::ledger::LedgerError) -> ApiError {
    let status = match e {
        crate::ledger::LedgerError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    ApiError::new(
        status,
        "ledger",
        crate::ledger::command::ledger_error(path, e),
    )
}
