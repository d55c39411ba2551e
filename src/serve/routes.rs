//! The router, its middleware (metrics, bearer token), the read-only
//! handlers and `POST /v1/check`; `POST /v1/gate` is in `gate.rs`.
//!
//! Handlers never trust the body: every failure to read, decode or load it
//! is a 4xx with a JSON error ([`ApiError`]). Work on a request (loading a
//! campaign, checking, deciding) runs on the blocking pool under the
//! request's deadline, so a slow request cannot hold up the others.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::error::{json_body, ApiError};
use super::state::AppState;
use crate::campaign::codes;
use crate::diag::Diag;
use crate::eval::Options;
use crate::render::json::diag_out;
use crate::source::SourceFile;

/// The OpenAPI 3.1 description of this API, served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("../../docs/openapi.json");

/// Every route, for metric labels (anything else is counted as `other`).
const ROUTES: [&str; 9] = [
    "/healthz",
    "/metrics",
    "/openapi.json",
    "/v1/rules",
    "/v1/policy",
    "/v1/check",
    "/v1/gate",
    "/v1/commit",
    "/v1/release",
];

/// Display name of a campaign sent in a request body.
pub(super) const REQUEST_NAME: &str = "<request>";

/// The application: routes, fallbacks and middleware over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    let max_body = state.settings.max_body;
    Router::new()
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/v1/rules", get(rules))
        .route("/v1/policy", get(policy))
        .route("/v1/check", post(check))
        .route("/v1/gate", post(super::gate::gate))
        .route("/v1/outcomes", post(outcomes))
        .route("/v1/commit", post(super::settle::commit))
        .route("/v1/release", post(super::settle::release))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            authorize,
        ))
        .layer(middleware::from_fn_with_state(Arc::clone(&state), observe))
        .with_state(state)
}

// ---------------------------------------------------------------- middleware

/// Counts every request and its latency (outermost, so it sees the final
/// status of rejected and failed requests too).
async fn observe(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = match *req.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        _ => "other",
    };
    let path = req.uri().path();
    let route = ROUTES
        .iter()
        .find(|r| **r == path)
        .copied()
        .unwrap_or("other");
    let response = next.run(req).await;
    let status = response.status();
    state
        .metrics
        .request(method, route, status.as_u16(), started.elapsed());
    if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
        super::log(&format!("{method} {route}: {status}"));
    }
    response
}

/// Requires `Authorization: Bearer TOKEN` on every route but `/healthz`
/// when the server has a token.
async fn authorize(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if let Some(token) = &state.settings.token {
        if req.uri().path() != "/healthz" && !bearer_matches(req.headers(), token) {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this server requires `Authorization: Bearer <token>` (see --token-file)",
            )
            .into_response();
        }
    }
    next.run(req).await
}

fn bearer_matches(headers: &HeaderMap, token: &[u8]) -> bool {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return false;
    };
    let value = value.as_bytes();
    match value.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case(b"bearer ") => {
            constant_time_eq(value.get(7..).unwrap_or_default(), token)
        }
        _ => false,
    }
}

/// Compares in time that depends only on the lengths, never on where the
/// first difference is.
fn constant_time_eq(given: &[u8], expected: &[u8]) -> bool {
    let mut diff = given.len() ^ expected.len();
    for i in 0..given.len().max(expected.len()) {
        let a = given.get(i).copied().unwrap_or(0);
        let b = expected.get(i).copied().unwrap_or(0);
        diff |= usize::from(a ^ b);
    }
    std::hint::black_box(diff) == 0
}

// ------------------------------------------------------------------ helpers

/// Reads the whole body within the size limit and the deadline.
pub(super) async fn read_body(req: Request, deadline: Instant) -> Result<Bytes, ApiError> {
    let read = Bytes::from_request(req, &());
    match tokio::time::timeout_at(deadline.into(), read).await {
        // A UTF-8 byte-order mark is no content: editors on Windows and some
        // HTTP clients add one, and JSON parsers refuse it (issue 10 item 10).
        Ok(Ok(bytes)) if bytes.starts_with(b"\xEF\xBB\xBF") => Ok(bytes.slice(3..)),
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)))) => {
            Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is larger than this server accepts (see --max-body)",
            ))
        }
        Ok(Err(rejection)) => Err(ApiError::malformed(format!(
            "cannot read the request body: {}",
            rejection.body_text()
        ))),
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "the request body did not arrive in time",
        )),
    }
}

/// Runs `work` on the blocking pool, answering 503 if it misses `deadline`.
pub(super) async fn blocking<T: Send + 'static>(
    deadline: Instant,
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::time::timeout_at(deadline.into(), tokio::task::spawn_blocking(work)).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => Err(ApiError::internal(format!(
            "the request failed unexpectedly: {join}"
        ))),
        Err(_) => Err(timed_out()),
    }
}

pub(super) fn timed_out() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "timeout",
        "the request took longer than this server allows (see --timeout)",
    )
}

fn utf8(body: Bytes) -> Result<String, ApiError> {
    String::from_utf8(body.to_vec()).map_err(|e| {
        ApiError::malformed(format!(
            "the body is not UTF-8 text (first bad byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// `at` of a request, read as every `--at` is ([`crate::campaign::When`]):
/// a date, a civil date-time or an instant; a time without offset is UTC
/// here, as for `scruple check --at`. Now when absent.
pub(super) fn send_time(at: Option<&str>) -> Result<Timestamp, ApiError> {
    match send_when(at)? {
        None => Ok(Timestamp::now()),
        Some(when) => when
            .instant_in(&jiff::tz::TimeZone::UTC)
            .ok_or_else(|| bad_at(format!("`{}` is out of range", at.unwrap_or_default()))),
    }
}

/// `at` of a request read but not resolved: `/v1/gate` resolves it in the
/// campaign's zone, as `scruple gate --at` does.
pub(super) fn send_when(at: Option<&str>) -> Result<Option<crate::campaign::When>, ApiError> {
    at.map(crate::campaign::When::read)
        .transpose()
        .map_err(bad_at)
}

/// A 400 for an unreadable `at`.
pub(super) fn bad_at(message: String) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "bad_request",
        format!("`at`: {message}"),
    )
}

/// The error for a campaign that does not load: 400 when the text is not
/// YAML (or JSON) at all, 422 when it is but is not a valid campaign.
pub(super) fn campaign_error(diags: Vec<Diag>) -> ApiError {
    let malformed = diags
        .iter()
        .any(|d| d.code == codes::SYNTAX || d.code == codes::EMPTY);
    let error = if malformed {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_campaign",
            "the campaign is not valid YAML or JSON",
        )
    } else {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_campaign",
            "the campaign does not match the campaign schema (see docs/campaign.md)",
        )
    };
    error.with_diagnostics(diags)
}

fn json_response(status: StatusCode, value: &impl Serialize) -> Response {
    match serde_json::to_string(value) {
        Ok(text) => (status, json_body(text)).into_response(),
        Err(e) => ApiError::internal(format!("cannot encode the response: {e}")).into_response(),
    }
}

#[derive(Serialize)]
pub(super) struct PolicyRef<'a> {
    pub(super) hash: &'a str,
}

// ----------------------------------------------------------------- handlers

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; GET /openapi.json lists them",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method; GET /openapi.json lists them",
    )
}

#[derive(Serialize)]
struct Health<'a> {
    status: &'static str,
    policy: PolicyRef<'a>,
}

async fn health(State(state): State<Arc<AppState>>) -> Response {
    let served = state.current();
    json_response(
        StatusCode::OK,
        &Health {
            status: "ok",
            policy: PolicyRef { hash: &served.hash },
        },
    )
}

async fn openapi() -> Response {
    json_body(OPENAPI.to_string()).into_response()
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let served = state.current();
    let mut text = state
        .metrics
        .render(&served.hash, served.policy.rules.len());
    if let Some(audit) = &state.audit {
        let result = audit.lock().unwrap_or_else(|e| e.into_inner()).result();
        text.push_str(&crate::audit::render::prometheus(&result));
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

#[derive(Serialize)]
struct RulesOut<'a> {
    policy: PolicyRef<'a>,
    rules: Vec<RuleOut<'a>>,
}

#[derive(Serialize)]
struct RuleOut<'a> {
    id: &'a str,
    pack: &'a str,
    kind: &'static str,
    severity: &'static str,
    citations: Vec<&'a str>,
    tags: Vec<&'a str>,
    description: Option<&'a str>,
    disabled: Option<&'a str>,
}

async fn rules(State(state): State<Arc<AppState>>) -> Response {
    let served = state.current();
    let rules = served
        .policy
        .rules
        .iter()
        .map(|r| RuleOut {
            id: &r.id,
            pack: &r.pack,
            kind: r.kind(),
            severity: r.severity.as_str(),
            citations: r.cites().collect(),
            tags: r.decl.tags.iter().map(|t| t.name.as_str()).collect(),
            description: r.decl.description.as_ref().map(|d| d.value.as_str()),
            disabled: r.disabled.as_deref(),
        })
        .collect();
    json_response(
        StatusCode::OK,
        &RulesOut {
            policy: PolicyRef { hash: &served.hash },
            rules,
        },
    )
}

#[derive(Serialize)]
struct PolicyOut<'a> {
    hash: &'a str,
    rules: usize,
    packs: Vec<PackOut<'a>>,
    files: Vec<FileOut<'a>>,
    loaded_at: String,
    warnings: Vec<crate::render::json::DiagOut>,
    reloads: ReloadsOut,
}

#[derive(Serialize)]
struct PackOut<'a> {
    name: &'a str,
    version: Option<&'a str>,
}

#[derive(Serialize)]
struct FileOut<'a> {
    name: &'a str,
    pack: String,
}

#[derive(Serialize)]
struct ReloadsOut {
    succeeded: u64,
    failed: u64,
    last_error: Option<ReloadErrorOut>,
}

#[derive(Serialize)]
struct ReloadErrorOut {
    time: String,
    trigger: String,
    diagnostics: Vec<crate::render::json::DiagOut>,
}

async fn policy(State(state): State<Arc<AppState>>) -> Response {
    let served = state.current();
    let reloads = state.reloads();
    let mut packs: Vec<PackOut<'_>> = served
        .policy
        .files
        .iter()
        .filter_map(|f| f.header.as_ref())
        .map(|h| PackOut {
            name: &h.name.value,
            version: h.version.as_ref().map(|v| v.value.as_str()),
        })
        .collect();
    packs.sort_by(|a, b| a.name.cmp(b.name));
    packs.dedup_by(|a, b| a.name == b.name);
    let out = PolicyOut {
        hash: &served.hash,
        rules: served.policy.rules.len(),
        packs,
        files: served
            .policy
            .files
            .iter()
            .map(|f| FileOut {
                name: &f.source.name,
                pack: f.pack(),
            })
            .collect(),
        loaded_at: served.loaded_at.to_string(),
        warnings: served.warnings.iter().map(diag_out).collect(),
        reloads: ReloadsOut {
            succeeded: reloads.succeeded,
            failed: reloads.failed,
            last_error: reloads.last_error.map(|e| ReloadErrorOut {
                time: e.time.to_string(),
                trigger: e.trigger,
                diagnostics: e.diagnostics.iter().map(diag_out).collect(),
            }),
        },
    };
    json_response(StatusCode::OK, &out)
}

/// Query of `POST /v1/check`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckQuery {
    /// Evaluate as of this time instead of now.
    at: Option<String>,
    /// Warnings fail the campaign too.
    #[serde(default)]
    deny_warnings: bool,
    /// Name shown as the campaign's `file`.
    name: Option<String>,
}

fn query_error(rejection: QueryRejection) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "bad_request",
        rejection.body_text(),
    )
}

/// Most campaigns the audit gauges follow: label values stay bounded.
const MAX_AUDIT_CAMPAIGNS: usize = 1000;

/// `POST /v1/outcomes`: outcome rows (JSON Lines, as `scruple audit
/// --outcomes`) added to the audit gauges of `/metrics`. All or nothing: a
/// bad row rejects the request with its line and adds nothing.
async fn outcomes(State(state): State<Arc<AppState>>, req: Request) -> Result<Response, ApiError> {
    use crate::audit::input::{read_outcomes, Format};
    let deadline = Instant::now() + state.settings.timeout;
    let Some(audit) = &state.audit else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "audit_disabled",
            "the server was started without --audit-attributes: outcomes have no protected attributes to join",
        ));
    };
    let body = read_body(req, deadline).await?;
    let bad = |d: Box<Diag>| ApiError::new(StatusCode::BAD_REQUEST, "bad_record", d.message);
    // First read every row, so a bad one adds nothing.
    let mut campaigns = std::collections::BTreeSet::new();
    read_outcomes(body.as_ref(), Format::JsonLines, "body", |o| {
        if campaigns.len() <= MAX_AUDIT_CAMPAIGNS {
            campaigns.insert(o.campaign.to_string());
        }
    })
    .map_err(bad)?;
    let mut audit = audit.lock().unwrap_or_else(|e| e.into_inner());
    let new = campaigns.iter().filter(|c| !audit.follows(c)).count();
    if audit.campaign_count() + new > MAX_AUDIT_CAMPAIGNS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("the audit follows at most {MAX_AUDIT_CAMPAIGNS} campaigns; restart the server to start over"),
        ));
    }
    let accepted = read_outcomes(body.as_ref(), Format::JsonLines, "body", |o| {
        audit.add_outcome(o)
    })
    .map_err(bad)?;
    Ok(json_body(serde_json::json!({ "accepted": accepted }).to_string()).into_response())
}

async fn check(
    State(state): State<Arc<AppState>>,
    query: Result<Query<CheckQuery>, QueryRejection>,
    req: Request,
) -> Result<Response, ApiError> {
    let deadline = Instant::now() + state.settings.timeout;
    let Query(query) = query.map_err(query_error)?;
    let at = send_time(query.at.as_deref())?;
    let text = utf8(read_body(req, deadline).await?)?;
    let name = match query.name {
        Some(name) if !name.is_empty() => name.chars().take(200).collect(),
        _ => REQUEST_NAME.to_string(),
    };
    let served = state.current();
    let job = Arc::clone(&state);
    let document = blocking(deadline, move || {
        let source = SourceFile::new(name, text);
        let mut run = crate::check::run(&served.policy, vec![source], Options { now: at });
        if let Some(invalid) = std::mem::take(&mut run.invalid).into_iter().next() {
            job.metrics.verdict("invalid");
            return Err(campaign_error(invalid.diags));
        }
        for report in &run.reports {
            job.metrics.verdict(if report.passes(query.deny_warnings) {
                "pass"
            } else {
                "fail"
            });
        }
        Ok(crate::render::json::render(
            &run,
            &served.policy,
            query.deny_warnings,
        ))
    })
    .await?;
    Ok((StatusCode::OK, json_body(document)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_comparison() {
        assert!(constant_time_eq(b"s3cret", b"s3cret"));
        assert!(!constant_time_eq(b"s3cre", b"s3cret"));
        assert!(!constant_time_eq(b"s3cret!", b"s3cret"));
        assert!(!constant_time_eq(b"S3cret", b"s3cret"));
        assert!(!constant_time_eq(b"", b"s3cret"));
        // Lengths that differ by a multiple of 256 still differ.
        assert!(!constant_time_eq(&[0u8; 256], b""));
    }
}
