//! Policy reloads: on SIGHUP, or when a policy file changes (polled every
//! two seconds by default, no file-notification machinery). The new policy is
//! compiled aside and swapped in atomically only when it compiles without
//! error; otherwise the old one keeps serving and the diagnostics are logged.
//!
//! What is polled (modification time and size): every policy file on disk
//! of the policy in service (imports included), every `.scruple` file in
//! the directories holding them, and every `.scruple` file below the paths
//! named with `--policy` or in `scruple.toml` (so a file added there counts
//! too). The shipped packs never change. `scruple.toml` itself is read once
//! at start: restart the server to apply changes to it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use jiff::Timestamp;
use tokio::signal::unix::Signal;

use super::state::{AppState, PolicySpec, ReloadFailure, Served};
use super::{log, log_diags, rule_count};
use crate::compile::Policy;
use crate::diag::Diag;

/// The paths whose change triggers a reload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Watch {
    files: BTreeSet<PathBuf>,
    dirs: BTreeSet<PathBuf>,
    trees: BTreeSet<PathBuf>,
}

/// The state of the watched paths: each with its modification time and size
/// (`None` when it cannot be read).
pub type Fingerprint = Vec<(PathBuf, Option<(SystemTime, u64)>)>;

impl Watch {
    /// The paths to watch for `policy`, compiled from `named` paths.
    pub fn of(policy: &Policy, named: &[PathBuf]) -> Watch {
        let mut watch = Watch::default();
        for file in &policy.files {
            if file.source.name.starts_with("builtin:") {
                continue;
            }
            let path = PathBuf::from(&file.source.name);
            if let Some(dir) = path.parent() {
                watch.dirs.insert(dir.to_path_buf());
            }
            watch.files.insert(path);
        }
        for path in named {
            if path.is_dir() {
                watch.trees.insert(path.clone());
            } else {
                watch.files.insert(path.clone());
            }
        }
        watch
    }

    /// Stats every watched path.
    pub fn fingerprint(&self) -> Fingerprint {
        let mut out = Vec::new();
        for file in &self.files {
            out.push((file.clone(), stat(file)));
        }
        for dir in &self.dirs {
            scan(dir, false, 0, &mut out);
        }
        for dir in &self.trees {
            scan(dir, true, 0, &mut out);
        }
        out.sort();
        out.dedup();
        out
    }
}

fn stat(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// The directory itself (its time changes when entries are added or
/// removed) and its `.scruple` files; below it too when `deep`.
fn scan(dir: &Path, deep: bool, depth: usize, out: &mut Fingerprint) {
    out.push((dir.to_path_buf(), stat(dir)));
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            // Policy trees are shallow; the bound only guards against loops.
            if deep && depth < 16 {
                scan(&path, true, depth + 1, out);
            }
        } else if path.extension().is_some_and(|e| e == "scruple") {
            let meta = stat(&path);
            out.push((path, meta));
        }
    }
}

/// Compiles the policy again and swaps it in if it has no error. Returns
/// whether the policy in service was replaced.
///
/// Every outcome, a panic included, is recorded before anything is logged,
/// and the work that could fail unexpectedly (compiling, rendering
/// diagnostics) runs on the blocking pool, whose panics come back as
/// errors: an attempt cannot end without being counted, and the watcher
/// that called it goes on.
pub async fn reload(state: &Arc<AppState>, trigger: &str) -> bool {
    reload_with(state, trigger, PolicySpec::compile).await
}

/// How a reload compiles the policy: [`PolicySpec::compile`], or in tests a
/// stand-in that fails in ways no input can provoke.
type Compile = fn(&PolicySpec) -> (Option<Policy>, Vec<Diag>);

async fn reload_with(state: &Arc<AppState>, trigger: &str, compile: Compile) -> bool {
    let compiling = Arc::clone(state);
    let result = tokio::task::spawn_blocking(move || {
        let (policy, diags) = compile(&compiling.spec);
        match policy {
            Some(policy) => Ok(Served::new(policy, diags, &compiling.spec)),
            None => Err(diags),
        }
    })
    .await;
    let old = state.current();
    match result {
        Ok(Ok(served)) => {
            let hash = served.hash.clone();
            let rules = rule_count(served.policy.rules.len());
            let warnings = served.warnings.clone();
            state.swap(served);
            state.record_reload(None);
            if hash == old.hash {
                log(&format!(
                    "policy reloaded ({trigger}): unchanged, hash {hash}, {rules}"
                ));
            } else {
                log(&format!(
                    "policy reloaded ({trigger}): hash {} -> {hash}, {rules}",
                    old.hash
                ));
            }
            log_rendered(warnings).await;
            true
        }
        Ok(Err(diags)) => {
            fail(state, trigger, &old.hash, diags).await;
            false
        }
        Err(join) => {
            let diag = Diag::error(
                "scruple::serve::reload_panic",
                format!("compiling the policy failed unexpectedly: {join}"),
            )
            .with_help("this is a bug in scruple; the policy in service is unchanged");
            fail(state, trigger, &old.hash, vec![diag]).await;
            false
        }
    }
}

/// Records a failed reload (counted, and shown in `/v1/policy` and
/// `/metrics`), then logs it.
async fn fail(state: &AppState, trigger: &str, kept: &str, diags: Vec<Diag>) {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    state.record_reload(Some(ReloadFailure {
        time: Timestamp::now(),
        trigger: trigger.to_string(),
        diagnostics: diags.clone(),
    }));
    log(&format!(
        "policy reload failed ({trigger}): {errors} error{}; still serving policy {kept}",
        if errors == 1 { "" } else { "s" }
    ));
    log_rendered(diags).await;
}

/// Logs diagnostics, rendered on the blocking pool (rendering a large
/// policy's diagnostics is real work); if rendering fails, says so instead.
async fn log_rendered(diags: Vec<Diag>) {
    if diags.is_empty() {
        return;
    }
    if let Err(join) = tokio::task::spawn_blocking(move || log_diags(&diags)).await {
        log(&format!(
            "the diagnostics could not be rendered ({join}); GET /v1/policy shows them"
        ));
    }
}

async fn fingerprint(watch: Watch) -> Fingerprint {
    tokio::task::spawn_blocking(move || watch.fingerprint())
        .await
        .unwrap_or_default()
}

/// Reloads on every SIGHUP, and when the watched files change (checked
/// every `interval`). Runs until the runtime stops.
///
/// What was seen is taken just before compiling, so a file written while the
/// policy compiles (a deploy still copying) shows as a change at the next
/// poll. When a reload changes the set of watched files (a new import), the
/// next poll also sees a change and compiles once more, to no effect.
pub async fn watch(state: Arc<AppState>, mut hangup: Signal, interval: Duration) {
    let mut seen = fingerprint(state.current().watch.clone()).await;
    loop {
        let watched = state.current().watch.clone();
        let trigger = tokio::select! {
            Some(()) = hangup.recv() => "SIGHUP",
            () = tokio::time::sleep(interval) => {
                if fingerprint(watched.clone()).await == seen {
                    continue;
                }
                "file change"
            }
        };
        seen = fingerprint(watched).await;
        attempt(&state, trigger).await;
    }
}

/// One reload as a task of its own, so that nothing that goes wrong in it
/// can end the watcher: a reload that panics anyway is counted as failed.
async fn attempt(state: &Arc<AppState>, trigger: &'static str) {
    let reloading = Arc::clone(state);
    let task = tokio::spawn(async move { reload(&reloading, trigger).await });
    if let Err(join) = task.await {
        let diag = Diag::error(
            "scruple::serve::reload_panic",
            format!("reloading the policy failed unexpectedly: {join}"),
        )
        .with_help("this is a bug in scruple; the policy in service is unchanged");
        fail(state, trigger, &state.current().hash, vec![diag]).await;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::state::Settings;
    use super::*;

    fn pack(name: &str) -> PolicySpec {
        PolicySpec {
            packs: vec![name.to_string()],
            ..PolicySpec::default()
        }
    }

    fn serving(spec: PolicySpec) -> Arc<AppState> {
        let (policy, diags) = spec.compile();
        let Some(policy) = policy else {
            panic!("the pack compiles: {diags:?}");
        };
        let served = Served::new(policy, diags, &spec);
        let settings = Settings {
            token: None,
            max_body: 1 << 20,
            timeout: Duration::from_secs(5),
            campaigns: None,
            ledger: PathBuf::from(":memory:"),
            pool: None,
        };
        Arc::new(AppState::new(served, spec, settings, None))
    }

    fn panics(_: &PolicySpec) -> (Option<Policy>, Vec<Diag>) {
        panic!("injected reload failure")
    }

    fn other_pack(_: &PolicySpec) -> (Option<Policy>, Vec<Diag>) {
        pack("gdpr").compile()
    }

    /// Issue 10 item 2: a reload whose compilation panics (here a stand-in
    /// that no input can reach; a real input that did it is in
    /// `tests/serve_http.rs`) is counted and reported, and the next reload
    /// still applies a changed policy.
    #[test]
    fn reload_that_panics_is_counted_and_reloading_goes_on() {
        let state = serving(pack("baseline"));
        let before = state.current().hash.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        runtime.block_on(async {
            assert!(!reload_with(&state, "SIGHUP", panics).await);
            let status = state.reloads();
            assert_eq!((status.succeeded, status.failed), (0, 1));
            let Some(failure) = status.last_error else {
                panic!("the failure is reported");
            };
            assert_eq!(failure.trigger, "SIGHUP");
            assert_eq!(failure.diagnostics.len(), 1);
            assert_eq!(failure.diagnostics[0].code, "scruple::serve::reload_panic");
            assert!(
                failure.diagnostics[0]
                    .message
                    .contains("injected reload failure"),
                "{:?}",
                failure.diagnostics[0].message
            );
            assert_eq!(state.current().hash, before, "the old policy serves");
            let metrics = state.metrics.render(&before, 0);
            assert!(
                metrics.contains("scruple_policy_reloads_total{result=\"error\"} 1"),
                "{metrics}"
            );

            assert!(reload_with(&state, "file change", other_pack).await);
            let status = state.reloads();
            assert_eq!((status.succeeded, status.failed), (1, 1));
            assert!(status.last_error.is_none());
            assert_ne!(state.current().hash, before, "the new policy serves");
        });
    }
}
