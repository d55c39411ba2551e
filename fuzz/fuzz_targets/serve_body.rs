//! An HTTP body → each `serve` endpoint, through the real router (its
//! middleware, body limit and handlers) called in process.
//!
//! The first byte picks the endpoint and method; the rest is the body.
#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::Request;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

const ROUTES: [(&str, &str); 9] = [
    ("POST", "/v1/check"),
    ("POST", "/v1/gate"),
    ("GET", "/v1/rules"),
    ("GET", "/v1/policy"),
    ("GET", "/metrics"),
    ("GET", "/healthz"),
    ("GET", "/openapi.json"),
    ("POST", "/v1/check?format=sarif"),
    ("PUT", "/v1/gate"),
];

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let Some(app) = scruple::fuzzing::serve_app() else {
        return;
    };
    let (method, uri) = ROUTES[usize::from(selector) % ROUTES.len()];
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_vec()))
        .expect("a request");
    runtime().block_on(async {
        let response = app.oneshot(request).await.expect("the router is infallible");
        let status = response.status();
        let bytes = http_body_util::BodyExt::collect(response.into_body())
            .await
            .expect("a body")
            .to_bytes();
        // Every answer is JSON except the metrics' text format.
        if uri != "/metrics" && status.as_u16() != 405 {
            assert!(
                bytes.is_empty() || bytes.first() == Some(&b'{') || bytes.first() == Some(&b'['),
                "{method} {uri} → {status}: not JSON: {:?}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            );
        }
    });
});
