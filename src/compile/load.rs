//! Finding and reading policy files: paths on disk or the packs built into
//! the binary, following `import`s without ever leaving the policy root.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::diag::{Diag, Label};
use crate::source::{
    read_capped, too_large, ReadError, Source, SourceFile, Span, DEFAULT_MAX_INPUT_BYTES,
};
use crate::syntax::ast::{Item, PolicyFile};
use crate::syntax::parse;

/// Where policy files come from.
#[derive(Clone, Debug)]
pub enum Origin {
    /// A directory on disk; logical paths are relative to it.
    Disk(PathBuf),
    /// The packs compiled into the binary.
    Builtin,
    /// Files held in memory, such as a policy directory read from a git
    /// revision by `scruple diff`.
    Memory(Arc<MemoryTree>),
}

/// Policy files held in memory: logical path (relative to the tree's root,
/// `/`-separated) → text. Each file is shown as `prefix` + its logical path,
/// e.g. `HEAD~1:policies/gdpr.scruple`.
#[derive(Debug, Default)]
pub struct MemoryTree {
    /// Prepended to logical paths to make display names.
    pub prefix: String,
    /// The files by logical path.
    pub files: BTreeMap<String, String>,
}

/// The packs shipped in `policies/` as (logical path, text), compiled into
/// the binary by `build.rs` so scruple works with no policy directory at hand.
pub const BUILTIN_FILES: &[(&str, &str)] =
    include!(concat!(env!("OUT_DIR"), "/builtin_policies.rs"));

/// Names of the shipped packs (top-level files of `policies/`).
pub fn builtin_pack_names() -> Vec<&'static str> {
    BUILTIN_FILES
        .iter()
        .filter(|(path, _)| !path.contains('/'))
        .filter_map(|(path, _)| path.strip_suffix(".scruple"))
        .collect()
}

/// One loaded file: its logical path and AST (absent when it did not parse).
#[derive(Debug)]
pub struct LoadedFile {
    /// Path relative to the policy root, with `/` separators.
    pub logical: String,
    /// The source text.
    pub source: Source,
    /// The AST, if the file parsed.
    pub ast: Option<PolicyFile>,
    /// Resolved imports: (index of the imported file, span of the import).
    pub imports: Vec<(usize, Span)>,
    /// True if the user named this file (directly or through a directory).
    pub root: bool,
}

/// Every file reached, and every problem met on the way.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Files in load order (roots first, then imports breadth-first).
    pub files: Vec<LoadedFile>,
    /// Read, parse and import diagnostics.
    pub diags: Vec<Diag>,
}

/// A set of policy inputs to load together.
#[derive(Debug, Default)]
pub struct Inputs {
    roots: Vec<(Origin, String)>,
    diags: Vec<Diag>,
    /// Files over this many bytes are refused unread (default 16 MiB).
    max_bytes: Option<u64>,
}

impl Inputs {
    /// Refuses policy files over `max_bytes` without reading them whole.
    pub fn set_max_input_bytes(&mut self, max_bytes: u64) {
        self.max_bytes = Some(max_bytes);
    }

    /// Adds a file or a directory (every `*.scruple` below it) from disk.
    pub fn add_path(&mut self, path: &Path) {
        if path.is_dir() {
            let mut found = Vec::new();
            let refused = self.diags.len();
            collect_scruple_files(path, &mut found, &mut self.diags);
            found.sort();
            if found.is_empty() && self.diags.len() == refused {
                self.diags.push(
                    Diag::error(
                        "scruple::load::no_policies",
                        format!("no `.scruple` files in `{}`", path.display()),
                    )
                    .with_help(
                        "give a directory of policy files or a single `.scruple` file (with `--policy` for commands that take campaigns)",
                    ),
                );
            }
            for logical in found {
                self.roots.push((Origin::Disk(path.to_path_buf()), logical));
            }
        } else {
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            self.roots.push((Origin::Disk(dir), name));
        }
    }

    /// Adds shipped packs by name (all of them when `names` is empty).
    pub fn add_builtin(&mut self, names: &[String]) {
        let known = builtin_pack_names();
        if names.is_empty() {
            for name in known {
                self.roots
                    .push((Origin::Builtin, format!("{name}.scruple")));
            }
            return;
        }
        for name in names {
            if known.contains(&name.as_str()) {
                self.roots
                    .push((Origin::Builtin, format!("{name}.scruple")));
            } else {
                let help = match crate::diag::did_you_mean(name, known.iter().copied()) {
                    Some(near) => {
                        format!("did you mean `{near}`? shipped packs: {}", known.join(", "))
                    }
                    None => format!("shipped packs: {}", known.join(", ")),
                };
                self.diags.push(
                    Diag::error(
                        "scruple::load::unknown_pack",
                        format!("no shipped pack is called `{name}`"),
                    )
                    .with_help(help),
                );
            }
        }
    }

    /// Adds files of an in-memory tree as roots; imports are resolved within
    /// the tree.
    pub fn add_memory(&mut self, tree: &Arc<MemoryTree>, roots: &[String]) {
        for logical in roots {
            self.roots
                .push((Origin::Memory(Arc::clone(tree)), logical.clone()));
        }
    }

    /// Reads and parses every input and everything it imports.
    pub fn load(self) -> Loaded {
        let max_bytes = self.max_bytes.unwrap_or(DEFAULT_MAX_INPUT_BYTES);
        let mut loaded = Loaded {
            files: Vec::new(),
            diags: self.diags,
        };
        // file key (see `file_key`) → index in `files`
        let mut index: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut origins: Vec<Origin> = Vec::new();
        let mut queue: Vec<(Origin, String, bool)> =
            self.roots.into_iter().map(|(o, l)| (o, l, true)).collect();
        let mut next = 0;
        while next < queue.len() {
            let (origin, logical, root) = queue[next].clone();
            next += 1;
            let key = file_key(&origin, &logical);
            if let Some(&i) = index.get(&key) {
                loaded.files[i].root |= root;
                continue;
            }
            let Some(source) = read(&origin, &logical, root, max_bytes, &mut loaded.diags) else {
                continue;
            };
            let (ast, diags) = parse(&source);
            loaded.diags.extend(diags);
            let i = loaded.files.len();
            index.insert(key, i);
            origins.push(origin.clone());
            loaded.files.push(LoadedFile {
                logical: logical.clone(),
                source,
                ast,
                imports: Vec::new(),
                root,
            });
            // Queue imports; they are linked to indexes once everything is read.
            if let Some(ast) = &loaded.files[i].ast {
                for item in &ast.items {
                    if let Item::Import(import) = item {
                        match resolve_import(&origin, &logical, &import.path.value) {
                            Ok(target) => queue.push((origin.clone(), target, false)),
                            Err(reason) => loaded.diags.push(
                                Diag::error(
                                    "scruple::import::outside_root",
                                    format!("import `{}` leaves the policy directory", import.path.value),
                                )
                                .with_label(&loaded.files[i].source, import.path.span, reason)
                                .with_help("imports are resolved relative to the importing file and must stay inside the policy directory; copy the file in, or pass it to scruple as another policy path"),
                            ),
                        }
                    }
                }
            }
        }
        // Link imports to file indexes; report those that could not be read.
        for (i, origin) in origins.iter().enumerate() {
            let origin = origin.clone();
            let Some(ast) = &loaded.files[i].ast else {
                continue;
            };
            let mut links = Vec::new();
            let mut missing = Vec::new();
            for item in &ast.items {
                if let Item::Import(import) = item {
                    let Ok(target) =
                        resolve_import(&origin, &loaded.files[i].logical, &import.path.value)
                    else {
                        continue;
                    };
                    match index.get(&file_key(&origin, &target)) {
                        Some(&j) => links.push((j, import.span)),
                        None => missing.push((target, import.path.span, import.path.value.clone())),
                    }
                }
            }
            let source = loaded.files[i].source.clone();
            for (target, span, written) in missing {
                let known: Vec<&str> = loaded.files.iter().map(|f| f.logical.as_str()).collect();
                let mut diag = Diag::error(
                    "scruple::import::not_found",
                    format!("cannot find the imported file `{written}`"),
                )
                .with_label(&source, span, format!("looked for `{target}`"));
                diag = match crate::diag::did_you_mean(&target, known.iter().copied()) {
                    Some(near) => diag.with_help(format!(
                        "did you mean `{near}`? paths are relative to the importing file"
                    )),
                    None => diag.with_help("paths are relative to the importing file"),
                };
                loaded.diags.push(diag);
            }
            loaded.files[i].imports = links;
        }
        loaded
    }
}

/// Identifies a file across inputs: one file on disk reached from two roots
/// (`policies/` and `policies/sets/x.scruple`) is loaded once.
fn file_key(origin: &Origin, logical: &str) -> (String, String) {
    if let Origin::Disk(dir) = origin {
        if let Ok(path) = dir.join(logical).canonicalize() {
            return ("disk".into(), path.display().to_string());
        }
    }
    (origin_key(origin), logical.to_string())
}

fn origin_key(origin: &Origin) -> String {
    match origin {
        Origin::Disk(dir) => dir.display().to_string(),
        Origin::Builtin => "builtin".into(),
        Origin::Memory(tree) => format!("memory:{}", tree.prefix),
    }
}

/// Every `*.scruple` file below `root`, as logical paths. A link is
/// followed only while it stays inside `root`, as an import's is: one that
/// leads out is reported (the directory's owner may not control its target),
/// and a directory reached twice (a link loop) is walked once.
fn collect_scruple_files(root: &Path, out: &mut Vec<String>, diags: &mut Vec<Diag>) {
    let Ok(real_root) = root.canonicalize() else {
        return;
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        match dir.canonicalize() {
            Ok(real) if seen.insert(real.clone()) => {}
            _ => continue,
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let is_link = entry.file_type().is_ok_and(|t| t.is_symlink());
            let is_dir = path.is_dir();
            if !is_dir && path.extension().is_none_or(|e| e != "scruple") {
                continue;
            }
            if is_link && !path.canonicalize().is_ok_and(|t| t.starts_with(&real_root)) {
                diags.push(
                    Diag::error(
                        "scruple::load::outside_root",
                        format!(
                            "`{}` is a link to a place outside the policy directory `{}`",
                            path.display(),
                            root.display()
                        ),
                    )
                    .with_help("policy files must lie inside the directory given; copy the file in, or pass its real path to scruple as another policy path"),
                );
                continue;
            }
            if is_dir {
                dirs.push(path);
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.push(to_logical(rel));
            }
        }
    }
}

fn to_logical(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    parts.join("/")
}

/// Joins an import path to the importing file's directory, lexically, and
/// refuses anything that climbs above the root or is absolute.
fn resolve_import(origin: &Origin, importer: &str, written: &str) -> Result<String, String> {
    if written.starts_with('/') || written.contains('\\') || written.contains(':') {
        return Err("absolute paths are not allowed".into());
    }
    let mut parts: Vec<&str> = importer.split('/').collect();
    parts.pop();
    for part in written.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err("this path climbs above the policy directory".into());
                }
            }
            other => parts.push(other),
        }
    }
    let logical = parts.join("/");
    if let Origin::Disk(dir) = origin {
        // A symlink inside the root may still point outside it.
        if let (Ok(root), Ok(target)) = (dir.canonicalize(), dir.join(&logical).canonicalize()) {
            if !target.starts_with(&root) {
                return Err("this file is a link to a place outside the policy directory".into());
            }
        }
    }
    Ok(logical)
}

fn read(
    origin: &Origin,
    logical: &str,
    root: bool,
    max_bytes: u64,
    diags: &mut Vec<Diag>,
) -> Option<Source> {
    match origin {
        Origin::Builtin => {
            let text = BUILTIN_FILES.iter().find(|(p, _)| *p == logical)?.1;
            Some(SourceFile::new(format!("builtin:{logical}"), text))
        }
        Origin::Memory(tree) => match tree.files.get(logical) {
            Some(text) => Some(SourceFile::new(
                format!("{}{logical}", tree.prefix),
                text.as_str(),
            )),
            // A missing import is reported where it is imported.
            None if !root => None,
            None => {
                diags.push(Diag::error(
                    "scruple::load::unreadable",
                    format!("cannot read `{}{logical}`: no such file", tree.prefix),
                ));
                None
            }
        },
        Origin::Disk(dir) => {
            let path = dir.join(logical);
            let name = path.display().to_string();
            let name = name.strip_prefix("./").unwrap_or(&name).to_string();
            let bytes = std::fs::File::open(&path)
                .map_err(ReadError::Io)
                .and_then(|file| read_capped(file, max_bytes));
            match bytes {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => Some(SourceFile::new(name, text)),
                    Err(err) => {
                        let at = err.utf8_error().valid_up_to();
                        let byte = err.as_bytes().get(at).copied().unwrap_or(0);
                        let lossy = String::from_utf8_lossy(err.as_bytes()).into_owned();
                        // Offsets shift where lossy replacement widened bytes; the
                        // prefix up to the first bad byte is unchanged, and the
                        // bad byte became one U+FFFD (3 bytes in the lossy text).
                        let source = SourceFile::new(name.clone(), lossy);
                        let span = Span::new(at, at + char::REPLACEMENT_CHARACTER.len_utf8());
                        let text = format!("byte 0x{byte:02X} is not UTF-8");
                        diags.push(Diag {
                            labels: vec![Label::new(&source, span, text)],
                            ..Diag::error(
                                "scruple::parse::encoding",
                                format!("`{name}` is not valid UTF-8 text"),
                            )
                            .with_help("save the policy file as UTF-8")
                        });
                        None
                    }
                },
                Err(ReadError::TooLarge) => {
                    // `scruple::load::` codes are input errors (exit 2).
                    diags.push(Diag {
                        code: "scruple::load::too_large".into(),
                        ..too_large(&name, max_bytes)
                    });
                    None
                }
                // A missing import is reported where it is imported, with a label.
                Err(ReadError::Io(err)) if !root && err.kind() == std::io::ErrorKind::NotFound => {
                    None
                }
                Err(ReadError::Io(err)) => {
                    diags.push(
                        Diag::error(
                            "scruple::load::unreadable",
                            format!("cannot read `{name}`: {err}"),
                        )
                        .with_help("check the path and its permissions"),
                    );
                    None
                }
            }
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    const RULE: &str = "policy \"p\"\nrule r {\n  forbid fields [ssn]\n}\n";

    /// Issue 10 item 10: a directory given as a policy path followed links
    /// to files outside it, which imports refuse.
    #[test]
    fn policy_dir_symlink_outside_is_refused() {
        let outside = tempfile::tempdir().expect("temp dir");
        let secret = outside.path().join("elsewhere.scruple");
        std::fs::write(&secret, RULE).expect("written");
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("own.scruple"), RULE.replace("r {", "own {"))
            .expect("written");
        std::os::unix::fs::symlink(&secret, dir.path().join("link.scruple")).expect("link");
        std::os::unix::fs::symlink(outside.path(), dir.path().join("subdir")).expect("link");
        // A link that stays inside is followed; a loop is walked once.
        std::fs::create_dir(dir.path().join("inner")).expect("dir");
        std::os::unix::fs::symlink(dir.path(), dir.path().join("inner/up")).expect("link");

        let mut inputs = Inputs::default();
        inputs.add_path(dir.path());
        let loaded = inputs.load();
        let codes: Vec<&str> = loaded.diags.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(
            codes,
            ["scruple::load::outside_root", "scruple::load::outside_root"],
            "{:?}",
            loaded.diags
        );
        let names: Vec<&str> = loaded.files.iter().map(|f| f.logical.as_str()).collect();
        assert_eq!(names, ["own.scruple"]);
    }
}
