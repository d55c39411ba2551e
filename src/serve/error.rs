//! The JSON error body of every failed request:
//! `{"error": {"code": "…", "message": "…", "diagnostics": [...]}}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::diag::Diag;
use crate::render::json::{diag_out, DiagOut};

/// A request that failed, with the status to answer and why.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code (`malformed_body`, `invalid_campaign`, …).
    pub code: &'static str,
    /// What went wrong, for people.
    pub message: String,
    /// Diagnostics (campaign problems, findings), in the `scruple.check/v1` form.
    pub diagnostics: Vec<Diag>,
    /// For a campaign the gate refuses: its `scruple.check/v1` document, as
    /// `POST /v1/check` would answer, so clients read one schema.
    pub check: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    diagnostics: Vec<DiagOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    check: Option<&'a serde_json::Value>,
}

impl ApiError {
    /// An error without diagnostics.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            diagnostics: Vec::new(),
            check: None,
        }
    }

    /// The same error, carrying diagnostics.
    pub fn with_diagnostics(mut self, diagnostics: Vec<Diag>) -> ApiError {
        self.diagnostics = diagnostics;
        self
    }

    /// The same error, carrying a `scruple.check/v1` document.
    pub fn with_check(mut self, check: serde_json::Value) -> ApiError {
        self.check = Some(check);
        self
    }

    /// 400 `malformed_body`.
    pub fn malformed(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed_body", message)
    }

    /// 500 `internal`: a failure on the server's side (never caused by input).
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        let body = Body {
            error: Inner {
                code: self.code,
                message: &self.message,
                diagnostics: self.diagnostics.iter().map(diag_out).collect(),
                check: self.check.as_ref(),
            },
        };
        serde_json::to_string(&body).unwrap_or_else(|_| {
            format!(
                "{{\"error\":{{\"code\":\"{}\",\"message\":\"\",\"diagnostics\":[]}}}}",
                self.code
            )
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, json_body(self.body())).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// A response body of JSON text.
pub fn json_body(text: String) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        text,
    )
}
