//! What every request shares: the policy in service (swapped atomically on
//! reload), the settings, the metrics and the decision log.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use jiff::Timestamp;

use super::audit::DecisionLog;
use super::metrics::Metrics;
use super::reload::Watch;
use crate::compile::{self, Policy};
use crate::config::Config;
use crate::diag::Diag;

/// Which policy to serve: the same selection as the other commands
/// (`--policy`, `--pack`, else `scruple.toml`, else `./policies` or the
/// shipped packs), compiled again on every reload.
#[derive(Clone, Debug, Default)]
pub struct PolicySpec {
    /// Policy files or directories.
    pub paths: Vec<PathBuf>,
    /// Shipped packs by name.
    pub packs: Vec<String>,
    /// The project configuration (packs, paths, rule overrides), if any.
    pub config: Option<Config>,
}

impl PolicySpec {
    /// Compiles the policy and applies the configuration's rule overrides.
    /// The policy is `Some` only when there is no error.
    pub fn compile(&self) -> (Option<Policy>, Vec<Diag>) {
        let inputs = crate::policy_inputs_with(&self.paths, &self.packs, self.config.as_ref());
        let (mut policy, mut diags) = compile::compile(inputs);
        if let (Some(p), Some(config)) = (policy.as_mut(), &self.config) {
            diags.extend(config.apply(p));
            if diags.iter().any(Diag::is_error) {
                policy = None;
            }
        }
        (policy, diags)
    }

    /// The policy paths named on the command line or in the configuration
    /// (watched for new files as well as changed ones).
    pub fn named_paths(&self) -> Vec<PathBuf> {
        let mut paths = self.paths.clone();
        if let Some(config) = &self.config {
            paths.extend(config.policy_paths.iter().cloned());
        }
        paths
    }
}

/// A compiled policy in service.
pub struct Served {
    /// The policy.
    pub policy: Policy,
    /// [`Policy::content_hash`], computed once.
    pub hash: String,
    /// When it was compiled.
    pub loaded_at: Timestamp,
    /// Warnings from compiling it.
    pub warnings: Vec<Diag>,
    /// The files whose change triggers a reload.
    pub watch: Watch,
}

impl Served {
    /// Wraps a freshly compiled policy.
    pub fn new(policy: Policy, warnings: Vec<Diag>, spec: &PolicySpec) -> Served {
        let watch = Watch::of(&policy, &spec.named_paths());
        Served {
            hash: policy.content_hash(),
            policy,
            loaded_at: Timestamp::now(),
            warnings,
            watch,
        }
    }
}

/// The last failed reload.
#[derive(Clone, Debug)]
pub struct ReloadFailure {
    /// When it was attempted.
    pub time: Timestamp,
    /// What triggered it (`SIGHUP`, `file change`).
    pub trigger: String,
    /// Why the new policy was rejected.
    pub diagnostics: Vec<Diag>,
}

/// Reload counts since the server started.
#[derive(Clone, Debug, Default)]
pub struct ReloadStatus {
    /// Reloads that swapped in a new policy.
    pub succeeded: u64,
    /// Reloads rejected (the old policy kept serving).
    pub failed: u64,
    /// The most recent failure, cleared by the next success.
    pub last_error: Option<ReloadFailure>,
}

/// Fixed settings of the server.
#[derive(Debug)]
pub struct Settings {
    /// Bearer token every request but `/healthz` must carry, if set.
    pub token: Option<Vec<u8>>,
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// Time allowed per request (reading the body and deciding).
    pub timeout: Duration,
    /// Directory that campaign references are resolved in (canonical).
    pub campaigns: Option<PathBuf>,
    /// The send ledger (an SQLite file opened per gate request, or a
    /// `postgres://` URL; see `crate::ledger`).
    pub ledger: PathBuf,
    /// Connections to a PostgreSQL ledger.
    pub pool: Option<LedgerPool>,
}

/// A pool of PostgreSQL ledger connections.
pub struct LedgerPool {
    /// The connections.
    pub pool: crate::ledger::postgres::Pool,
    /// Whether the schema was brought up to date.
    pub migrated: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for LedgerPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LedgerPool")
    }
}

/// State shared by every request.
pub struct AppState {
    policy: RwLock<Arc<Served>>,
    reloads: Mutex<ReloadStatus>,
    /// How to compile the policy again.
    pub spec: PolicySpec,
    /// Fixed settings.
    pub settings: Settings,
    /// Counters.
    pub metrics: Metrics,
    /// The decision log, when `--decision-log` is given.
    pub decision_log: Option<DecisionLog>,
    /// The running audit behind the audit gauges, with
    /// `--audit-attributes`.
    pub audit: Option<std::sync::Mutex<crate::audit::Audit>>,
}

impl AppState {
    /// State serving `served`.
    pub fn new(
        served: Served,
        spec: PolicySpec,
        settings: Settings,
        decision_log: Option<DecisionLog>,
    ) -> AppState {
        AppState {
            policy: RwLock::new(Arc::new(served)),
            reloads: Mutex::new(ReloadStatus::default()),
            spec,
            settings,
            metrics: Metrics::default(),
            decision_log,
            audit: None,
        }
    }

    /// The policy in service. A request keeps the one it started with, even
    /// if a reload swaps in another meanwhile.
    pub fn current(&self) -> Arc<Served> {
        Arc::clone(&self.policy.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Puts a new policy in service; returns the one it replaces.
    pub fn swap(&self, served: Served) -> Arc<Served> {
        let mut slot = self.policy.write().unwrap_or_else(|e| e.into_inner());
        std::mem::replace(&mut *slot, Arc::new(served))
    }

    /// Reload counts.
    pub fn reloads(&self) -> ReloadStatus {
        self.reloads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Records the outcome of a reload attempt.
    pub fn record_reload(&self, failure: Option<ReloadFailure>) {
        let mut status = self.reloads.lock().unwrap_or_else(|e| e.into_inner());
        match failure {
            None => {
                status.succeeded += 1;
                status.last_error = None;
                self.metrics.reload("ok");
            }
            Some(f) => {
                status.failed += 1;
                status.last_error = Some(f);
                self.metrics.reload("error");
            }
        }
    }
}
