//! The `scruple` command line: parses flags, calls the library, renders.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use scruple::compile::{self, graph, Inputs, Policy};
use scruple::diag::{render_human, Diag};

const EXIT_HELP: &str = "\
Exit codes:
  0  clean: no errors (warnings allowed unless --deny-warnings)
  1  findings or policy errors
  2  usage or input error (bad flag, unreadable or malformed file)";

/// Policy-as-code for ethical personalization: lint campaigns against
/// consent, targeting, frequency and transparency rules.
#[derive(Parser)]
#[command(name = "scruple", version, about, after_help = EXIT_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Use this configuration file instead of the nearest scruple.toml.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Ignore scruple.toml.
    #[arg(long, global = true, conflicts_with = "config")]
    no_config: bool,
}

/// The project configuration, loaded once before the command runs.
static PROJECT: std::sync::OnceLock<Option<scruple::config::Config>> = std::sync::OnceLock::new();

fn project() -> Option<&'static scruple::config::Config> {
    PROJECT.get().and_then(Option::as_ref)
}

/// Loads `--config FILE`, or the nearest scruple.toml unless `--no-config`.
fn load_project(cli: &Cli) -> Result<Option<scruple::config::Config>, u8> {
    if cli.no_config {
        return Ok(None);
    }
    let path = match &cli.config {
        Some(path) => Some(path.clone()),
        None => std::env::current_dir()
            .ok()
            .and_then(|d| scruple::config::discover(&d)),
    };
    let Some(path) = path else { return Ok(None) };
    match scruple::config::load(&path) {
        Ok(config) => Ok(Some(config)),
        Err(diags) => {
            eprint_diags(&diags);
            Err(2)
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Parse and compile policy files or directories; report every problem.
    #[command(after_help = EXIT_HELP)]
    Compile(PolicyArgs),
    /// Print the compiled dependency graph.
    Graph {
        #[command(flatten)]
        policy: PolicyArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
    /// List the rules with their severity and citations.
    Rules(PolicyArgs),
    /// Check campaign files against the policy.
    #[command(after_help = EXIT_HELP)]
    Check(CheckArgs),
    /// Explain a rule: its documentation, source, citations and prerequisites.
    Explain {
        /// The rule id.
        rule: String,
        #[command(flatten)]
        policy: PolicyFlags,
    },
    /// Write a commented scruple.toml and an example campaign.
    Init {
        /// Directory to write into.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Overwrite existing files.
        #[arg(long)]
        force: bool,
    },
    /// Print a JSON Schema (for editor validation and completion).
    Schema {
        /// Which schema.
        #[arg(value_enum)]
        which: SchemaKind,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum SchemaKind {
    /// The campaign file.
    Campaign,
}

/// Policy selection as flags (for commands whose positionals are campaigns).
#[derive(clap::Args)]
struct PolicyFlags {
    /// Policy file or directory (repeatable; default: ./policies if present, else the built-in packs).
    #[arg(long = "policy", value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Use these shipped packs (repeatable).
    #[arg(long = "pack", value_name = "NAME")]
    packs: Vec<String>,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Campaign files, directories or glob patterns; `-` reads standard input
    /// (default: the `[check] campaigns` globs of scruple.toml).
    #[arg(value_name = "CAMPAIGN")]
    campaigns: Vec<String>,
    #[command(flatten)]
    policy: PolicyFlags,
    /// Output format [default: human, or `[check] format` of scruple.toml].
    #[arg(long, value_enum)]
    format: Option<OutputFormat>,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    deny_warnings: bool,
    /// Evaluate as of this time (RFC 3339, e.g. 2026-11-23T10:00:00Z) instead of now.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    at: Option<jiff::Timestamp>,
}

#[derive(Clone, Copy, ValueEnum)]
enum OutputFormat {
    /// Readable diagnostics (colour on a terminal; NO_COLOR honoured).
    Human,
    /// Versioned JSON (schema scruple.check/v1).
    Json,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
    /// GitHub Actions workflow annotations.
    Github,
}

fn parse_time(text: &str) -> Result<jiff::Timestamp, String> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Ok(ts);
    }
    if let Ok(date) = text.parse::<jiff::civil::Date>() {
        if let Ok(z) = date.to_zoned(jiff::tz::TimeZone::UTC) {
            return Ok(z.timestamp());
        }
    }
    Err("expected a date (2026-11-23) or an RFC 3339 time (2026-11-23T10:00:00Z)".into())
}

/// Which policies to load.
#[derive(clap::Args)]
struct PolicyArgs {
    /// Policy files or directories (default: ./policies if present, else the built-in packs).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Use only these shipped packs (repeatable).
    #[arg(long = "pack", value_name = "NAME")]
    packs: Vec<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    Dot,
    Mermaid,
    Json,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match load_project(&cli) {
        Ok(config) => {
            let _ = PROJECT.set(config);
        }
        Err(code) => return ExitCode::from(code),
    }
    let code = match cli.command {
        Command::Compile(args) => cmd_compile(&args),
        Command::Graph { policy, format } => with_policy(&policy, |p| {
            let text = match format {
                GraphFormat::Dot => graph::to_dot(&p.graph),
                GraphFormat::Mermaid => graph::to_mermaid(&p.graph),
                GraphFormat::Json => pretty_json(&graph::to_json(&p.graph)),
            };
            print_out(&text);
            0
        }),
        Command::Rules(args) => with_policy(&args, |p| {
            print_out(&scruple::report::rules_table(p));
            0
        }),
        Command::Check(args) => cmd_check(&args),
        Command::Explain { rule, policy } => with_policy(&policy.into(), |p| {
            match scruple::report::explain(p, &rule) {
                Ok(text) => {
                    print_out(&text);
                    0
                }
                Err(diag) => {
                    eprint_diags(&[*diag]);
                    2
                }
            }
        }),
        Command::Init { dir, force } => match scruple::config::init(&dir, force) {
            Ok(written) => {
                for path in written {
                    eprintln!("wrote {}", path.display());
                }
                eprintln!("next: edit scruple.toml, then run `scruple check`");
                0
            }
            Err(diag) => {
                eprint_diags(&[*diag]);
                2
            }
        },
        Command::Schema { which } => {
            match which {
                SchemaKind::Campaign => print_out(scruple::campaign::CAMPAIGN_SCHEMA),
            }
            0
        }
    };
    ExitCode::from(code)
}

impl From<PolicyFlags> for PolicyArgs {
    fn from(flags: PolicyFlags) -> Self {
        PolicyArgs {
            paths: flags.paths,
            packs: flags.packs,
        }
    }
}

fn cmd_check(args: &CheckArgs) -> u8 {
    let policy_args = PolicyArgs {
        paths: args.policy.paths.clone(),
        packs: args.policy.packs.clone(),
    };
    let (policy, diags) = compile_policy(&policy_args);
    eprint_diags(&diags);
    let Some(policy) = policy else {
        eprintln!("error: the policy has errors; fix them before checking campaigns (see `scruple compile`)");
        return 2;
    };
    let config = project();
    let deny_warnings = args.deny_warnings || config.is_some_and(|c| c.deny_warnings);
    let campaigns: Vec<String> = if args.campaigns.is_empty() {
        config.map(|c| c.campaigns.clone()).unwrap_or_default()
    } else {
        args.campaigns.clone()
    };
    if campaigns.is_empty() {
        eprintln!("error: no campaigns to check\n\nName campaign files, directories or globs (`-` for stdin), or list them under `[check] campaigns` in scruple.toml (see `scruple init`).");
        return 2;
    }
    let format = args
        .format
        .unwrap_or_else(|| match config.and_then(|c| c.format.as_deref()) {
            Some("json") => OutputFormat::Json,
            Some("sarif") => OutputFormat::Sarif,
            Some("github") => OutputFormat::Github,
            _ => OutputFormat::Human,
        });
    let (sources, invalid, usage) = scruple::check::read_inputs(&campaigns);
    let options = scruple::eval::Options {
        now: args.at.unwrap_or_else(jiff::Timestamp::now),
    };
    let mut run = scruple::check::run(&policy, sources, options);
    run.invalid.splice(0..0, invalid);
    run.usage = usage;
    let text = match format {
        OutputFormat::Human => {
            let color = std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            scruple::render::human(&run, color, terminal_width(), deny_warnings)
        }
        OutputFormat::Json => scruple::render::json::render(&run, &policy, deny_warnings),
        OutputFormat::Sarif => scruple::render::sarif::render(&run, &policy),
        OutputFormat::Github => scruple::render::github::render(&run),
    };
    print_out(&text);
    run.exit_code(deny_warnings)
}

fn inputs(args: &PolicyArgs) -> Inputs {
    scruple::policy_inputs_with(&args.paths, &args.packs, project())
}

/// Compiles the policy and applies scruple.toml's rule overrides.
fn compile_policy(args: &PolicyArgs) -> (Option<Policy>, Vec<Diag>) {
    let (mut policy, mut diags) = compile::compile(inputs(args));
    if let (Some(p), Some(config)) = (policy.as_mut(), project()) {
        diags.extend(config.apply(p));
        if diags.iter().any(Diag::is_error) {
            policy = None;
        }
    }
    (policy, diags)
}

/// Renders diagnostics to stderr; colour only on a terminal and without NO_COLOR.
fn eprint_diags(diags: &[Diag]) {
    if diags.is_empty() {
        return;
    }
    let stderr = std::io::stderr();
    let color = stderr.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let width = terminal_width();
    let _ = stderr
        .lock()
        .write_all(render_human(diags, color, width).as_bytes());
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|w: &usize| *w >= 40)
        .unwrap_or(100)
}

fn print_out(text: &str) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = out.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
}

fn pretty_json(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// Exit code for a set of policy diagnostics: 2 when inputs could not be
/// read, 1 for policy errors, 0 otherwise.
fn policy_exit(diags: &[Diag]) -> u8 {
    if diags
        .iter()
        .any(|d| d.is_error() && d.code.starts_with("scruple::load::"))
    {
        2
    } else if diags.iter().any(Diag::is_error) {
        1
    } else {
        0
    }
}

fn cmd_compile(args: &PolicyArgs) -> u8 {
    let (policy, diags) = compile_policy(args);
    eprint_diags(&diags);
    let code = policy_exit(&diags);
    if let Some(policy) = policy {
        let warnings = diags.len();
        eprintln!(
            "compiled {} rules from {} files ({} warning{})",
            policy.rules.len(),
            policy.files.len(),
            warnings,
            if warnings == 1 { "" } else { "s" }
        );
    }
    code
}

fn with_policy(args: &PolicyArgs, run: impl FnOnce(&Policy) -> u8) -> u8 {
    let (policy, diags) = compile_policy(args);
    eprint_diags(&diags);
    match policy {
        Some(policy) => run(&policy),
        None => policy_exit(&diags).max(1),
    }
}
