//! End-to-end tests of `scruple fmt`: the real binary on the fixtures in
//! `tests/fixtures/fmt` (`unformatted.scruple`, and `formatted.scruple`, its
//! reviewed canonical form), copied into temporary directories wherever a
//! file may be rewritten. Each test asserts the exit code, what was written
//! and where; diffs and messages are snapshotted.

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

const DIR: &str = "tests/fixtures/fmt";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{DIR}/{name}")).expect("fixture")
}

/// `scruple fmt ARGS…` run in `dir`, without colour, at 100 columns.
fn fmt_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::cargo_bin("scruple").expect("the scruple binary is built");
    cmd.current_dir(dir)
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .arg("fmt")
        .args(args);
    if let Some(text) = stdin {
        cmd.write_stdin(text);
    }
    cmd.output().expect("scruple runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A temporary directory holding the named fixtures under the given paths.
fn workspace(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (path, fixture_name) in files {
        let target = dir.path().join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).expect("create directories");
        }
        std::fs::write(&target, fixture(fixture_name)).expect("write fixture");
    }
    dir
}

fn read(dir: &tempfile::TempDir, path: &str) -> String {
    std::fs::read_to_string(dir.path().join(path)).expect("read back")
}

/// The reviewed canonical form is what fmt makes of the unformatted fixture,
/// and is itself formatted.
#[test]
fn formatted_fixture_is_the_canonical_form() {
    let out = fmt_in(
        Path::new("."),
        &["-"],
        Some(&fixture("unformatted.scruple")),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), fixture("formatted.scruple"));
    let out = fmt_in(
        Path::new("."),
        &["--check", &format!("{DIR}/formatted.scruple")],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn rewrites_a_file_in_place_and_only_once() {
    let dir = workspace(&[("house.scruple", "unformatted.scruple")]);
    let out = fmt_in(dir.path(), &["house.scruple"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "formatted house.scruple\n");
    assert_eq!(stdout(&out), "");
    assert_eq!(read(&dir, "house.scruple"), fixture("formatted.scruple"));
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["house.scruple"]);

    // Formatted already: nothing to say, nothing written.
    let modified = std::fs::metadata(dir.path().join("house.scruple"))
        .and_then(|m| m.modified())
        .expect("mtime");
    let out = fmt_in(dir.path(), &["house.scruple"], None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "");
    let again = std::fs::metadata(dir.path().join("house.scruple"))
        .and_then(|m| m.modified())
        .expect("mtime");
    assert_eq!(modified, again, "an unchanged file is not rewritten");
}

#[test]
fn check_passes_on_formatted_files() {
    let dir = workspace(&[("house.scruple", "formatted.scruple")]);
    let out = fmt_in(dir.path(), &["--check", "house.scruple"], None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "");
}

#[test]
fn check_prints_a_diff_and_writes_nothing() {
    let dir = workspace(&[("house.scruple", "unformatted.scruple")]);
    let out = fmt_in(dir.path(), &["--check", "house.scruple"], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "1 file is not formatted; run `scruple fmt` to format\n"
    );
    assert_eq!(read(&dir, "house.scruple"), fixture("unformatted.scruple"));
    insta::assert_snapshot!("check_diff", stdout(&out));
}

#[test]
fn stdin_to_stdout() {
    let out = fmt_in(
        Path::new("."),
        &["-"],
        Some("rule r { minimum age 3 severity info } # why\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    insta::assert_snapshot!(stdout(&out), @r"
    rule r {
      severity info
      minimum age 3
    }  # why
    ");
}

#[test]
fn stdin_with_check_diffs_against_stdin() {
    let out = fmt_in(
        Path::new("."),
        &["--check", "-"],
        Some("rule r { minimum age 3 }\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&out), @r"
    --- <stdin>
    +++ <stdin> (formatted)
    @@ -1 +1,3 @@
    -rule r { minimum age 3 }
    +rule r {
    +  minimum age 3
    +}
    ");
    let out = fmt_in(
        Path::new("."),
        &["--check", "-"],
        Some("rule r {\n  minimum age 3\n}\n"),
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "");
}

#[test]
fn a_syntax_error_is_reported_and_the_file_left_alone() {
    let dir = workspace(&[("broken.scruple", "syntax_error.scruple")]);
    let out = fmt_in(dir.path(), &["broken.scruple"], None);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        read(&dir, "broken.scruple"),
        fixture("syntax_error.scruple")
    );
    insta::assert_snapshot!("syntax_error", stderr(&out));
}

#[test]
fn an_error_found_when_lowering_also_stops_formatting() {
    let dir = workspace(&[("twice.scruple", "two_constraints.scruple")]);
    let out = fmt_in(dir.path(), &["--check", "twice.scruple"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("scruple::parse::two_constraints"));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        read(&dir, "twice.scruple"),
        fixture("two_constraints.scruple")
    );
}

#[test]
fn a_directory_is_formatted_file_by_file() {
    let dir = workspace(&[
        ("policies/b.scruple", "unformatted.scruple"),
        ("policies/a.scruple", "formatted.scruple"),
        ("policies/sub/c.scruple", "unformatted.scruple"),
        ("policies/tests/not-a-policy.yaml", "unformatted.scruple"),
    ]);
    let out = fmt_in(dir.path(), &["--check", "policies"], None);
    assert_eq!(out.status.code(), Some(1));
    let diffs = stdout(&out);
    assert!(diffs.starts_with("--- policies/b.scruple\n"), "{diffs}");
    assert!(diffs.contains("\n--- policies/sub/c.scruple\n"), "{diffs}");
    assert!(!diffs.contains("a.scruple"), "{diffs}");
    assert_eq!(
        stderr(&out),
        "2 files are not formatted; run `scruple fmt` to format\n"
    );

    // Without a path: ./policies.
    let out = fmt_in(dir.path(), &[], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "formatted policies/b.scruple\nformatted policies/sub/c.scruple\n"
    );
    for path in [
        "policies/a.scruple",
        "policies/b.scruple",
        "policies/sub/c.scruple",
    ] {
        assert_eq!(read(&dir, path), fixture("formatted.scruple"), "{path}");
    }
    assert_eq!(
        read(&dir, "policies/tests/not-a-policy.yaml"),
        fixture("unformatted.scruple")
    );
    let out = fmt_in(dir.path(), &["--check"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn one_bad_file_does_not_stop_the_others() {
    let dir = workspace(&[
        ("policies/a_broken.scruple", "syntax_error.scruple"),
        ("policies/b.scruple", "unformatted.scruple"),
    ]);
    let out = fmt_in(dir.path(), &["policies"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("scruple::parse::syntax"));
    assert!(stderr(&out).ends_with("formatted policies/b.scruple\n"));
    assert_eq!(
        read(&dir, "policies/b.scruple"),
        fixture("formatted.scruple")
    );
    assert_eq!(
        read(&dir, "policies/a_broken.scruple"),
        fixture("syntax_error.scruple")
    );
}

#[test]
fn missing_inputs_are_input_errors() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = fmt_in(dir.path(), &[], None);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(stderr(&out), @r"
    scruple::load::no_policies

      × no policy files to format
      help: name policy files or directories (`-` for standard input), or run where a `policies`
            directory is
    ");
    let out = fmt_in(dir.path(), &["nowhere.scruple"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read `nowhere.scruple`"),
        "{}",
        stderr(&out)
    );
    std::fs::create_dir(dir.path().join("empty")).expect("mkdir");
    let out = fmt_in(dir.path(), &["empty"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no `.scruple` files in `empty`"));
}

#[test]
fn the_shipped_packs_are_formatted() {
    let out = fmt_in(Path::new("."), &["--check", "policies"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}
