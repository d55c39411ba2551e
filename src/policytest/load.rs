//! Finding and reading test files: YAML → [`Suite`], every problem reported
//! with its span (unknown keys with a suggestion, wrong types, unknown rule
//! ids and packs, missing campaign files).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;

use super::{codes, default_at, Expect, Expected, Kind, Suite, TestCase};
use crate::audit::command::TextInput;
use crate::campaign::model::Spanned;
use crate::campaign::tree::item_anchor;
use crate::campaign::{self, Campaign, Entry, Node, Value};
use crate::compile::Policy;
use crate::diag::{did_you_mean, Diag};
use crate::source::{Source, SourceFile, Span};

/// File names ending in one of these are test files.
const SUFFIXES: [&str; 2] = [".tests.yaml", ".tests.yml"];

/// Keys of a test file's top level (besides `x-…` keys, which are ignored
/// so that they can hold YAML anchors).
const FILE_KEYS: &[&str] = &["packs", "at", "tests"];
/// Keys of a test.
const TEST_KEYS: &[&str] = &[
    "name",
    "campaign",
    "campaign_inline",
    "audit",
    "at",
    "expect",
];
/// Keys of a test's `audit` mapping: the inputs of `scruple audit`, each a
/// file (relative to the test file) or inline text.
const AUDIT_KEYS: &[&str] = &[
    "attributes",
    "attributes_inline",
    "decisions",
    "decisions_inline",
    "outcomes",
    "outcomes_inline",
    "campaign",
    "min_group",
];
/// Keys of an `expect` mapping besides the [`Kind`] keys.
const EXPECT_EXTRA_KEYS: &[&str] = &["diagnostics", "only"];

/// Campaign files already loaded, by path, so that tests sharing a file
/// share one load (and its problems are reported once).
type CampaignCache = HashMap<PathBuf, Option<Arc<Campaign>>>;

/// Parses a time in any form a campaign accepts ([`crate::campaign::When`]):
/// a date (midnight UTC), a date and time without offset (UTC), or an
/// instant with `Z`, an offset or a `[Zone]`.
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    crate::campaign::When::read_instant(text, &jiff::tz::TimeZone::UTC)
}

/// The test files to run. `paths` are test files or directories (searched
/// for `*.tests.yaml` at any depth). Without paths, the tests belong to the
/// policies in use: every `*.tests.yaml` below each policy directory, and
/// `tests/NAME.tests.yaml` or `NAME.tests.yaml` next to each policy file
/// `NAME.scruple`. `policy_paths` and `packs` are the policy flags; as for
/// loading policies, no flag at all means `./policies` when it exists.
pub fn discover(
    paths: &[PathBuf],
    policy_paths: &[PathBuf],
    packs: &[String],
) -> (Vec<PathBuf>, Vec<Diag>) {
    let mut found = Vec::new();
    let mut diags = Vec::new();
    if !paths.is_empty() {
        for path in paths {
            if path.is_dir() {
                let before = found.len();
                collect_tests(path, &mut found);
                if found.len() == before {
                    diags.push(
                        Diag::error(
                            codes::NO_TESTS,
                            format!("no test files (`*.tests.yaml`) in `{}`", path.display()),
                        )
                        .with_help("test files are named `NAME.tests.yaml`; see docs/testing.md"),
                    );
                }
            } else if path.exists() {
                found.push(path.clone());
            } else {
                diags.push(
                    Diag::error(
                        codes::NOT_FOUND,
                        format!("`{}` does not exist", path.display()),
                    )
                    .with_help("pass test files (`*.tests.yaml`) or directories holding them"),
                );
            }
        }
        return (found, diags);
    }
    let default_dir = Path::new("policies");
    let policy_paths: Vec<&Path> = if policy_paths.is_empty() && packs.is_empty() {
        [default_dir].into_iter().filter(|d| d.is_dir()).collect()
    } else {
        policy_paths.iter().map(PathBuf::as_path).collect()
    };
    for path in &policy_paths {
        if path.is_dir() {
            collect_tests(path, &mut found);
        } else if let (Some(dir), Some(stem)) = (path.parent(), path.file_stem()) {
            let stem = stem.to_string_lossy();
            for suffix in SUFFIXES {
                for candidate in [
                    dir.join("tests").join(format!("{stem}{suffix}")),
                    dir.join(format!("{stem}{suffix}")),
                ] {
                    if candidate.is_file() {
                        found.push(candidate);
                    }
                }
            }
        }
    }
    if found.is_empty() {
        let searched: Vec<String> = policy_paths
            .iter()
            .map(|p| format!("`{}`", p.display()))
            .collect();
        let message = if searched.is_empty() {
            "no test files to run: name them on the command line".to_owned()
        } else {
            format!(
                "no test files (`*.tests.yaml`) for the policies in {}",
                searched.join(", ")
            )
        };
        diags.push(Diag::error(codes::NO_TESTS, message).with_help(
            "write tests in `policies/tests/PACK.tests.yaml`, or pass test files; see docs/testing.md",
        ));
    }
    found.dedup();
    (found, diags)
}

/// Every test file below `dir`, sorted.
fn collect_tests(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .file_name()
                .is_some_and(|n| SUFFIXES.iter().any(|s| n.to_string_lossy().ends_with(s)))
            {
                found.push(path);
            }
        }
    }
    found.sort();
    out.extend(found);
}

/// Reads and checks every test file. A file with a problem is left out and
/// its problems are returned; the others load.
pub fn load(paths: &[PathBuf], policy: &Policy) -> (Vec<Suite>, Vec<Diag>) {
    let mut cache = CampaignCache::new();
    let mut suites = Vec::new();
    let mut diags = Vec::new();
    for path in paths {
        let name = display_name(path);
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) => {
                let why = if err.kind() == std::io::ErrorKind::InvalidData {
                    "it is not valid UTF-8".to_owned()
                } else {
                    err.to_string()
                };
                diags.push(
                    Diag::error(codes::UNREADABLE, format!("cannot read `{name}`: {why}"))
                        .with_help("test files are UTF-8 YAML text"),
                );
                continue;
            }
        };
        let source = SourceFile::new(name, text);
        match read_suite(&source, policy, &mut cache) {
            Ok(suite) => suites.push(suite),
            Err(more) => diags.extend(more),
        }
    }
    (suites, diags)
}

/// Reads one test file whose text is already in memory. Campaign files are
/// resolved relative to the directory of `source.name`.
pub fn load_suite(source: &Source, policy: &Policy) -> Result<Suite, Vec<Diag>> {
    read_suite(source, policy, &mut CampaignCache::new())
}

fn read_suite(
    source: &Source,
    policy: &Policy,
    cache: &mut CampaignCache,
) -> Result<Suite, Vec<Diag>> {
    let mut diags = Vec::new();
    let tree = campaign::parse_tree(source, &mut diags);
    let mut diags: Vec<Diag> = diags.into_iter().map(|d| as_test_file(d, source)).collect();
    let Some(tree) = tree else {
        return Err(diags);
    };
    let mut reader = Reader {
        source,
        policy,
        cache,
        diags: Vec::new(),
    };
    let suite = reader.suite(&tree);
    diags.append(&mut reader.diags);
    match suite {
        Some(suite) if diags.is_empty() => Ok(suite),
        _ => {
            // In file order; problems inside campaign files after the test file's.
            diags.sort_by_key(|d| {
                d.labels
                    .first()
                    .map(|l| (!Arc::ptr_eq(&l.source, source), l.span.start))
            });
            Err(diags)
        }
    }
}

/// The display name of a path: as given, without a leading `./`.
fn display_name(path: &Path) -> String {
    let name = path.display().to_string();
    name.strip_prefix("./").unwrap_or(&name).to_owned()
}

/// Rewords a diagnostic of the shared YAML reader for a test file.
fn as_test_file(diag: Diag, source: &Source) -> Diag {
    let code = match diag.code.as_str() {
        campaign::codes::SYNTAX => codes::SYNTAX,
        campaign::codes::DUPLICATE_KEY => codes::DUPLICATE_KEY,
        campaign::codes::TYPE_ERROR => codes::TYPE_ERROR,
        campaign::codes::EMPTY => {
            return Diag::error(codes::EMPTY, format!("`{}` is empty", source.name))
                .with_help("a test file holds `tests:`, a list of tests; see docs/testing.md")
        }
        _ => return diag,
    };
    Diag {
        code: code.to_owned(),
        message: diag
            .message
            .replace(" in the campaign", " in the test file"),
        help: diag.help.map(|h| h.replace("campaign file", "test file")),
        ..diag
    }
}

/// Walks a test file's tree, collecting problems.
struct Reader<'a> {
    source: &'a Source,
    policy: &'a Policy,
    cache: &'a mut CampaignCache,
    diags: Vec<Diag>,
}

impl Reader<'_> {
    fn error(&mut self, code: &str, message: String, span: Span, label: &str, help: String) {
        self.diags.push(
            Diag::error(code, message)
                .with_label(self.source, span, label)
                .with_help(help),
        );
    }

    /// The span to label for `node`: the node, or `anchor` when it is empty.
    fn at(node: &Node, anchor: Span) -> Span {
        if node.span.is_empty() {
            anchor
        } else {
            node.span
        }
    }

    fn type_error(&mut self, node: &Node, anchor: Span, what: &str, expected: &str) {
        let short = if expected.starts_with("a mapping") {
            "a mapping"
        } else {
            expected
        };
        let help = match &node.value {
            Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_)
                if expected.starts_with("a list") =>
            {
                format!(
                    "write a list, even of one item: `[{}]`",
                    self.source.slice(node.span)
                )
            }
            Value::Null => "write a value after the `:`, or remove the key".to_owned(),
            _ => "see docs/testing.md for the format of test files".to_owned(),
        };
        self.error(
            codes::TYPE_ERROR,
            format!("expected {expected} for {what}, found {}", node.kind()),
            Self::at(node, anchor),
            &format!("expected {short}"),
            help,
        );
    }

    /// The entries of a mapping, after reporting unknown and missing keys.
    /// `extensions` allows (and ignores) keys starting with `x-`.
    fn mapping<'n>(
        &mut self,
        node: &'n Node,
        anchor: Span,
        what: &str,
        allowed: &[&str],
        required: &[&str],
        extensions: bool,
    ) -> Option<&'n [Entry]> {
        let Some(entries) = node.as_map() else {
            let keys: Vec<String> = allowed.iter().map(|k| format!("`{k}`")).collect();
            self.type_error(
                node,
                anchor,
                what,
                &format!("a mapping with {}", keys.join(", ")),
            );
            return None;
        };
        // Keys suggested for misspelt ones, whose absence is then not reported again.
        let mut suggested = Vec::new();
        for entry in entries {
            if allowed.contains(&entry.key.as_str()) || (extensions && entry.key.starts_with("x-"))
            {
                continue;
            }
            let help = match did_you_mean(&entry.key, allowed.iter().copied()) {
                Some(near) => {
                    suggested.push(near);
                    format!("did you mean `{near}`?")
                }
                None => {
                    let keys: Vec<String> = allowed.iter().map(|k| format!("`{k}`")).collect();
                    format!("the keys allowed here are {}", keys.join(", "))
                }
            };
            self.error(
                codes::UNKNOWN_KEY,
                format!("unknown key `{}` in {what}", entry.key),
                entry.key_span,
                "unknown key",
                help,
            );
        }
        for key in required {
            if !entries.iter().any(|e| e.key == *key) && !suggested.contains(key) {
                self.error(
                    codes::MISSING_KEY,
                    format!("missing required key `{key}` in {what}"),
                    node.head_span(),
                    &format!("`{key}` is missing here"),
                    format!("add `{key}: …`"),
                );
            }
        }
        Some(entries)
    }

    /// A non-blank string; `path` names it in messages.
    fn text(&mut self, entry: &Entry, path: &str) -> Option<Spanned<String>> {
        match entry.value.as_str() {
            Some(s) if !s.trim().is_empty() => Some(Spanned::new(s.to_owned(), entry.value.span)),
            _ => {
                let what = format!("`{path}`");
                self.type_error(&entry.value, entry.key_span, &what, "a non-blank string");
                None
            }
        }
    }

    /// A list of non-blank strings (or a single one when `single` allows it).
    fn texts(&mut self, entry: &Entry, path: &str, single: bool) -> Option<Vec<Spanned<String>>> {
        let node = &entry.value;
        if single && node.as_str().is_some() {
            return self.text(entry, path).map(|s| vec![s]);
        }
        let Some(items) = node.as_list() else {
            let what = format!("`{path}`");
            self.type_error(node, entry.key_span, &what, "a list of names");
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(s) if !s.trim().is_empty() => {
                    out.push(Spanned::new(s.to_owned(), item.span));
                }
                _ => {
                    let anchor = item_anchor(&self.source.text, item);
                    self.type_error(item, anchor, &format!("`{path}[{i}]`"), "a name");
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    /// A time (`at`).
    fn time(&mut self, entry: &Entry, path: &str) -> Option<Timestamp> {
        let text = self.text(entry, path)?;
        match parse_time(&text.value) {
            Ok(ts) => Some(ts),
            Err(why) => {
                self.error(
                    codes::INVALID_VALUE,
                    format!("`{}` is not a time (`{path}`)", text.value),
                    text.span,
                    "not a date or time",
                    format!("{why}; times without an offset are not accepted"),
                );
                None
            }
        }
    }

    fn suite(&mut self, root: &Node) -> Option<Suite> {
        let what = "the test file";
        let entries = self.mapping(root, root.head_span(), what, FILE_KEYS, &["tests"], true)?;
        let mut packs = Vec::new();
        let mut at = default_at();
        let mut tests_entry = None;
        for entry in entries {
            match entry.key.as_str() {
                "packs" => packs = self.packs(entry).unwrap_or_default(),
                "at" => at = self.time(entry, "at").unwrap_or(at),
                "tests" => tests_entry = Some(entry),
                _ => {}
            }
        }
        let tests_entry = tests_entry?;
        let Some(items) = tests_entry.value.as_list() else {
            self.type_error(
                &tests_entry.value,
                tests_entry.key_span,
                "`tests`",
                "a list of tests",
            );
            return None;
        };
        if items.is_empty() {
            self.error(
                codes::EMPTY,
                "`tests` is empty".to_owned(),
                Self::at(&tests_entry.value, tests_entry.key_span),
                "no tests",
                "add at least one test with `name`, `campaign` and `expect`".to_owned(),
            );
        }
        let mut tests: Vec<TestCase> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let Some(test) = self.test(item, i, at) else {
                continue;
            };
            if let Some(first) = tests.iter().find(|t| t.name.value == test.name.value) {
                self.diags.push(
                    Diag::error(
                        codes::DUPLICATE_NAME,
                        format!("two tests are named `{}`", test.name.value),
                    )
                    .with_label(self.source, test.name.span, "second test with this name")
                    .with_label(self.source, first.name.span, "first defined here")
                    .with_help("give each test a unique name; reports and JUnit output use it"),
                );
            }
            tests.push(test);
        }
        Some(Suite {
            source: self.source.clone(),
            packs: packs.into_iter().map(|p| p.value).collect(),
            tests,
        })
    }

    /// `packs`: packs of the policy.
    fn packs(&mut self, entry: &Entry) -> Option<Vec<Spanned<String>>> {
        let packs = self.texts(entry, "packs", true)?;
        let mut known: Vec<&str> = self.policy.rules.iter().map(|r| r.pack.as_str()).collect();
        known.sort_unstable();
        known.dedup();
        for pack in &packs {
            if known.contains(&pack.value.as_str()) {
                continue;
            }
            let list = known.join(", ");
            let help = match did_you_mean(&pack.value, known.iter().copied()) {
                Some(near) => format!("did you mean `{near}`? packs with rules: {list}"),
                None => format!("packs with rules in the policy under test: {list}"),
            };
            self.error(
                codes::UNKNOWN_PACK,
                format!("the policy has no pack `{}` with rules", pack.value),
                pack.span,
                "unknown pack",
                help,
            );
        }
        Some(packs)
    }

    fn test(&mut self, item: &Node, index: usize, file_at: Timestamp) -> Option<TestCase> {
        let path = format!("tests[{index}]");
        let what = format!("`{path}`");
        let anchor = item_anchor(&self.source.text, item);
        let entries = self.mapping(item, anchor, &what, TEST_KEYS, &["name", "expect"], false)?;
        let get = |key: &str| entries.iter().find(|e| e.key == key);
        let name = get("name").and_then(|e| self.text(e, &format!("{path}.name")));
        let at = match get("at") {
            Some(e) => self.time(e, &format!("{path}.at")),
            None => Some(file_at),
        };
        let expect = get("expect").and_then(|e| self.expect(e, &format!("{path}.expect")));
        if let Some(audit) = get("audit") {
            let audit = self.audit(audit, &format!("{path}.audit"));
            for key in ["campaign", "campaign_inline"] {
                if let Some(e) = get(key) {
                    self.diags.push(
                        Diag::error(
                            codes::CONFLICT,
                            format!("{what} has both `{key}` and `audit`"),
                        )
                        .with_label(self.source, e.key_span, "a campaign")
                        .with_help(
                            "a test checks one campaign or one audit: split it in two tests",
                        ),
                    );
                }
            }
            return Some(TestCase {
                name: name?,
                campaign: None,
                audit: Some(Arc::new(audit?)),
                at: at?,
                expect: expect?,
            });
        }
        let campaign = match (get("campaign"), get("campaign_inline")) {
            (Some(file), None) => self.campaign_file(file, &format!("{path}.campaign")),
            (None, Some(inline)) => {
                let label = name.as_ref().map_or(path.clone(), |n| n.value.clone());
                self.campaign_inline(inline, &format!("{path}.campaign_inline"), &label)
            }
            (Some(file), Some(inline)) => {
                self.diags.push(
                    Diag::error(
                        codes::CONFLICT,
                        format!("{what} has both `campaign` and `campaign_inline`"),
                    )
                    .with_label(self.source, inline.key_span, "second campaign")
                    .with_label(self.source, file.key_span, "first campaign")
                    .with_help("a test checks one campaign: keep one of the two keys"),
                );
                None
            }
            // A misspelt `campaign` key is reported as unknown, with the suggestion.
            (None, None)
                if entries.iter().any(|e| {
                    !TEST_KEYS.contains(&e.key.as_str())
                        && did_you_mean(&e.key, ["campaign", "campaign_inline"]).is_some()
                }) =>
            {
                None
            }
            (None, None) => {
                self.error(
                    codes::MISSING_KEY,
                    format!("{what} names no campaign"),
                    item.head_span(),
                    "`campaign`, `campaign_inline` or `audit` is missing here",
                    "add `campaign: FILE` (relative to this test file), `campaign_inline:` with the campaign, or `audit:` with audit inputs"
                        .to_owned(),
                );
                None
            }
        };
        Some(TestCase {
            name: name?,
            campaign: Some(campaign?),
            audit: None,
            at: at?,
            expect: expect?,
        })
    }

    /// `campaign: FILE`, relative to the test file.
    fn campaign_file(&mut self, entry: &Entry, path: &str) -> Option<Arc<Campaign>> {
        let file = self.text(entry, path)?;
        let dir = Path::new(&self.source.name)
            .parent()
            .unwrap_or(Path::new(""));
        let path = dir.join(&file.value);
        if let Some(cached) = self.cache.get(&path) {
            return cached.clone();
        }
        if !path.is_file() {
            self.error(
                codes::CAMPAIGN_NOT_FOUND,
                format!("the campaign file `{}` does not exist", display_name(&path)),
                file.span,
                "no such file",
                "campaign paths are relative to the test file's directory".to_owned(),
            );
            return None;
        }
        let (sources, invalid, usage) = crate::check::read_inputs(&[path.display().to_string()]);
        self.diags.extend(usage);
        self.diags.extend(invalid.into_iter().flat_map(|i| i.diags));
        let loaded = sources
            .first()
            .and_then(|source| match campaign::load(source) {
                Ok(c) => Some(Arc::new(c)),
                Err(diags) => {
                    self.diags.extend(diags);
                    None
                }
            });
        self.cache.insert(path, loaded.clone());
        loaded
    }

    /// `audit`: the inputs of an audit, run at once against the policy's
    /// audit rules, so that a bad record is reported like a bad campaign.
    fn audit(&mut self, entry: &Entry, path: &str) -> Option<crate::audit::AuditResult> {
        use crate::audit::command::{audit_texts, TextInputs};
        let what = format!("`{path}`");
        let entries = self.mapping(&entry.value, entry.key_span, &what, AUDIT_KEYS, &[], false)?;
        let get = |key: &str| entries.iter().find(|e| e.key == key);
        let mut ok = true;
        let mut input = |reader: &mut Self, key: &str| -> Option<TextInput> {
            match reader.audit_input(
                get(key),
                get(&format!("{key}_inline")),
                &format!("{path}.{key}"),
            ) {
                Ok(found) => found,
                Err(()) => {
                    ok = false;
                    None
                }
            }
        };
        let attributes = input(self, "attributes");
        let decisions = input(self, "decisions");
        let outcomes = input(self, "outcomes");
        let campaign = get("campaign").and_then(|e| self.text(e, &format!("{path}.campaign")));
        let min_group = match get("min_group") {
            None => Some(30),
            Some(e) => match e.value.as_i64() {
                Some(n) if n >= 1 => Some(n as u64),
                _ => {
                    let what = format!("`{path}.min_group`");
                    self.type_error(
                        &e.value,
                        e.key_span,
                        &what,
                        "a whole number of people, 1 or more",
                    );
                    None
                }
            },
        };
        if attributes.is_none() && ok {
            self.error(
                codes::MISSING_KEY,
                format!("{what} has no protected attributes"),
                entry.key_span,
                "`attributes` or `attributes_inline` is missing here",
                "add `attributes: FILE` or `attributes_inline:` (recipient plus one column per protected attribute)".to_owned(),
            );
            ok = false;
        }
        if decisions.is_none() && outcomes.is_none() && ok {
            self.error(
                codes::MISSING_KEY,
                format!("{what} has nothing to audit"),
                entry.key_span,
                "no decisions or outcomes",
                "add `outcomes`/`outcomes_inline` or `decisions`/`decisions_inline`".to_owned(),
            );
            ok = false;
        }
        let rules = crate::audit::Thresholds::from_policy(self.policy);
        if rules.is_empty() {
            self.error(
                codes::INVALID_VALUE,
                format!("{what}: the policy under test has no audit rules"),
                entry.key_span,
                "nothing to audit against",
                "audit tests exercise `require parity …` and `limit … below …` rules".to_owned(),
            );
            ok = false;
        }
        let (attributes, min_group) = (attributes?, min_group?);
        if !ok {
            return None;
        }
        let thresholds = crate::audit::Thresholds {
            rules,
            min_group,
            ..crate::audit::Thresholds::default()
        };
        let inputs = TextInputs {
            attributes,
            decisions,
            campaign: campaign.map(|c| c.value),
            outcomes,
        };
        match audit_texts(thresholds, &inputs) {
            Ok(result) => Some(result),
            Err(diag) => {
                self.diags.push(diag.with_label(
                    self.source,
                    entry.key_span,
                    "in the inputs of this audit",
                ));
                None
            }
        }
    }

    /// One audit input: `KEY: FILE` (relative to the test file) or
    /// `KEY_inline: TEXT` (JSON Lines when it starts with `{`, else CSV).
    /// `Ok(None)` when neither is given.
    fn audit_input(
        &mut self,
        file: Option<&Entry>,
        inline: Option<&Entry>,
        path: &str,
    ) -> Result<Option<TextInput>, ()> {
        use crate::audit::input::Format;
        match (file, inline) {
            (None, None) => Ok(None),
            (Some(f), Some(i)) => {
                self.diags.push(
                    Diag::error(
                        codes::CONFLICT,
                        format!("`{path}` and `{path}_inline` are both given"),
                    )
                    .with_label(self.source, i.key_span, "second input")
                    .with_label(self.source, f.key_span, "first input")
                    .with_help("keep one of the two keys"),
                );
                Err(())
            }
            (None, Some(i)) => {
                let Some(text) = i.value.as_str() else {
                    let what = format!("`{path}_inline`");
                    self.type_error(
                        &i.value,
                        i.key_span,
                        &what,
                        "a block of CSV or JSON Lines text (`|`)",
                    );
                    return Err(());
                };
                let format = if text.trim_start().starts_with('{') {
                    Format::JsonLines
                } else {
                    Format::Csv
                };
                Ok(Some(TextInput {
                    name: format!("{} ({path}_inline)", self.source.name),
                    text: text.to_owned(),
                    format,
                }))
            }
            (Some(f), None) => {
                let file = self.text(f, path).ok_or(())?;
                let dir = Path::new(&self.source.name)
                    .parent()
                    .unwrap_or(Path::new(""));
                let full = dir.join(&file.value);
                match std::fs::read_to_string(&full) {
                    Ok(text) => Ok(Some(TextInput {
                        name: display_name(&full),
                        format: Format::of_path(&file.value),
                        text,
                    })),
                    Err(e) => {
                        self.error(
                            codes::AUDIT_INPUT_NOT_FOUND,
                            format!("cannot read the audit input `{}`: {e}", display_name(&full)),
                            file.span,
                            "cannot read this file",
                            "audit input paths are relative to the test file's directory"
                                .to_owned(),
                        );
                        Err(())
                    }
                }
            }
        }
    }

    /// `campaign_inline`: a mapping (spans point into the test file) or a
    /// string holding the campaign's YAML.
    fn campaign_inline(&mut self, entry: &Entry, path: &str, test: &str) -> Option<Arc<Campaign>> {
        let loaded = match &entry.value.value {
            Value::Map(_) => campaign::from_tree(self.source, entry.value.clone()),
            Value::Str(text) => {
                let name = format!("{} (inline campaign of `{test}`)", self.source.name);
                campaign::load(&SourceFile::new(name, text.as_str()))
            }
            _ => {
                self.type_error(
                    &entry.value,
                    entry.key_span,
                    &format!("`{path}`"),
                    "a campaign mapping or a string holding one",
                );
                return None;
            }
        };
        match loaded {
            Ok(c) => Some(Arc::new(c)),
            Err(diags) => {
                self.diags.extend(diags);
                None
            }
        }
    }

    /// `expect: clean`, or a mapping of rule lists.
    fn expect(&mut self, entry: &Entry, path: &str) -> Option<Expect> {
        let what = format!("`{path}`");
        let node = &entry.value;
        if let Some(word) = node.as_str() {
            if word == "clean" {
                return Some(Expect {
                    only_listed_fire: true,
                    ..Expect::default()
                });
            }
            let help = match did_you_mean(word, ["clean"]) {
                Some(near) => format!("did you mean `{near}`?"),
                None => "write `expect: clean`, or a mapping such as `expect: { fires: [RULE] }`"
                    .to_owned(),
            };
            self.error(
                codes::INVALID_VALUE,
                format!("`{word}` is not an expectation ({what})"),
                node.span,
                "expected `clean` or a mapping",
                help,
            );
            return None;
        }
        let allowed: Vec<&str> = Kind::ALL
            .iter()
            .map(|k| k.key())
            .chain(EXPECT_EXTRA_KEYS.iter().copied())
            .collect();
        let entries = self.mapping(node, entry.key_span, &what, &allowed, &[], false)?;
        let mut expect = Expect::default();
        let mut ok = true;
        let mut only = None;
        let mut has_fires = false;
        for e in entries {
            let key = e.key.as_str();
            if key == "only" {
                match e.value.as_bool() {
                    Some(b) => only = Some((b, e.key_span)),
                    None => {
                        let what = format!("`{path}.only`");
                        self.type_error(&e.value, e.key_span, &what, "`true` or `false`");
                        ok = false;
                    }
                }
                continue;
            }
            let Some(list) = self.texts(e, &format!("{path}.{key}"), false) else {
                ok = false;
                continue;
            };
            if key == "diagnostics" {
                expect.diagnostics = list;
                continue;
            }
            let Some(kind) = Kind::ALL.into_iter().find(|k| k.key() == key) else {
                continue;
            };
            has_fires |= kind == Kind::Fires;
            for rule in list {
                ok &= self.known_rule(&rule);
                if let Some(first) = expect.rules.iter().find(|x| x.rule.value == rule.value) {
                    self.diags.push(
                        Diag::error(
                            codes::CONFLICT,
                            format!("`{}` is expected twice in {what}", rule.value),
                        )
                        .with_label(self.source, rule.span, "listed again here")
                        .with_label(self.source, first.rule.span, "first listed here")
                        .with_help("a rule has one outcome per campaign: list it once"),
                    );
                    ok = false;
                    continue;
                }
                expect.rules.push(Expected { rule, kind });
            }
        }
        if let Some((_, span)) = only.filter(|_| !has_fires) {
            self.error(
                codes::INVALID_VALUE,
                format!("`only` without `fires` in {what}"),
                span,
                "`only` applies to the `fires` list",
                "add `fires: [...]`, or remove `only`".to_owned(),
            );
            ok = false;
        }
        if ok && expect.rules.is_empty() && expect.diagnostics.is_empty() && !has_fires {
            self.error(
                codes::INVALID_VALUE,
                format!("{what} expects nothing"),
                Self::at(node, entry.key_span),
                "no expectation",
                "list rules under `fires`, `passes`, `skipped`, `deferred`, `waived`, `not_applicable` or `insufficient_data`, or write `expect: clean`"
                    .to_owned(),
            );
            ok = false;
        }
        expect.only_listed_fire = has_fires && only.is_none_or(|(b, _)| b);
        ok.then_some(expect)
    }

    /// True if the policy has the rule; reports it otherwise.
    fn known_rule(&mut self, rule: &Spanned<String>) -> bool {
        if self.policy.rule(&rule.value).is_some() {
            return true;
        }
        let ids = self.policy.rules.iter().map(|r| r.id.as_str());
        let help = match did_you_mean(&rule.value, ids) {
            Some(near) => format!("did you mean `{near}`? `scruple rules` lists every rule"),
            None => "`scruple rules` lists every rule of the policy under test".to_owned(),
        };
        self.error(
            codes::UNKNOWN_RULE,
            format!("the policy has no rule `{}`", rule.value),
            rule.span,
            "unknown rule",
            help,
        );
        false
    }
}
