//! `scruple diff OLD NEW`: a semantic diff of two compiled policies, and the
//! impact of the change on a corpus of campaigns.
//!
//! Rules are matched by id, sets, attributes, purposes and tables by name,
//! packs by their `policy` name. What a rule checks is compared on its AST
//! with spans left out, so moving a rule or re-wrapping its lines is not a
//! change; a set whose members changed is reported once, as a set change,
//! with the rules that use it. Each side is a path or a git revision (see
//! [`side`]); the result is rendered by [`render`] as text, JSON (schema
//! `scruple.diff/v1`) or Markdown for a pull-request comment.

pub mod render;
pub mod side;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use petgraph::visit::EdgeRef;
use petgraph::Direction;
use serde::Serialize;

use crate::check::{self, InvalidInput};
use crate::compile::{self, CompiledRule, EdgeKind, NodeKind, Policy};
use crate::diag::{Diag, Severity};
use crate::eval::{CampaignReport, Finding, Options, Status};
use crate::render::plural;
use crate::source::{Source, SourceFile, Span};
use crate::syntax::ast;

pub use side::Side;

/// Exit code: the diff ran (and, with `--exit-code`, found no change).
pub const EXIT_SAME: u8 = 0;
/// Exit code with `--exit-code`: the policies differ.
pub const EXIT_CHANGED: u8 = 1;
/// Exit code: a side is not a path or revision, a policy does not compile,
/// or a campaign input is bad.
pub const EXIT_INPUT: u8 = 2;

/// The exit codes, for `scruple diff --help`.
pub const EXIT_HELP: &str = "\
Exit codes:
  0  the diff ran (policies may differ; see --exit-code)
  1  with --exit-code: the policies differ
  2  usage or input error (not a path or revision, a policy that does not
     compile, an unreadable or invalid campaign)";

/// Code of the warning for a pack whose content changed while its declared
/// version did not.
pub const VERSION_NOT_BUMPED: &str = "scruple::diff::version_not_bumped";

/// Output formats of `scruple diff`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// Plain text for the terminal.
    #[default]
    Human,
    /// Versioned JSON (schema scruple.diff/v1).
    Json,
    /// Markdown, for a pull-request comment.
    Markdown,
}

/// Arguments of `scruple diff` (the `--at` time is parsed by the binary).
#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The old policy: a file or directory, or a git revision (`HEAD~1`,
    /// `main`, `v1.2.0:policies/`). A bare revision means the same path as
    /// the other side, or `policies`.
    #[arg(value_name = "OLD")]
    pub old: String,
    /// The new policy, in the same forms.
    #[arg(value_name = "NEW", default_value = side::DEFAULT_POLICY_DIR)]
    pub new: String,
    /// Campaign files, directories or glob patterns to check against both
    /// versions (repeatable): lists every campaign whose verdict changes.
    #[arg(long = "campaigns", value_name = "GLOB")]
    pub campaigns: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    pub format: DiffFormat,
    /// Exit 1 when the policies differ (like `git diff --exit-code`).
    #[arg(long)]
    pub exit_code: bool,
    /// With --campaigns: a warning blocks a campaign too.
    #[arg(long)]
    pub deny_warnings: bool,
}

/// Whether an item is new, gone or different.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Only in the new policy.
    Added,
    /// Only in the old policy.
    Removed,
    /// In both, different.
    Changed,
}

/// Symbols added to and removed from a list or set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Delta {
    /// In the new version only, in its order.
    pub added: Vec<String>,
    /// In the old version only, in its order.
    pub removed: Vec<String>,
}

impl Delta {
    /// The difference between two lists, compared as sets.
    pub fn between<'a>(
        old: impl IntoIterator<Item = &'a str>,
        new: impl IntoIterator<Item = &'a str>,
    ) -> Delta {
        let old: Vec<&str> = old.into_iter().collect();
        let new: Vec<&str> = new.into_iter().collect();
        let mut delta = Delta::default();
        for n in &new {
            if !old.contains(n) && !delta.added.iter().any(|a| a == n) {
                delta.added.push((*n).to_string());
            }
        }
        for o in &old {
            if !new.contains(o) && !delta.removed.iter().any(|r| r == o) {
                delta.removed.push((*o).to_string());
            }
        }
        delta
    }

    /// True when nothing was added or removed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// One aspect of a rule that differs between the versions.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "field", rename_all = "snake_case")]
pub enum FieldChange {
    /// `severity`.
    Severity {
        /// Before.
        old: Severity,
        /// After.
        new: Severity,
    },
    /// The `when` condition (as written, whitespace and comments normalised;
    /// `None` when the rule has none).
    Condition {
        /// Before.
        old: Option<String>,
        /// After.
        new: Option<String>,
    },
    /// The constraint: what the rule checks.
    Constraint {
        /// Before.
        old: String,
        /// After.
        new: String,
    },
    /// `cite`.
    Citations(Delta),
    /// `requires`.
    Requires(Delta),
    /// `defers to`.
    DefersTo(Delta),
    /// `unwaivable`.
    Unwaivable {
        /// Before.
        old: bool,
        /// After.
        new: bool,
    },
    /// The pack the rule belongs to.
    Pack {
        /// Before.
        old: String,
        /// After.
        new: String,
    },
    /// `tags`.
    Tags(Delta),
    /// `message`.
    Message {
        /// Before.
        old: Option<String>,
        /// After.
        new: Option<String>,
    },
    /// `help`.
    Help {
        /// Before.
        old: Option<String>,
        /// After.
        new: Option<String>,
    },
    /// `description`.
    Description {
        /// Before.
        old: Option<String>,
        /// After.
        new: Option<String>,
    },
}

/// A rule that was added, removed or changed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleDiff {
    /// Rule id.
    pub id: String,
    /// What happened to it.
    pub change: ChangeKind,
    /// Its pack (in the new version, or the old one if removed).
    pub pack: String,
    /// Its severity (likewise).
    pub severity: Severity,
    /// Its kind (`forbid_targeting`, …; likewise).
    pub kind: &'static str,
    /// Its citations (likewise).
    pub citations: Vec<String>,
    /// Its condition, normalised (likewise).
    pub when: Option<String>,
    /// Its constraint, normalised (likewise).
    pub constraint: String,
    /// For a changed rule, what changed, most consequential first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
}

/// A named set that was added, removed or whose members changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SetDiff {
    /// Set name.
    pub name: String,
    /// What happened to it.
    pub change: ChangeKind,
    /// Members (after flattening) added and removed; every member for an
    /// added or removed set.
    pub members: Delta,
    /// Rules that use the set, directly or through other sets.
    pub used_by: Vec<String>,
}

/// An attribute declaration that was added, removed or whose lineage changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AttributeDiff {
    /// Attribute name.
    pub name: String,
    /// What happened to it.
    pub change: ChangeKind,
    /// `derived_from` changes.
    pub derived_from: Delta,
    /// `proxy_for` changes.
    pub proxy_for: Delta,
    /// Data dictionary `category` changes (`none` included); omitted when
    /// unchanged.
    #[serde(skip_serializing_if = "Delta::is_empty")]
    pub category: Delta,
}

/// A purpose that was added, removed or re-described.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PurposeDiff {
    /// Purpose name.
    pub name: String,
    /// What happened to it.
    pub change: ChangeKind,
    /// Description before (absent when added).
    pub old_description: Option<String>,
    /// Description after (absent when removed).
    pub new_description: Option<String>,
    /// Rules that name the purpose.
    pub used_by: Vec<String>,
}

/// A table value that differs, by key (`None` for the default).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EntryDiff {
    /// The jurisdiction key, or `None` for `default`.
    pub key: Option<String>,
    /// Before (absent when added).
    pub old: Option<String>,
    /// After (absent when removed).
    pub new: Option<String>,
}

/// A table that was added, removed or whose entries changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableDiff {
    /// Table name.
    pub name: String,
    /// What happened to it.
    pub change: ChangeKind,
    /// Entries (and the default) that differ.
    pub entries: Vec<EntryDiff>,
    /// Rules that use the table.
    pub used_by: Vec<String>,
}

/// A pack (a file with a `policy` header) added, removed or re-versioned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PackDiff {
    /// Pack name.
    pub name: String,
    /// What happened to it.
    pub change: ChangeKind,
    /// Declared version before.
    pub old_version: Option<String>,
    /// Declared version after.
    pub new_version: Option<String>,
}

/// A pack whose rules or declarations changed while its declared version
/// stayed the same.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VersionWarning {
    /// Always [`VERSION_NOT_BUMPED`].
    pub code: &'static str,
    /// The pack.
    pub pack: String,
    /// The unchanged version.
    pub version: String,
    /// The file holding the pack's header (new version).
    pub file: String,
    /// Rules of the pack added, removed or changed.
    pub rules_changed: usize,
    /// Sets, attributes, purposes and tables declared in the pack that changed.
    pub declarations_changed: usize,
}

impl VersionWarning {
    /// What changed: "2 rules, 1 declaration".
    pub fn what_changed(&self) -> String {
        let mut what = Vec::new();
        if self.rules_changed > 0 {
            what.push(plural(self.rules_changed, "rule"));
        }
        if self.declarations_changed > 0 {
            what.push(plural(self.declarations_changed, "declaration"));
        }
        what.join(", ")
    }

    /// One-line explanation.
    pub fn message(&self) -> String {
        format!(
            "pack `{}` changed ({}) but its version is still \"{}\"",
            self.pack,
            self.what_changed(),
            self.version
        )
    }
}

/// Everything that differs between two compiled policies.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PolicyDiff {
    /// Rules, by id.
    pub rules: Vec<RuleDiff>,
    /// Sets, by name.
    pub sets: Vec<SetDiff>,
    /// Attributes, by name.
    pub attributes: Vec<AttributeDiff>,
    /// Purposes, by name.
    pub purposes: Vec<PurposeDiff>,
    /// Tables, by name.
    pub tables: Vec<TableDiff>,
    /// Packs, by name.
    pub packs: Vec<PackDiff>,
    /// Packs changed without a version bump.
    pub warnings: Vec<VersionWarning>,
}

impl PolicyDiff {
    /// True when the policies mean the same.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
            && self.sets.is_empty()
            && self.attributes.is_empty()
            && self.purposes.is_empty()
            && self.tables.is_empty()
            && self.packs.is_empty()
    }

    /// Rules with the given kind of change.
    pub fn rules_with(&self, change: ChangeKind) -> impl Iterator<Item = &RuleDiff> {
        self.rules.iter().filter(move |r| r.change == change)
    }
}

/// Compares two compiled policies.
pub fn diff(old: &Policy, new: &Policy) -> PolicyDiff {
    let mut differ = Differ {
        old,
        new,
        touched: BTreeMap::new(),
        out: PolicyDiff::default(),
    };
    differ.rules();
    differ.sets();
    differ.attributes();
    differ.purposes();
    differ.tables();
    differ.packs();
    differ.out
}

/// Whether a change is to a rule or to a declaration, for the version check.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Item {
    Rule,
    Declaration,
}

/// State of one comparison.
struct Differ<'a> {
    old: &'a Policy,
    new: &'a Policy,
    /// Packs (files with a header) holding a change: pack → (rules,
    /// declarations) changed, for the version check.
    touched: BTreeMap<String, (usize, usize)>,
    out: PolicyDiff,
}

impl<'a> Differ<'a> {
    /// Counts a change for the packs declaring the item in the old and the
    /// new version (given as file indexes), once per pack.
    fn touch(&mut self, old_file: Option<usize>, new_file: Option<usize>, item: Item) {
        let old = old_file.and_then(|f| declared_pack(self.old, f));
        let new = new_file
            .and_then(|f| declared_pack(self.new, f))
            .filter(|n| old.as_ref() != Some(n));
        for pack in [old, new].into_iter().flatten() {
            let counts = self.touched.entry(pack).or_default();
            match item {
                Item::Rule => counts.0 += 1,
                Item::Declaration => counts.1 += 1,
            }
        }
    }

    /// Rules using a set, purpose or table: in the new version, or in the
    /// old one when it was removed.
    fn users(&self, in_new: bool, kind: NodeKind, name: &str) -> Vec<String> {
        users(if in_new { self.new } else { self.old }, kind, name)
    }

    fn rules(&mut self) {
        let old: BTreeMap<&str, &CompiledRule> =
            self.old.rules.iter().map(|r| (r.id.as_str(), r)).collect();
        let new: BTreeMap<&str, &CompiledRule> =
            self.new.rules.iter().map(|r| (r.id.as_str(), r)).collect();
        for id in keys(&old, &new) {
            let (o, n) = (old.get(id), new.get(id));
            let entry = match (o, n) {
                (None, Some(n)) => rule_entry(n, ChangeKind::Added, Vec::new()),
                (Some(o), None) => rule_entry(o, ChangeKind::Removed, Vec::new()),
                (Some(o), Some(n)) => {
                    let fields = rule_changes(o, n);
                    if fields.is_empty() {
                        continue;
                    }
                    rule_entry(n, ChangeKind::Changed, fields)
                }
                (None, None) => continue,
            };
            self.touch(o.map(|r| r.file), n.map(|r| r.file), Item::Rule);
            self.out.rules.push(entry);
        }
    }

    fn sets(&mut self) {
        for name in keys(&self.old.sets, &self.new.sets) {
            let (o, n) = (self.old.sets.get(name), self.new.sets.get(name));
            let members = |s: Option<&'a compile::SetDef>| {
                s.into_iter()
                    .flat_map(|s| s.members.iter().map(String::as_str))
            };
            let members = Delta::between(members(o), members(n));
            let Some(change) = change_kind(o.is_some(), n.is_some(), !members.is_empty()) else {
                continue;
            };
            self.touch(o.map(|d| d.file), n.map(|d| d.file), Item::Declaration);
            let used_by = self.users(n.is_some(), NodeKind::Set, name);
            self.out.sets.push(SetDiff {
                name: name.clone(),
                change,
                members,
                used_by,
            });
        }
    }

    fn attributes(&mut self) {
        for name in keys(&self.old.attributes, &self.new.attributes) {
            let (o, n) = (self.old.attributes.get(name), self.new.attributes.get(name));
            let lineage = |pick: fn(&ast::AttributeDecl) -> &[ast::Ident]| {
                let names = |a: Option<&'a compile::AttributeDef>| {
                    a.into_iter()
                        .flat_map(move |a| pick(&a.decl).iter().map(|i| i.name.as_str()))
                };
                Delta::between(names(o), names(n))
            };
            let derived_from = lineage(|d| &d.derived_from);
            let proxy_for = lineage(|d| &d.proxy_for);
            let category = {
                let names = |a: Option<&'a compile::AttributeDef>| {
                    a.and_then(|a| a.decl.category.as_ref())
                        .map(|c| c.name.as_str())
                        .into_iter()
                };
                Delta::between(names(o), names(n))
            };
            let differs = !derived_from.is_empty() || !proxy_for.is_empty() || !category.is_empty();
            let Some(change) = change_kind(o.is_some(), n.is_some(), differs) else {
                continue;
            };
            self.touch(o.map(|d| d.file), n.map(|d| d.file), Item::Declaration);
            self.out.attributes.push(AttributeDiff {
                name: name.clone(),
                change,
                derived_from,
                proxy_for,
                category,
            });
        }
    }

    fn purposes(&mut self) {
        for name in keys(&self.old.purposes, &self.new.purposes) {
            let (o, n) = (self.old.purposes.get(name), self.new.purposes.get(name));
            let old_description = o.map(|p| p.decl.description.value.clone());
            let new_description = n.map(|p| p.decl.description.value.clone());
            let differs = old_description != new_description;
            let Some(change) = change_kind(o.is_some(), n.is_some(), differs) else {
                continue;
            };
            self.touch(o.map(|d| d.file), n.map(|d| d.file), Item::Declaration);
            let used_by = self.users(n.is_some(), NodeKind::Purpose, name);
            self.out.purposes.push(PurposeDiff {
                name: name.clone(),
                change,
                old_description,
                new_description,
                used_by,
            });
        }
    }

    fn tables(&mut self) {
        for name in keys(&self.old.tables, &self.new.tables) {
            let (o, n) = (self.old.tables.get(name), self.new.tables.get(name));
            let (ov, nv) = (table_values(o), table_values(n));
            let entries: Vec<EntryDiff> = keys(&ov, &nv)
                .into_iter()
                .filter(|k| ov.get(*k) != nv.get(*k))
                .map(|k| EntryDiff {
                    key: k.clone(),
                    old: ov.get(k).cloned(),
                    new: nv.get(k).cloned(),
                })
                .collect();
            let Some(change) = change_kind(o.is_some(), n.is_some(), !entries.is_empty()) else {
                continue;
            };
            self.touch(o.map(|d| d.file), n.map(|d| d.file), Item::Declaration);
            let used_by = self.users(n.is_some(), NodeKind::Table, name);
            self.out.tables.push(TableDiff {
                name: name.clone(),
                change,
                entries,
                used_by,
            });
        }
    }

    /// Pack versions, and the version check (run last: it needs every
    /// other change counted).
    fn packs(&mut self) {
        let (old_packs, new_packs) = (packs(self.old), packs(self.new));
        for name in keys(&old_packs, &new_packs) {
            let (o, n) = (old_packs.get(name), new_packs.get(name));
            let old_version = o.and_then(|p| p.version.clone());
            let new_version = n.and_then(|p| p.version.clone());
            let differs = old_version != new_version;
            if let Some(change) = change_kind(o.is_some(), n.is_some(), differs) {
                self.out.packs.push(PackDiff {
                    name: name.clone(),
                    change,
                    old_version: old_version.clone(),
                    new_version: new_version.clone(),
                });
            }
            let (Some(n), Some(version)) = (n, new_version) else {
                continue;
            };
            let (rules, declarations) = self.touched.get(name).copied().unwrap_or_default();
            if old_version.as_ref() == Some(&version) && rules + declarations > 0 {
                self.out.warnings.push(VersionWarning {
                    code: VERSION_NOT_BUMPED,
                    pack: name.clone(),
                    version,
                    file: n.file.clone(),
                    rules_changed: rules,
                    declarations_changed: declarations,
                });
            }
        }
    }
}

/// A table's values by key (`None` for the default), as text.
fn table_values(table: Option<&compile::TableDef>) -> BTreeMap<Option<String>, String> {
    let mut map = BTreeMap::new();
    if let Some(t) = table {
        if let Some(d) = &t.decl.default {
            map.insert(None, scalar_text(d));
        }
        for (k, v) in &t.decl.entries {
            map.insert(Some(k.name.clone()), scalar_text(v));
        }
    }
    map
}

/// The union of two maps' keys, sorted.
fn keys<'a, K: Ord, A, B>(a: &'a BTreeMap<K, A>, b: &'a BTreeMap<K, B>) -> Vec<&'a K> {
    let set: BTreeSet<&K> = a.keys().chain(b.keys()).collect();
    set.into_iter().collect()
}

fn change_kind(in_old: bool, in_new: bool, differs: bool) -> Option<ChangeKind> {
    match (in_old, in_new) {
        (false, true) => Some(ChangeKind::Added),
        (true, false) => Some(ChangeKind::Removed),
        (true, true) if differs => Some(ChangeKind::Changed),
        _ => None,
    }
}

/// The pack name of a file that has a `policy` header.
fn declared_pack(policy: &Policy, file: usize) -> Option<String> {
    let info = policy.files.get(file)?;
    info.header.as_ref().map(|h| h.name.value.clone())
}

struct PackInfo {
    version: Option<String>,
    file: String,
}

/// Packs declared by a `policy` header: name → version and file.
fn packs(policy: &Policy) -> BTreeMap<String, PackInfo> {
    let mut out = BTreeMap::new();
    for file in &policy.files {
        if let Some(header) = &file.header {
            out.entry(header.name.value.clone())
                .or_insert_with(|| PackInfo {
                    version: header.version.as_ref().map(|v| v.value.clone()),
                    file: file.source.name.clone(),
                });
        }
    }
    out
}

/// Rules that use the named set, purpose or table, directly or through sets.
fn users(policy: &Policy, kind: NodeKind, name: &str) -> Vec<String> {
    let graph = &policy.graph;
    let Some(start) = graph
        .node_indices()
        .find(|&i| graph[i].kind == kind && graph[i].name == name)
    else {
        return Vec::new();
    };
    let mut seen = BTreeSet::from([start]);
    let mut stack = vec![start];
    let mut rules = BTreeSet::new();
    while let Some(node) = stack.pop() {
        for edge in graph.edges_directed(node, Direction::Incoming) {
            if edge.weight().kind != EdgeKind::Uses || !seen.insert(edge.source()) {
                continue;
            }
            let user = &graph[edge.source()];
            match user.kind {
                NodeKind::Rule => {
                    rules.insert(user.name.clone());
                }
                NodeKind::Set => stack.push(edge.source()),
                _ => {}
            }
        }
    }
    rules.into_iter().collect()
}

fn scalar_text(value: &ast::Scalar) -> String {
    match value {
        ast::Scalar::Number(n, _) => n.to_string(),
        ast::Scalar::Str(s) => format!("{:?}", s.value),
        ast::Scalar::Symbol(i) => i.name.clone(),
    }
}

fn rule_entry(rule: &CompiledRule, change: ChangeKind, fields: Vec<FieldChange>) -> RuleDiff {
    RuleDiff {
        id: rule.id.clone(),
        change,
        pack: rule.pack.clone(),
        severity: rule.severity,
        kind: rule.kind(),
        citations: rule.cites().map(str::to_string).collect(),
        when: when_text(rule),
        constraint: written(&rule.source, rule.decl.constraint.span()),
        fields,
    }
}

fn when_text(rule: &CompiledRule) -> Option<String> {
    rule.decl
        .when
        .as_ref()
        .map(|w| written(&rule.source, w.span()))
}

/// What differs between two versions of one rule, most consequential first.
fn rule_changes(old: &CompiledRule, new: &CompiledRule) -> Vec<FieldChange> {
    let (o, n) = (&*old.decl, &*new.decl);
    let mut out = Vec::new();
    if old.severity != new.severity {
        out.push(FieldChange::Severity {
            old: old.severity,
            new: new.severity,
        });
    }
    if canonical(&o.when) != canonical(&n.when) {
        out.push(FieldChange::Condition {
            old: when_text(old),
            new: when_text(new),
        });
    }
    if canonical(&o.constraint) != canonical(&n.constraint) {
        out.push(FieldChange::Constraint {
            old: written(&old.source, o.constraint.span()),
            new: written(&new.source, n.constraint.span()),
        });
    }
    let delta = |a: &[ast::Str], b: &[ast::Str]| {
        Delta::between(
            a.iter().map(|s| s.value.as_str()),
            b.iter().map(|s| s.value.as_str()),
        )
    };
    let ident_delta = |a: &[ast::Ident], b: &[ast::Ident]| {
        Delta::between(
            a.iter().map(|s| s.name.as_str()),
            b.iter().map(|s| s.name.as_str()),
        )
    };
    let cites = delta(&o.cites, &n.cites);
    if !cites.is_empty() {
        out.push(FieldChange::Citations(cites));
    }
    let requires = ident_delta(&o.requires, &n.requires);
    if !requires.is_empty() {
        out.push(FieldChange::Requires(requires));
    }
    let defers_to = ident_delta(&o.defers_to, &n.defers_to);
    if !defers_to.is_empty() {
        out.push(FieldChange::DefersTo(defers_to));
    }
    if o.unwaivable.is_some() != n.unwaivable.is_some() {
        out.push(FieldChange::Unwaivable {
            old: o.unwaivable.is_some(),
            new: n.unwaivable.is_some(),
        });
    }
    if old.pack != new.pack {
        out.push(FieldChange::Pack {
            old: old.pack.clone(),
            new: new.pack.clone(),
        });
    }
    let tags = ident_delta(&o.tags, &n.tags);
    if !tags.is_empty() {
        out.push(FieldChange::Tags(tags));
    }
    let text = |s: &Option<ast::Str>| s.as_ref().map(|s| s.value.clone());
    if text(&o.message) != text(&n.message) {
        out.push(FieldChange::Message {
            old: text(&o.message),
            new: text(&n.message),
        });
    }
    if text(&o.help) != text(&n.help) {
        out.push(FieldChange::Help {
            old: text(&o.help),
            new: text(&n.help),
        });
    }
    if text(&o.description) != text(&n.description) {
        out.push(FieldChange::Description {
            old: text(&o.description),
            new: text(&n.description),
        });
    }
    out
}

/// A span-free rendering of an AST node, for comparing meaning: two nodes
/// are equal here when they differ only in where they were written.
fn canonical(node: &impl std::fmt::Debug) -> String {
    static SPAN: LazyLock<Option<regex::Regex>> =
        LazyLock::new(|| regex::Regex::new(r"Span \{ start: \d+, end: \d+ \}").ok());
    let debug = format!("{node:?}");
    match &*SPAN {
        Some(re) => re.replace_all(&debug, "_").into_owned(),
        None => debug,
    }
}

/// The text at `span`, for display: comments dropped, each run of
/// whitespace (line breaks included) made one space.
fn written(source: &SourceFile, span: Span) -> String {
    let mut out = String::new();
    let mut chars = source.slice(span).chars().peekable();
    let mut in_string = false;
    let mut pending_space = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                '\\' => out.extend(chars.next()),
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        let comment = c == '#' || (c == '/' && chars.peek() == Some(&'/'));
        if comment {
            while chars.next_if(|&n| n != '\n').is_some() {}
            pending_space = true;
            continue;
        }
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space && !out.is_empty() {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
        in_string = c == '"';
    }
    out
}

// ---------------------------------------------------------------- impact

/// A campaign's outcome under one policy version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The campaign passes.
    Pass,
    /// The campaign is blocked.
    Fail,
}

/// A finding present under one version only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FindingChange {
    /// Rule id.
    pub rule: String,
    /// Severity.
    pub severity: Severity,
    /// `violation`, `waived` or `skipped`.
    pub status: &'static str,
    /// The message, placeholders filled.
    pub message: String,
    /// Line in the campaign file (1-based).
    pub line: usize,
    /// Column in the campaign file (1-based, in characters).
    pub column: usize,
}

/// How one campaign fares under the old and the new policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CampaignImpact {
    /// The campaign file.
    pub file: String,
    /// The campaign id.
    pub id: String,
    /// Verdict under the old policy.
    pub old_verdict: Verdict,
    /// Verdict under the new policy.
    pub new_verdict: Verdict,
    /// Findings only the new policy reports.
    pub appeared: Vec<FindingChange>,
    /// Findings only the old policy reported.
    pub disappeared: Vec<FindingChange>,
}

impl CampaignImpact {
    /// Passed before, blocked now.
    pub fn newly_blocked(&self) -> bool {
        self.old_verdict == Verdict::Pass && self.new_verdict == Verdict::Fail
    }

    /// Blocked before, passes now.
    pub fn unblocked(&self) -> bool {
        self.old_verdict == Verdict::Fail && self.new_verdict == Verdict::Pass
    }
}

/// The effect of a policy change on a corpus of campaigns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Impact {
    /// Campaigns loaded and checked against both versions.
    pub campaigns: usize,
    /// Campaigns that passed and are now blocked.
    pub newly_blocked: usize,
    /// Campaigns that were blocked and now pass.
    pub unblocked: usize,
    /// Campaigns whose verdict is unchanged but whose findings differ.
    pub findings_changed: usize,
    /// Inputs that could not be loaded (reported as diagnostics).
    pub invalid: usize,
    /// Every campaign whose verdict or findings differ: newly blocked
    /// first, then unblocked, then the rest, each in input order.
    pub changed: Vec<CampaignImpact>,
}

/// Checks the campaigns against both policies and compares the outcomes.
/// Campaigns that cannot be loaded come back as [`InvalidInput`]s.
pub fn impact(
    old: &Policy,
    new: &Policy,
    sources: &[Source],
    options: Options,
    deny_warnings: bool,
) -> (Impact, Vec<InvalidInput>) {
    let before = check::run(old, sources.to_vec(), options);
    let after = check::run(new, sources.to_vec(), options);
    let mut out = Impact {
        campaigns: after.reports.len(),
        invalid: after.invalid.len(),
        ..Impact::default()
    };
    // Both runs load the same sources, so reports pair up by position.
    for (o, n) in before.reports.iter().zip(&after.reports) {
        let verdict = |r: &CampaignReport| {
            if r.passes(deny_warnings) {
                Verdict::Pass
            } else {
                Verdict::Fail
            }
        };
        let appeared = only_in(n, o);
        let disappeared = only_in(o, n);
        let (old_verdict, new_verdict) = (verdict(o), verdict(n));
        if old_verdict == new_verdict && appeared.is_empty() && disappeared.is_empty() {
            continue;
        }
        out.changed.push(CampaignImpact {
            file: n.campaign.name.clone(),
            id: n.id.clone(),
            old_verdict,
            new_verdict,
            appeared,
            disappeared,
        });
    }
    out.changed.sort_by_key(|c| {
        if c.newly_blocked() {
            0
        } else if c.unblocked() {
            1
        } else {
            2
        }
    });
    out.newly_blocked = out.changed.iter().filter(|c| c.newly_blocked()).count();
    out.unblocked = out.changed.iter().filter(|c| c.unblocked()).count();
    out.findings_changed = out.changed.len() - out.newly_blocked - out.unblocked;
    (out, after.invalid)
}

fn status_name(status: &Status) -> &'static str {
    match status {
        Status::Violation => "violation",
        Status::Waived(_) => "waived",
        Status::Skipped { .. } => "skipped",
        Status::Deferred { .. } => "deferred",
    }
}

/// Identifies a finding across the two runs: the same rule, outcome and
/// severity at the same place in the same campaign (the message may be
/// reworded without the finding counting as new).
fn finding_key(f: &Finding) -> (&str, &'static str, Severity, Span) {
    (&f.rule, status_name(&f.status), f.severity, f.span)
}

/// Findings of `a` that `b` does not have (as a multiset).
fn only_in(a: &CampaignReport, b: &CampaignReport) -> Vec<FindingChange> {
    let mut remaining: Vec<_> = b.findings.iter().map(finding_key).collect();
    let mut out = Vec::new();
    for f in &a.findings {
        let key = finding_key(f);
        if let Some(i) = remaining.iter().position(|k| *k == key) {
            remaining.swap_remove(i);
            continue;
        }
        let (line, column) = f.campaign.line_col(f.span.start);
        out.push(FindingChange {
            rule: f.rule.clone(),
            severity: f.severity,
            status: status_name(&f.status),
            message: f.message.clone(),
            line,
            column,
        });
    }
    out
}

// ---------------------------------------------------------------- command

/// What `scruple diff` prints and returns.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The report, for standard output (empty when the diff could not run).
    pub text: String,
    /// Diagnostics, for standard error.
    pub diags: Vec<Diag>,
    /// The exit code: [`EXIT_SAME`], [`EXIT_CHANGED`] or [`EXIT_INPUT`].
    pub code: u8,
}

/// A compiled side, as shown in reports.
#[derive(Debug)]
pub struct SideReport<'a> {
    /// The side.
    pub side: &'a Side,
    /// Its compiled policy.
    pub policy: &'a Policy,
}

/// Runs `scruple diff`: resolves and compiles both sides, diffs them, runs
/// the campaigns when asked, and renders. `at` is "now" for consent ages.
///
/// The project configuration, when given, affects only the impact analysis,
/// as it affects `scruple check`: its severity overrides and disabled rules
/// are applied to both versions after they are compared (overrides naming
/// a rule that one version lacks are ignored), and its `deny_warnings`
/// counts as `--deny-warnings`. The diff itself compares the policies as
/// written.
pub fn command(
    args: &DiffArgs,
    at: Option<jiff::Timestamp>,
    config: Option<&crate::config::Config>,
) -> Outcome {
    let (mut old_side, mut new_side) = match side::resolve(&args.old, &args.new) {
        Ok(sides) => sides,
        Err(diags) => {
            return Outcome {
                diags,
                code: EXIT_INPUT,
                ..Outcome::default()
            }
        }
    };
    let mut diags = Vec::new();
    let mut compiled = Vec::new();
    for (which, side) in [("old", &mut old_side), ("new", &mut new_side)] {
        let (policy, side_diags) = compile::compile(std::mem::take(&mut side.inputs));
        match policy {
            Some(policy) => compiled.push(policy),
            None => {
                // Warnings of a policy that compiles are left to `scruple
                // compile`; here only a failure needs explaining.
                diags.extend(side_diags);
                diags.push(
                    Diag::error(
                        "scruple::diff::does_not_compile",
                        format!("the {which} policy (`{}`) does not compile", side.label),
                    )
                    .with_help("fix the errors above, or compare other versions"),
                );
            }
        }
    }
    let (Some(mut new_policy), Some(mut old_policy)) = (compiled.pop(), compiled.pop()) else {
        return Outcome {
            diags,
            code: EXIT_INPUT,
            ..Outcome::default()
        };
    };
    let policy_diff = diff(&old_policy, &new_policy);
    let mut input_error = false;
    let impact = if args.campaigns.is_empty() {
        None
    } else {
        let deny_warnings = args.deny_warnings || config.is_some_and(|c| c.deny_warnings);
        if let Some(config) = config {
            for policy in [&mut old_policy, &mut new_policy] {
                let applied = config.apply(policy);
                diags.extend(
                    applied
                        .into_iter()
                        .filter(|d| d.code != "scruple::config::unknown_rule"),
                );
            }
        }
        let (sources, invalid, usage) = check::read_inputs(&args.campaigns);
        let options = Options {
            now: at.unwrap_or_else(jiff::Timestamp::now),
        };
        let (mut impact, loaded_invalid) =
            impact(&old_policy, &new_policy, &sources, options, deny_warnings);
        impact.invalid += invalid.len();
        input_error = !usage.is_empty() || impact.invalid > 0;
        diags.extend(usage);
        for input in invalid.into_iter().chain(loaded_invalid) {
            diags.extend(input.diags);
        }
        Some(impact)
    };
    let old = SideReport {
        side: &old_side,
        policy: &old_policy,
    };
    let new = SideReport {
        side: &new_side,
        policy: &new_policy,
    };
    let text = match args.format {
        DiffFormat::Human => render::human(&old, &new, &policy_diff, impact.as_ref()),
        DiffFormat::Json => render::json(&old, &new, &policy_diff, impact.as_ref()),
        DiffFormat::Markdown => render::markdown(&old, &new, &policy_diff, impact.as_ref()),
    };
    let code = if input_error {
        EXIT_INPUT
    } else if args.exit_code && !policy_diff.is_empty() {
        EXIT_CHANGED
    } else {
        EXIT_SAME
    };
    Outcome { text, diags, code }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::compile::load::MemoryTree;
    use crate::compile::Inputs;

    /// Compiles in-memory files (every file a root).
    fn policy(files: &[(&str, &str)]) -> Policy {
        let tree = Arc::new(MemoryTree {
            prefix: "test:".into(),
            files: files
                .iter()
                .map(|(p, t)| (p.to_string(), t.to_string()))
                .collect(),
        });
        let mut inputs = Inputs::default();
        let roots: Vec<String> = files.iter().map(|(p, _)| p.to_string()).collect();
        inputs.add_memory(&tree, &roots);
        let (policy, diags) = compile::compile(inputs);
        match policy {
            Some(p) => p,
            None => panic!("does not compile: {diags:#?}"),
        }
    }

    const BASE: &str = r#"policy "p"
  version "1.0.0"

set inner = [religion]
set outer = inner + [health]

rule r1 {
  severity warning
  when channel is email
  forbid targeting on outer
}

rule r2 {
  require owner
}
"#;

    /// Issue 11 item 3: a data dictionary entry's category is compared.
    #[test]
    fn a_changed_dictionary_category_is_reported() {
        let old = BASE.replace("set inner", "attribute care_pathway\nset inner");
        let new = BASE.replace(
            "set inner",
            "attribute care_pathway category health.treatment\nset inner",
        );
        let d = diff(
            &policy(&[("p.scruple", &old)]),
            &policy(&[("p.scruple", &new)]),
        );
        assert_eq!(d.attributes.len(), 1);
        assert_eq!(d.attributes[0].category.added, ["health.treatment"]);
        assert!(d.attributes[0].category.removed.is_empty());
        let unchanged = diff(
            &policy(&[("p.scruple", &new)]),
            &policy(&[("p.scruple", &new)]),
        );
        assert!(unchanged.attributes.is_empty());
    }

    #[test]
    fn moving_reformatting_and_commenting_is_not_a_change() {
        let moved = r#"policy "p" version "1.0.0"
rule r2 { require owner }

# comments and line breaks do not matter
rule r1 {
  when channel
    == email   # `is` and `==` are the same comparison
  severity   warning
  forbid targeting on outer
}
set outer = inner + [health]
set inner = [religion]
"#;
        let d = diff(
            &policy(&[("p.scruple", BASE)]),
            &policy(&[("p.scruple", moved)]),
        );
        assert!(d.is_empty(), "{d:#?}");
    }

    #[test]
    fn set_changes_name_the_rules_using_them_through_other_sets() {
        let changed = BASE.replace(
            "set inner = [religion]",
            "set inner = [religion, ethnicity]",
        );
        let d = diff(
            &policy(&[("p.scruple", BASE)]),
            &policy(&[("p.scruple", &changed)]),
        );
        assert!(d.rules.is_empty(), "{:#?}", d.rules);
        let names: Vec<&str> = d.sets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["inner", "outer"]);
        for set in &d.sets {
            assert_eq!(set.members.added, ["ethnicity"]);
            assert_eq!(set.used_by, ["r1"]);
        }
        // A set declared in the pack changed without a version bump.
        assert_eq!(d.warnings.len(), 1);
        assert_eq!(d.warnings[0].declarations_changed, 2);
        assert_eq!(d.warnings[0].rules_changed, 0);
    }

    #[test]
    fn version_warning_only_when_the_version_stays() {
        let old = policy(&[("p.scruple", BASE)]);
        let severity = BASE.replace("severity warning", "severity error");
        let same_version = diff(&old, &policy(&[("p.scruple", &severity)]));
        assert_eq!(
            same_version.rules[0].fields,
            [FieldChange::Severity {
                old: Severity::Warning,
                new: Severity::Error
            }]
        );
        assert_eq!(same_version.warnings.len(), 1);
        assert_eq!(
            same_version.warnings[0].message(),
            "pack `p` changed (1 rule) but its version is still \"1.0.0\""
        );
        let bumped = severity.replace("1.0.0", "1.0.1");
        let bumped = diff(&old, &policy(&[("p.scruple", &bumped)]));
        assert!(bumped.warnings.is_empty());
        assert_eq!(bumped.packs[0].new_version.as_deref(), Some("1.0.1"));
    }

    #[test]
    fn written_text_drops_comments_but_not_string_contents() {
        let source = SourceFile::new(
            "t",
            "ensure  subject matches \"#1 // deal\"  # why\n  and x // more\n  is y",
        );
        let span = Span::new(0, source.text.len());
        assert_eq!(
            written(&source, span),
            "ensure subject matches \"#1 // deal\" and x is y"
        );
    }

    #[test]
    fn deltas_compare_as_sets() {
        let d = Delta::between(["a", "b", "b"], ["b", "c"]);
        assert_eq!(d.added, ["c"]);
        assert_eq!(d.removed, ["a"]);
        assert!(Delta::between(["a", "b"], ["b", "a"]).is_empty());
    }
}
