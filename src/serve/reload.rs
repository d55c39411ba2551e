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

use super::state::{AppState, ReloadFailure, Served};
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
pub async fn reload(state: &Arc<AppState>, trigger: &str) -> bool {
    let compiling = Arc::clone(state);
    let result = tokio::task::spawn_blocking(move || {
        let (policy, diags) = compiling.spec.compile();
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
            log_diags(&served.warnings);
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
            true
        }
        Ok(Err(diags)) => {
            fail(state, trigger, &old.hash, diags);
            false
        }
        Err(join) => {
            let diag = Diag::error(
                "scruple::serve::reload_panic",
                format!("compiling the policy failed unexpectedly: {join}"),
            );
            fail(state, trigger, &old.hash, vec![diag]);
            false
        }
    }
}

fn fail(state: &AppState, trigger: &str, kept: &str, diags: Vec<Diag>) {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    log(&format!(
        "policy reload failed ({trigger}): {errors} error{}; still serving policy {kept}",
        if errors == 1 { "" } else { "s" }
    ));
    log_diags(&diags);
    state.record_reload(Some(ReloadFailure {
        time: Timestamp::now(),
        trigger: trigger.to_string(),
        diagnostics: diags,
    }));
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
        reload(&state, trigger).await;
    }
}
