//! Name resolution, graph construction, cycle detection and rule ordering.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;

use super::cond::{category_member, Cond, FieldPath, SymbolSet, Term};
use super::dictionary::{value_kind, Dictionary, Meaning};
use super::graph::{EdgeKind, GraphEdge, GraphNode, NodeKind, PolicyGraph};
use super::load::{Loaded, LoadedFile};
use super::{
    AttributeDef, Check, CompiledRule, Policy, PolicyFileInfo, PurposeDef, SetDef, TableDef,
};
use crate::diag::{did_you_mean, Diag, Severity};
use crate::source::Span;
use crate::syntax::ast::{
    self, AgeLimit, ConsentScope, Constraint, Expr, Ident, Item, SetExpr, SetTerm,
};
use crate::taxonomy::categories::ALIASES;
use crate::taxonomy::{classify, law_view, CategoryId, Kind, Law, CATEGORIES};

/// Channels a campaign can use; `on …` in a cap must name these.
pub const CHANNELS: [&str; 5] = ["email", "sms", "push", "web", "ads"];

/// Placeholders the engine fills in messages.
pub const PLACEHOLDERS: [&str; 13] = [
    "attribute",
    "field",
    "purpose",
    "value",
    "path",
    "channel",
    "jurisdiction",
    "age",
    "limit",
    "count",
    "chain",
    "window",
    "origin",
];

pub(super) fn compile_loaded(loaded: Loaded) -> (Option<Policy>, Vec<Diag>) {
    let Loaded { files, diags } = loaded;
    // When a file could not be read or parsed, the names it declares are
    // unknown here; "unknown name" errors then say so.
    let incomplete = diags.iter().any(|d| {
        d.is_error()
            && (d.code.starts_with("scruple::load::")
                || [
                    "scruple::parse::syntax",
                    "scruple::parse::too_deep",
                    "scruple::parse::encoding",
                    "scruple::import::not_found",
                    "scruple::import::outside_root",
                ]
                .contains(&d.code.as_str()))
    });
    let skipped_rules = files
        .iter()
        .filter_map(|f| f.ast.as_ref())
        .flat_map(|a| a.skipped_rules.iter().map(|i| i.name.clone()))
        .collect();
    let mut r = Resolver {
        files: &files,
        diags,
        graph: PolicyGraph::new(),
        nodes: HashMap::new(),
        sets: BTreeMap::new(),
        attributes: BTreeMap::new(),
        purposes: BTreeMap::new(),
        tables: BTreeMap::new(),
        rules: Vec::new(),
        rule_index: HashMap::new(),
        flat: HashMap::new(),
        skipped_rules,
        suggested: BTreeSet::new(),
        incomplete,
        targeting_checked: BTreeSet::new(),
        values: Vec::new(),
        dictionary: Dictionary::default(),
    };
    r.declare();
    r.build_dictionary();
    r.link();
    r.report_cycles();
    r.flatten_all();
    let mut compiled = r.compile_rules();
    r.link_deferrals(&mut compiled);
    r.report_unused(&compiled);
    let order = r.order(&compiled);

    let has_errors = r.diags.iter().any(Diag::is_error);
    let Resolver {
        diags,
        graph,
        sets,
        attributes,
        purposes,
        tables,
        flat,
        dictionary,
        ..
    } = r;
    if has_errors {
        return (None, diags);
    }
    let mut rules: Vec<Option<CompiledRule>> = compiled.into_iter().map(Some).collect();
    let mut position = vec![0usize; rules.len()];
    for (pos, &i) in order.iter().enumerate() {
        position[i] = pos;
    }
    let mut ordered = Vec::with_capacity(rules.len());
    for &i in &order {
        if let Some(mut rule) = rules[i].take() {
            rule.requires = rule.requires.iter().map(|&j| position[j]).collect();
            rule.defers_to = rule.defers_to.iter().map(|&j| position[j]).collect();
            ordered.push(rule);
        }
    }
    let policy = Policy {
        files: files
            .iter()
            .map(|f| PolicyFileInfo {
                logical: f.logical.clone(),
                source: f.source.clone(),
                header: f.ast.as_ref().and_then(|a| a.header.clone()),
                imports: f.imports.iter().map(|(j, _)| *j).collect(),
            })
            .collect(),
        sets: sets
            .into_iter()
            .map(|(name, (file, decl))| {
                let members = flat.get(&name).cloned().unwrap_or_default();
                (
                    name,
                    SetDef {
                        decl,
                        file,
                        members,
                    },
                )
            })
            .collect(),
        attributes: attributes
            .into_iter()
            .map(|(name, (file, decl))| (name, AttributeDef { decl, file }))
            .collect(),
        purposes: purposes
            .into_iter()
            .map(|(name, (file, decl))| (name, PurposeDef { decl, file }))
            .collect(),
        tables: tables
            .into_iter()
            .map(|(name, (file, decl))| (name, TableDef { decl, file }))
            .collect(),
        rules: ordered,
        graph,
        dictionary,
    };
    (Some(policy), diags)
}

struct Resolver<'a> {
    files: &'a [LoadedFile],
    diags: Vec<Diag>,
    graph: PolicyGraph,
    nodes: HashMap<(NodeKind, String), NodeIndex>,
    sets: BTreeMap<String, (usize, ast::SetDecl)>,
    attributes: BTreeMap<String, (usize, ast::AttributeDecl)>,
    purposes: BTreeMap<String, (usize, ast::PurposeDecl)>,
    tables: BTreeMap<String, (usize, ast::TableDecl)>,
    rules: Vec<(usize, Arc<ast::RuleDecl>)>,
    /// Rule id → index in `rules`.
    rule_index: HashMap<String, usize>,
    flat: HashMap<String, Arc<SymbolSet>>,
    /// Ids of rules dropped by lowering errors (already reported).
    skipped_rules: BTreeSet<String>,
    /// `(kind, name)` offered as "did you mean"; not reported as unused.
    suggested: BTreeSet<(String, String)>,
    /// Some input could not be read or parsed.
    incomplete: bool,
    /// Targeting-set members already checked, by (file, offset).
    targeting_checked: BTreeSet<(usize, usize)>,
    /// `values … category …` declarations, in file order.
    values: Vec<(usize, ast::ValuesDecl)>,
    /// The data dictionary, built by [`Resolver::build_dictionary`].
    dictionary: Dictionary,
}

impl Resolver<'_> {
    fn node(&mut self, kind: NodeKind, name: &str, file: Option<usize>) -> NodeIndex {
        if let Some(&i) = self.nodes.get(&(kind, name.to_string())) {
            return i;
        }
        let i = self.graph.add_node(GraphNode {
            kind,
            name: name.to_string(),
            file,
        });
        self.nodes.insert((kind, name.to_string()), i);
        i
    }

    fn edge(&mut self, from: NodeIndex, to: NodeIndex, kind: EdgeKind, file: usize, span: Span) {
        self.graph
            .add_edge(from, to, GraphEdge { kind, file, span });
    }

    fn duplicate(&mut self, what: &str, name: &Ident, file: usize, first: (usize, Span)) {
        let code = if what == "rule" {
            "scruple::resolve::duplicate_rule"
        } else {
            "scruple::resolve::duplicate_name"
        };
        let help = if what == "rule" {
            "rule ids are unique across every loaded file: rename one rule, or remove the copy (two rules with one id would contradict each other)"
        } else {
            "names are shared by every loaded file: rename one of them or remove the copy"
        };
        self.diags.push(
            Diag::error(code, format!("{what} `{}` is defined twice", name.name))
                .with_label(&self.files[file].source, name.span, "defined again here")
                .with_label(&self.files[first.0].source, first.1, "first defined here")
                .with_help(help),
        );
    }

    /// Collects every declaration and creates its node.
    fn declare(&mut self) {
        let files = self.files;
        for (fi, file) in files.iter().enumerate() {
            let name = file.logical.clone();
            self.node(NodeKind::File, &name, Some(fi));
        }
        for (fi, file) in files.iter().enumerate() {
            let Some(ast) = &file.ast else { continue };
            for item in &ast.items {
                match item {
                    Item::Import(_) => {}
                    Item::Values(decl) => self.values.push((fi, decl.clone())),
                    Item::Set(decl) => {
                        if let Some((f, d)) = self.sets.get(&decl.name.name) {
                            let first = (*f, d.name.span);
                            self.duplicate("set", &decl.name, fi, first);
                        } else {
                            self.node(NodeKind::Set, &decl.name.name, Some(fi));
                            self.sets.insert(decl.name.name.clone(), (fi, decl.clone()));
                        }
                    }
                    Item::Attribute(decl) => {
                        if let Some((f, d)) = self.attributes.get(&decl.name.name) {
                            let first = (*f, d.name.span);
                            self.duplicate("attribute", &decl.name, fi, first);
                        } else {
                            self.node(NodeKind::Attribute, &decl.name.name, Some(fi));
                            self.attributes
                                .insert(decl.name.name.clone(), (fi, decl.clone()));
                        }
                    }
                    Item::Purpose(decl) => {
                        if let Some((f, d)) = self.purposes.get(&decl.name.name) {
                            let first = (*f, d.name.span);
                            self.duplicate("purpose", &decl.name, fi, first);
                        } else {
                            self.node(NodeKind::Purpose, &decl.name.name, Some(fi));
                            self.purposes
                                .insert(decl.name.name.clone(), (fi, decl.clone()));
                        }
                    }
                    Item::Table(decl) => {
                        if let Some((f, d)) = self.tables.get(&decl.name.name) {
                            let first = (*f, d.name.span);
                            self.duplicate("table", &decl.name, fi, first);
                        } else {
                            self.node(NodeKind::Table, &decl.name.name, Some(fi));
                            self.tables
                                .insert(decl.name.name.clone(), (fi, decl.clone()));
                        }
                    }
                    Item::Rule(decl) => {
                        if let Some(&i) = self.rule_index.get(&decl.id.name) {
                            let first = (self.rules[i].0, self.rules[i].1.id.span);
                            self.duplicate("rule", &decl.id, fi, first);
                        } else {
                            self.node(NodeKind::Rule, &decl.id.name, Some(fi));
                            self.rule_index
                                .insert(decl.id.name.clone(), self.rules.len());
                            self.rules.push((fi, Arc::new((**decl).clone())));
                        }
                    }
                }
            }
        }
    }

    fn unknown(
        &mut self,
        what: &str,
        name: &Ident,
        file: usize,
        candidates: Vec<String>,
        extra_help: &str,
    ) {
        let code = format!("scruple::resolve::unknown_{what}");
        let near =
            did_you_mean(&name.name, candidates.iter().map(String::as_str)).map(str::to_string);
        if let Some(near) = &near {
            self.suggested.insert((what.to_string(), near.clone()));
        }
        let help = match near {
            Some(near) => format!("did you mean `{near}`?{extra_help}"),
            None if candidates.is_empty() => {
                format!("no {what} is declared in the loaded policies.{extra_help}")
            }
            None => {
                let mut shown: Vec<&str> = candidates.iter().map(String::as_str).take(8).collect();
                if candidates.len() > 8 {
                    shown.push("…");
                }
                format!("known {what}s: {}.{extra_help}", shown.join(", "))
            }
        };
        let mut diag = Diag::error(code, format!("unknown {what} `{}`", name.name))
            .with_label(
                &self.files[file].source,
                name.span,
                format!("no {what} has this name"),
            )
            .with_help(help.trim_end_matches('.').to_string());
        if self.incomplete && what != "channel" {
            diag = diag.with_note(format!(
                "some policy files could not be read or parsed (see the errors above); `{}` may be declared in one of them",
                name.name
            ));
        }
        self.diags.push(diag);
    }

    /// Links a set expression's references from `from`.
    fn link_set_expr(&mut self, from: NodeIndex, expr: &SetExpr, file: usize) {
        for term in &expr.terms {
            if let SetTerm::Ref(name) = term {
                if self.sets.contains_key(&name.name) {
                    let to = self.node(NodeKind::Set, &name.name, None);
                    self.edge(from, to, EdgeKind::Uses, file, name.span);
                } else {
                    let names = self.sets.keys().cloned().collect();
                    self.unknown("set", name, file, names, " A name on its own refers to a set; write a list such as `[name]` for a single value");
                }
            }
            // A misspelt category would silently match nothing, so it is an
            // error like an unknown set.
            if let SetTerm::Category(name) = term {
                if CategoryId::parse(&name.name).is_none() {
                    let mut names: Vec<String> =
                        CATEGORIES.iter().map(|c| c.id.to_string()).collect();
                    names.extend(ALIASES.iter().map(|(a, _)| a.to_string()));
                    self.unknown(
                        "category",
                        name,
                        file,
                        names,
                        " Categories are listed in docs/taxonomy.md",
                    );
                }
            }
            if let SetTerm::Law(name) = term {
                if law_view(&name.name).is_none() {
                    let names = Law::ALL.iter().map(|l| l.view_name().to_string()).collect();
                    self.unknown(
                        "law",
                        name,
                        file,
                        names,
                        " Law views are listed in docs/taxonomy.md",
                    );
                }
            }
        }
    }

    fn link_expr(&mut self, from: NodeIndex, expr: &Expr, file: usize) {
        match expr {
            Expr::Or(parts, _) | Expr::And(parts, _) => {
                for p in parts {
                    self.link_expr(from, p, file);
                }
            }
            Expr::Not(inner, _) => self.link_expr(from, inner, file),
            Expr::Quantified { body, .. } => self.link_expr(from, body, file),
            Expr::In { set, .. } => self.link_set_expr(from, set, file),
            Expr::Compare { .. }
            | Expr::Matches { .. }
            | Expr::Presence { .. }
            | Expr::Truthy(_) => {}
        }
    }

    /// Creates the edges: imports, set uses, rule uses and requires, lineage.
    fn link(&mut self) {
        let files = self.files;
        for (fi, file) in files.iter().enumerate() {
            let from = self.node(NodeKind::File, &file.logical, Some(fi));
            for (target, span) in &file.imports {
                let to = self.node(NodeKind::File, &files[*target].logical, Some(*target));
                self.edge(from, to, EdgeKind::Imports, fi, *span);
            }
        }
        let sets: Vec<(usize, ast::SetDecl)> = self.sets.values().cloned().collect();
        for (fi, decl) in &sets {
            let from = self.node(NodeKind::Set, &decl.name.name, Some(*fi));
            self.link_set_expr(from, &decl.value, *fi);
        }
        let attributes: Vec<(usize, ast::AttributeDecl)> =
            self.attributes.values().cloned().collect();
        for (fi, decl) in &attributes {
            let from = self.node(NodeKind::Attribute, &decl.name.name, Some(*fi));
            // The data dictionary: what the attribute means.
            if let Some(category) = &decl.category {
                let to = self.node(NodeKind::Category, &category.name, None);
                self.edge(from, to, EdgeKind::Means, *fi, category.span);
            }
            for (targets, kind) in [
                (&decl.proxy_for, EdgeKind::ProxyFor),
                (&decl.derived_from, EdgeKind::DerivedFrom),
            ] {
                for target in targets {
                    let to = self.node(NodeKind::Attribute, &target.name, None);
                    self.edge(from, to, kind, *fi, target.span);
                }
            }
        }
        let values = self.values.clone();
        for (fi, decl) in &values {
            let to = self.node(NodeKind::Category, &decl.category.name, None);
            for value in &decl.values {
                let from = self.node(NodeKind::Value, &value.value, Some(*fi));
                self.edge(from, to, EdgeKind::Means, *fi, decl.category.span);
            }
        }
        let rules = self.rules.clone();
        for (fi, decl) in &rules {
            let fi = *fi;
            let from = self.node(NodeKind::Rule, &decl.id.name, Some(fi));
            if let Some(when) = &decl.when {
                self.link_expr(from, when, fi);
            }
            for req in &decl.requires {
                if self.rule_index.contains_key(&req.name) {
                    let to = self.node(NodeKind::Rule, &req.name, None);
                    self.edge(from, to, EdgeKind::Requires, fi, req.span);
                } else if self.skipped_rules.contains(&req.name) {
                    // The rule exists but has errors, already reported.
                } else {
                    let names = self.rules.iter().map(|(_, d)| d.id.name.clone()).collect();
                    self.unknown("rule", req, fi, names, "");
                }
            }
            match &decl.constraint {
                Constraint::ForbidTargeting {
                    attributes: set, ..
                } => {
                    self.link_set_expr(from, set, fi);
                    self.check_targeting_names(set, fi, &mut BTreeSet::new());
                }
                Constraint::ForbidFields { fields: set, .. } => self.link_set_expr(from, set, fi),
                Constraint::AllowOnlyFields {
                    fields, purpose, ..
                } => {
                    self.link_set_expr(from, fields, fi);
                    if let Some(p) = purpose {
                        self.link_purpose(from, p, fi);
                    }
                }
                Constraint::RequireConsent {
                    scope: ConsentScope::Listed(set),
                    ..
                } => {
                    self.link_set_expr(from, set, fi);
                    for term in &set.terms {
                        if let SetTerm::List(members, _) = term {
                            for m in members {
                                self.link_purpose(from, m, fi);
                            }
                        }
                    }
                }
                Constraint::FrequencyCap {
                    channels: Some(set),
                    ..
                } => {
                    self.link_set_expr(from, set, fi);
                    for term in &set.terms {
                        if let SetTerm::List(members, _) = term {
                            for m in members {
                                if !CHANNELS.contains(&m.name.as_str()) {
                                    let names = CHANNELS.iter().map(|c| c.to_string()).collect();
                                    self.unknown("channel", m, fi, names, "");
                                }
                            }
                        }
                    }
                }
                Constraint::MinimumAge {
                    limit: AgeLimit::Table(name),
                    unless,
                    ..
                } => {
                    if let Some(u) = unless {
                        self.link_purpose(from, &u.purpose, fi);
                    }
                    if self.tables.contains_key(&name.name) {
                        let to = self.node(NodeKind::Table, &name.name, None);
                        self.edge(from, to, EdgeKind::Uses, fi, name.span);
                        self.check_numeric_table(name, fi);
                    } else {
                        let names = self.tables.keys().cloned().collect();
                        self.unknown("table", name, fi, names, "");
                    }
                }
                Constraint::MinimumAge {
                    unless: Some(u), ..
                } => self.link_purpose(from, &u.purpose, fi),
                Constraint::Ensure { expr, .. } => self.link_expr(from, expr, fi),
                Constraint::RequireParity {
                    attributes, offers, ..
                } => {
                    self.link_set_expr(from, attributes, fi);
                    if let Some(offers) = offers {
                        self.link_set_expr(from, offers, fi);
                    }
                }
                Constraint::LimitRate {
                    channels: Some(set),
                    ..
                } => {
                    self.link_set_expr(from, set, fi);
                    for term in &set.terms {
                        if let SetTerm::List(members, _) = term {
                            for m in members {
                                if !CHANNELS.contains(&m.name.as_str()) {
                                    let names = CHANNELS.iter().map(|c| c.to_string()).collect();
                                    self.unknown("channel", m, fi, names, "");
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
            self.check_placeholders(decl, fi);
        }
    }

    /// Builds the data dictionary from `attribute … category …` and
    /// `values … category …`: each category must exist (`none` clears), a
    /// value is declared once, and a declaration that clears what the
    /// vocabulary reads as sensitive must say `because`.
    fn build_dictionary(&mut self) {
        let attributes: Vec<(usize, ast::AttributeDecl)> =
            self.attributes.values().cloned().collect();
        for (fi, decl) in attributes {
            let Some(category) = &decl.category else {
                if let Some(because) = &decl.because {
                    if decl.proxy_for.is_empty() && decl.derived_from.is_empty() {
                        self.diags.push(
                            Diag::warning(
                                "scruple::resolve::reason_without_claim",
                                format!("`because` explains nothing in the declaration of `{}`", decl.name.name),
                            )
                            .with_label(&self.files[fi].source, because.span, "a reason for no claim")
                            .with_help("add what the attribute means (`category …`) or its lineage (`proxy_for …`), or remove the reason"),
                        );
                    }
                }
                continue;
            };
            let Some(declared) = self.declared_category(category, fi) else {
                continue;
            };
            let meaning = Meaning {
                category: declared,
                reason: decl.because.as_ref().map(|b| b.value.clone()),
                written: decl.name.name.clone(),
                file: fi,
                span: decl.name.span,
            };
            self.check_clearing(&meaning, Kind::AttributeName, category, fi);
            self.dictionary
                .attributes
                .insert(decl.name.name.clone(), meaning);
        }
        let values = std::mem::take(&mut self.values);
        for (fi, decl) in &values {
            let Some(declared) = self.declared_category(&decl.category, *fi) else {
                continue;
            };
            for value in &decl.values {
                let key = Dictionary::key(&value.value);
                if let Some(first) = self.dictionary.values.get(&key) {
                    let first_source = self.files[first.file].source.clone();
                    let first_span = first.span;
                    self.diags.push(
                        Diag::error(
                            "scruple::resolve::duplicate_value",
                            format!("the value `{}` is declared twice", value.value),
                        )
                        .with_label(&self.files[*fi].source, value.span, "declared again here")
                        .with_label(&first_source, first_span, "first declared here")
                        .with_help("a value has one meaning for every campaign: keep one declaration (values are compared by their words, so `sign_language` and `Sign Language` are one)"),
                    );
                    continue;
                }
                let meaning = Meaning {
                    category: declared,
                    reason: decl.because.as_ref().map(|b| b.value.clone()),
                    written: value.value.clone(),
                    file: *fi,
                    span: value.span,
                };
                self.check_clearing(&meaning, value_kind(&value.value), &decl.category, *fi);
                self.dictionary.values.insert(key, meaning);
            }
        }
        self.values = values;
    }

    /// The category a dictionary declaration names: `Some(None)` for
    /// `none`, `None` (reported) when no category has that id.
    fn declared_category(&mut self, written: &Ident, file: usize) -> Option<Option<CategoryId>> {
        if written.name == "none" {
            return Some(None);
        }
        if let Some(id) = CategoryId::parse(&written.name) {
            return Some(Some(id));
        }
        let mut names: Vec<String> = CATEGORIES.iter().map(|c| c.id.to_string()).collect();
        names.extend(ALIASES.iter().map(|(a, _)| a.to_string()));
        names.push("none".to_string());
        self.unknown(
            "category",
            written,
            file,
            names,
            " Categories are listed in docs/taxonomy.md; `none` declares data that is no category",
        );
        None
    }

    /// A declaration that makes what the vocabulary reads as sensitive
    /// non-sensitive (or another category outside its family) must give a
    /// reason: without one, a slip in the dictionary would let sensitive
    /// targeting through unexplained.
    fn check_clearing(&mut self, meaning: &Meaning, kind: Kind, written: &Ident, file: usize) {
        if meaning.reason.is_some() {
            return;
        }
        let Some(read) = classify(&meaning.written, kind).category else {
            return;
        };
        if !read.is_sensitive() {
            return;
        }
        let family = |c: CategoryId| c.as_str().split('.').next().unwrap_or("").to_string();
        if meaning
            .category
            .is_some_and(|d| d.is_sensitive() && family(d) == family(read))
        {
            return;
        }
        let to = meaning.category.map_or("none", CategoryId::as_str);
        self.diags.push(
            Diag::error(
                "scruple::resolve::override_without_reason",
                format!(
                    "`{}` is read as {read} data; declaring it {to} needs a reason",
                    meaning.written
                ),
            )
            .with_label(&self.files[file].source, written.span, "overrides the classifier")
            .with_help(format!(
                "add `because \"…\"` saying why `{}` is not {read} data, so the decision is on record",
                meaning.written
            )),
        );
    }

    /// Every name a `forbid targeting` set lists, through the named sets it
    /// uses, must mean something: a declared attribute, a set, a taxonomy
    /// category, or a name the taxonomy's vocabulary places (a set is named
    /// outside brackets: `[beliefs]` is the literal name). Otherwise a
    /// typo (`[helth]`) would forbid nothing and every campaign would pass.
    /// Each member is reported once, where it is written.
    fn check_targeting_names(&mut self, expr: &SetExpr, file: usize, seen: &mut BTreeSet<String>) {
        // A file that did not parse may declare the name: its errors stand.
        if self.incomplete {
            return;
        }
        // An explicit stack: a chain of sets of any length does not recurse.
        let mut stack: Vec<(SetExpr, usize)> = vec![(expr.clone(), file)];
        let mut known: HashMap<String, bool> = HashMap::new();
        while let Some((expr, file)) = stack.pop() {
            for term in &expr.terms {
                match term {
                    SetTerm::Ref(name) => {
                        if !seen.insert(name.name.clone()) {
                            continue;
                        }
                        if let Some((f, decl)) = self.sets.get(&name.name) {
                            stack.push((decl.value.clone(), *f));
                        }
                    }
                    SetTerm::List(members, _) => {
                        for m in members {
                            if !self.targeting_checked.insert((file, m.span.start as usize)) {
                                continue;
                            }
                            let meaningful = match known.get(&m.name) {
                                Some(&k) => k,
                                None => {
                                    let k = self.means_something(&m.name);
                                    known.insert(m.name.clone(), k);
                                    k
                                }
                            };
                            if meaningful {
                                continue;
                            }
                            self.unknown_targeting_name(m, file);
                        }
                    }
                    SetTerm::Category(_) | SetTerm::Law(_) => {}
                }
            }
        }
    }

    /// Whether a name listed in a targeting set is known (see
    /// [`Resolver::check_targeting_names`]).
    fn means_something(&self, name: &str) -> bool {
        self.attributes.contains_key(name)
            || self.dictionary.values.contains_key(&Dictionary::key(name))
            || CategoryId::parse(name).is_some()
            || classify(name, Kind::AttributeName).category.is_some()
    }

    fn unknown_targeting_name(&mut self, name: &Ident, file: usize) {
        let mut candidates: Vec<String> = CATEGORIES.iter().map(|c| c.id.to_string()).collect();
        candidates.extend(ALIASES.iter().map(|(a, _)| a.to_string()));
        candidates.extend(self.attributes.keys().cloned());
        candidates.extend(self.sets.keys().cloned());
        let near = did_you_mean(&name.name, candidates.iter().map(String::as_str));
        let declare = format!(
            "declare what it means: `attribute {} category CATEGORY`",
            name.name
        );
        let help = match near {
            _ if self.sets.contains_key(&name.name) => format!(
                "`{0}` is a set: refer to it outside the brackets (`… + {0}`); in a list it is the literal name",
                name.name
            ),
            Some(near) => format!("did you mean `{near}`? Or {declare}"),
            None => format!(
                "name a taxonomy category (`category health`, listed in docs/taxonomy.md), a set, or a declared attribute; or {declare}"
            ),
        };
        self.diags.push(
            Diag::error(
                "scruple::resolve::unknown_targeting_name",
                format!(
                    "`{}` is not a declared attribute, a set, or a data category: this rule would forbid nothing by it",
                    name.name
                ),
            )
            .with_label(&self.files[file].source, name.span, "not known")
            .with_help(help),
        );
    }

    fn link_purpose(&mut self, from: NodeIndex, name: &Ident, file: usize) {
        if self.purposes.contains_key(&name.name) {
            let to = self.node(NodeKind::Purpose, &name.name, None);
            self.edge(from, to, EdgeKind::Uses, file, name.span);
        } else {
            let names = self.purposes.keys().cloned().collect();
            self.unknown(
                "purpose",
                name,
                file,
                names,
                " Declare it with `purpose NAME \"description\"`",
            );
        }
    }

    fn check_numeric_table(&mut self, name: &Ident, file: usize) {
        let Some((tf, table)) = self.tables.get(&name.name) else {
            return;
        };
        let (tf, table) = (*tf, table.clone());
        let values = table
            .entries
            .iter()
            .map(|(_, v)| v)
            .chain(table.default.as_ref());
        for value in values {
            if !matches!(value, ast::Scalar::Number(..)) {
                self.diags.push(
                    Diag::error(
                        "scruple::resolve::bad_table_value",
                        format!(
                            "table `{}` is used as an age but holds a value that is not a number",
                            name.name
                        ),
                    )
                    .with_label(&self.files[tf].source, value.span(), "not a number")
                    .with_label(&self.files[file].source, name.span, "used as an age here")
                    .with_help("ages are whole numbers such as `16`"),
                );
                return;
            }
        }
    }

    fn check_placeholders(&mut self, decl: &ast::RuleDecl, file: usize) {
        for text in [&decl.message, &decl.help].into_iter().flatten() {
            let source = &self.files[file].source;
            // Placeholders are found in the unescaped value and labelled in
            // the literal as written; `searched` walks the literal along.
            let raw = source.slice(text.span);
            let mut searched = 0usize;
            let mut rest = text.value.as_str();
            while let Some(open) = rest.find('{') {
                let Some(close) = rest[open..].find('}') else {
                    break;
                };
                let name = &rest[open + 1..open + close];
                if !name.is_empty()
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !PLACEHOLDERS.contains(&name)
                {
                    let help = match did_you_mean(name, PLACEHOLDERS) {
                        Some(near) => format!(
                            "did you mean `{{{near}}}`? known placeholders: {}",
                            PLACEHOLDERS.join(", ")
                        ),
                        None => format!("known placeholders: {}", PLACEHOLDERS.join(", ")),
                    };
                    let written = format!("{{{name}}}");
                    let (span, label) = match raw[searched..].find(&written) {
                        Some(at) => {
                            let start = text.span.start as usize + searched + at;
                            searched += at + written.len();
                            (
                                Span::new(start, start + written.len()),
                                "no such placeholder",
                            )
                        }
                        None => (text.span, "in this text"),
                    };
                    self.diags.push(
                        Diag::warning(
                            "scruple::resolve::unknown_placeholder",
                            format!("`{{{name}}}` will not be filled in"),
                        )
                        .with_label(source, span, label)
                        .with_help(help),
                    );
                }
                rest = &rest[open + close + 1..];
            }
        }
    }

    /// Reports every strongly connected component as a cycle, labelling each
    /// edge that belongs to it.
    fn report_cycles(&mut self) {
        // Kosaraju walks with an explicit stack; petgraph's Tarjan recurses once
        // per node of a chain and overflows on a long one.
        let sccs = petgraph::algo::kosaraju_scc(&self.graph);
        for scc in sccs {
            let members: BTreeSet<NodeIndex> = scc.iter().copied().collect();
            // The component's own edges, in the order they were added. Only
            // the members' outgoing edges are visited: scanning every edge
            // of the graph for every component would be quadratic.
            let mut own: Vec<(usize, NodeIndex, NodeIndex, GraphEdge)> = Vec::new();
            for &node in &scc {
                for e in self.graph.edges(node) {
                    if members.contains(&e.target()) {
                        own.push((e.id().index(), e.source(), e.target(), e.weight().clone()));
                    }
                }
            }
            if own.is_empty() {
                continue;
            }
            own.sort_by_key(|e| e.0);
            let edges: Vec<(NodeIndex, NodeIndex, GraphEdge)> =
                own.into_iter().map(|(_, s, t, w)| (s, t, w)).collect();
            // Walk the cycle from its smallest node so the message reads in order.
            let start = members
                .iter()
                .copied()
                .min_by_key(|n| self.graph[*n].name.clone());
            let Some(start) = start else { continue };
            let mut path = vec![start];
            let mut current = start;
            while path.len() <= members.len() {
                let Some(next) = edges
                    .iter()
                    .find(|(s, _, _)| *s == current)
                    .map(|(_, t, _)| *t)
                else {
                    break;
                };
                path.push(next);
                if next == start {
                    break;
                }
                current = next;
            }
            let kind = self.graph[start].kind;
            let (code, what, verb) = match kind {
                NodeKind::File => ("scruple::import::cycle", "imports", "imports"),
                NodeKind::Set => ("scruple::resolve::set_cycle", "sets", "is built from"),
                NodeKind::Rule => ("scruple::resolve::requires_cycle", "rules", "requires"),
                _ => (
                    "scruple::resolve::lineage_cycle",
                    "attributes",
                    "comes from",
                ),
            };
            let chain: Vec<String> = path
                .iter()
                .map(|n| format!("`{}`", self.graph[*n].name))
                .collect();
            let mut diag = Diag::error(code, format!("{what} form a cycle: {}", chain.join(" → ")));
            let mut labelled: Vec<(NodeIndex, NodeIndex)> = Vec::new();
            for pair in path.windows(2) {
                let (s, t) = (pair[0], pair[1]);
                if let Some((_, _, e)) = edges.iter().find(|(a, b, _)| *a == s && *b == t) {
                    labelled.push((s, t));
                    let text = format!("`{}` {verb} `{}`", self.graph[s].name, self.graph[t].name);
                    diag = diag.with_label(&self.files[e.file].source, e.span, text);
                }
            }
            // Edges of the component that the walk did not pass through.
            for (s, t, e) in &edges {
                if !labelled.contains(&(*s, *t)) {
                    let text =
                        format!("`{}` {verb} `{}`", self.graph[*s].name, self.graph[*t].name);
                    diag = diag.with_label(&self.files[e.file].source, e.span, text);
                }
            }
            let help = match kind {
                NodeKind::File => "an import cycle never ends: move what both files need into a third file that both import",
                NodeKind::Set => "a set cannot contain itself: list the members directly in one of the sets",
                NodeKind::Rule => "prerequisites must form a chain, not a loop: remove one of the `requires`",
                _ => "an attribute cannot descend from itself: remove one of the `derived_from` or `proxy_for` links",
            };
            self.diags.push(diag.with_help(help));
        }
    }

    /// Flattens every set once, children before parents, with an explicit
    /// stack: a chain of any length neither recurses nor recomputes.
    fn flatten_all(&mut self) {
        let names: Vec<String> = self.sets.keys().cloned().collect();
        let mut visiting: BTreeSet<String> = BTreeSet::new();
        for root in names {
            // (set, its references pushed already?)
            let mut stack: Vec<(String, bool)> = vec![(root, false)];
            while let Some((name, expanded)) = stack.pop() {
                if self.flat.contains_key(&name) {
                    continue;
                }
                let Some((_, decl)) = self.sets.get(&name) else {
                    continue;
                };
                if expanded {
                    visiting.remove(&name);
                    let members = self.flat_members(&decl.value.clone());
                    self.flat.insert(name, members);
                    continue;
                }
                if !visiting.insert(name.clone()) {
                    continue; // cycle: already reported, members left out
                }
                let refs: Vec<String> = decl
                    .value
                    .terms
                    .iter()
                    .filter_map(|t| match t {
                        SetTerm::Ref(r) if !self.flat.contains_key(&r.name) => Some(r.name.clone()),
                        _ => None,
                    })
                    .collect();
                stack.push((name, true));
                stack.extend(refs.into_iter().map(|r| (r, false)));
            }
        }
    }

    /// The members of `expr`, from the already flattened sets it names (a
    /// set left unflattened by a cycle contributes nothing).
    fn flat_members(&self, expr: &SetExpr) -> Arc<SymbolSet> {
        // A set that only renames another shares its members.
        if let [SetTerm::Ref(name)] = expr.terms.as_slice() {
            return self.flat.get(&name.name).cloned().unwrap_or_default();
        }
        let mut out = SymbolSet::new();
        for term in &expr.terms {
            match term {
                SetTerm::List(items, _) => out.extend(items.iter().map(|i| i.name.clone())),
                SetTerm::Ref(name) => {
                    if let Some(members) = self.flat.get(&name.name) {
                        out.extend(members.iter().cloned());
                    }
                }
                // Categories become members with a prefix no symbol can
                // carry (`:`), so unions and references carry them like any
                // member and rules that match names never match them.
                SetTerm::Category(name) => {
                    if let Some(id) = CategoryId::parse(&name.name) {
                        out.insert(category_member(id.as_str()));
                    }
                }
                SetTerm::Law(name) => {
                    for id in law_view(&name.name).unwrap_or_default() {
                        out.insert(category_member(id.as_str()));
                    }
                }
            }
        }
        Arc::new(out)
    }

    fn set_of(&mut self, expr: &SetExpr) -> Arc<SymbolSet> {
        self.flat_members(expr)
    }

    fn cond(&mut self, expr: &Expr, fi: usize) -> Option<Cond> {
        Some(match expr {
            Expr::Or(parts, _) => Cond::Or(
                parts
                    .iter()
                    .map(|p| self.cond(p, fi))
                    .collect::<Option<_>>()?,
            ),
            Expr::And(parts, _) => Cond::And(
                parts
                    .iter()
                    .map(|p| self.cond(p, fi))
                    .collect::<Option<_>>()?,
            ),
            Expr::Not(inner, _) => Cond::Not(Box::new(self.cond(inner, fi)?)),
            Expr::Compare { lhs, op, rhs, .. } => {
                let lhs = term(lhs);
                let rhs = match term(rhs) {
                    Term::Symbol(code) if is_jurisdiction(&lhs) => Term::Symbol(jurisdiction(code)),
                    rhs => rhs,
                };
                Cond::Compare { lhs, op: *op, rhs }
            }
            Expr::In {
                lhs, negated, set, ..
            } => {
                let lhs = term(lhs);
                let mut set = self.set_of(set);
                if is_jurisdiction(&lhs) {
                    set = Arc::new(set.iter().cloned().map(jurisdiction).collect());
                }
                Cond::In {
                    lhs,
                    negated: *negated,
                    set,
                }
            }
            Expr::Matches { lhs, pattern, .. } => {
                // Lowering checked the syntax; what is left is the size limit.
                match regex::RegexBuilder::new(&pattern.value)
                    .size_limit(1 << 20)
                    .build()
                {
                    Ok(regex) => Cond::Matches {
                        lhs: term(lhs),
                        regex,
                    },
                    Err(err) => {
                        let first_line = err.to_string().lines().next().unwrap_or("").to_string();
                        self.diags.push(
                            Diag::error(
                                "scruple::parse::bad_regex",
                                "this regular expression does not compile",
                            )
                            .with_label(&self.files[fi].source, pattern.span, &first_line)
                            .with_help(
                                "simplify the pattern: compiled, it exceeds the 1 MiB size limit",
                            ),
                        );
                        return None;
                    }
                }
            }
            Expr::Presence { lhs, present, .. } => Cond::Presence {
                lhs: term(lhs),
                present: *present,
            },
            Expr::Truthy(operand) => Cond::Truthy(term(operand)),
            Expr::Quantified {
                all,
                var,
                list,
                body,
                ..
            } => Cond::Quantified {
                all: *all,
                var: var.name.clone(),
                list: field_path(list),
                body: Box::new(self.cond(body, fi)?),
            },
        })
    }

    fn compile_rules(&mut self) -> Vec<CompiledRule> {
        let rules = self.rules.clone();
        let mut out = Vec::new();
        for (fi, decl) in rules {
            let check = match &decl.constraint {
                Constraint::ForbidTargeting {
                    attributes,
                    including_proxies,
                    ..
                } => Check::ForbidTargeting {
                    attributes: self.set_of(attributes),
                    including_proxies: *including_proxies,
                },
                Constraint::ForbidFields { fields, .. } => Check::ForbidFields {
                    fields: self.set_of(fields),
                },
                Constraint::AllowOnlyFields {
                    fields, purpose, ..
                } => Check::AllowOnlyFields {
                    fields: self.set_of(fields),
                    purpose: purpose.as_ref().map(|p| p.name.clone()),
                },
                Constraint::RequireConsent {
                    scope,
                    within,
                    written,
                    ..
                } => {
                    let purposes = match scope {
                        ConsentScope::EachDeclared(_) => None,
                        ConsentScope::Listed(set) => {
                            let members = self.set_of(set);
                            self.check_set_members_are_purposes(set, &members, fi);
                            Some(members)
                        }
                    };
                    Check::RequireConsent {
                        purposes,
                        within: *within,
                        written: *written,
                    }
                }
                Constraint::RequireTcf {
                    legitimate_interest,
                    if_signalled,
                    ..
                } => Check::RequireTcf {
                    legitimate_interest: legitimate_interest
                        .iter()
                        .fold(0, |m, id| m | (1u32 << id.value.min(31))),
                    if_signalled: *if_signalled,
                },
                Constraint::FrequencyCap {
                    max,
                    window,
                    calendar,
                    channels,
                    ..
                } => Check::FrequencyCap {
                    max: max.value,
                    window: *window,
                    calendar: *calendar,
                    channels: channels.as_ref().map(|c| self.set_of(c)),
                },
                Constraint::QuietHours { from, to, .. } => Check::QuietHours {
                    from: *from,
                    to: *to,
                },
                Constraint::MinimumAge { limit, unless, .. } => {
                    let unless = unless.as_ref().map(|u| crate::compile::MinorConsent {
                        purpose: u.purpose.name.clone(),
                        self_from: u.self_from.as_ref().map(|n| n.value),
                    });
                    match limit {
                        AgeLimit::Fixed(n) => Check::MinimumAge {
                            fixed: Some(n.value),
                            table: None,
                            unless,
                        },
                        AgeLimit::Table(t) => Check::MinimumAge {
                            fixed: None,
                            table: Some(t.name.clone()),
                            unless,
                        },
                    }
                }
                Constraint::RequireField { path, .. } => Check::RequireField {
                    path: field_path(path),
                },
                Constraint::Ensure { expr, .. } => match self.cond(expr, fi) {
                    Some(cond) => Check::Ensure { cond },
                    None => continue,
                },
                Constraint::RequireParity {
                    attributes,
                    ratio,
                    offers,
                    ..
                } => Check::RequireParity {
                    attributes: self.set_of(attributes),
                    ratio: ratio.value,
                    offers: offers.as_ref().map(|o| self.set_of(o)),
                },
                Constraint::LimitRate {
                    metric,
                    percent,
                    channels,
                    ..
                } => Check::LimitRate {
                    metric: metric.name.clone(),
                    limit: percent.value / 100.0,
                    channels: channels.as_ref().map(|c| self.set_of(c)),
                },
            };
            let when = match &decl.when {
                Some(expr) => match self.cond(expr, fi) {
                    Some(c) => Some(c),
                    None => continue,
                },
                None => None,
            };
            let requires = decl
                .requires
                .iter()
                .filter_map(|r| self.rule_index.get(&r.name).copied())
                .collect();
            let jurisdictions = static_jurisdictions(when.as_ref());
            out.push(CompiledRule {
                id: decl.id.name.clone(),
                severity: decl.severity.as_ref().map_or(Severity::Error, |s| s.value),
                source: self.files[fi].source.clone(),
                file: fi,
                pack: pack_name(&self.files[fi]),
                disabled: None,
                when,
                requires,
                defers_to: Vec::new(),
                jurisdictions,
                check,
                decl,
            });
        }
        out
    }

    /// Resolves every `defers to` (lex specialis): draws the edges and
    /// reports a rule deferring to itself, to an unknown rule (when a loaded
    /// rule has a near name: a deferral to a rule of a pack that is not
    /// loaded is allowed and never fires), to a rule whose jurisdictions
    /// cannot overlap its own, and cycles of deferrals. Runs after
    /// [`Resolver::report_cycles`], so a deferral never counts as a
    /// prerequisite; `compiled` is indexed like `self.rules`.
    fn link_deferrals(&mut self, compiled: &mut [CompiledRule]) {
        let rules = self.rules.clone();
        let known: Vec<String> = rules.iter().map(|(_, d)| d.id.name.clone()).collect();
        let mut deferral_edges: Vec<(usize, usize, usize, Span)> = Vec::new();
        for (i, (fi, decl)) in rules.iter().enumerate() {
            let fi = *fi;
            let from = self.node(NodeKind::Rule, &decl.id.name, Some(fi));
            for target in &decl.defers_to {
                if target.name == decl.id.name {
                    self.diags.push(
                        Diag::error(
                            "scruple::resolve::defers_to_itself",
                            format!("rule `{}` defers to itself", decl.id.name),
                        )
                        .with_label(&self.files[fi].source, target.span, "the rule's own id")
                        .with_help("a rule defers to a more specific rule that decides the same question: name that rule, or remove `defers to`"),
                    );
                    continue;
                }
                let Some(&j) = self.rule_index.get(&target.name) else {
                    let near = did_you_mean(&target.name, known.iter().map(String::as_str));
                    if near.is_some() && !self.skipped_rules.contains(&target.name) {
                        self.unknown("rule", target, fi, known.clone(), " A deferral may name a rule of a pack that is not loaded; then it never fires.");
                    }
                    continue;
                };
                let to = self.node(NodeKind::Rule, &target.name, None);
                self.edge(from, to, EdgeKind::DefersTo, fi, target.span);
                deferral_edges.push((i, j, fi, target.span));
                let (own, theirs) = match (compiled.get(i), compiled.get(j)) {
                    (Some(a), Some(b)) => (a.jurisdictions.clone(), b.jurisdictions.clone()),
                    _ => (None, None),
                };
                if let (Some(own), Some(theirs)) = (own, theirs) {
                    let overlap = own.iter().any(|a| {
                        theirs
                            .iter()
                            .any(|b| super::cond::within(a, b) || super::cond::within(b, a))
                    });
                    if !overlap {
                        let list = |s: &SymbolSet| s.iter().cloned().collect::<Vec<_>>().join(", ");
                        self.diags.push(
                            Diag::error(
                                "scruple::resolve::defers_across_jurisdictions",
                                format!("rule `{}` defers to `{}`, which can never apply where it does", decl.id.name, target.name),
                            )
                            .with_label(&self.files[fi].source, target.span, format!("`{}` applies only in {}", target.name, list(&theirs)))
                            .with_label(&self.files[fi].source, decl.id.span, format!("`{}` applies only in {}", decl.id.name, list(&own)))
                            .with_help("a rule can only defer to a rule that may apply to the same campaigns: name the rule for these jurisdictions, or remove `defers to`"),
                        );
                        continue;
                    }
                }
                if let Some(rule) = compiled.get_mut(i) {
                    rule.defers_to.push(j);
                }
            }
        }
        self.report_deferral_cycles(&deferral_edges);
    }

    /// Reports each cycle of `defers to` (every rule in it would wait for
    /// another, and none would decide).
    fn report_deferral_cycles(&mut self, edges: &[(usize, usize, usize, Span)]) {
        let mut graph: petgraph::graph::DiGraph<usize, usize> = petgraph::graph::DiGraph::new();
        let nodes: Vec<NodeIndex> = (0..self.rules.len()).map(|i| graph.add_node(i)).collect();
        for (k, &(a, b, _, _)) in edges.iter().enumerate() {
            graph.add_edge(nodes[a], nodes[b], k);
        }
        for scc in petgraph::algo::kosaraju_scc(&graph) {
            if scc.len() < 2 {
                continue;
            }
            let members: BTreeSet<usize> = scc.iter().map(|n| graph[*n]).collect();
            let mut names: Vec<&str> = members
                .iter()
                .map(|&i| self.rules[i].1.id.name.as_str())
                .collect();
            names.sort_unstable();
            let mut diag = Diag::error(
                "scruple::resolve::defers_cycle",
                format!(
                    "rules defer to each other in a cycle: {}",
                    names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            for &(a, b, fi, span) in edges {
                if members.contains(&a) && members.contains(&b) {
                    let text = format!(
                        "`{}` defers to `{}`",
                        self.rules[a].1.id.name, self.rules[b].1.id.name
                    );
                    diag = diag.with_label(&self.files[fi].source, span, text);
                }
            }
            self.diags.push(diag.with_help("precedence runs one way, from the general rule to the specific one: remove the `defers to` on the more specific rule"));
        }
    }

    /// Members that come from referenced sets must be purposes too.
    fn check_set_members_are_purposes(&mut self, set: &SetExpr, members: &SymbolSet, file: usize) {
        for term in &set.terms {
            if let SetTerm::Ref(name) = term {
                let strays: Vec<&String> = members
                    .iter()
                    .filter(|m| !self.purposes.contains_key(*m))
                    .collect();
                if let Some(first) = strays.first() {
                    self.diags.push(
                        Diag::error(
                            "scruple::resolve::unknown_purpose",
                            format!("set `{}` holds `{first}`, which is not a declared purpose", name.name),
                        )
                        .with_label(&self.files[file].source, name.span, "consent is required for the members of this set")
                        .with_help("declare it with `purpose NAME \"description\"`, or remove it from the set"),
                    );
                }
            }
        }
    }

    fn report_unused(&mut self, rules: &[CompiledRule]) {
        let each_purpose = rules.iter().any(|r| {
            matches!(
                r.check,
                Check::RequireConsent { purposes: None, .. } | Check::RequireTcf { .. }
            )
        });
        let used: BTreeSet<NodeIndex> = self
            .graph
            .edge_references()
            .filter(|e| e.weight().kind == EdgeKind::Uses)
            .map(|e| e.target())
            .collect();
        let mut warnings = Vec::new();
        for (name, (fi, decl)) in &self.sets {
            let node = self.nodes.get(&(NodeKind::Set, name.clone()));
            let suggested = self.suggested.contains(&("set".to_string(), name.clone()));
            if self.files[*fi].root && !suggested && node.is_some_and(|n| !used.contains(n)) {
                warnings.push(
                    Diag::warning(
                        "scruple::resolve::unused_set",
                        format!("set `{name}` is never used"),
                    )
                    .with_label(
                        &self.files[*fi].source,
                        decl.name.span,
                        "declared here, used by no rule or set",
                    )
                    .with_help("use it in a rule, or remove it"),
                );
            }
        }
        if !each_purpose {
            for (name, (fi, decl)) in &self.purposes {
                let node = self.nodes.get(&(NodeKind::Purpose, name.clone()));
                let suggested = self
                    .suggested
                    .contains(&("purpose".to_string(), name.clone()));
                if self.files[*fi].root && !suggested && node.is_some_and(|n| !used.contains(n)) {
                    warnings.push(
                        Diag::warning("scruple::resolve::unused_purpose", format!("purpose `{name}` is never used"))
                            .with_label(&self.files[*fi].source, decl.name.span, "declared here, required by no rule")
                            .with_help("require consent for it (`require consent for [NAME]` or `for each purpose`), or remove it"),
                    );
                }
            }
        }
        self.diags.extend(warnings);
    }

    /// Kahn's algorithm over `requires`, lowest declaration index first, so
    /// the order is stable and follows the files where dependencies allow.
    fn order(&self, rules: &[CompiledRule]) -> Vec<usize> {
        let n = rules.len();
        let mut indegree = vec![0usize; n];
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, rule) in rules.iter().enumerate() {
            for &req in &rule.requires {
                if req < n {
                    indegree[i] += 1;
                    dependents[req].push(i);
                }
            }
        }
        let mut ready: BTreeSet<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(i) = ready.pop_first() {
            order.push(i);
            for &d in &dependents[i] {
                indegree[d] -= 1;
                if indegree[d] == 0 {
                    ready.insert(d);
                }
            }
        }
        order
    }
}

fn pack_name(file: &LoadedFile) -> String {
    match file.ast.as_ref().and_then(|a| a.header.as_ref()) {
        Some(h) => h.name.value.clone(),
        None => file
            .logical
            .rsplit('/')
            .next()
            .unwrap_or(&file.logical)
            .trim_end_matches(".scruple")
            .to_string(),
    }
}

fn field_path(path: &ast::Path) -> FieldPath {
    FieldPath::new(path.segments.iter().map(|s| s.name.clone()))
}

/// The jurisdictions a rule can apply in, when its `when` states them: a
/// top-level `jurisdiction in [...]` (alone or as a conjunct of `and`).
/// `None` when they are not statically known.
fn static_jurisdictions(when: Option<&Cond>) -> Option<SymbolSet> {
    match when? {
        Cond::In {
            lhs,
            negated: false,
            set,
        } if is_jurisdiction(lhs) => Some((**set).clone()),
        Cond::And(conjuncts) => {
            let mut found: Option<SymbolSet> = None;
            for c in conjuncts {
                if let Some(s) = static_jurisdictions(Some(c)) {
                    // Two conjuncts: the campaign must lie in both.
                    found = Some(match found {
                        None => s,
                        Some(prev) => prev
                            .iter()
                            .filter(|a| s.iter().any(|b| super::cond::within(a, b)))
                            .chain(
                                s.iter()
                                    .filter(|b| prev.iter().any(|a| super::cond::within(b, a))),
                            )
                            .cloned()
                            .collect(),
                    });
                }
            }
            found
        }
        _ => None,
    }
}

fn is_jurisdiction(term: &Term) -> bool {
    matches!(term, Term::Path(p) if p.dotted() == "jurisdictions")
}

/// A code a condition compares jurisdictions with, in the hierarchy
/// campaigns are loaded into ([`crate::geo::canonical`]): a policy's `[FR]`
/// or `[UK]` matches a campaign's `FR`/`EU-FR` or `UK`/`GB`. A code that is
/// not ISO 3166 is kept as written.
fn jurisdiction(code: String) -> String {
    crate::geo::canonical(&code).unwrap_or(code)
}

fn term(operand: &ast::Operand) -> Term {
    match operand {
        ast::Operand::Path(p) => Term::Path(field_path(p)),
        ast::Operand::Symbol(s) => Term::Symbol(s.name.clone()),
        ast::Operand::Str(s) => Term::Str(s.value.clone()),
        ast::Operand::Number(n, _) => Term::Number(*n),
        ast::Operand::Bool(b, _) => Term::Bool(*b),
        ast::Operand::List(items, _) => Term::List(items.iter().map(|i| i.name.clone()).collect()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::load::MemoryTree;
    use super::super::{compile, Inputs, Policy};
    use crate::diag::Diag;

    fn compile_text(text: String) -> (Option<Policy>, Vec<Diag>) {
        let tree = Arc::new(MemoryTree {
            prefix: String::new(),
            files: [("p.scruple".to_string(), text)].into_iter().collect(),
        });
        let mut inputs = Inputs::default();
        inputs.add_memory(&tree, &["p.scruple".to_string()]);
        compile(inputs)
    }

    /// Issue 10 item 6: flattening was recursive (so chains were capped at
    /// 256) and a long chain must now compile, once per set.
    #[test]
    fn set_chain_50000_deep_flattens_linearly() {
        let n = 50_000;
        let mut text = String::from("policy \"deep\"\nattribute a\nattribute x\n");
        for i in 0..n {
            text.push_str(&format!("set s{i} = s{} + [x]\n", i + 1));
        }
        text.push_str(&format!(
            "set s{n} = [a]\nrule r {{\n  forbid targeting on s0\n}}\n"
        ));
        let (policy, diags) = compile_text(text);
        assert!(!diags.iter().any(Diag::is_error), "{diags:?}");
        let policy = policy.expect("compiles");
        let members: Vec<&str> = policy.sets["s0"]
            .members
            .iter()
            .map(String::as_str)
            .collect();
        assert_eq!(members, ["a", "x"]);
        assert_eq!(policy.sets[&format!("s{}", n - 1)].members.len(), 2);
    }

    /// Issue 10 item 14: a policy's `[FR, UK]` means what a campaign's does.
    #[test]
    fn jurisdiction_codes_in_conditions_are_read_into_the_hierarchy() {
        let text =
            "policy \"j\"\nrule r {\n  when jurisdiction in [FR, UK, US-CA]\n  require owner\n}\n";
        let (policy, diags) = compile_text(text.to_string());
        let policy = policy.unwrap_or_else(|| panic!("{diags:?}"));
        let Some(crate::compile::Cond::In { set, .. }) = &policy.rules[0].when else {
            panic!("{:?}", policy.rules[0].when);
        };
        let codes: Vec<&str> = set.iter().map(String::as_str).collect();
        assert_eq!(codes, ["EU-FR", "GB", "US-CA"]);
    }

    #[test]
    fn set_cycle_is_reported_and_members_outside_it_kept() {
        let text = "policy \"c\"\nset a = b + [x]\nset b = a + [y]\nset c = a + [z]\nrule r {\n  forbid targeting on c\n}\n";
        let (policy, diags) = compile_text(text.to_string());
        assert!(policy.is_none());
        let codes: Vec<&str> = diags.iter().map(|d| d.code.as_str()).collect();
        assert!(codes.contains(&"scruple::resolve::set_cycle"), "{codes:?}");
    }
}
