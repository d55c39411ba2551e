//! Prometheus metrics, kept in memory and written in the text exposition
//! format (version 0.0.4) by hand: request counts, a latency histogram with
//! fixed buckets, gate decisions by outcome and suppressions by rule, check
//! verdicts, and policy reloads.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram buckets.
pub const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Outcomes of one gate decision.
pub const OUTCOMES: [&str; 3] = ["allow", "suppress", "bad"];

#[derive(Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(&'static str, &'static str, u16), u64>,
    latency: BTreeMap<&'static str, Histogram>,
    decisions: BTreeMap<&'static str, u64>,
    suppressions: BTreeMap<String, u64>,
    verdicts: BTreeMap<&'static str, u64>,
    reloads: BTreeMap<&'static str, u64>,
}

/// Every counter of the server.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// Counts of one gate request, added to the metrics at once.
#[derive(Debug, Default)]
pub struct GateCounts {
    /// Decisions by outcome (`allow`, `suppress`, `bad`).
    pub outcomes: BTreeMap<&'static str, u64>,
    /// Suppression reasons by rule id.
    pub rules: BTreeMap<String, u64>,
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave counters inconsistent
        // in a way that matters; keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One request served: `route` is the route template (or `other`), so
    /// label values stay few whatever paths clients send.
    pub fn request(&self, method: &'static str, route: &'static str, status: u16, took: Duration) {
        let mut inner = self.lock();
        *inner.requests.entry((method, route, status)).or_default() += 1;
        let histogram = inner.latency.entry(route).or_default();
        let secs = took.as_secs_f64();
        for (count, bound) in histogram.buckets.iter_mut().zip(BUCKETS) {
            if secs <= bound {
                *count += 1;
            }
        }
        histogram.sum += secs;
        histogram.count += 1;
    }

    /// The decisions of one gate request.
    pub fn gate(&self, counts: &GateCounts) {
        let mut inner = self.lock();
        for (outcome, n) in &counts.outcomes {
            *inner.decisions.entry(outcome).or_default() += n;
        }
        for (rule, n) in &counts.rules {
            *inner.suppressions.entry(rule.clone()).or_default() += n;
        }
    }

    /// One campaign checked, with its verdict (`pass`, `fail`, `invalid`).
    pub fn verdict(&self, verdict: &'static str) {
        *self.lock().verdicts.entry(verdict).or_default() += 1;
    }

    /// One policy reload attempt (`ok` or `error`).
    pub fn reload(&self, result: &'static str) {
        *self.lock().reloads.entry(result).or_default() += 1;
    }

    /// The exposition text. `policy_hash` and `rules` describe the policy in
    /// service.
    pub fn render(&self, policy_hash: &str, rules: usize) -> String {
        let inner = self.lock();
        let mut out = String::with_capacity(4096);
        header(
            &mut out,
            "scruple_http_requests_total",
            "counter",
            "HTTP requests answered, by method, route and status.",
        );
        for ((method, route, status), n) in &inner.requests {
            let _ = writeln!(
                out,
                "scruple_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        header(
            &mut out,
            "scruple_http_request_duration_seconds",
            "histogram",
            "Time from the request's arrival to its response, by route.",
        );
        for (route, h) in &inner.latency {
            let route = escape(route);
            for (count, bound) in h.buckets.iter().zip(BUCKETS) {
                let _ = writeln!(
                    out,
                    "scruple_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "scruple_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "scruple_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "scruple_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        header(
            &mut out,
            "scruple_gate_decisions_total",
            "counter",
            "Gate decisions by outcome (bad: a record that could not be read, also suppressed).",
        );
        for outcome in OUTCOMES {
            let n = inner.decisions.get(outcome).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "scruple_gate_decisions_total{{outcome=\"{outcome}\"}} {n}"
            );
        }
        header(
            &mut out,
            "scruple_gate_suppressions_total",
            "counter",
            "Reasons for suppressed recipients, by rule (a recipient may have several).",
        );
        for (rule, n) in &inner.suppressions {
            let _ = writeln!(
                out,
                "scruple_gate_suppressions_total{{rule=\"{}\"}} {n}",
                escape(rule)
            );
        }
        header(
            &mut out,
            "scruple_check_campaigns_total",
            "counter",
            "Campaigns checked by POST /v1/check, by verdict.",
        );
        for verdict in ["pass", "fail", "invalid"] {
            let n = inner.verdicts.get(verdict).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "scruple_check_campaigns_total{{verdict=\"{verdict}\"}} {n}"
            );
        }
        header(
            &mut out,
            "scruple_policy_reloads_total",
            "counter",
            "Policy reload attempts, by result (error: the old policy kept serving).",
        );
        for result in ["ok", "error"] {
            let n = inner.reloads.get(result).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "scruple_policy_reloads_total{{result=\"{result}\"}} {n}"
            );
        }
        header(
            &mut out,
            "scruple_policy_info",
            "gauge",
            "The policy in service: content hash and rule count (value always 1).",
        );
        let _ = writeln!(
            out,
            "scruple_policy_info{{hash=\"{}\",rules=\"{rules}\"}} 1",
            escape(policy_hash)
        );
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Escapes a label value: backslash, double quote and newline.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.request("GET", "/healthz", 200, Duration::from_micros(500));
        m.request("GET", "/healthz", 200, Duration::from_millis(30));
        let text = m.render("abc", 3);
        assert!(text.contains(
            "scruple_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.001\"} 1"
        ));
        assert!(text.contains(
            "scruple_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.05\"} 2"
        ));
        assert!(text.contains(
            "scruple_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 2"
        ));
        assert!(text.contains(
            "scruple_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
        ));
        assert!(text.contains("scruple_policy_info{hash=\"abc\",rules=\"3\"} 1"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
