//! `scruple serve`: the checker and the gate over HTTP, for email tools
//! (documented in `docs/serve.md`, described in `docs/openapi.json`).
//!
//! One current-thread tokio runtime accepts connections (HTTP/1.1, hyper)
//! and runs the reload watcher; checking and deciding run on its blocking
//! pool. The policy in service sits behind an `Arc` that a reload swaps
//! atomically: a request keeps the policy it started with.
//!
//! The bound address is printed on standard output as
//! `listening on http://ADDR` once the server accepts connections (so
//! `--bind 127.0.0.1:0` can be used); everything else is logged to standard
//! error.

mod audit;
mod error;
mod gate;
mod metrics;
mod reload;
mod routes;
mod settle;
mod state;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::signal::unix::{signal, SignalKind};

pub use gate::GATE_SCHEMA;
pub use routes::OPENAPI;
pub use state::PolicySpec;

use crate::config::Config;
use crate::diag::{render_human, Diag};

/// Exit code: the server stopped on SIGTERM or SIGINT.
pub const EXIT_OK: u8 = 0;
/// Exit code: it could not start (bad flag value, policy errors, address in use…).
pub const EXIT_START: u8 = 2;

/// Default address: loopback only.
pub const DEFAULT_BIND: &str = "127.0.0.1:8377";
/// The port of [`DEFAULT_BIND`].
pub const DEFAULT_PORT: u16 = 8377;
/// Default largest request body: 4 MiB.
pub const DEFAULT_MAX_BODY: usize = 4 << 20;
/// Default time allowed per request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How often policy files are polled for changes.
pub const POLL_INTERVAL: Duration = Duration::from_secs(2);
/// How long connections may take to finish once shutdown starts.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Everything `scruple serve` is started with.
pub struct ServeOptions {
    /// Address to listen on (port 0: any free port).
    pub bind: SocketAddr,
    /// File holding the bearer token (surrounding whitespace ignored).
    pub token_file: Option<PathBuf>,
    /// Append every gate decision to this JSON Lines file.
    pub decision_log: Option<PathBuf>,
    /// Write recipient ids to the decision log as SHA-256 hashes.
    pub hash_ids: bool,
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// Time allowed per request.
    pub timeout: Duration,
    /// Directory that `POST /v1/gate` campaign references are read from.
    pub campaigns: Option<PathBuf>,
    /// Which policy to serve.
    pub policy: PolicySpec,
    /// How often to poll the policy files for changes.
    pub poll_interval: Duration,
    /// The send ledger: frequency caps read it when it exists, and
    /// `"record": true` creates it and writes the allowed sends to it.
    pub ledger: PathBuf,
    /// Protected attributes for the audit gauges of `/metrics` and
    /// `POST /v1/outcomes` (docs/audit.md); off when `None`.
    pub audit_attributes: Option<PathBuf>,
}

impl ServeOptions {
    /// The defaults, serving `policy`.
    pub fn new(policy: PolicySpec) -> ServeOptions {
        ServeOptions {
            bind: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            token_file: None,
            decision_log: None,
            hash_ids: false,
            max_body: DEFAULT_MAX_BODY,
            timeout: DEFAULT_TIMEOUT,
            campaigns: None,
            policy,
            poll_interval: POLL_INTERVAL,
            ledger: PathBuf::from(crate::ledger::DEFAULT_PATH),
            audit_attributes: None,
        }
    }
}

/// Connections to a PostgreSQL ledger kept open by `scruple serve`: one per
/// concurrent gate request, up to this many (others wait for one).
pub const POOL_SIZE: u32 = 16;

/// Flags of `scruple serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port. The bound address is
    /// printed on standard output as `listening on http://ADDR`.
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_BIND)]
    pub bind: SocketAddr,
    /// Require `Authorization: Bearer <token>` (the file's content, trimmed)
    /// on every endpoint but /healthz.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Append every gate decision to this JSON Lines file (the audit trail).
    #[arg(long, value_name = "FILE")]
    pub decision_log: Option<PathBuf>,
    /// Write recipient ids to the decision log as `sha256:<hex>`.
    #[arg(long, requires = "decision_log")]
    pub hash_ids: bool,
    /// Largest request body, in bytes (larger: 413).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY)]
    pub max_body: usize,
    /// Seconds allowed per request: 408 if the body is not in by then, 503
    /// if the answer is not ready.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// Directory of campaign files that POST /v1/gate may name by relative path.
    #[arg(long, value_name = "DIR")]
    pub campaigns: Option<PathBuf>,
    /// The send ledger, an SQLite file or a `postgres://` URL (default:
    /// `[ledger] url` of scruple.toml, else .scruple/ledger.db): a gate
    /// request reserves its allowed sends in it; `"record": true` records them.
    #[arg(long, value_name = "PATH|URL", env = "SCRUPLE_LEDGER_URL")]
    pub ledger: Option<PathBuf>,
    /// Policy file or directory (repeatable; default: scruple.toml, else
    /// ./policies if present, else the built-in packs). Reloaded on SIGHUP
    /// and when a file changes.
    #[arg(long = "policy", value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Use these shipped packs (repeatable).
    #[arg(long = "pack", value_name = "NAME")]
    pub packs: Vec<String>,
    /// Protected attributes (CSV or JSON Lines, as `scruple audit
    /// --attributes`): turns on the audit gauges of /metrics, fed by gate
    /// decisions and POST /v1/outcomes.
    #[arg(long, value_name = "FILE")]
    pub audit_attributes: Option<PathBuf>,
}

/// `scruple serve`: runs the server with `args` and the project
/// configuration; returns the exit code.
pub fn command(args: &ServeArgs, config: Option<&Config>) -> u8 {
    let mut options = ServeOptions::new(PolicySpec {
        paths: args.paths.clone(),
        packs: args.packs.clone(),
        config: config.cloned(),
    });
    options.bind = args.bind;
    options.token_file = args.token_file.clone();
    options.decision_log = args.decision_log.clone();
    options.hash_ids = args.hash_ids;
    options.max_body = args.max_body;
    options.timeout = Duration::from_secs(args.timeout);
    options.campaigns = args.campaigns.clone();
    options.ledger = args
        .ledger
        .clone()
        .or_else(|| config.and_then(|c| c.ledger.clone()))
        .unwrap_or_else(|| PathBuf::from(crate::ledger::DEFAULT_PATH));
    options.audit_attributes = args.audit_attributes.clone();
    serve(options)
}

/// Logs one line to standard error, with the time.
pub(crate) fn log(message: &str) {
    let line = format!(
        "{} scruple serve: {message}\n",
        jiff::Timestamp::now()
            .round(jiff::Unit::Millisecond)
            .unwrap_or_else(|_| jiff::Timestamp::now())
    );
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// `1 rule`, `58 rules`.
pub(crate) fn rule_count(n: usize) -> String {
    format!("{n} rule{}", if n == 1 { "" } else { "s" })
}

/// Logs diagnostics (plain text, no colour) to standard error.
pub(crate) fn log_diags(diags: &[Diag]) {
    if !diags.is_empty() {
        let _ = std::io::stderr()
            .lock()
            .write_all(render_human(diags, false, 100).as_bytes());
    }
}

/// Reads the protected attributes of the audit gauges. Recipient ids of
/// decisions and outcomes are hashed before the join with `--hash-ids`, as
/// in the decision log.
fn load_audit(path: &std::path::Path, hash_ids: bool) -> Result<crate::audit::Audit, String> {
    use crate::audit::input;
    let name = path.display().to_string();
    let file = std::fs::File::open(path)
        .map_err(|e| format!("cannot read the audit attributes `{name}`: {e}"))?;
    let mut audit = crate::audit::Audit::new(crate::audit::Thresholds::default(), hash_ids);
    input::read_attributes(
        std::io::BufReader::new(file),
        input::Format::of_path(&name),
        &name,
        |line, id, values| audit.add_attributes(&name, line, id, values),
    )
    .and_then(|()| audit.check_attributes(&name))
    .map_err(|d| d.message)?;
    Ok(audit)
}

/// Runs the server until SIGTERM or SIGINT; returns the exit code.
pub fn serve(options: ServeOptions) -> u8 {
    match start(options) {
        Ok(code) => code,
        Err(message) => {
            log(&format!("error: {message}"));
            EXIT_START
        }
    }
}

fn start(options: ServeOptions) -> Result<u8, String> {
    let token = match &options.token_file {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the token file `{}`: {e}", path.display()))?;
            let token = text.trim();
            if token.is_empty() {
                return Err(format!("the token file `{}` is empty", path.display()));
            }
            if !token.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(format!(
                    "the token in `{}` must be printable ASCII without spaces",
                    path.display()
                ));
            }
            Some(token.as_bytes().to_vec())
        }
    };
    let campaigns =
        match &options.campaigns {
            None => None,
            Some(dir) => Some(dir.canonicalize().map_err(|e| {
                format!("cannot use the campaign directory `{}`: {e}", dir.display())
            })?),
        };
    if campaigns.as_ref().is_some_and(|d| !d.is_dir()) {
        return Err("--campaigns must name a directory".into());
    }
    let decision_log = match &options.decision_log {
        None => None,
        Some(path) => Some(
            audit::DecisionLog::open(path, options.hash_ids)
                .map_err(|e| format!("cannot open the decision log `{}`: {e}", path.display()))?,
        ),
    };
    if options.max_body == 0 {
        return Err("--max-body must be at least 1 byte".into());
    }
    if options.timeout.is_zero() {
        return Err("--timeout must be more than 0 seconds".into());
    }
    if !options.bind.ip().is_loopback() && token.is_none() {
        log(&format!(
            "warning: listening on {} without --token-file: anyone who can reach it can use it",
            options.bind.ip()
        ));
    }

    let (policy, diags) = options.policy.compile();
    log_diags(&diags);
    let Some(policy) = policy else {
        return Err(
            "the policy has errors; fix them before serving (see `scruple compile`)".into(),
        );
    };
    let served = state::Served::new(policy, diags, &options.policy);
    let settings = state::Settings {
        token,
        max_body: options.max_body,
        timeout: options.timeout,
        campaigns,
        ledger: options.ledger.clone(),
        pool: match crate::ledger::backend::Location::parse(&options.ledger) {
            crate::ledger::backend::Location::Postgres(url) => {
                match crate::ledger::postgres::pool(&url, POOL_SIZE) {
                    Ok(pool) => Some(state::LedgerPool {
                        pool,
                        migrated: false.into(),
                    }),
                    Err(e) => {
                        return Err(crate::ledger::command::ledger_error(&options.ledger, &e))
                    }
                }
            }
            crate::ledger::backend::Location::Sqlite(_) => None,
        },
    };
    let mut state = state::AppState::new(served, options.policy.clone(), settings, decision_log);
    if let Some(path) = &options.audit_attributes {
        state.audit = Some(std::sync::Mutex::new(load_audit(path, options.hash_ids)?));
    }
    let state = Arc::new(state);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(16)
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(run(state, &options))
}

async fn run(state: Arc<state::AppState>, options: &ServeOptions) -> Result<u8, String> {
    let signal_error = |e: std::io::Error| format!("cannot listen for signals: {e}");
    // Installed before the address is announced, so a SIGHUP sent as soon as
    // the server is up reloads instead of killing it.
    let hangup = signal(SignalKind::hangup()).map_err(signal_error)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(signal_error)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(signal_error)?;

    let listener = tokio::net::TcpListener::bind(options.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", options.bind))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{local}");
        let _ = out.flush();
    }
    let served = state.current();
    log(&format!(
        "listening on http://{local}; policy {} ({}); token {}; decision log {}",
        served.hash,
        rule_count(served.policy.rules.len()),
        if state.settings.token.is_some() {
            "required"
        } else {
            "not required"
        },
        options
            .decision_log
            .as_ref()
            .map_or_else(|| "off".to_string(), |p| p.display().to_string()),
    ));
    drop(served);

    tokio::spawn(reload::watch(
        Arc::clone(&state),
        hangup,
        options.poll_interval,
    ));

    let app = routes::router(Arc::clone(&state));
    let mut http = hyper::server::conn::http1::Builder::new();
    // hyper answers requests it cannot parse (400) or whose head outgrows
    // its read buffer or has over 100 fields (431) itself, before any
    // service runs, with an empty body: it has no hook to give them one.
    // docs/serve.md documents the exception.
    http.timer(TokioTimer::new())
        .header_read_timeout(options.timeout)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let service = TowerToHyperService::new(app.clone());
                    let connection = http.serve_connection(TokioIo::new(stream), service);
                    let connection = graceful.watch(connection);
                    tokio::spawn(async move {
                        // Client resets and timeouts end the connection; nothing to report.
                        let _ = connection.await;
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    log(&format!("cannot accept a connection: {e}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }
    drop(listener);
    log("shutting down");
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            log("connections still open after the grace period; closing them");
        }
    }
    Ok(EXIT_OK)
}

/// The application as `serve` runs it, over `policy`, without a listener or
/// the reload task: for the fuzz targets (`fuzz/`), which call it in process.
#[doc(hidden)]
pub fn app(policy: crate::compile::Policy, max_body: usize) -> axum::Router {
    let spec = PolicySpec::default();
    let served = state::Served::new(policy, Vec::new(), &spec);
    let settings = state::Settings {
        token: None,
        max_body,
        timeout: Duration::from_secs(10),
        campaigns: None,
        ledger: PathBuf::from("/nonexistent/scruple-fuzz/ledger.db"),
        pool: None,
    };
    routes::router(Arc::new(state::AppState::new(served, spec, settings, None)))
}
