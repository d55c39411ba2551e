//! The `scruple test` command line: flags, then discover → compile → load →
//! run → render, and the exit code.

use std::io::IsTerminal;
use std::path::PathBuf;

use super::{discover, load, render, run};
use crate::check::{EXIT_CLEAN, EXIT_FINDINGS, EXIT_INPUT};
use crate::compile;
use crate::config::Config;
use crate::diag::Diag;

const EXIT_HELP: &str = "\
Exit codes:
  0  every test passed (and coverage is at least --min-coverage)
  1  a test failed, or coverage is below --min-coverage
  2  usage or input error (bad flag, policy errors, unreadable or malformed test file)

Test files are YAML files named NAME.tests.yaml; see docs/testing.md.
With --cases DIR, runs the published-case corpus instead (tests/cases/README.md):
exit 0 when every case is judged rightly (or is a listed known gap), 1 otherwise.";

/// Flags of `scruple test`.
#[derive(clap::Args, Clone, Debug, Default)]
#[command(after_help = EXIT_HELP)]
pub struct TestArgs {
    /// Test files (`*.tests.yaml`) or directories holding them (default: the
    /// tests below the policy directories in use, e.g. policies/tests/).
    #[arg(value_name = "TESTS")]
    pub paths: Vec<PathBuf>,
    /// Policy file or directory (repeatable; default: scruple.toml's `[policy]`, else ./policies if present, else the built-in packs).
    #[arg(long = "policy", value_name = "PATH")]
    pub policy: Vec<PathBuf>,
    /// Use these shipped packs (repeatable).
    #[arg(long = "pack", value_name = "NAME")]
    pub packs: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TestFormat::Human)]
    pub format: TestFormat,
    /// Print the rule coverage table (to standard error with `--format junit`).
    #[arg(long)]
    pub coverage: bool,
    /// Fail (exit 1) when fewer than N% of the rules both fire and pass in some test.
    #[arg(long, value_name = "N", value_parser = parse_percent)]
    pub min_coverage: Option<f64>,
    /// Run the published-case corpus in DIR (`tests/cases`) and print its
    /// score by pack and by direction, instead of test files.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["paths", "coverage", "min_coverage"])]
    pub cases: Option<PathBuf>,
}

/// Output formats of `scruple test`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TestFormat {
    /// ✓/✗ per test, with the expected and actual outcomes of failed tests.
    #[default]
    Human,
    /// JUnit XML, for CI test reports.
    Junit,
    /// JSON (with `--cases` only): the score and every case's judgement.
    Json,
}

/// What the command produced: the caller prints `diags`, then `stderr`,
/// then `stdout`, and exits with `code`.
#[derive(Debug, Default)]
pub struct Executed {
    /// The report (human text or JUnit XML); empty when no test ran.
    pub stdout: String,
    /// Other messages for standard error (coverage with JUnit output, the
    /// coverage verdict).
    pub stderr: String,
    /// Policy and test file diagnostics.
    pub diags: Vec<Diag>,
    /// The exit code (0, 1 or 2).
    pub code: u8,
}

/// A percentage from 0 to 100, with or without a `%` sign.
fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%');
    match number.parse::<f64>() {
        Ok(n) if (0.0..=100.0).contains(&n) => Ok(n),
        _ => Err("expected a percentage from 0 to 100, such as 90 or 87.5".into()),
    }
}

/// Runs `scruple test`. Without `--policy` and `--pack`, the project
/// configuration (`config`, from scruple.toml) names the policy, as for the
/// other commands; its rule overrides are not applied, since tests check the
/// rules as written.
pub fn command(args: &TestArgs, config: Option<&Config>) -> Executed {
    let mut out = Executed::default();
    let (policy_paths, packs) = match config {
        Some(c)
            if args.policy.is_empty()
                && args.packs.is_empty()
                && !(c.policy_paths.is_empty() && c.packs.is_empty()) =>
        {
            (c.policy_paths.as_slice(), c.packs.as_slice())
        }
        _ => (args.policy.as_slice(), args.packs.as_slice()),
    };
    let (policy, diags) = compile::compile(crate::policy_inputs(policy_paths, packs));
    out.diags = diags;
    let Some(policy) = policy else {
        out.stderr =
            "error: the policy has errors; fix them before testing it (see `scruple compile`)\n"
                .into();
        out.code = EXIT_INPUT;
        return out;
    };
    if let Some(dir) = &args.cases {
        return run_cases(args, &policy, dir, out);
    }
    if args.format == TestFormat::Json {
        out.stderr = "error: --format json is available with --cases only\n".into();
        out.code = EXIT_INPUT;
        return out;
    }
    let (paths, found) = discover(&args.paths, policy_paths, packs);
    let (suites, problems) = load(&paths, &policy);
    let input_errors = found
        .iter()
        .chain(&problems)
        .filter(|d| d.is_error())
        .count();
    out.diags.extend(found);
    out.diags.extend(problems);
    if input_errors > 0 {
        out.stderr = format!(
            "error: {input_errors} problem{} with the test files; no test ran\n",
            render::plural(input_errors)
        );
        out.code = EXIT_INPUT;
        return out;
    }
    let result = run(&policy, &suites);
    let color = std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut report = String::new();
    if args.coverage {
        report.push_str(&render::coverage_table(&result.coverage));
    } else if args.min_coverage.is_some() {
        report.push_str(&render::coverage_line(&result.coverage));
        report.push('\n');
    }
    match args.format {
        TestFormat::Human => {
            out.stdout = render::human(&result, color);
            if !report.is_empty() {
                out.stdout.push('\n');
                out.stdout.push_str(&report);
            }
        }
        TestFormat::Junit | TestFormat::Json => {
            out.stdout = render::junit(&result);
            out.stderr = report;
        }
    }
    let percent = result.coverage.percent();
    let below = match args.min_coverage {
        Some(min) if percent + 1e-9 < min => {
            out.stderr.push_str(&format!(
                "error: rule coverage {percent:.1}% is below the minimum of {min}%\n"
            ));
            true
        }
        _ => false,
    };
    out.code = if result.failed() > 0 || below {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    };
    out
}

/// `scruple test --cases DIR`: judges the corpus and prints its score.
fn run_cases(
    args: &TestArgs,
    policy: &compile::Policy,
    dir: &std::path::Path,
    mut out: Executed,
) -> Executed {
    let run = match super::cases::run(policy, dir, None) {
        Ok(run) => run,
        Err(e) => {
            out.stderr = format!("error: cannot read the cases in {}: {e}\n", dir.display());
            out.code = EXIT_INPUT;
            return out;
        }
    };
    match args.format {
        TestFormat::Json => out.stdout = super::cases::render_json_report(&run),
        TestFormat::Human => out.stdout = super::cases::render_human_report(&run),
        TestFormat::Junit => {
            out.stderr =
                "error: --format junit is not available with --cases (use human or json)\n".into();
            out.code = EXIT_INPUT;
            return out;
        }
    }
    if run.cases.is_empty() {
        out.stderr = format!("error: no case (*.yaml) below {}\n", dir.display());
        out.code = EXIT_INPUT;
        return out;
    }
    out.code = if run.ok() { EXIT_CLEAN } else { EXIT_FINDINGS };
    out
}
