//! The two sides of `scruple diff`: each is a path on disk or a git revision
//! (`HEAD~1`, `main`, `v1.2.0:policies/`), turned into policy [`Inputs`].
//!
//! Revisions are read with the `git` command (`rev-parse`, `ls-tree`,
//! `cat-file`) into an in-memory tree, so nothing is checked out and
//! diagnostics name files as `REV:path/file.scruple`.

use std::path::{Component, Path};
use std::process::Command;
use std::sync::Arc;

use crate::compile::load::MemoryTree;
use crate::compile::Inputs;
use crate::diag::Diag;

/// The policy directory used for a bare revision when the other side names
/// no path.
pub const DEFAULT_POLICY_DIR: &str = "policies";

/// One side of a diff, ready to compile.
#[derive(Debug)]
pub struct Side {
    /// The argument as given.
    pub spec: String,
    /// What the side is called in reports: the path, or `REV:path`.
    pub label: String,
    /// The commit a revision resolved to (`None` for a path).
    pub commit: Option<String>,
    /// The policy files.
    pub inputs: Inputs,
}

/// A side as written, before git is asked anything.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Spec {
    /// An existing file or directory.
    Path(String),
    /// A revision, with a path in it when written `REV:path`.
    Rev { rev: String, path: Option<GitPath> },
}

/// A path inside a revision.
#[derive(Debug, Clone, PartialEq, Eq)]
enum GitPath {
    /// Relative to the repository root (`REV:path`, as git reads it).
    Root(String),
    /// Relative to the working directory (`REV:./path`, or a path borrowed
    /// from the other side, or the default `policies`).
    Cwd(String),
}

fn parse_spec(arg: &str) -> Spec {
    if Path::new(arg).exists() {
        return Spec::Path(arg.to_string());
    }
    match arg.split_once(':') {
        Some((rev, path)) => {
            let path = if path.starts_with("./") || path.starts_with("../") || path == "." {
                GitPath::Cwd(path.to_string())
            } else {
                GitPath::Root(path.to_string())
            };
            Spec::Rev {
                rev: rev.to_string(),
                path: Some(path),
            }
        }
        None => Spec::Rev {
            rev: arg.to_string(),
            path: None,
        },
    }
}

/// Resolves both sides. A bare revision takes its path from the other side
/// (the other side's path, or the path in its `REV:path`), else `policies`.
pub fn resolve(old: &str, new: &str) -> Result<(Side, Side), Vec<Diag>> {
    let specs = [parse_spec(old), parse_spec(new)];
    let borrowed = |other: &Spec| match other {
        Spec::Path(p) => GitPath::Cwd(p.clone()),
        Spec::Rev {
            path: Some(path), ..
        } => path.clone(),
        Spec::Rev { path: None, .. } => GitPath::Cwd(DEFAULT_POLICY_DIR.into()),
    };
    let mut repo: Option<Repo> = None;
    let mut sides = Vec::new();
    let mut diags = Vec::new();
    for (i, (arg, spec)) in [old, new].into_iter().zip(&specs).enumerate() {
        let (rev, path) = match spec {
            Spec::Path(path) => {
                sides.push(path_side(arg, path));
                continue;
            }
            Spec::Rev { rev, path } => {
                (rev, path.clone().unwrap_or_else(|| borrowed(&specs[1 - i])))
            }
        };
        if repo.is_none() {
            match Repo::discover(arg) {
                Ok(found) => repo = Some(found),
                Err(diag) => {
                    diags.push(*diag);
                    continue;
                }
            }
        }
        let Some(found) = &repo else { continue };
        match found.side(arg, rev, &path) {
            Ok(side) => sides.push(side),
            // A bare revision borrowing the other side's bad path fails the
            // same way: say it once.
            Err(diag) if diags.iter().any(|d| d.message == diag.message) => {}
            Err(diag) => diags.push(*diag),
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    let new_side = sides.pop();
    let old_side = sides.pop();
    match (old_side, new_side) {
        (Some(o), Some(n)) => Ok((o, n)),
        _ => Err(Vec::new()),
    }
}

fn path_side(arg: &str, path: &str) -> Side {
    let mut inputs = Inputs::default();
    inputs.add_path(Path::new(path));
    Side {
        spec: arg.to_string(),
        label: path.to_string(),
        commit: None,
        inputs,
    }
}

/// The repository around the working directory.
#[derive(Debug)]
struct Repo {
    /// Absolute path of the work tree's top level.
    toplevel: String,
    /// The working directory relative to the top level (`sub/dir/` or empty).
    prefix: String,
}

/// A file entry of `git ls-tree`.
struct Entry {
    mode: String,
    kind: String,
    oid: String,
    path: String,
}

impl Repo {
    fn discover(arg: &str) -> Result<Repo, Box<Diag>> {
        let not_a_repo = |detail: String| {
            Box::new(
                Diag::error(
                    "scruple::diff::bad_side",
                    format!("`{arg}` is not an existing path, and this is not a git repository, so it cannot be a revision"),
                )
                .with_help("give a policy file or directory, or run scruple inside a git repository to compare revisions (`HEAD~1`, `main`, `v1.2.0:policies/`)")
                .with_note(detail),
            )
        };
        let out = git(None, &["rev-parse", "--show-toplevel", "--show-prefix"])
            .map_err(|e| not_a_repo(e.trim().to_string()))?;
        let mut lines = out.lines();
        let toplevel = lines.next().unwrap_or_default().to_string();
        let prefix = lines.next().unwrap_or_default().to_string();
        if toplevel.is_empty() {
            return Err(not_a_repo("git printed no top-level directory".into()));
        }
        Ok(Repo { toplevel, prefix })
    }

    /// Reads the policy files at `rev:path`.
    fn side(&self, arg: &str, rev: &str, path: &GitPath) -> Result<Side, Box<Diag>> {
        let commit = self.commit(arg, rev)?;
        let path = self.root_relative(arg, path)?;
        let shown_rev = rev;
        let label = if path.is_empty() {
            format!("{shown_rev}:")
        } else {
            format!("{shown_rev}:{path}")
        };
        let (dir, roots) = if path.is_empty() {
            (String::new(), None)
        } else {
            let entry = self.ls_tree(&commit, &path, false)?;
            match entry.into_iter().find(|e| e.path == path) {
                Some(e) if e.kind == "tree" => (path.clone(), None),
                Some(_) => match path.rsplit_once('/') {
                    Some((parent, name)) => (parent.to_string(), Some(vec![name.to_string()])),
                    None => (String::new(), Some(vec![path.clone()])),
                },
                None => {
                    return Err(Box::new(
                        Diag::error(
                            "scruple::diff::not_in_revision",
                            format!("`{path}` does not exist at revision `{shown_rev}`"),
                        )
                        .with_help(format!(
                            "check the path with `git ls-tree {shown_rev} -- {path}`; in `REV:path` the path is relative to the repository root (write `REV:./path` for one relative to the current directory)"
                        )),
                    ))
                }
            }
        };
        let mut tree = MemoryTree {
            prefix: if dir.is_empty() {
                format!("{shown_rev}:")
            } else {
                format!("{shown_rev}:{dir}/")
            },
            ..MemoryTree::default()
        };
        for entry in self.ls_tree(&commit, &dir, true)? {
            // Regular files only: a symlink's blob is its target, not policy text.
            if entry.kind != "blob" || !entry.mode.starts_with("100") {
                continue;
            }
            let logical = if dir.is_empty() {
                entry.path.as_str()
            } else {
                match entry.path.strip_prefix(&format!("{dir}/")) {
                    Some(rest) => rest,
                    None => continue,
                }
            };
            let wanted = match &roots {
                Some(names) => names.iter().any(|n| n == logical) || logical.ends_with(".scruple"),
                None => logical.ends_with(".scruple"),
            };
            if !wanted {
                continue;
            }
            let text = self.blob(&entry.oid, &format!("{}{logical}", tree.prefix))?;
            tree.files.insert(logical.to_string(), text);
        }
        let roots = roots.unwrap_or_else(|| {
            tree.files
                .keys()
                .filter(|k| k.ends_with(".scruple"))
                .cloned()
                .collect()
        });
        if roots.is_empty() {
            return Err(Box::new(
                Diag::error(
                    "scruple::diff::no_policies",
                    format!("no `.scruple` files in `{label}`"),
                )
                .with_help("name the policy directory in the revision, as in `v1.2.0:policies/`"),
            ));
        }
        let tree = Arc::new(tree);
        let mut inputs = Inputs::default();
        inputs.add_memory(&tree, &roots);
        Ok(Side {
            spec: arg.to_string(),
            label,
            commit: Some(commit),
            inputs,
        })
    }

    /// The full commit id `rev` names.
    fn commit(&self, arg: &str, rev: &str) -> Result<String, Box<Diag>> {
        let bad = |detail: Option<String>| {
            let mut diag = Diag::error(
                "scruple::diff::bad_revision",
                format!("`{arg}` is neither an existing path nor a git revision"),
            )
            .with_help("give a policy file or directory, or a revision such as `HEAD~1`, `main` or `v1.2.0:policies/`");
            if let Some(detail) = detail.filter(|d| !d.is_empty()) {
                diag = diag.with_note(detail);
            }
            Box::new(diag)
        };
        if rev.is_empty() {
            return Err(Box::new(
                Diag::error(
                    "scruple::diff::bad_revision",
                    format!("`{arg}` names no revision before the `:`"),
                )
                .with_help("write `REV:path`, as in `HEAD~1:policies` (the git index, `:path`, is not supported)"),
            ));
        }
        if rev.starts_with('-') {
            return Err(bad(None));
        }
        let spec = format!("{rev}^{{commit}}");
        match git(
            Some(&self.toplevel),
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                "--end-of-options",
                &spec,
            ],
        ) {
            Ok(out) => {
                let id = out.trim().to_string();
                if id.is_empty() {
                    Err(bad(None))
                } else {
                    Ok(id)
                }
            }
            Err(detail) => Err(bad(Some(detail.trim().to_string()))),
        }
    }

    /// Turns a path inside a revision into one relative to the repository
    /// root, refusing paths that leave the repository.
    fn root_relative(&self, arg: &str, path: &GitPath) -> Result<String, Box<Diag>> {
        let outside = || {
            Box::new(
                Diag::error(
                    "scruple::diff::outside_repository",
                    format!("the path of `{arg}` is outside the git repository"),
                )
                .with_help("compare policy directories inside the repository"),
            )
        };
        let joined = match path {
            GitPath::Root(p) => p.clone(),
            GitPath::Cwd(p) if Path::new(p).is_absolute() => {
                let absolute = Path::new(p).canonicalize().map_err(|_| outside())?;
                let top = Path::new(&self.toplevel)
                    .canonicalize()
                    .map_err(|_| outside())?;
                let rel = absolute.strip_prefix(&top).map_err(|_| outside())?;
                rel.to_string_lossy().into_owned()
            }
            GitPath::Cwd(p) => format!("{}{p}", self.prefix),
        };
        let mut parts: Vec<String> = Vec::new();
        for component in Path::new(&joined).components() {
            match component {
                Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
                Component::CurDir => {}
                Component::ParentDir => {
                    if parts.pop().is_none() {
                        return Err(outside());
                    }
                }
                Component::RootDir | Component::Prefix(_) => return Err(outside()),
            }
        }
        Ok(parts.join("/"))
    }

    /// `git ls-tree` of `path` (the whole tree when empty) at `commit`.
    fn ls_tree(&self, commit: &str, path: &str, recursive: bool) -> Result<Vec<Entry>, Box<Diag>> {
        let mut args = vec!["ls-tree", "-z"];
        if recursive {
            args.push("-r");
        }
        args.extend(["--full-tree", commit, "--"]);
        if !path.is_empty() {
            args.push(path);
        }
        let out = git(Some(&self.toplevel), &args).map_err(|e| git_failed(&args, &e))?;
        Ok(out
            .split('\0')
            .filter_map(|record| {
                let (meta, path) = record.split_once('\t')?;
                let mut meta = meta.split(' ');
                Some(Entry {
                    mode: meta.next()?.to_string(),
                    kind: meta.next()?.to_string(),
                    oid: meta.next()?.to_string(),
                    path: path.to_string(),
                })
            })
            .collect())
    }

    /// A blob's text; `name` is how the file is shown.
    fn blob(&self, oid: &str, name: &str) -> Result<String, Box<Diag>> {
        let args = ["cat-file", "blob", oid];
        let bytes = git_bytes(Some(&self.toplevel), &args).map_err(|e| git_failed(&args, &e))?;
        String::from_utf8(bytes).map_err(|_| {
            Box::new(
                Diag::error(
                    "scruple::parse::encoding",
                    format!("`{name}` is not valid UTF-8 text"),
                )
                .with_help("save the policy file as UTF-8"),
            )
        })
    }
}

fn git_failed(args: &[&str], detail: &str) -> Box<Diag> {
    Box::new(
        Diag::error(
            "scruple::diff::git_failed",
            format!("`git {}` failed", args.join(" ")),
        )
        .with_note(detail.trim().to_string()),
    )
}

/// Runs git; stdout on success, stderr (or the spawn error) on failure.
fn git(dir: Option<&str>, args: &[&str]) -> Result<String, String> {
    git_bytes(dir, args).map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn git_bytes(dir: Option<&str>, args: &[&str]) -> Result<Vec<u8>, String> {
    let mut command = Command::new("git");
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    match command.args(args).output() {
        Ok(out) if out.status.success() => Ok(out.stdout),
        Ok(out) => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
        Err(err) => Err(format!("cannot run git: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_split_revision_and_path_like_git() {
        assert_eq!(
            parse_spec("no-such-rev-xyz"),
            Spec::Rev {
                rev: "no-such-rev-xyz".into(),
                path: None
            }
        );
        assert_eq!(
            parse_spec("v1.2.0:policies/"),
            Spec::Rev {
                rev: "v1.2.0".into(),
                path: Some(GitPath::Root("policies/".into()))
            }
        );
        assert_eq!(
            parse_spec("main:./policies"),
            Spec::Rev {
                rev: "main".into(),
                path: Some(GitPath::Cwd("./policies".into()))
            }
        );
        assert_eq!(parse_spec("src"), Spec::Path("src".into()));
    }
}
