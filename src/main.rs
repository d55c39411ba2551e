//! The `scruple` command line: parses flags, calls the library, renders.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use scruple::compile::{self, graph, Inputs, Policy};
use scruple::diag::{render_human, Diag};

const EXIT_HELP: &str = "\
Exit codes (of `check`; see each command's --help for its own):
  0  clean: no errors (warnings allowed unless --deny-warnings)
  1  a campaign has error-level findings (or warnings with --deny-warnings)
  2  usage or input error (bad flag, unreadable or malformed file), or a
     policy with errors: campaigns are not checked against it";

const COMPILE_HELP: &str = "\
Exit codes:
  0  the policy compiles (warnings are printed and allowed)
  1  the policy has errors
  2  usage or input error (bad flag, unreadable or missing file)";

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
    // `diff` compares two versions of the policy, neither necessarily the
    // working tree's, so an override may name a rule only one of them has.
    let check_rules = !matches!(cli.command, Command::Diff { .. });
    match scruple::config::load(&path, check_rules) {
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
    #[command(after_help = COMPILE_HELP)]
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
    /// Decide per recipient, right before sending: allow or suppress, with reasons.
    #[command(after_help = GATE_HELP)]
    Gate(GateArgs),
    /// The send ledger that frequency caps count: import past sends, show a
    /// recipient's history, prune, export (see docs/ledger.md).
    #[command(after_help = LEDGER_HELP)]
    Ledger {
        /// The ledger: an SQLite file or a `postgres://` URL (default:
        /// `[ledger] url` of scruple.toml, else .scruple/ledger.db).
        #[arg(
            long,
            global = true,
            value_name = "PATH|URL",
            env = "SCRUPLE_LEDGER_URL"
        )]
        ledger: Option<PathBuf>,
        #[command(subcommand)]
        action: LedgerAction,
    },
    /// Compare two policy versions (paths or git revisions) rule by rule;
    /// with --campaigns, list the campaigns whose verdict changes.
    #[command(after_help = scruple::diff::EXIT_HELP)]
    Diff {
        #[command(flatten)]
        args: scruple::diff::DiffArgs,
        /// With --campaigns: evaluate as of this time instead of now (2026-11-23,
        /// 2026-11-23T10:00 or 2026-11-23T10:00:00+01:00; without an offset, UTC).
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        at: Option<jiff::Timestamp>,
    },
    /// Run the policy unit tests (`*.tests.yaml`): pass/fail per test, rule coverage.
    Test(scruple::policytest::TestArgs),
    /// Write a compliance report (self-contained HTML, or Markdown) for a
    /// set of campaigns: verdicts, rule outcomes, waivers, citations, charts.
    #[command(
        after_help = "Exit codes as `scruple check`: 0 all pass, 1 a campaign fails, 2 input error (the report is still written). See docs/report.md."
    )]
    Report {
        #[command(flatten)]
        args: scruple::render::report::ReportArgs,
        #[command(flatten)]
        policy: PolicyFlags,
        /// Evaluate (and date the report) as of this time instead of now (2026-11-23,
        /// 2026-11-23T10:00 or 2026-11-23T10:00:00+01:00; without an offset, UTC).
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        at: Option<jiff::Timestamp>,
    },
    /// Serve check and gate over HTTP for email tools (see docs/serve.md).
    Serve(scruple::serve::ServeArgs),
    /// Rewrite policy files in canonical form, comments kept; `--check` for CI
    /// (see docs/fmt.md).
    #[command(after_help = scruple::fmt::EXIT_HELP)]
    Fmt(scruple::fmt::FmtArgs),
    /// Fairness and ethical metrics of what was sent: selection rates per
    /// protected group, adverse-impact ratio, opt-out and complaint rates
    /// (see docs/audit.md).
    #[command(after_help = scruple::audit::command::EXIT_HELP)]
    Audit(scruple::audit::command::AuditArgs),
    /// Print a JSON Schema (for editor validation and completion).
    Schema {
        /// Which schema.
        #[arg(value_enum)]
        which: SchemaKind,
    },
}

const GATE_HELP: &str = "\
Reads recipients (JSON Lines or CSV, see docs/recipients.md) and writes one
JSON line per recipient: {\"line\", \"recipient\", \"decision\": \"allow\"|\"suppress\",
\"reasons\": [{\"rule\", \"message\", \"citations\"}], \"error\"}. A summary goes to stderr.

Frequency caps count the sends in the ledger (--ledger, default
.scruple/ledger.db, if it exists); --record adds this run's allowed sends to it
in one transaction at the end, keyed by campaign id and --at (the send slot):
a killed run records nothing, and a re-run of the same slot records nothing twice.

Exit codes:
  0  every record decided (allowed or suppressed)
  1  the campaign itself violates the policy: no recipient was processed
  2  usage, input or ledger error (or a bad record with --on-bad-record fail)";

const LEDGER_HELP: &str = "\
Rows (CSV with a header row, or JSON Lines): campaign, slot, recipient, channel,
sent_at. Times are RFC 3339 times, dates or Unix seconds; slot defaults to sent_at.

Exit codes:
  0  done
  2  usage, input or ledger error (nothing was imported)";

#[derive(Subcommand)]
enum LedgerAction {
    /// Import past sends, all or nothing; sends already there are skipped.
    Import {
        /// CSV or JSON Lines file (`-` for standard input).
        file: String,
        /// Input format (default: from the file extension; JSON Lines for stdin).
        #[arg(long, value_enum)]
        format: Option<RecipientFormat>,
    },
    /// Show every send to a recipient, newest first.
    History {
        /// The recipient id.
        recipient: String,
        /// Rows as CSV or JSON Lines instead of a table.
        #[arg(long, value_enum)]
        format: Option<RecipientFormat>,
    },
    /// Delete the sends that no frequency cap can count any more: older than
    /// the policy's longest cap window, or --older-than.
    Prune {
        /// Age to prune from, such as `30 days`, `12w` or `6 months`.
        #[arg(long, value_name = "DURATION", value_parser = scruple::ledger::command::parse_duration)]
        older_than: Option<scruple::syntax::ast::Duration>,
        /// Reference time (2026-11-23, 2026-11-23T10:00 or
        /// 2026-11-23T10:00:00+01:00; without an offset, UTC; default: now).
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        at: Option<jiff::Timestamp>,
        #[command(flatten)]
        policy: PolicyFlags,
    },
    /// Write every send to standard output.
    Export {
        /// Output format.
        #[arg(long, value_enum, default_value_t = RecipientFormat::Jsonl)]
        format: RecipientFormat,
    },
    /// Commit the reservations of a send (`gate` without --record) as sends
    /// made: every one, or those of --recipients.
    Commit(SettleArgs),
    /// Release the reservations of a send that will not be made.
    Release(SettleArgs),
}

#[derive(clap::Args)]
struct SettleArgs {
    /// The campaign id.
    #[arg(long)]
    campaign: String,
    /// The send slot: the instant of the gate run's --at (2026-11-23T10:00:00Z,
    /// or with an offset; without one, UTC).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    at: jiff::Timestamp,
    /// Only these recipients: ids one per line, or the JSON Lines decisions
    /// of `gate --allowed` (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    recipients: Option<String>,
}

#[derive(clap::Args)]
struct GateArgs {
    /// The campaign file.
    campaign: PathBuf,
    /// Recipients file (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    recipients: String,
    /// Input format (default: from the file extension; JSON Lines for stdin).
    #[arg(long, value_enum)]
    input_format: Option<RecipientFormat>,
    /// Planned send time, with a time of day: 2026-11-23T10:00 is in the
    /// campaign's schedule.timezone (UTC when it has none or it is
    /// `recipient`); 2026-11-23T10:00:00+01:00 or …Z is exact (default: now).
    #[arg(long, value_name = "TIME", value_parser = parse_send_time)]
    at: Option<scruple::campaign::When>,
    /// Write allowed decisions here instead of stdout.
    #[arg(long, value_name = "FILE")]
    allowed: Option<PathBuf>,
    /// Write suppressed decisions (and bad records) here instead of stdout.
    #[arg(long, value_name = "FILE")]
    suppressed: Option<PathBuf>,
    /// What to do with a record that cannot be read.
    #[arg(long, value_enum, default_value_t = BadRecordPolicy::Suppress)]
    on_bad_record: BadRecordPolicy,
    /// The send ledger that frequency caps count: an SQLite file or a
    /// `postgres://` URL (default: `[ledger] url` of scruple.toml, else
    /// .scruple/ledger.db).
    #[arg(long, value_name = "PATH|URL", env = "SCRUPLE_LEDGER_URL")]
    ledger: Option<PathBuf>,
    /// Record the allowed sends in the ledger (created if needed).
    #[arg(long)]
    record: bool,
    /// Without --record: reserve nothing, only read the ledger (a preview
    /// whose allowed decisions no other decider counts; not one to send by).
    #[arg(long, conflicts_with = "record")]
    no_reserve: bool,
    /// How long a reservation counts against caps unless committed
    /// (`ledger commit`) or released (`ledger release`): `15 minutes`, `2h`, `90s`.
    #[arg(long, value_name = "DURATION", default_value = "15 minutes",
          value_parser = scruple::ledger::command::parse_lease)]
    lease: i64,
    /// Draw no progress line (it is drawn only when stderr is a terminal).
    #[arg(long, short)]
    quiet: bool,
    /// How a refused campaign is reported: `human` diagnostics on stderr, or
    /// `json`, the `scruple check --format json` document on stdout.
    /// Decisions are always JSON Lines.
    #[arg(long, value_enum, default_value_t = GateReportFormat::Human)]
    format: GateReportFormat,
    #[command(flatten)]
    policy: PolicyFlags,
}

#[derive(Clone, Copy, ValueEnum)]
enum GateReportFormat {
    /// Diagnostics for people, on standard error.
    Human,
    /// The `scruple.check/v1` document, on standard output.
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum RecipientFormat {
    /// JSON Lines.
    Jsonl,
    /// CSV with a header row.
    Csv,
}

#[derive(Clone, Copy, ValueEnum)]
enum BadRecordPolicy {
    /// Suppress the record and go on.
    Suppress,
    /// Stop with exit code 2.
    Fail,
}

#[derive(Clone, Copy, ValueEnum)]
enum SchemaKind {
    /// The campaign file.
    Campaign,
    /// A recipient record of `scruple gate`.
    Recipient,
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
    /// Evaluate as of this time instead of now (2026-11-23, 2026-11-23T10:00 or
    /// 2026-11-23T10:00:00+01:00; without an offset, UTC).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    at: Option<jiff::Timestamp>,
    /// Refuse campaign and policy inputs larger than this (default 16 MiB,
    /// or `[check] max_input_bytes` of scruple.toml).
    #[arg(long, value_name = "BYTES")]
    max_input_bytes: Option<u64>,
    /// Also show where in the policy each rule that fired is defined.
    #[arg(long, short)]
    verbose: bool,
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

/// `--at` of commands that evaluate as of a time: any form a campaign
/// accepts, UTC when written without an offset.
fn parse_time(text: &str) -> Result<jiff::Timestamp, String> {
    scruple::campaign::When::read_instant(text, &jiff::tz::TimeZone::UTC)
}

/// `gate --at`: read as a campaign reads it; resolved in the campaign's zone.
fn parse_send_time(text: &str) -> Result<scruple::campaign::When, String> {
    scruple::campaign::When::read(text)
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
                eprintln!(
                    "next: make campaigns/example.yaml your campaign and run `scruple check`; scruple.toml picks the packs"
                );
                0
            }
            Err(diag) => {
                eprint_diags(&[*diag]);
                2
            }
        },
        Command::Gate(args) => cmd_gate(&args),
        Command::Ledger { ledger, action } => cmd_ledger(&ledger_location(ledger), action),
        Command::Diff { args, at } => {
            let outcome = scruple::diff::command(&args, at, project());
            eprint_diags(&outcome.diags);
            if !outcome.text.is_empty() {
                print_out(&outcome.text);
            }
            outcome.code
        }
        Command::Test(args) => {
            let outcome = scruple::policytest::command(&args, project());
            eprint_diags(&outcome.diags);
            eprint!("{}", outcome.stderr);
            if !outcome.stdout.is_empty() {
                print_out(&outcome.stdout);
            }
            outcome.code
        }
        Command::Report { args, policy, at } => match compile_policy(&policy.into()) {
            (Some(policy), diags) => {
                eprint_diags(&diags);
                let done = scruple::render::report::command(&policy, &args, at, project());
                eprint_diags(&done.diags);
                if !done.stdout.is_empty() {
                    print_out(&done.stdout);
                }
                if let Some(message) = &done.message {
                    eprintln!("{message}");
                }
                done.exit_code
            }
            (None, diags) => {
                eprint_diags(&diags);
                eprintln!("error: the policy has errors; fix them before reporting (see `scruple compile`)");
                2
            }
        },
        Command::Serve(args) => scruple::serve::command(&args, project()),
        Command::Audit(args) => {
            let outcome = scruple::audit::command::command(&args, &mut std::io::stdin().lock());
            eprint_diags(&outcome.diags);
            if !outcome.stdout.is_empty() {
                print_out(&outcome.stdout);
            }
            outcome.code
        }
        Command::Fmt(args) => {
            let outcome = scruple::fmt::command(&args, &mut std::io::stdin().lock());
            eprint_diags(&outcome.diags);
            if !outcome.stdout.is_empty() {
                print_out(&outcome.stdout);
            }
            eprint!("{}", outcome.stderr);
            outcome.code
        }
        Command::Schema { which } => {
            match which {
                SchemaKind::Campaign => print_out(scruple::campaign::CAMPAIGN_SCHEMA),
                SchemaKind::Recipient => print_out(scruple::gate::recipient::RECIPIENT_SCHEMA),
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
    let config = project();
    let max_bytes = scruple::check::max_input_bytes(args.max_input_bytes, config);
    let (policy, diags) = compile_policy_capped(&policy_args, max_bytes);
    eprint_diags(&diags);
    let Some(policy) = policy else {
        eprintln!("error: the policy has errors; fix them before checking campaigns (see `scruple compile`)");
        return 2;
    };
    let deny_warnings = scruple::check::deny_warnings(args.deny_warnings, config);
    let campaigns = scruple::check::campaign_args(&args.campaigns, config);
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
    let options = scruple::eval::Options {
        now: args.at.unwrap_or_else(jiff::Timestamp::now),
    };
    let (run, _) = scruple::check::check_args_with(&policy, &campaigns, options, max_bytes);
    let text = match format {
        OutputFormat::Human => {
            let color = std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            let style = scruple::render::HumanStyle {
                color,
                width: terminal_width(),
                verbose: args.verbose,
            };
            scruple::render::human(&run, style, deny_warnings)
        }
        OutputFormat::Json => scruple::render::json::render(&run, &policy, deny_warnings),
        OutputFormat::Sarif => scruple::render::sarif::render(&run, &policy),
        OutputFormat::Github => scruple::render::github::render(&run),
    };
    print_out(&text);
    run.exit_code(deny_warnings)
}

fn cmd_gate(args: &GateArgs) -> u8 {
    use scruple::gate::command::{GateCommand, GateFormat, GateIo};
    use scruple::gate::stream::{InputFormat, OnBadRecord};
    let policy_args = PolicyArgs {
        paths: args.policy.paths.clone(),
        packs: args.policy.packs.clone(),
    };
    let (policy, diags) = compile_policy(&policy_args);
    eprint_diags(&diags);
    let Some(policy) = policy else { return 2 };
    let command = GateCommand {
        campaign: args.campaign.clone(),
        recipients: args.recipients.clone(),
        input_format: args.input_format.map(|f| match f {
            RecipientFormat::Csv => InputFormat::Csv,
            RecipientFormat::Jsonl => InputFormat::JsonLines,
        }),
        at: args.at.clone(),
        allowed: args.allowed.clone(),
        suppressed: args.suppressed.clone(),
        on_bad: match args.on_bad_record {
            BadRecordPolicy::Suppress => OnBadRecord::Suppress,
            BadRecordPolicy::Fail => OnBadRecord::Fail,
        },
        ledger: ledger_location(args.ledger.clone()),
        record: args.record,
        reserve: !args.no_reserve,
        lease_seconds: args.lease,
        format: match args.format {
            GateReportFormat::Human => GateFormat::Human,
            GateReportFormat::Json => GateFormat::Json,
        },
    };
    let draw = scruple::gate::progress::should_draw(
        args.quiet,
        std::io::stderr().is_terminal(),
        std::io::stdout().is_terminal(),
        args.allowed.is_none(),
    );
    let mut progress = scruple::gate::progress::TerminalProgress::new(draw);
    let io = GateIo {
        stdin: &mut std::io::stdin().lock(),
        stdout: &mut std::io::stdout().lock(),
        stderr: &mut std::io::stderr(),
        diagnostics: &mut |diags| eprint_diags(diags),
        progress: Some(&mut progress),
    };
    scruple::gate::command::run(&command, &policy, io)
}

/// The ledger: `--ledger` or `SCRUPLE_LEDGER_URL`, else `[ledger] url` of
/// scruple.toml, else the default file.
fn ledger_location(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| project().and_then(|c| c.ledger.clone()))
        .unwrap_or_else(|| PathBuf::from(scruple::ledger::DEFAULT_PATH))
}

fn settle(a: SettleArgs, commit: bool) -> scruple::ledger::command::LedgerCommand {
    scruple::ledger::command::LedgerCommand::Settle {
        campaign: a.campaign,
        slot: a.at,
        recipients: a.recipients,
        commit,
    }
}

fn cmd_ledger(path: &std::path::Path, action: LedgerAction) -> u8 {
    use scruple::ledger::command::{LedgerCommand, LedgerIo};
    use scruple::ledger::rows::RowFormat;
    let row_format = |f: RecipientFormat| match f {
        RecipientFormat::Csv => RowFormat::Csv,
        RecipientFormat::Jsonl => RowFormat::JsonLines,
    };
    let (command, policy_flags) = match action {
        LedgerAction::Import { file, format } => (
            LedgerCommand::Import {
                file,
                format: format.map(row_format),
            },
            None,
        ),
        LedgerAction::History { recipient, format } => (
            LedgerCommand::History {
                recipient,
                format: format.map(row_format),
            },
            None,
        ),
        LedgerAction::Prune {
            older_than,
            at,
            policy,
        } => (LedgerCommand::Prune { older_than, at }, Some(policy)),
        LedgerAction::Export { format } => (
            LedgerCommand::Export {
                format: row_format(format),
            },
            None,
        ),
        LedgerAction::Commit(a) => (settle(a, true), None),
        LedgerAction::Release(a) => (settle(a, false), None),
    };
    let policy = match policy_flags {
        Some(flags) if command.needs_policy() => {
            let (policy, diags) = compile_policy(&flags.into());
            eprint_diags(&diags);
            match policy {
                Some(policy) => Some(policy),
                None => return 2,
            }
        }
        _ => None,
    };
    let io = LedgerIo {
        stdin: &mut std::io::stdin().lock(),
        stdout: &mut std::io::BufWriter::new(std::io::stdout().lock()),
        stderr: &mut std::io::stderr(),
    };
    scruple::ledger::command::run(path, &command, policy.as_ref(), io)
}

fn inputs(args: &PolicyArgs) -> Inputs {
    scruple::policy_inputs_with(&args.paths, &args.packs, project())
}

/// Compiles the policy and applies scruple.toml's rule overrides.
fn compile_policy(args: &PolicyArgs) -> (Option<Policy>, Vec<Diag>) {
    compile_policy_capped(args, scruple::check::max_input_bytes(None, project()))
}

/// [`compile_policy`] refusing policy files over `max_bytes`.
fn compile_policy_capped(args: &PolicyArgs, max_bytes: u64) -> (Option<Policy>, Vec<Diag>) {
    let mut inputs = inputs(args);
    inputs.set_max_input_bytes(max_bytes);
    let (mut policy, mut diags) = compile::compile(inputs);
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
