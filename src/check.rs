//! The `check` job: gather campaign files, load them, evaluate them against a
//! policy, and decide the exit code. Renderers in [`crate::render`] format the
//! resulting [`CheckRun`].

use std::path::{Path, PathBuf};

use crate::campaign::{self, Campaign};
use crate::compile::Policy;
use crate::config::Config;
use crate::diag::Diag;
use crate::eval::{self, CampaignReport, Options};
use crate::source::{
    read_capped, too_large, ReadError, Source, SourceFile, DEFAULT_MAX_INPUT_BYTES,
};

/// Exit code: everything passed.
pub const EXIT_CLEAN: u8 = 0;
/// Exit code: findings at error level (or warnings with `--deny-warnings`).
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: usage or input error (bad flag, unreadable or invalid file).
pub const EXIT_INPUT: u8 = 2;

/// A campaign input that could not be loaded.
#[derive(Debug)]
pub struct InvalidInput {
    /// The file's display name.
    pub name: String,
    /// Why (with spans when the file was read).
    pub diags: Vec<Diag>,
}

/// The result of checking a set of campaigns.
#[derive(Debug, Default)]
pub struct CheckRun {
    /// One report per loaded campaign, in input order.
    pub reports: Vec<CampaignReport>,
    /// Inputs that could not be read or loaded.
    pub invalid: Vec<InvalidInput>,
    /// Problems with the arguments themselves (a glob matching nothing, …).
    pub usage: Vec<Diag>,
}

impl CheckRun {
    /// The exit code for this run.
    pub fn exit_code(&self, deny_warnings: bool) -> u8 {
        if !self.invalid.is_empty() || !self.usage.is_empty() {
            EXIT_INPUT
        } else if self.reports.iter().any(|r| !r.passes(deny_warnings)) {
            EXIT_FINDINGS
        } else {
            EXIT_CLEAN
        }
    }
}

/// Expands the command-line arguments into campaign sources: files as given,
/// directories searched for `*.yaml`/`*.yml`, glob patterns, and `-` for
/// standard input (read once); each input at most
/// [`DEFAULT_MAX_INPUT_BYTES`].
pub fn read_inputs(args: &[String]) -> (Vec<Source>, Vec<InvalidInput>, Vec<Diag>) {
    read_inputs_with(args, DEFAULT_MAX_INPUT_BYTES)
}

/// [`read_inputs`] with inputs over `max_bytes` refused unread.
pub fn read_inputs_with(
    args: &[String],
    max_bytes: u64,
) -> (Vec<Source>, Vec<InvalidInput>, Vec<Diag>) {
    let mut sources = Vec::new();
    let mut invalid = Vec::new();
    let mut usage = Vec::new();
    let mut paths: Vec<PathBuf> = Vec::new();
    for arg in args {
        if arg == "-" {
            let name = "<stdin>".to_string();
            match read_capped(std::io::stdin().lock(), max_bytes) {
                Ok(bytes) => match utf8(&name, bytes) {
                    Ok(text) => sources.push(SourceFile::new(name, text)),
                    Err(diag) => invalid.push(InvalidInput {
                        name,
                        diags: vec![*diag],
                    }),
                },
                Err(err) => invalid.push(InvalidInput {
                    diags: vec![read_error(&name, err, max_bytes)],
                    name,
                }),
            }
            continue;
        }
        let path = Path::new(arg);
        if path.is_dir() {
            let mut found = Vec::new();
            collect_yaml(path, &mut found);
            found.sort();
            if found.is_empty() {
                usage.push(
                    Diag::error(
                        "scruple::input::empty_directory",
                        format!("no campaign files (`*.yaml`, `*.yml`) in `{arg}`"),
                    )
                    .with_help("pass campaign files, a directory holding them, or a glob such as `campaigns/*.yaml`"),
                );
            }
            paths.extend(found);
        } else if path.exists() {
            paths.push(path.to_path_buf());
        } else if arg.contains(['*', '?', '[']) {
            match glob::glob(arg) {
                Ok(matches) => {
                    let mut found: Vec<PathBuf> =
                        matches.flatten().filter(|p| p.is_file()).collect();
                    found.sort();
                    if found.is_empty() {
                        usage.push(
                            Diag::error(
                                "scruple::input::no_match",
                                format!("`{arg}` matches no file"),
                            )
                            .with_help(
                                "check the pattern; quote it so the shell does not expand it first",
                            ),
                        );
                    }
                    paths.extend(found);
                }
                Err(err) => usage.push(
                    Diag::error(
                        "scruple::input::bad_glob",
                        format!("`{arg}` is not a valid pattern: {}", err.msg),
                    )
                    .with_help("patterns use `*`, `?`, `**` and `[abc]`"),
                ),
            }
        } else {
            // A named input that cannot be read is an invalid input like an
            // unreadable file, so every format lists and counts it.
            invalid.push(InvalidInput {
                name: arg.clone(),
                diags: vec![Diag::error(
                    "scruple::input::not_found",
                    format!("`{arg}` does not exist"),
                )
                .with_help(
                    "pass campaign files, directories or glob patterns; `-` reads standard input",
                )],
            });
        }
    }
    for path in paths {
        let name = path.display().to_string();
        let name = name.strip_prefix("./").unwrap_or(&name).to_string();
        let read = std::fs::File::open(&path)
            .map_err(ReadError::Io)
            .and_then(|file| read_capped(file, max_bytes));
        match read {
            Ok(bytes) => match utf8(&name, bytes) {
                Ok(text) => sources.push(SourceFile::new(name, text)),
                Err(diag) => invalid.push(InvalidInput {
                    name,
                    diags: vec![*diag],
                }),
            },
            Err(err) => invalid.push(InvalidInput {
                diags: vec![read_error(&name, err, max_bytes)],
                name,
            }),
        }
    }
    (sources, invalid, usage)
}

fn utf8(name: &str, bytes: Vec<u8>) -> Result<String, Box<Diag>> {
    String::from_utf8(bytes).map_err(|err| {
        Box::new(
            Diag::error(
                "scruple::campaign::encoding",
                format!(
                    "`{name}` is not valid UTF-8 (first bad byte at offset {})",
                    err.utf8_error().valid_up_to()
                ),
            )
            .with_help("save the campaign as UTF-8 text"),
        )
    })
}

fn read_error(name: &str, err: ReadError, max_bytes: u64) -> Diag {
    match err {
        ReadError::TooLarge => too_large(name, max_bytes),
        ReadError::Io(err) => Diag::error(
            "scruple::input::unreadable",
            format!("cannot read `{name}`: {err}"),
        )
        .with_help("check the path and its permissions"),
    }
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_yaml(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

/// Loads every source and checks the loaded campaigns together (as one
/// calendar for frequency caps).
pub fn run(policy: &Policy, sources: Vec<Source>, options: Options) -> CheckRun {
    run_keeping(policy, sources, options).0
}

/// Like [`run`], and also returns the loaded campaigns (in the order of
/// `CheckRun::reports`), for renderers that show more than the findings.
pub fn run_keeping(
    policy: &Policy,
    sources: Vec<Source>,
    options: Options,
) -> (CheckRun, Vec<Campaign>) {
    let mut run = CheckRun::default();
    let mut campaigns: Vec<Campaign> = Vec::new();
    for source in sources {
        match campaign::load(&source) {
            Ok(c) => campaigns.push(c),
            Err(diags) => run.invalid.push(InvalidInput {
                name: source.name.clone(),
                diags,
            }),
        }
    }
    run.reports = eval::check_all(policy, &campaigns, options);
    (run, campaigns)
}

/// The campaign arguments of `check` and `report`: those named on the
/// command line, else the `[check] campaigns` of `scruple.toml`.
pub fn campaign_args(named: &[String], config: Option<&Config>) -> Vec<String> {
    if named.is_empty() {
        config.map(|c| c.campaigns.clone()).unwrap_or_default()
    } else {
        named.to_vec()
    }
}

/// The most bytes read from one input: `--max-input-bytes`, else
/// `max_input_bytes` in `scruple.toml`, else [`DEFAULT_MAX_INPUT_BYTES`].
pub fn max_input_bytes(flag: Option<u64>, config: Option<&Config>) -> u64 {
    flag.or(config.and_then(|c| c.max_input_bytes))
        .unwrap_or(DEFAULT_MAX_INPUT_BYTES)
}

/// Whether warnings fail the run: `--deny-warnings`, or `deny_warnings` in
/// `scruple.toml`.
pub fn deny_warnings(flag: bool, config: Option<&Config>) -> bool {
    flag || config.is_some_and(|c| c.deny_warnings)
}

/// Reads the campaign arguments (files, directories, globs, `-`) and checks
/// what loads: [`read_inputs`] then [`run_keeping`], with unreadable inputs
/// and argument problems recorded in the run.
pub fn check_args(
    policy: &Policy,
    campaigns: &[String],
    options: Options,
) -> (CheckRun, Vec<Campaign>) {
    check_args_with(policy, campaigns, options, DEFAULT_MAX_INPUT_BYTES)
}

/// [`check_args`] with inputs over `max_bytes` refused unread.
pub fn check_args_with(
    policy: &Policy,
    campaigns: &[String],
    options: Options,
    max_bytes: u64,
) -> (CheckRun, Vec<Campaign>) {
    let (sources, invalid, usage) = read_inputs_with(campaigns, max_bytes);
    let (mut run, loaded) = run_keeping(policy, sources, options);
    run.invalid.splice(0..0, invalid);
    run.usage = usage;
    (run, loaded)
}
