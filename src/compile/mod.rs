//! Compilation: ASTs of every loaded file → one [`Policy`].
//!
//! Resolution binds every name (sets, purposes, tables, rules, imports),
//! builds the dependency [`graph`], reports cycles on every edge that forms
//! them, and orders rules so prerequisites run first. Errors are collected
//! across all files; a policy is returned only when there are none.

pub mod cond;
pub mod dictionary;
pub mod graph;
pub mod load;
mod resolve;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::diag::{Diag, Severity};
use crate::source::Source;
use crate::syntax::ast::{self, Duration, Header, TimeOfDay};

pub use cond::{Cond, FieldPath, SymbolSet, Term};
pub use graph::{EdgeKind, GraphEdge, GraphNode, NodeKind, PolicyGraph};
pub use load::{Inputs, Loaded};

/// A compiled policy: every file's declarations, resolved, with rules in
/// evaluation order.
#[derive(Debug)]
pub struct Policy {
    /// The files, in load order.
    pub files: Vec<PolicyFileInfo>,
    /// Named sets, flattened.
    pub sets: BTreeMap<String, SetDef>,
    /// Declared attributes and their lineage.
    pub attributes: BTreeMap<String, AttributeDef>,
    /// Declared purposes.
    pub purposes: BTreeMap<String, PurposeDef>,
    /// Tables.
    pub tables: BTreeMap<String, TableDef>,
    /// Rules in evaluation order (prerequisites first).
    pub rules: Vec<CompiledRule>,
    /// The dependency graph.
    pub graph: PolicyGraph,
    /// The data dictionary: what declared attributes and values mean.
    pub dictionary: dictionary::Dictionary,
}

/// One policy file of a compiled policy.
#[derive(Debug)]
pub struct PolicyFileInfo {
    /// Logical path relative to its policy root.
    pub logical: String,
    /// Source text.
    pub source: Source,
    /// The `policy` header, if any.
    pub header: Option<Header>,
    /// Files it imports (indexes into [`Policy::files`]).
    pub imports: Vec<usize>,
}

impl PolicyFileInfo {
    /// The pack name: the header's name, else the file stem.
    pub fn pack(&self) -> String {
        match &self.header {
            Some(h) => h.name.value.clone(),
            None => self
                .logical
                .rsplit('/')
                .next()
                .unwrap_or(&self.logical)
                .trim_end_matches(".scruple")
                .to_string(),
        }
    }
}

/// A named set with its members flattened.
#[derive(Debug)]
pub struct SetDef {
    /// The declaration.
    pub decl: ast::SetDecl,
    /// Index of the declaring file.
    pub file: usize,
    /// Every member, with referenced sets expanded.
    pub members: Arc<SymbolSet>,
}

/// A declared attribute.
#[derive(Debug)]
pub struct AttributeDef {
    /// The declaration.
    pub decl: ast::AttributeDecl,
    /// Index of the declaring file.
    pub file: usize,
}

/// A declared purpose.
#[derive(Debug)]
pub struct PurposeDef {
    /// The declaration.
    pub decl: ast::PurposeDecl,
    /// Index of the declaring file.
    pub file: usize,
}

/// A table.
#[derive(Debug)]
pub struct TableDef {
    /// The declaration.
    pub decl: ast::TableDecl,
    /// Index of the declaring file.
    pub file: usize,
}

impl TableDef {
    /// Looks `key` up, falling back along the hierarchy (`EU-FR` → `EU`) and
    /// then to the default. Returns the value and the key that matched
    /// (`None` for the default).
    pub fn lookup(&self, key: &str) -> Option<(&ast::Scalar, Option<&str>)> {
        let mut probe = key;
        loop {
            if let Some((k, v)) = self.decl.entries.iter().find(|(k, _)| k.name == probe) {
                return Some((v, Some(k.name.as_str())));
            }
            match probe.rsplit_once('-') {
                Some((parent, _)) => probe = parent,
                None => break,
            }
        }
        self.decl.default.as_ref().map(|d| (d, None))
    }

    /// Like [`TableDef::lookup`], for numeric tables.
    pub fn lookup_number(&self, key: &str) -> Option<(f64, Option<&str>)> {
        match self.lookup(key)? {
            (ast::Scalar::Number(n, _), k) => Some((*n, k)),
            _ => None,
        }
    }
}

/// What a compiled rule checks, with names resolved.
#[derive(Clone, Debug)]
pub enum Check {
    /// No targeting on these attributes (or anything derived from them, or
    /// proxies of them when `including_proxies`).
    ForbidTargeting {
        /// Forbidden attributes.
        attributes: Arc<SymbolSet>,
        /// Proxies count too.
        including_proxies: bool,
    },
    /// The campaign may not read these fields.
    ForbidFields {
        /// Forbidden fields.
        fields: Arc<SymbolSet>,
    },
    /// The campaign may read only these fields (when it declares `purpose`).
    AllowOnlyFields {
        /// Permitted fields.
        fields: Arc<SymbolSet>,
        /// Applies when the campaign declares this purpose.
        purpose: Option<String>,
    },
    /// Consent needed per purpose.
    RequireConsent {
        /// Purposes covered; `None` means each purpose the campaign declares.
        purposes: Option<Arc<SymbolSet>>,
        /// The consent must be a signed written agreement (TCPA prior
        /// express written consent): on the campaign `consent.written`, per
        /// recipient the consent's `written`.
        written: bool,
        /// Maximum age of the consent.
        within: Option<Duration>,
    },
    /// Per recipient, the TC string gives each TCF purpose and special
    /// feature the campaign's purposes map to, and the campaign's vendor
    /// (`tcf_vendor_id`), what they need; nothing to check on the campaign.
    RequireTcf {
        /// TCF purposes (bit `n` for purpose `n`) for which legitimate
        /// interest may stand in for consent.
        legitimate_interest: u32,
        /// Only recipients whose record carries a TC string are checked.
        if_signalled: bool,
    },
    /// At most `max` sends per `window` per recipient.
    FrequencyCap {
        /// Maximum sends in any window.
        max: u32,
        /// The window (for a calendar period: one day, week or month).
        window: Duration,
        /// The window is the recipient's calendar period that holds the
        /// send (`per calendar day|week|month`), not a rolling window.
        calendar: bool,
        /// Channels counted; `None` means each channel separately.
        channels: Option<Arc<SymbolSet>>,
    },
    /// No sends between `from` and `to`, recipient's local time.
    QuietHours {
        /// Start.
        from: TimeOfDay,
        /// End.
        to: TimeOfDay,
    },
    /// Minimum audience age.
    MinimumAge {
        /// A fixed age, or
        fixed: Option<u32>,
        /// a table keyed by jurisdiction.
        table: Option<String>,
        /// Who may consent for a recipient below the age.
        unless: Option<MinorConsent>,
    },
    /// A campaign field must be present and non-empty.
    RequireField {
        /// The field.
        path: FieldPath,
    },
    /// A condition must hold.
    Ensure {
        /// The condition.
        cond: Cond,
    },
    /// Groups of each protected attribute must get the offer at no less
    /// than `ratio` times the rate of the best-served group. Judged by
    /// `scruple audit` on what was sent; `check` and `gate` have nothing to
    /// judge it on.
    RequireParity {
        /// Protected attributes.
        attributes: Arc<SymbolSet>,
        /// Lowest acceptable adverse-impact ratio.
        ratio: f64,
        /// Offer categories it applies to; `None` means every campaign.
        offers: Option<Arc<SymbolSet>>,
    },
    /// A per-campaign, per-channel rate must stay below `limit`. Judged by
    /// `scruple audit`.
    LimitRate {
        /// `unsubscribe_rate` or `complaint_rate`.
        metric: String,
        /// The limit as a fraction (0.005 for 0.5%).
        limit: f64,
        /// Channels it applies to; `None` means every channel.
        channels: Option<Arc<SymbolSet>>,
    },
}

impl Check {
    /// True for the rule kinds judged after sending, by `scruple audit`.
    pub fn is_audit(&self) -> bool {
        matches!(self, Check::RequireParity { .. } | Check::LimitRate { .. })
    }
}

/// `unless consent to PURPOSE by …` of a minimum age: a recipient below the
/// age passes with a consent in force to `purpose` authorised by the right
/// person (docs/recipients.md, Minors' consent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinorConsent {
    /// The purpose (`sale_sharing`).
    pub purpose: String,
    /// From this age the person authorises it themselves (`authorised_by:
    /// self`); below it a parent (`authorised_by: parent`). `None`: a parent
    /// at every age below the limit.
    pub self_from: Option<u32>,
}

/// A rule ready to evaluate.
#[derive(Debug)]
pub struct CompiledRule {
    /// Rule id.
    pub id: String,
    /// Severity (default error).
    pub severity: Severity,
    /// The declaration, for spans, message, help and citations.
    pub decl: Arc<ast::RuleDecl>,
    /// The declaring file's source.
    pub source: Source,
    /// Index of the declaring file.
    pub file: usize,
    /// The pack it belongs to (the file's policy name).
    pub pack: String,
    /// Turned off by the project configuration, with the reason given there.
    pub disabled: Option<String>,
    /// Applicability condition.
    pub when: Option<Cond>,
    /// Prerequisites (indexes into [`Policy::rules`], earlier in the order).
    pub requires: Vec<usize>,
    /// Rules this one defers to (`defers to`; indexes into [`Policy::rules`]):
    /// where any of them applies, this rule is not evaluated.
    pub defers_to: Vec<usize>,
    /// The jurisdictions its `when` confines it to (a top-level
    /// `jurisdiction in […]`), when statically known.
    pub jurisdictions: Option<cond::SymbolSet>,
    /// What it checks.
    pub check: Check,
}

impl CompiledRule {
    /// The rule kind's name (`forbid_targeting`, `frequency_cap`, …).
    pub fn kind(&self) -> &'static str {
        self.decl.constraint.kind()
    }

    /// Citations as written.
    pub fn cites(&self) -> impl Iterator<Item = &str> {
        self.decl.cites.iter().map(|c| c.value.as_str())
    }
}

impl Policy {
    /// A rule by id.
    pub fn rule(&self, id: &str) -> Option<&CompiledRule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Lineage of an attribute: (proxy_for, derived_from), empty if undeclared.
    pub fn lineage(&self, attribute: &str) -> (&[ast::Ident], &[ast::Ident]) {
        match self.attributes.get(attribute) {
            Some(a) => (&a.decl.proxy_for, &a.decl.derived_from),
            None => (&[], &[]),
        }
    }

    /// A stable hash of every source text, to name the policy in logs.
    pub fn content_hash(&self) -> String {
        // FNV-1a: stable across runs and platforms, no extra dependency.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut files: Vec<&PolicyFileInfo> = self.files.iter().collect();
        files.sort_by(|a, b| a.logical.cmp(&b.logical));
        for file in files {
            for byte in file
                .logical
                .bytes()
                .chain([0])
                .chain(file.source.text.bytes())
            {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{hash:016x}")
    }
}

/// Loads and compiles a set of inputs. The policy is `Some` only when no
/// error was found; warnings come back either way.
pub fn compile(inputs: Inputs) -> (Option<Policy>, Vec<Diag>) {
    let loaded = inputs.load();
    resolve::compile_loaded(loaded)
}
