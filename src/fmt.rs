//! `scruple fmt`: rewrites policy files in canonical form, comments kept
//! (see docs/fmt.md). The formatting itself, and the check that it changes
//! nothing but layout, live in [`crate::syntax::format`]; this module finds
//! the files, writes them back or prints diffs, and picks the exit code.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::diag::Diag;
use crate::source::{Source, SourceFile};
use crate::syntax::format::format;

/// Exit codes of `scruple fmt`, for its `--help`.
pub const EXIT_HELP: &str = "\
Exit codes:
  0  every file is formatted (files that were not have been rewritten)
  1  with --check: some file is not formatted (its diff is on stdout)
  2  a file does not parse, cannot be read or written, or could not be
     formatted safely; such files are left as they are";

/// Arguments of `scruple fmt`.
#[derive(clap::Args, Debug, Default)]
pub struct FmtArgs {
    /// Policy files or directories (every `*.scruple` below them); `-` reads
    /// standard input and writes the formatted text to standard output
    /// (default: ./policies).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Write nothing: print a unified diff for each file that is not
    /// formatted, and exit 1 if there is one.
    #[arg(long)]
    pub check: bool,
}

/// What the command produced: the caller prints `diags`, then `stdout`,
/// then `stderr` (the summary after the diffs), and exits with `code`.
#[derive(Debug, Default)]
pub struct Executed {
    /// Formatted text (for `-`) or diffs (with `--check`).
    pub stdout: String,
    /// Which files were rewritten, or how many are not formatted.
    pub stderr: String,
    /// Read, parse and formatting errors.
    pub diags: Vec<Diag>,
    /// The exit code (0, 1 or 2).
    pub code: u8,
}

/// One thing to format.
enum Target {
    Stdin,
    File(PathBuf),
}

/// Runs `scruple fmt`; `stdin` is read when a path is `-`.
pub fn command(args: &FmtArgs, stdin: &mut dyn Read) -> Executed {
    let mut out = Executed::default();
    let targets = targets(&args.paths, &mut out.diags);
    let mut failed = !out.diags.is_empty();
    let mut unformatted = 0usize;
    for target in targets {
        let Some(source) = read(&target, stdin, &mut out.diags) else {
            failed = true;
            continue;
        };
        let formatted = match format(&source) {
            Ok(text) => text,
            Err(diags) => {
                out.diags.extend(diags);
                failed = true;
                continue;
            }
        };
        let changed = formatted != *source.text;
        match target {
            _ if args.check => {
                if changed {
                    unformatted += 1;
                    out.stdout
                        .push_str(&diff(&source.name, &source.text, &formatted));
                }
            }
            Target::Stdin => out.stdout.push_str(&formatted),
            Target::File(path) if changed => match write_in_place(&path, &formatted) {
                Ok(()) => out.stderr.push_str(&format!("formatted {}\n", source.name)),
                Err(err) => {
                    out.diags.push(
                        Diag::error(
                            "scruple::fmt::write",
                            format!("cannot write `{}`: {err}", source.name),
                        )
                        .with_help("the file is left as it was"),
                    );
                    failed = true;
                }
            },
            Target::File(_) => {}
        }
    }
    if unformatted > 0 {
        let files = if unformatted == 1 {
            "file is"
        } else {
            "files are"
        };
        out.stderr.push_str(&format!(
            "{unformatted} {files} not formatted; run `scruple fmt` to format\n"
        ));
    }
    out.code = if failed {
        2
    } else if unformatted > 0 {
        1
    } else {
        0
    };
    out
}

/// The files named (directories expanded, sorted), or `./policies`.
fn targets(paths: &[PathBuf], diags: &mut Vec<Diag>) -> Vec<Target> {
    let default = [PathBuf::from("policies")];
    let paths = if paths.is_empty() {
        if !default[0].is_dir() {
            diags.push(
                Diag::error("scruple::load::no_policies", "no policy files to format")
                    .with_help("name policy files or directories (`-` for standard input), or run where a `policies` directory is"),
            );
            return Vec::new();
        }
        &default[..]
    } else {
        paths
    };
    let mut targets = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            targets.push(Target::Stdin);
        } else if path.is_dir() {
            let mut found = Vec::new();
            collect(path, &mut found);
            found.sort();
            if found.is_empty() {
                diags.push(Diag::error(
                    "scruple::load::no_policies",
                    format!("no `.scruple` files in `{}`", path.display()),
                ));
            }
            targets.extend(found.into_iter().map(Target::File));
        } else {
            targets.push(Target::File(path.clone()));
        }
    }
    targets
}

/// Every `*.scruple` file below `dir`. Links to directories are not
/// followed, so a link cycle cannot make the walk endless.
fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            collect(&path, out);
        } else if path.is_file() && path.extension().is_some_and(|e| e == "scruple") {
            out.push(path);
        }
    }
}

/// Reads a target as UTF-8 text under its display name.
fn read(target: &Target, stdin: &mut dyn Read, diags: &mut Vec<Diag>) -> Option<Source> {
    let (name, bytes) = match target {
        Target::Stdin => {
            let mut bytes = Vec::new();
            (
                "<stdin>".to_string(),
                stdin.read_to_end(&mut bytes).map(|_| bytes),
            )
        }
        Target::File(path) => {
            let name = path.display().to_string();
            let name = name.strip_prefix("./").unwrap_or(&name).to_string();
            (name, std::fs::read(path))
        }
    };
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(err) => {
            diags.push(Diag::error(
                "scruple::load::unreadable",
                format!("cannot read `{name}`: {err}"),
            ));
            return None;
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => Some(SourceFile::new(name, text)),
        Err(err) => {
            let at = err.utf8_error().valid_up_to();
            diags.push(
                Diag::error(
                    "scruple::parse::encoding",
                    format!("`{name}` is not valid UTF-8 text (byte {at})"),
                )
                .with_help("save the policy file as UTF-8"),
            );
            None
        }
    }
}

/// A unified diff from the file as it is to its formatted text.
fn diff(name: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(name, &format!("{name} (formatted)"))
        .to_string()
}

/// Replaces a file's text through a temporary file in the same directory,
/// so an interrupted run leaves either the old text or the new one. A link
/// is followed: the file it points to is rewritten.
fn write_in_place(path: &Path, text: &str) -> std::io::Result<()> {
    let target = std::fs::canonicalize(path)?;
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = dir.join(format!(".{name}.scruple-fmt.tmp"));
    std::fs::write(&temporary, text)?;
    let permissions = std::fs::metadata(&target).map(|m| m.permissions());
    let renamed = permissions
        .and_then(|p| std::fs::set_permissions(&temporary, p))
        .and_then(|()| std::fs::rename(&temporary, &target));
    if renamed.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    renamed
}
