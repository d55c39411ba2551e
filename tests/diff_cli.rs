//! End-to-end tests of `scruple diff`: the real binary, run in a git
//! repository built by each test from `tests/fixtures/diff` (see the README
//! there for what changes between the two policy versions and the expected
//! impact on the six campaigns).
//!
//! The repository gets two commits: `v1/policies` with `campaigns/`, then
//! `v2/policies` in place of the policies. Commits use a fixed author and
//! date and git runs without the user's or the system's configuration, so
//! the tests behave the same on a clean CI machine; commit ids are redacted
//! from snapshots anyway. Campaigns are checked as of a fixed time.

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use assert_cmd::Command;
use serde_json::Value;

const FIXTURES: &str = "tests/fixtures/diff";
/// "Now" for campaign checks.
const AT: &str = "2026-11-01T12:00:00Z";

/// A scratch git repository under cargo's per-target temp dir, removed on drop.
struct Repo {
    dir: PathBuf,
}

impl Repo {
    /// An empty directory (no repository yet) for test `name`.
    fn empty(name: &str) -> Repo {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("diff-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the test directory");
        Repo { dir }
    }

    /// The fixture repository: v1 committed, then v2 committed.
    fn two_versions(name: &str) -> Repo {
        let repo = Repo::empty(name);
        repo.git(&["init", "--quiet"]);
        copy_dir(&fixture("v1/policies"), &repo.dir.join("policies"));
        copy_dir(&fixture("campaigns"), &repo.dir.join("campaigns"));
        repo.commit("v1: house 1.0.0, ads 2.0.0");
        std::fs::remove_dir_all(repo.dir.join("policies")).expect("remove v1");
        copy_dir(&fixture("v2/policies"), &repo.dir.join("policies"));
        repo.commit("v2: house 1.1.0, ads unchanged version");
        repo
    }

    fn git(&self, args: &[&str]) {
        let out = StdCommand::new("git")
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "commit.gpgsign=false",
            ])
            .args([
                "-c",
                "user.name=Scruple Tests",
                "-c",
                "user.email=tests@scruple.dev",
            ])
            .args(args)
            .current_dir(&self.dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_DATE", "2026-11-01T09:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-11-01T09:00:00Z")
            .env("GIT_CEILING_DIRECTORIES", env!("CARGO_TARGET_TMPDIR"))
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn commit(&self, message: &str) {
        self.git(&["add", "--all"]);
        self.git(&["commit", "--quiet", "-m", message]);
    }

    /// `scruple` in the repository.
    fn scruple(&self) -> Command {
        let mut cmd = Command::cargo_bin("scruple").expect("the scruple binary is built");
        cmd.current_dir(&self.dir)
            .env("COLUMNS", "100")
            .env("NO_COLOR", "1")
            .env_remove("CLICOLOR_FORCE")
            // Never find the crate's own repository above the scratch one.
            .env("GIT_CEILING_DIRECTORIES", env!("CARGO_TARGET_TMPDIR"));
        cmd
    }

    /// `scruple diff ARGS…` in the repository, ignoring any scruple.toml
    /// above it.
    fn diff(&self, args: &[&str]) -> Output {
        let mut cmd = self.scruple();
        cmd.args(["--no-config", "diff"]).args(args);
        run(cmd)
    }
}

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(FIXTURES)
        .join(rel)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create directory");
    for entry in std::fs::read_dir(from).expect("read fixture directory") {
        let entry = entry.expect("directory entry");
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).expect("copy fixture");
        }
    }
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(mut cmd: Command) -> Output {
    let out = cmd.output().expect("scruple runs");
    Output {
        code: out.status.code().expect("scruple exits with a code"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// The report without its first two lines (which name the sides).
fn body(text: &str) -> String {
    text.lines().skip(2).collect::<Vec<_>>().join("\n")
}

/// The text with short commit ids replaced, for snapshots.
fn redacted(text: &str) -> String {
    let sha = regex::Regex::new(r"\(commit [0-9a-f]{7}\)").expect("valid regex");
    sha.replace_all(text, "(commit [sha])").into_owned()
}

// ---------------------------------------------------------------- the diff

#[test]
fn revisions_diff_rule_by_rule() {
    let repo = Repo::two_versions("revisions");
    let out = repo.diff(&["HEAD~1", "HEAD"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "");
    let text = &out.stdout;
    assert!(text.starts_with("old: HEAD~1:policies (commit "), "{text}");
    assert!(text.contains("\nnew: HEAD:policies (commit "), "{text}");
    for line in [
        "Rules: 1 added, 1 removed, 3 changed",
        "  + house_min_age  [error, minimum_age, pack house]",
        "  - house_require_owner  [warning, require_field, pack house]",
        "      severity: warning → error (raised)",
        "      when: jurisdiction in [EU] → jurisdiction in [EU, UK]",
        "      cite: + \"GDPR Art. 9(2)(a)\"",
        "      checks: quiet hours from 21:00 to 08:00 → quiet hours from 20:00 to 08:00",
        "      when: message_type is marketing → message_type is marketing and jurisdiction in [US]",
        "  ~ health_data: + genetic_data, - fitness_tracking",
        "      used by: house_no_health_targeting",
        "      EU-AT: (none) → 14",
        "  ~ house: version 1.0.0 → 1.1.0",
        "  ! pack `ads` changed (1 rule) but its version is still \"2.0.0\" [scruple::diff::version_not_bumped]",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    // Moved, re-indented and commented, but the same rule.
    assert!(!text.contains("house_consent"), "{text}");
    // `house` was bumped: only `ads` is flagged.
    assert!(!text.contains("pack `house` changed"), "{text}");
    insta::assert_snapshot!(redacted(text));
}

#[test]
fn revision_path_and_directory_sides_agree() {
    let repo = Repo::two_versions("sides");
    let revisions = repo.diff(&["HEAD~1", "HEAD"]);
    let explicit = repo.diff(&["HEAD~1:policies", "policies"]);
    let bare_old = repo.diff(&["HEAD~1", "policies"]);
    let trailing_slash = repo.diff(&["HEAD~1:policies/", "HEAD:./policies"]);
    for out in [&revisions, &explicit, &bare_old, &trailing_slash] {
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    assert!(explicit.stdout.starts_with("old: HEAD~1:policies (commit "));
    assert!(explicit.stdout.contains("\nnew: policies\n"));
    // The same report, but for the name of the file the warning points at.
    let same = |out: &Output| body(&out.stdout).replace("HEAD:policies/", "policies/");
    assert_eq!(same(&explicit), same(&revisions));
    assert_eq!(same(&bare_old), same(&revisions));
    assert_eq!(same(&trailing_slash), same(&revisions));

    // Two directories on disk, no git involved: run from the crate root.
    let mut cmd = Command::cargo_bin("scruple").expect("the scruple binary is built");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["diff", "tests/fixtures/diff/v1/policies"])
        .arg("tests/fixtures/diff/v2/policies");
    let paths = run(cmd);
    assert_eq!(paths.code, 0, "{}", paths.stderr);
    assert!(paths.stdout.starts_with(
        "old: tests/fixtures/diff/v1/policies\nnew: tests/fixtures/diff/v2/policies\n"
    ));
    // Only the file named in the warning differs.
    assert_eq!(
        body(&paths.stdout).replace("tests/fixtures/diff/v2/policies/ads.scruple", "[ads]"),
        body(&revisions.stdout).replace("HEAD:policies/ads.scruple", "[ads]")
    );
}

#[test]
fn a_single_file_at_a_revision_brings_its_imports() {
    let repo = Repo::two_versions("single-file");
    let out = repo.diff(&["HEAD~1:policies/house.scruple", "HEAD"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out
        .stdout
        .starts_with("old: HEAD~1:policies/house.scruple (commit "));
    assert!(out
        .stdout
        .contains("\nnew: HEAD:policies/house.scruple (commit "));
    // The set comes from the imported library; `ads.scruple` is not loaded.
    assert!(out
        .stdout
        .contains("~ health_data: + genetic_data, - fitness_tracking"));
    assert!(!out.stdout.contains("ads_disclosure"), "{}", out.stdout);
    assert!(out.stdout.contains("Rules: 1 added, 1 removed, 2 changed"));
}

#[test]
fn identical_sides_and_exit_code_flag() {
    let repo = Repo::two_versions("exit-code");
    let same = repo.diff(&["HEAD", "policies", "--exit-code"]);
    assert_eq!(same.code, 0, "{}", same.stderr);
    assert!(
        same.stdout.contains("No semantic change"),
        "{}",
        same.stdout
    );

    let changed = repo.diff(&["HEAD~1", "HEAD", "--exit-code"]);
    assert_eq!(changed.code, 1, "{}", changed.stderr);
    let without_flag = repo.diff(&["HEAD~1", "HEAD"]);
    assert_eq!(without_flag.code, 0);
}

// ---------------------------------------------------------------- impact

#[test]
fn impact_on_campaigns_human() {
    let repo = Repo::two_versions("impact-human");
    let out = repo.diff(&["HEAD~1", "HEAD", "--campaigns", "campaigns", "--at", AT]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = &out.stdout;
    for line in [
        "Impact on 6 campaigns:",
        "  This change newly blocks 3 of 6 campaigns and unblocks 1.",
        "  newly blocked: campaigns/eu-health-promo.yaml (eu-health-promo), pass → fail",
        "    + house_no_health_targeting (error) at line 15: ",
        "    - house_no_health_targeting (warning) at line 15: ",
        "  newly blocked: campaigns/evening-flash-sale.yaml (evening-flash-sale), pass → fail",
        "  newly blocked: campaigns/uk-genetic-kit.yaml (uk-genetic-kit), pass → fail",
        "  unblocked: campaigns/eu-no-disclosure.yaml (eu-no-disclosure), fail → pass",
        "    - ads_disclosure (error) at line 24: Marketing messages must be labelled as advertising.",
        "  findings changed: campaigns/eu-fitness-tracker.yaml (eu-fitness-tracker), pass → pass",
        "    - house_require_owner (warning) at line 2: The campaign names no owner.",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    assert!(!text.contains("us-clean"), "{text}");
    insta::assert_snapshot!(redacted(text));
}

#[test]
fn impact_with_deny_warnings_counts_warnings_as_blocking() {
    let repo = Repo::two_versions("impact-deny");
    let out = repo.diff(&[
        "HEAD~1",
        "HEAD",
        "--campaigns",
        "campaigns/*.yaml",
        "--at",
        AT,
        "--deny-warnings",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // eu-health-promo already failed on its warning; eu-fitness-tracker's
    // two warnings go away, so it is unblocked. v1 has rules for the EU
    // only, so the US and UK campaigns already failed on the warning that
    // no loaded policy covers their jurisdiction; v2 covers both, which
    // unblocks us-clean.
    assert!(
        out.stdout
            .contains("This change newly blocks 0 of 6 campaigns and unblocks 3."),
        "{}",
        out.stdout
    );
    assert!(out
        .stdout
        .contains("  unblocked: campaigns/us-clean.yaml (us-clean), fail → pass"));
    assert!(out.stdout.contains(
        "  unblocked: campaigns/eu-fitness-tracker.yaml (eu-fitness-tracker), fail → pass"
    ));
}

#[test]
fn impact_applies_the_project_configuration() {
    let repo = Repo::two_versions("impact-config");
    std::fs::write(
        repo.dir.join("scruple.toml"),
        "[rules.house_quiet_hours]\ndisabled = true\nreason = \"We never send in the evening.\"\n\n\
         [rules.house_require_owner]\nseverity = \"error\"\n",
    )
    .expect("write scruple.toml");
    let mut cmd = repo.scruple();
    cmd.args([
        "diff",
        "HEAD~1",
        "HEAD",
        "--campaigns",
        "campaigns",
        "--at",
        AT,
    ]);
    let out = run(cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The policy diff is of the policies as written.
    assert!(out.stdout.contains("  ~ house_quiet_hours  [pack house]"));
    // The impact is what `scruple check` would say in this project: the
    // evening send stays allowed, and the missing owner (an error here)
    // blocked eu-fitness-tracker before.
    assert!(out
        .stdout
        .contains("This change newly blocks 2 of 6 campaigns and unblocks 2."));
    assert!(!out.stdout.contains("evening-flash-sale"), "{}", out.stdout);
    assert!(out.stdout.contains(
        "  unblocked: campaigns/eu-fitness-tracker.yaml (eu-fitness-tracker), fail → pass"
    ));
}

#[test]
fn json_output() {
    let repo = Repo::two_versions("json");
    let out = repo.diff(&[
        "HEAD~1",
        "HEAD",
        "--format",
        "json",
        "--campaigns",
        "campaigns/*.yaml",
        "--at",
        AT,
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut doc: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", out.stdout));
    assert_eq!(doc["schema"], "scruple.diff/v1");
    assert_eq!(doc["changed"], true);
    assert_eq!(doc["old"]["label"], "HEAD~1:policies");
    assert_eq!(doc["new"]["label"], "HEAD:policies");
    assert_eq!(doc["old"]["commit"].as_str().map(str::len), Some(40));
    assert_eq!(
        doc["summary"]["rules"],
        serde_json::json!({"added": 1, "removed": 1, "changed": 3})
    );
    let rule = |id: &str| -> Value {
        doc["rules"]
            .as_array()
            .and_then(|rules| rules.iter().find(|r| r["id"] == id))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let health = rule("house_no_health_targeting");
    assert_eq!(health["change"], "changed");
    assert_eq!(
        health["fields"][0],
        serde_json::json!({"field": "severity", "old": "warning", "new": "error"})
    );
    assert_eq!(
        health["fields"][2],
        serde_json::json!({"field": "citations", "added": ["GDPR Art. 9(2)(a)"], "removed": []})
    );
    assert_eq!(rule("house_min_age")["change"], "added");
    assert_eq!(rule("house_require_owner")["change"], "removed");
    assert_eq!(rule("house_consent"), Value::Null);
    assert_eq!(
        doc["warnings"][0]["code"],
        "scruple::diff::version_not_bumped"
    );
    assert_eq!(doc["warnings"][0]["pack"], "ads");
    assert_eq!(doc["warnings"].as_array().map(Vec::len), Some(1));
    assert_eq!(doc["impact"]["campaigns"], 6);
    assert_eq!(doc["impact"]["newly_blocked"], 3);
    assert_eq!(doc["impact"]["unblocked"], 1);
    assert_eq!(doc["impact"]["findings_changed"], 1);
    assert_eq!(
        doc["impact"]["headline"],
        "This change newly blocks 3 of 6 campaigns and unblocks 1."
    );

    doc["tool"]["version"] = Value::from("[version]");
    for side in ["old", "new"] {
        doc[side]["commit"] = Value::from("[sha]");
    }
    insta::assert_json_snapshot!(doc);
}

#[test]
fn markdown_output() {
    let repo = Repo::two_versions("markdown");
    let out = repo.diff(&[
        "HEAD~1",
        "HEAD",
        "--format",
        "markdown",
        "--campaigns",
        "campaigns",
        "--at",
        AT,
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = &out.stdout;
    assert!(
        text.starts_with("<!-- scruple-diff -->\n## Policy diff\n"),
        "{text}"
    );
    assert!(text.contains("**This change newly blocks 3 of 6 campaigns and unblocks 1.**"));
    assert!(text
        .contains("> [!WARNING]\n> Pack `ads` changed (1 rule) but its version is still `2.0.0`"));
    assert!(text.contains("| Rules | 1 | 1 | 3 |"));
    insta::assert_snapshot!(redacted(text));
}

// ---------------------------------------------------------------- errors

#[test]
fn a_bad_revision_is_an_input_error() {
    let repo = Repo::two_versions("bad-rev");
    let out = repo.diff(&["no-such-branch", "HEAD"]);
    assert_eq!(out.code, 2);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("scruple::diff::bad_revision"),
        "{}",
        out.stderr
    );
    assert!(out
        .stderr
        .contains("`no-such-branch` is neither an existing path nor a git revision"));

    let missing = repo.diff(&["HEAD~1:nowhere", "HEAD:policies"]);
    assert_eq!(missing.code, 2);
    assert!(missing
        .stderr
        .contains("`nowhere` does not exist at revision `HEAD~1`"));

    let too_far = repo.diff(&["HEAD~7", "HEAD"]);
    assert_eq!(too_far.code, 2);
    assert!(
        too_far.stderr.contains("`HEAD~7` is neither"),
        "{}",
        too_far.stderr
    );
}

#[test]
fn outside_a_repository_a_revision_cannot_be_read() {
    let dir = Repo::empty("no-repo");
    let out = dir.diff(&["HEAD~1", "HEAD"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("scruple::diff::bad_side"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("this is not a git repository"));
}

#[test]
fn an_invalid_campaign_is_an_input_error_but_the_report_is_printed() {
    let repo = Repo::two_versions("bad-campaign");
    std::fs::write(repo.dir.join("campaigns/broken.yaml"), "id: [unclosed\n")
        .expect("write the broken campaign");
    let out = repo.diff(&["HEAD~1", "HEAD", "--campaigns", "campaigns", "--at", AT]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("campaigns/broken.yaml"),
        "{}",
        out.stderr
    );
    assert!(out
        .stdout
        .contains("This change newly blocks 3 of 6 campaigns and unblocks 1."));
    assert!(out
        .stdout
        .contains("  1 input could not be loaded (see the errors above)"));
}

#[test]
fn a_policy_that_does_not_compile_is_an_input_error() {
    let repo = Repo::two_versions("broken");
    std::fs::write(
        repo.dir.join("policies/broken.scruple"),
        "rule broken {\n  severity error\n  require\n}\n",
    )
    .expect("write the broken policy");
    repo.commit("v3: broken");
    let out = repo.diff(&["HEAD~1", "HEAD"]);
    assert_eq!(out.code, 2);
    assert_eq!(out.stdout, "");
    // Files of a revision are named `REV:path`.
    assert!(
        out.stderr.contains("╭─[HEAD:policies/broken.scruple:4:1]"),
        "{}",
        out.stderr
    );
    assert!(out
        .stderr
        .contains("the new policy (`HEAD:policies`) does not compile"));
    insta::assert_snapshot!(out.stderr);
}
