//! `scruple audit`: who actually got the offer, and how many opted out or
//! complained, measured against the thresholds a team declares.
//!
//! Checks: per campaign and protected attribute, the selection rate of each
//! group at each stage (eligible → allowed by the gate → sent → delivered →
//! offer made → converted), the adverse-impact ratio (lowest rate / highest
//! rate) with a Katz interval and Fisher's exact test, the
//! demographic-parity difference and, where outcomes carry a `qualified`
//! label, the equal-opportunity difference; per campaign and channel, the
//! unsubscribe and complaint rates, and their trend per day.
//!
//! Why: a campaign can pass every pre-send rule and still deliver a loan
//! offer to 9% of one age band and 15% of another; the four-fifths rule of
//! 29 CFR 1607.4(D) is the recognised first screen for that, and the
//! mailbox providers' spam-rate thresholds bound complaints.
//!
//! Fires: `fairness_adverse_impact` (warning) when the ratio of two groups
//! that both reach the minimum size is below the threshold and Fisher's
//! test finds the difference significant; `ethics_complaint_rate` (error
//! above 0.3%, the bulk-sender requirement of Gmail and Yahoo; warning
//! above the team's limit) and `ethics_unsubscribe_rate` (warning above the
//! team's limit) once enough messages were delivered to judge.
//!
//! Passes: ratios at or above the threshold; disparities that are not
//! statistically significant (reported, not flagged: 1607.4(D) itself says
//! differences based on small numbers may not be adverse impact); groups
//! below the minimum size, reported as "insufficient data" with the size
//! needed.
//!
//! Protected attributes come from their own file, joined on (hashed)
//! recipient ids, and are never written anywhere: see docs/audit.md.
//! Memory holds the attribute file (one entry per recipient) and counters
//! per campaign × attribute × group and per campaign × channel × day — never
//! per outcome row.

pub mod command;
pub mod html;
pub mod input;
pub mod render;
pub mod stats;
pub mod verdict;

/// The audit's maps: foldhash, randomly seeded per process.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

use serde::Serialize;

use crate::diag::{Diag, Severity};
use input::fail;
use stats::{Interval, Rate};

/// The stages of the funnel, in order. `Eligible` is the base of every
/// selection rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The gate decided on the recipient (or, without a decision log, the
    /// recipient has an outcome row).
    Eligible,
    /// The gate allowed the send.
    Allowed,
    /// The send ledger records the send.
    Sent,
    /// The outcome says delivered.
    Delivered,
    /// The outcome says the offer was made.
    OfferMade,
    /// The outcome says converted.
    Converted,
}

impl Stage {
    /// All stages, in funnel order.
    pub const ALL: [Stage; 6] = [
        Stage::Eligible,
        Stage::Allowed,
        Stage::Sent,
        Stage::Delivered,
        Stage::OfferMade,
        Stage::Converted,
    ];

    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Eligible => "eligible",
            Stage::Allowed => "allowed",
            Stage::Sent => "sent",
            Stage::Delivered => "delivered",
            Stage::OfferMade => "offer_made",
            Stage::Converted => "converted",
        }
    }
}

/// What an audit rule checks.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuditCheck {
    /// `require parity on ATTRIBUTES at least RATIO [for offers in OFFERS]`.
    Parity {
        /// Protected attributes (empty: every attribute of the file).
        attributes: Vec<String>,
        /// Lowest acceptable adverse-impact ratio.
        ratio: f64,
        /// Offer categories covered (`None`: every campaign).
        offers: Option<Vec<String>>,
    },
    /// `limit METRIC below LIMIT [on CHANNELS]`.
    Rate {
        /// `unsubscribe_rate` or `complaint_rate`.
        metric: String,
        /// The limit, a fraction: the rate must stay below it.
        limit: f64,
        /// Channels covered (`None`: every channel).
        channels: Option<Vec<String>>,
    },
}

/// A threshold the audit applies: from a policy rule (`require parity`,
/// `limit`), or from the command-line defaults.
#[derive(Clone, Debug, Serialize)]
pub struct AuditRule {
    /// Rule id.
    pub id: String,
    /// Severity of its findings.
    pub severity: Severity,
    /// Its legal or platform sources.
    pub citations: Vec<String>,
    /// What it checks.
    pub check: AuditCheck,
    /// Where it is declared (`file:line:column`), for rules of a policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The declaration, to point at it in human output.
    #[serde(skip)]
    pub declared: Option<(crate::source::Source, crate::source::Span)>,
}

/// The thresholds of an audit.
#[derive(Clone, Debug, Serialize)]
pub struct Thresholds {
    /// The rules applied.
    pub rules: Vec<AuditRule>,
    /// Protected attributes read from the attributes file (empty: all).
    pub attributes: Vec<String>,
    /// Stages the parity rules cover.
    pub stages: Vec<Stage>,
    /// Smallest group (at the eligible stage) compared at all.
    pub min_group: u64,
    /// Significance level of Fisher's exact test.
    pub alpha: f64,
    /// Confidence of the intervals.
    pub confidence: f64,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds::from_flags(0.8, 0.005, 0.001)
    }
}

/// The complaint (spam) rate bulk senders must stay below: Gmail's and
/// Yahoo's sender requirements (February 2024).
pub const PROVIDER_COMPLAINT_LIMIT: f64 = 0.003;

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|c| c.to_string()).collect()
}

impl Thresholds {
    /// The thresholds of an audit without a policy: parity at `parity`
    /// (warning), the providers' 0.3% complaint limit (error), and the
    /// team's complaint and unsubscribe limits (warnings).
    pub fn from_flags(parity: f64, unsubscribe: f64, complaint: f64) -> Thresholds {
        let rule = |id: &str, severity, cites: &[&str], check| AuditRule {
            id: id.to_string(),
            severity,
            citations: strings(cites),
            check,
            location: None,
            declared: None,
        };
        let complaint_cites = citations("ethics_complaint_rate");
        Thresholds {
            rules: vec![
                rule(
                    "fairness_adverse_impact",
                    Severity::Warning,
                    citations("fairness_adverse_impact"),
                    AuditCheck::Parity {
                        attributes: Vec::new(),
                        ratio: parity,
                        offers: None,
                    },
                ),
                rule(
                    "ethics_complaint_rate_providers",
                    Severity::Error,
                    complaint_cites,
                    AuditCheck::Rate {
                        metric: "complaint_rate".into(),
                        limit: PROVIDER_COMPLAINT_LIMIT,
                        channels: Some(vec!["email".into()]),
                    },
                ),
                rule(
                    "ethics_complaint_rate",
                    Severity::Warning,
                    complaint_cites,
                    AuditCheck::Rate {
                        metric: "complaint_rate".into(),
                        limit: complaint,
                        channels: None,
                    },
                ),
                rule(
                    "ethics_unsubscribe_rate",
                    Severity::Warning,
                    citations("ethics_unsubscribe_rate"),
                    AuditCheck::Rate {
                        metric: "unsubscribe_rate".into(),
                        limit: unsubscribe,
                        channels: None,
                    },
                ),
            ],
            attributes: Vec::new(),
            stages: vec![
                Stage::Allowed,
                Stage::Sent,
                Stage::Delivered,
                Stage::OfferMade,
            ],
            min_group: 30,
            alpha: 0.05,
            confidence: 0.95,
        }
    }

    /// The audit rules of a compiled policy (`require parity`, `limit`),
    /// with their severities, citations and declarations. Disabled rules
    /// are left out.
    pub fn from_policy(policy: &crate::compile::Policy) -> Vec<AuditRule> {
        use crate::compile::Check;
        let list = |set: &crate::compile::cond::SymbolSet| set.iter().cloned().collect::<Vec<_>>();
        policy
            .rules
            .iter()
            .filter(|r| r.disabled.is_none())
            .filter_map(|r| {
                let check = match &r.check {
                    Check::RequireParity {
                        attributes,
                        ratio,
                        offers,
                    } => AuditCheck::Parity {
                        attributes: list(attributes),
                        ratio: *ratio,
                        offers: offers.as_deref().map(list),
                    },
                    Check::LimitRate {
                        metric,
                        limit,
                        channels,
                    } => AuditCheck::Rate {
                        metric: metric.clone(),
                        limit: *limit,
                        channels: channels.as_deref().map(list),
                    },
                    _ => return None,
                };
                let span = r.decl.constraint.span();
                let (line, column) = r.source.line_col(span.start);
                Some(AuditRule {
                    id: r.id.clone(),
                    severity: r.severity,
                    citations: r.decl.cites.iter().map(|c| c.value.clone()).collect(),
                    check,
                    location: Some(format!("{}:{line}:{column}", r.source.name)),
                    declared: Some((r.source.clone(), span)),
                })
            })
            .collect()
    }
}

/// Citations of the audit's built-in rules (without a policy).
pub fn citations(rule: &str) -> &'static [&'static str] {
    match rule {
        "fairness_adverse_impact" => &[
            "29 CFR 1607.4(D) (four-fifths rule)",
            "GDPR Art. 22 and Recital 71 (automated decisions, discriminatory effects)",
        ],
        "ethics_complaint_rate" => &[
            "Google Email sender guidelines: spam rate below 0.10%, never 0.30% or higher (from 1 February 2024)",
            "Yahoo Sender Requirements & Recommendations (February 2024): spam complaint rate below 0.3%",
        ],
        "ethics_unsubscribe_rate" => &["the team's declared limit (ethical monitoring)"],
        _ => &[],
    }
}

#[derive(Clone, Copy, Default)]
struct GroupCounts {
    /// Per stage, then outcome rows at [`ROWS`].
    stages: [u64; 7],
    /// Outcome rows labelled qualified, and of those, offered.
    qualified: u64,
    qualified_offered: u64,
}

#[derive(Default, Clone, Copy)]
struct RateCounts {
    delivered: u64,
    unsub_known: u64,
    unsubscribed: u64,
    complaint_known: u64,
    complained: u64,
}

impl RateCounts {
    fn add(&mut self, o: &input::Outcome<'_>) {
        if o.delivered != Some(true) {
            return;
        }
        self.delivered += 1;
        if let Some(u) = o.unsubscribed {
            self.unsub_known += 1;
            self.unsubscribed += u as u64;
        }
        if let Some(c) = o.complained {
            self.complaint_known += 1;
            self.complained += c as u64;
        }
    }
}

#[derive(Default)]
struct CampaignState {
    /// `[attribute][group]`, grown as groups appear.
    groups: Vec<Vec<GroupCounts>>,
    /// Recipients with no attribute record, per stage and outcome rows.
    unmatched: [u64; 7],
    decisions: u64,
    outcomes: u64,
    sends: u64,
    stage_seen: [bool; 7],
    labelled: bool,
    channels: HashMap<String, RateCounts>,
    days: HashMap<i32, RateCounts>,
    categories: Vec<String>,
}

/// Most offer categories kept per campaign.
const MAX_CATEGORIES: usize = 16;

/// The streaming audit: feed attributes first, then decisions, sends and
/// outcomes in any order; [`Audit::finish`] computes the results.
pub struct Audit {
    thresholds: Thresholds,
    hash_ids: bool,
    /// Attribute names and, per attribute, group names.
    attributes: Vec<String>,
    groups: Vec<Vec<String>>,
    /// Recipient → first index into `members` of its group per attribute.
    recipients: Recipients,
    /// Group index per attribute, `u16::MAX` when unknown, packed.
    members: Vec<u16>,
    campaigns: HashMap<String, usize>,
    states: Vec<(String, CampaignState)>,
    hash_buffer: String,
    /// Counts waiting for their recipient lookup: see [`Audit::flush`].
    pending: Vec<Pending>,
}

/// A count whose recipient lookup is deferred. Looking up a million
/// recipients is one cache miss a row; done one row at a time between
/// parsing the rows, the misses come one after another, while a batch of
/// lookups back to back lets the processor overlap them.
#[derive(Clone, Copy)]
struct Pending {
    id: ShortId,
    campaign: u32,
    stages: [u8; 4],
    n: u8,
    label: Option<(bool, bool)>,
}

/// Lookups per batch.
const BATCH: usize = 64;

/// Lowercase hex of SHA-256, as `scruple serve --hash-ids` writes ids.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    use std::fmt::Write;
    let mut out = String::with_capacity(64);
    for b in sha2::Sha256::digest(data) {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Index of the outcome-row counter next to the stages: the eligible base
/// of a campaign without decisions.
const ROWS: usize = 6;

/// An id of at most 23 bytes, stored inline: looking one up in a map of a
/// million recipients then costs one cache miss, not two (the map's slot,
/// then the key's text on the heap).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct ShortId {
    len: u8,
    bytes: [u8; 23],
}

impl ShortId {
    fn of(id: &str) -> Option<ShortId> {
        let b = id.as_bytes();
        (b.len() <= 23).then(|| {
            let mut bytes = [0u8; 23];
            bytes[..b.len()].copy_from_slice(b);
            ShortId {
                len: b.len() as u8,
                bytes,
            }
        })
    }
}

/// Attributes whose group indices are packed into the recipient map's
/// value (16 bits each): the row then costs one random memory access, the
/// map's slot, instead of two (the slot, then `Audit::members`).
const PACKED: usize = 4;

/// Recipient id → its groups: packed (with at most [`PACKED`] attributes)
/// or the start of its groups in `Audit::members`. Short ids inline, longer
/// ones (`sha256:…`) on the heap.
#[derive(Default)]
struct Recipients {
    short: HashMap<ShortId, u64>,
    long: HashMap<Box<str>, u64>,
}

impl Recipients {
    fn get(&self, id: &str) -> Option<u64> {
        match ShortId::of(id) {
            Some(short) => self.short.get(&short).copied(),
            None => self.long.get(id).copied(),
        }
    }

    fn insert(&mut self, id: &str, start: u64) {
        match ShortId::of(id) {
            Some(short) => {
                self.short.insert(short, start);
            }
            None => {
                self.long.insert(id.into(), start);
            }
        }
    }

    fn len(&self) -> usize {
        self.short.len() + self.long.len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Most groups an attribute may have: more is an id column by mistake.
pub const MAX_GROUPS: usize = 256;

impl Audit {
    /// An empty audit.
    pub fn new(thresholds: Thresholds, hash_ids: bool) -> Audit {
        Audit {
            thresholds,
            hash_ids,
            attributes: Vec::new(),
            groups: Vec::new(),
            recipients: Recipients::default(),
            members: Vec::new(),
            campaigns: HashMap::default(),
            states: Vec::new(),
            hash_buffer: String::new(),
            pending: Vec::with_capacity(BATCH),
        }
    }

    /// Adds one attribute record. The first record fixes the attribute
    /// names (with `Thresholds::attributes` choosing among them); later
    /// records may leave some out.
    pub fn add_attributes(
        &mut self,
        name: &str,
        line: u64,
        recipient: &str,
        values: &[(&str, Option<&str>)],
    ) -> Result<(), Box<Diag>> {
        if self.attributes.is_empty() && self.recipients.is_empty() {
            for (key, _) in values {
                if self.thresholds.attributes.is_empty()
                    || self.thresholds.attributes.iter().any(|a| a == key)
                {
                    self.attributes.push(key.to_string());
                    self.groups.push(Vec::new());
                }
            }
        }
        if recipient.is_empty() {
            return fail(input::bad_record(
                "bad_attributes",
                name,
                line,
                "",
                "empty `recipient`",
            ));
        }
        let key = self.key(recipient).into_owned();
        if self.recipients.get(key.as_str()).is_some() {
            return fail(
                input::bad_record(
                    "duplicate_recipient",
                    name,
                    line,
                    "",
                    &format!("recipient `{recipient}` appears twice"),
                )
                .with_help("each recipient has one attribute record"),
            );
        }
        let packed = self.attributes.len() <= PACKED;
        // Packed: every group unknown (all ones) until set.
        let mut groups_of = u64::MAX;
        let start = self.members.len();
        if !packed {
            self.members.resize(start + self.attributes.len(), u16::MAX);
        }
        for (key, value) in values {
            let Some(a) = self.attributes.iter().position(|n| n == key) else {
                continue;
            };
            let Some(value) = value else { continue };
            let groups = &mut self.groups[a];
            let g = match groups.iter().position(|g| g == value) {
                Some(g) => g,
                None if groups.len() < MAX_GROUPS => {
                    groups.push(value.to_string());
                    groups.len() - 1
                }
                None => {
                    return fail(input::bad_record(
                        "too_many_groups",
                        name,
                        line,
                        "",
                        &format!("`{key}` has more than {MAX_GROUPS} different values"),
                    )
                    .with_help("protected attributes are categories (gender, age band), not ids or free text: band them first"))
                }
            };
            if packed {
                groups_of &= !(0xffff_u64 << (16 * a));
                groups_of |= (g as u64) << (16 * a);
            } else {
                self.members[start + a] = g as u16;
            }
        }
        let value = if packed { groups_of } else { start as u64 };
        self.recipients.insert(&key, value);
        Ok(())
    }

    /// The protected attributes read from the attributes file.
    pub fn attribute_names(&self) -> &[String] {
        &self.attributes
    }

    /// The thresholds applied.
    pub fn thresholds(&self) -> &Thresholds {
        &self.thresholds
    }

    /// Checks that the attribute file gave something to audit.
    pub fn check_attributes(&self, name: &str) -> Result<(), Box<Diag>> {
        if self.attributes.is_empty() {
            let wanted = if self.thresholds.attributes.is_empty() {
                "no attribute columns".to_string()
            } else {
                format!(
                    "none of the attributes {}",
                    self.thresholds.attributes.join(", ")
                )
            };
            return fail(Diag::error(
                "scruple::audit::no_attributes",
                format!("{name} has {wanted}"),
            )
            .with_help("the file has `recipient` and one column per protected attribute (gender, age_band, …)"));
        }
        for wanted in &self.thresholds.attributes {
            if !self.attributes.contains(wanted) {
                return fail(
                    Diag::error(
                        "scruple::audit::unknown_attribute",
                        format!("{name} has no attribute `{wanted}`"),
                    )
                    .with_help(format!("its attributes: {}", self.attributes.join(", "))),
                );
            }
        }
        Ok(())
    }

    fn key<'s>(&mut self, id: &'s str) -> std::borrow::Cow<'s, str> {
        if self.hash_ids && !id.starts_with("sha256:") {
            std::borrow::Cow::Owned(format!("sha256:{}", sha256_hex(id.as_bytes())))
        } else {
            std::borrow::Cow::Borrowed(id)
        }
    }

    /// True when the audit already counts `campaign`.
    pub fn follows(&self, campaign: &str) -> bool {
        self.campaigns.contains_key(campaign)
    }

    /// Campaigns counted so far.
    pub fn campaign_count(&self) -> usize {
        self.states.len()
    }

    fn state(&mut self, campaign: &str) -> usize {
        if let Some(&i) = self.campaigns.get(campaign) {
            return i;
        }
        let i = self.states.len();
        self.campaigns.insert(campaign.to_string(), i);
        let groups = self.groups.iter().map(|_| Vec::new()).collect();
        self.states.push((
            campaign.to_string(),
            CampaignState {
                groups,
                ..CampaignState::default()
            },
        ));
        i
    }

    /// Counts `stage` (and the `qualified` label) for a recipient of a
    /// campaign. Short ids wait in [`Audit::pending`] for a batch lookup.
    fn count(
        &mut self,
        campaign: usize,
        recipient: &str,
        stages: &[usize],
        label: Option<(bool, bool)>,
    ) {
        let state = &mut self.states[campaign].1;
        for s in stages {
            state.stage_seen[*s] = true;
        }
        if label.is_some() {
            state.labelled = true;
        }
        let hashed = self.hash_ids && !recipient.starts_with("sha256:");
        if !hashed && !recipient.is_empty() {
            if let Some(id) = ShortId::of(recipient) {
                let mut p = Pending {
                    id,
                    campaign: campaign as u32,
                    stages: [0; 4],
                    n: stages.len().min(4) as u8,
                    label,
                };
                for (slot, s) in p.stages.iter_mut().zip(stages) {
                    *slot = *s as u8;
                }
                self.pending.push(p);
                if self.pending.len() == BATCH {
                    self.flush();
                }
                return;
            }
        }
        let found = if hashed {
            use std::fmt::Write;
            self.hash_buffer.clear();
            let _ = write!(
                self.hash_buffer,
                "sha256:{}",
                sha256_hex(recipient.as_bytes())
            );
            self.recipients.get(self.hash_buffer.as_str())
        } else {
            self.recipients.get(recipient)
        };
        let mut buffer = [0u8; 4];
        for (slot, s) in buffer.iter_mut().zip(stages) {
            *slot = *s as u8;
        }
        self.apply(campaign, found, &buffer[..stages.len().min(4)], label);
    }

    /// Looks up every pending recipient, back to back, then counts them.
    fn flush(&mut self) {
        let mut found = [None; BATCH];
        for (f, p) in found.iter_mut().zip(&self.pending) {
            *f = self.recipients.short.get(&p.id).copied();
        }
        let pending = std::mem::take(&mut self.pending);
        for (p, f) in pending.iter().zip(found) {
            self.apply(
                p.campaign as usize,
                f,
                &p.stages[..usize::from(p.n)],
                p.label,
            );
        }
        self.pending = pending;
        self.pending.clear();
    }

    /// Adds one count to the groups of a recipient found in the attributes
    /// (`found`: its packed groups or its start in `members`), or to the
    /// campaign's unmatched count.
    fn apply(
        &mut self,
        campaign: usize,
        found: Option<u64>,
        stages: &[u8],
        label: Option<(bool, bool)>,
    ) {
        let state = &mut self.states[campaign].1;
        let Some(found) = found else {
            for s in stages {
                state.unmatched[usize::from(*s)] += 1;
            }
            return;
        };
        let packed = self.attributes.len() <= PACKED;
        for a in 0..self.attributes.len() {
            let g = if packed {
                (found >> (16 * a)) as u16
            } else {
                self.members[found as usize + a]
            };
            if g == u16::MAX {
                continue;
            }
            let groups = &mut state.groups[a];
            if groups.len() <= g as usize {
                groups.resize(g as usize + 1, GroupCounts::default());
            }
            let counts = &mut groups[g as usize];
            for s in stages {
                counts.stages[usize::from(*s)] += 1;
            }
            if let Some((qualified, offered)) = label {
                if qualified {
                    counts.qualified += 1;
                    counts.qualified_offered += offered as u64;
                }
            }
        }
    }

    /// Adds one gate decision. `campaign` is the line's campaign or the
    /// `--campaign` default.
    pub fn add_decision(&mut self, campaign: &str, recipient: &str, allowed: bool) {
        let c = self.state(campaign);
        self.states[c].1.decisions += 1;
        let stages: &[usize] = if allowed {
            &[Stage::Eligible as usize, Stage::Allowed as usize]
        } else {
            &[Stage::Eligible as usize]
        };
        self.count(c, recipient, stages, None);
    }

    /// Adds one send from the ledger.
    pub fn add_send(&mut self, campaign: &str, recipient: &str) {
        let c = self.state(campaign);
        self.states[c].1.sends += 1;
        self.count(c, recipient, &[Stage::Sent as usize], None);
    }

    /// Adds one outcome row.
    pub fn add_outcome(&mut self, o: &input::Outcome<'_>) {
        let c = self.state(&o.campaign);
        {
            let state = &mut self.states[c].1;
            state.outcomes += 1;
            let channel = o.channel.as_deref().unwrap_or("");
            match state.channels.get_mut(channel) {
                Some(counts) => counts.add(o),
                None => {
                    let mut counts = RateCounts::default();
                    counts.add(o);
                    state.channels.insert(channel.to_string(), counts);
                }
            }
            if let Some(day) = o.day {
                state.days.entry(day).or_default().add(o);
            }
            if let Some(category) = o.category.as_deref() {
                if state.categories.len() < MAX_CATEGORIES
                    && !state.categories.iter().any(|c| c == category)
                {
                    state.categories.push(category.to_string());
                    state.categories.sort();
                }
            }
        }
        let mut stages = [ROWS; 4];
        let mut n = 1;
        for (flag, stage) in [
            (o.delivered, Stage::Delivered),
            (o.offer_made, Stage::OfferMade),
            (o.converted, Stage::Converted),
        ] {
            if flag == Some(true) {
                stages[n] = stage as usize;
                n += 1;
            } else if flag.is_some() {
                self.states[c].1.stage_seen[stage as usize] = true;
            }
        }
        let label = o.qualified.map(|q| (q, o.offer_made == Some(true)));
        // Outcome rows are the eligible base only of campaigns without
        // decisions; `finish` picks the base.
        self.count(c, &o.recipient, &stages[..n], label);
    }

    /// Computes the results and findings.
    pub fn finish(mut self) -> AuditResult {
        self.result()
    }

    /// The results so far, without consuming the audit (`scruple serve`
    /// keeps adding decisions and outcomes).
    pub fn result(&mut self) -> AuditResult {
        self.flush();
        let mut campaigns = Vec::new();
        let mut findings = Vec::new();
        let mut states: Vec<&(String, CampaignState)> = self.states.iter().collect();
        states.sort_by(|a, b| a.0.cmp(&b.0));
        for (id, state) in states {
            campaigns.push(campaign_result(
                id,
                state,
                &self.attributes,
                &self.groups,
                &self.thresholds,
                &mut findings,
            ));
        }
        AuditResult {
            recipients_with_attributes: self.recipients.len() as u64,
            thresholds: self.thresholds.clone(),
            campaigns,
            findings,
        }
    }
}

/// A group's numbers at one stage.
#[derive(Debug, Serialize)]
pub struct StageRate {
    /// The stage.
    pub stage: Stage,
    /// Members who reached it.
    pub k: u64,
    /// Members eligible.
    pub n: u64,
    /// `k / n`.
    pub rate: Option<f64>,
    /// Wilson interval of the rate.
    pub interval: Option<Interval>,
}

/// One group of a protected attribute in one campaign.
#[derive(Debug, Serialize)]
pub struct GroupResult {
    /// The group's value (`f`, `60+`).
    pub group: String,
    /// Members eligible.
    pub eligible: u64,
    /// Below the minimum group size: left out of the comparisons.
    pub insufficient: bool,
    /// Rates at each stage with data.
    pub stages: Vec<StageRate>,
    /// Qualified members (outcome label) and how many got the offer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qualified: Option<Rate>,
}

/// The verdict of a comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The ratio is at or above the threshold.
    Ok,
    /// Below the threshold and significant: flagged.
    AdverseImpact,
    /// Below the threshold but not significant: reported, not flagged.
    NotSignificant,
    /// Fewer than two groups reach the minimum size (or nobody was selected).
    InsufficientData,
}

/// The comparison of the groups of one attribute at one stage.
#[derive(Debug, Serialize)]
pub struct Comparison {
    /// The stage.
    pub stage: Stage,
    /// Verdict, against `threshold`.
    pub status: Status,
    /// The ratio the status is judged against: the strictest parity rule
    /// covering the attribute, else 0.8.
    pub threshold: f64,
    /// Lowest-rate group among those large enough.
    pub lowest: Option<String>,
    /// Highest-rate group among those large enough.
    pub highest: Option<String>,
    /// Adverse-impact ratio (lowest / highest).
    pub ratio: Option<f64>,
    /// Katz log interval of the ratio.
    pub ratio_interval: Option<Interval>,
    /// Demographic-parity difference (highest − lowest).
    pub parity_difference: Option<f64>,
    /// Fisher's exact test, two-sided, lowest vs highest group.
    pub fisher_p: Option<f64>,
    /// Pooled two-proportion z statistic, lowest vs highest group.
    pub z: Option<f64>,
    /// Its two-sided p-value.
    pub z_p: Option<f64>,
    /// People needed per group to judge: the minimum group size when that
    /// is what is missing, else the size at which a disparity like the
    /// observed one would be detected (power 0.8) when it is not significant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needed: Option<u64>,
}

/// Equal opportunity: the rate at which qualified members got the offer.
#[derive(Debug, Serialize)]
pub struct EqualOpportunity {
    /// Highest minus lowest true-positive rate among groups large enough.
    pub difference: Option<f64>,
    /// Lowest and highest groups.
    pub lowest: Option<String>,
    /// Highest group.
    pub highest: Option<String>,
    /// `insufficient_data` when fewer than two groups have enough
    /// qualified members.
    pub status: Status,
}

/// One protected attribute in one campaign.
#[derive(Debug, Serialize)]
pub struct AttributeResult {
    /// The attribute (`gender`).
    pub attribute: String,
    /// Its groups.
    pub groups: Vec<GroupResult>,
    /// Recipients of the campaign with no value for it.
    pub unknown: u64,
    /// One comparison per checked stage with data.
    pub comparisons: Vec<Comparison>,
    /// Where outcomes carry `qualified`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub equal_opportunity: Option<EqualOpportunity>,
}

/// Unsubscribe and complaint rates of a campaign on a channel (or a day).
#[derive(Debug, Serialize)]
pub struct EthicalRates {
    /// The channel (`""` when outcomes name none), or the day (YYYY-MM-DD).
    pub key: String,
    /// Delivered messages.
    pub delivered: u64,
    /// Unsubscribes, of `delivered` rows that say.
    pub unsubscribed: Rate,
    /// Unsubscribe rate.
    pub unsubscribe_rate: Option<f64>,
    /// Complaints, of `delivered` rows that say.
    pub complained: Rate,
    /// Complaint rate.
    pub complaint_rate: Option<f64>,
}

impl EthicalRates {
    fn of(key: String, c: &RateCounts) -> EthicalRates {
        let unsubscribed = Rate {
            k: c.unsubscribed,
            n: c.unsub_known,
        };
        let complained = Rate {
            k: c.complained,
            n: c.complaint_known,
        };
        EthicalRates {
            key,
            delivered: c.delivered,
            unsubscribed,
            unsubscribe_rate: unsubscribed.value(),
            complained,
            complaint_rate: complained.value(),
        }
    }
}

/// Everything the audit found about one campaign.
#[derive(Debug, Serialize)]
pub struct CampaignResult {
    /// Campaign id.
    pub campaign: String,
    /// Decision-log lines, ledger sends and outcome rows read for it.
    pub decisions: u64,
    /// Ledger sends.
    pub sends: u64,
    /// Outcome rows.
    pub outcomes: u64,
    /// Offer categories named by its outcome rows (`credit`, …).
    pub categories: Vec<String>,
    /// What eligible means here: `decisions` or `outcomes`.
    pub base: &'static str,
    /// Recipients with no attribute record, at the eligible stage.
    pub unmatched: u64,
    /// Per protected attribute.
    pub attributes: Vec<AttributeResult>,
    /// Unsubscribe and complaint rates per channel.
    pub channels: Vec<EthicalRates>,
    /// The same per day, oldest first (outcomes with a `time`).
    pub trend: Vec<EthicalRates>,
}

/// A threshold that fired.
#[derive(Debug, Serialize)]
pub struct AuditFinding {
    /// The rule: a policy rule id, or `fairness_adverse_impact`,
    /// `ethics_complaint_rate_providers`, `ethics_complaint_rate`,
    /// `ethics_unsubscribe_rate` without a policy.
    pub rule: String,
    /// Where the rule is declared, for rules of a policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Index of the rule in [`Thresholds::rules`].
    #[serde(skip)]
    pub rule_index: usize,
    /// Severity.
    pub severity: Severity,
    /// Campaign id.
    pub campaign: String,
    /// Attribute, for fairness findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// Stage, for fairness findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<Stage>,
    /// The groups compared (lowest, highest), for fairness findings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Channel, for rate findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The measured value (ratio or rate).
    pub value: f64,
    /// The threshold it crossed.
    pub threshold: f64,
    /// One sentence.
    pub message: String,
    /// Legal or platform sources.
    pub citations: Vec<String>,
}

/// The result of an audit.
#[derive(Debug, Serialize)]
pub struct AuditResult {
    /// The thresholds applied.
    pub thresholds: Thresholds,
    /// Attribute records read.
    pub recipients_with_attributes: u64,
    /// Per campaign, by id.
    pub campaigns: Vec<CampaignResult>,
    /// Thresholds that fired.
    pub findings: Vec<AuditFinding>,
}

impl AuditResult {
    /// Exit code as `scruple check`: 1 with an error finding (or a warning
    /// with `deny_warnings`), else 0.
    pub fn exit_code(&self, deny_warnings: bool) -> u8 {
        let fails = self.findings.iter().any(|f| {
            f.severity == Severity::Error || (deny_warnings && f.severity == Severity::Warning)
        });
        u8::from(fails)
    }
}

fn percent(x: f64) -> String {
    let p = x * 100.0;
    if p != 0.0 && p.abs() < 1.0 {
        format!("{p:.2}%")
    } else {
        format!("{p:.1}%")
    }
}

fn campaign_result(
    id: &str,
    state: &CampaignState,
    attributes: &[String],
    names: &[Vec<String>],
    t: &Thresholds,
    findings: &mut Vec<AuditFinding>,
) -> CampaignResult {
    // With decisions, eligible means decided by the gate; without, every
    // recipient with an outcome row.
    let (base, base_index, base_total) = if state.decisions > 0 {
        ("decisions", Stage::Eligible as usize, state.decisions)
    } else {
        ("outcomes", ROWS, state.outcomes)
    };
    let mut result = CampaignResult {
        campaign: id.to_string(),
        categories: state.categories.clone(),
        decisions: state.decisions,
        sends: state.sends,
        outcomes: state.outcomes,
        base,
        unmatched: state.unmatched[base_index],
        attributes: Vec::new(),
        channels: Vec::new(),
        trend: Vec::new(),
    };
    for (a, attribute) in attributes.iter().enumerate() {
        let counts = &state.groups[a];
        let mut groups = Vec::new();
        let mut eligible_total = 0;
        for (g, c) in counts.iter().enumerate() {
            let eligible = c.stages[base_index];
            if eligible == 0 && c.qualified == 0 {
                continue;
            }
            eligible_total += eligible;
            let stages = Stage::ALL[1..]
                .iter()
                .filter(|s| state.stage_seen[**s as usize])
                .map(|s| {
                    let r = Rate {
                        k: c.stages[*s as usize].min(eligible),
                        n: eligible,
                    };
                    StageRate {
                        stage: *s,
                        k: r.k,
                        n: r.n,
                        rate: r.value(),
                        interval: stats::wilson(r, t.confidence),
                    }
                })
                .collect();
            groups.push(GroupResult {
                group: names[a].get(g).cloned().unwrap_or_default(),
                eligible,
                insufficient: eligible < t.min_group,
                stages,
                qualified: state.labelled.then_some(Rate {
                    k: c.qualified_offered,
                    n: c.qualified,
                }),
            });
        }
        let unknown = base_total.saturating_sub(eligible_total + state.unmatched[base_index]);
        // The parity rules covering this attribute in this campaign. A rule
        // limited to some offer categories covers a campaign whose outcome
        // rows name none of them only when they name no category at all:
        // an unknown category must not exempt a credit offer.
        let covering: Vec<(usize, f64)> = t
            .rules
            .iter()
            .enumerate()
            .filter_map(|(i, r)| match &r.check {
                AuditCheck::Parity {
                    attributes,
                    ratio,
                    offers,
                } if verdict::parity_covers(
                    attributes,
                    offers.as_deref(),
                    attribute,
                    &state.categories,
                ) =>
                {
                    Some((i, *ratio))
                }
                _ => None,
            })
            .collect();
        let threshold = covering
            .iter()
            .map(|(_, r)| *r)
            .fold(None, |m: Option<f64>, r| Some(m.map_or(r, |m| m.max(r))));
        let mut comparisons = Vec::new();
        for stage in Stage::ALL[1..]
            .iter()
            .filter(|s| state.stage_seen[**s as usize])
        {
            let comparison = compare(&groups, *stage, t, threshold.unwrap_or(0.8));
            if t.stages.contains(stage) {
                if let (Some(ratio), Some(p)) = (comparison.ratio, comparison.fisher_p) {
                    for (i, limit) in &covering {
                        if ratio >= *limit || p >= t.alpha {
                            continue;
                        }
                        let rule = &t.rules[*i];
                        let (low, high) = (
                            comparison.lowest.clone().unwrap_or_default(),
                            comparison.highest.clone().unwrap_or_default(),
                        );
                        let rate_of = |name: &str| {
                            groups
                                .iter()
                                .find(|g| g.group == name)
                                .and_then(|g| g.stages.iter().find(|s| s.stage == *stage))
                                .map(|s| {
                                    format!(
                                        "{} of {}, {}",
                                        s.k,
                                        s.n,
                                        percent(s.rate.unwrap_or(0.0))
                                    )
                                })
                                .unwrap_or_default()
                        };
                        findings.push(AuditFinding {
                            rule: rule.id.clone(),
                            location: rule.location.clone(),
                            rule_index: *i,
                            severity: rule.severity,
                            campaign: id.to_string(),
                            attribute: Some(attribute.clone()),
                            stage: Some(*stage),
                            groups: vec![low.clone(), high.clone()],
                            channel: None,
                            value: ratio,
                            threshold: *limit,
                            message: format!(
                                "In campaign `{id}`, {attribute} `{low}` reached `{}` at {ratio:.2} the rate of `{high}` ({} against {}), below {limit} (Fisher p = {p:.2e}).",
                                stage.as_str(),
                                rate_of(&low),
                                rate_of(&high),
                            ),
                            citations: rule.citations.clone(),
                        });
                    }
                }
            }
            comparisons.push(comparison);
        }
        let equal_opportunity = state.labelled.then(|| {
            let big: Vec<(&str, Rate)> = groups
                .iter()
                .filter_map(|g| g.qualified.map(|q| (g.group.as_str(), q)))
                .filter(|(_, q)| q.n >= t.min_group)
                .collect();
            let rates: Vec<Rate> = big.iter().map(|(_, r)| *r).collect();
            match stats::extremes(&rates) {
                Some((l, h)) => EqualOpportunity {
                    difference: stats::parity_difference(&rates),
                    lowest: Some(big[l].0.to_string()),
                    highest: Some(big[h].0.to_string()),
                    status: Status::Ok,
                },
                None => EqualOpportunity {
                    difference: None,
                    lowest: None,
                    highest: None,
                    status: Status::InsufficientData,
                },
            }
        });
        result.attributes.push(AttributeResult {
            attribute: attribute.clone(),
            groups,
            unknown,
            comparisons,
            equal_opportunity,
        });
    }
    let mut channels: Vec<_> = state.channels.iter().collect();
    channels.sort_by(|a, b| a.0.cmp(b.0));
    for (channel, counts) in channels {
        let rates = EthicalRates::of(channel.clone(), counts);
        rate_findings(id, &rates, t, findings);
        result.channels.push(rates);
    }
    let mut days: Vec<_> = state.days.iter().collect();
    days.sort_by_key(|d| *d.0);
    for (day, counts) in days {
        let date = jiff::civil::date(1970, 1, 1)
            .checked_add(jiff::Span::new().days(i64::from(*day)))
            .map(|d| d.to_string())
            .unwrap_or_else(|_| day.to_string());
        result.trend.push(EthicalRates::of(date, counts));
    }
    result
}

/// Messages needed to judge a rate against `limit`: ten expected events at
/// the limit, so one complaint more or less cannot decide.
pub fn deliveries_needed(limit: f64) -> u64 {
    if limit > 0.0 {
        (10.0 / limit).ceil() as u64
    } else {
        u64::MAX
    }
}

fn rate_findings(id: &str, r: &EthicalRates, t: &Thresholds, findings: &mut Vec<AuditFinding>) {
    let channel = (!r.key.is_empty()).then(|| r.key.clone());
    let on = channel
        .as_deref()
        .map(|c| format!(" on {c}"))
        .unwrap_or_default();
    for metric in ["complaint_rate", "unsubscribe_rate"] {
        let (value, rate, what) = match metric {
            "complaint_rate" => (r.complaint_rate, r.complained, "complaint"),
            _ => (r.unsubscribe_rate, r.unsubscribed, "unsubscribe"),
        };
        let Some(value) = value else { continue };
        // The rules of this metric covering the channel (an unknown channel
        // is covered by every rule) that the rate reaches, with enough
        // deliveries to judge; of those, only the ones with the highest
        // limit, so 0.35% is one finding against 0.3%, not another
        // against 0.1% as well.
        let fired: Vec<(usize, f64)> = t
            .rules
            .iter()
            .enumerate()
            .filter_map(|(i, rule)| match &rule.check {
                AuditCheck::Rate {
                    metric: m,
                    limit,
                    channels,
                } if m == metric
                    && verdict::rate_covers(channels.as_deref(), &r.key)
                    && value >= *limit
                    && rate.n >= deliveries_needed(*limit) =>
                {
                    Some((i, *limit))
                }
                _ => None,
            })
            .collect();
        let top = fired.iter().map(|(_, l)| *l).fold(0.0, f64::max);
        for (i, limit) in fired.into_iter().filter(|(_, l)| *l == top) {
            let rule = &t.rules[i];
            findings.push(AuditFinding {
                rule: rule.id.clone(),
                location: rule.location.clone(),
                rule_index: i,
                severity: rule.severity,
                campaign: id.to_string(),
                attribute: None,
                stage: None,
                groups: Vec::new(),
                channel: channel.clone(),
                value,
                threshold: limit,
                message: format!(
                    "Campaign `{id}`{on}: {what} rate {} ({} of {} delivered) is not below {}.",
                    percent(value),
                    rate.k,
                    rate.n,
                    percent(limit)
                ),
                citations: rule.citations.clone(),
            });
        }
    }
}

fn compare(groups: &[GroupResult], stage: Stage, t: &Thresholds, threshold: f64) -> Comparison {
    let big: Vec<(&str, Rate)> = groups
        .iter()
        .filter(|g| !g.insufficient)
        .filter_map(|g| {
            g.stages
                .iter()
                .find(|s| s.stage == stage)
                .map(|s| (g.group.as_str(), Rate { k: s.k, n: s.n }))
        })
        .collect();
    let rates: Vec<Rate> = big.iter().map(|(_, r)| *r).collect();
    let mut c = Comparison {
        stage,
        status: Status::InsufficientData,
        threshold,
        lowest: None,
        highest: None,
        ratio: None,
        ratio_interval: None,
        parity_difference: None,
        fisher_p: None,
        z: None,
        z_p: None,
        needed: None,
    };
    let Some((l, h)) = stats::extremes(&rates) else {
        c.needed = Some(t.min_group);
        return c;
    };
    c.lowest = Some(big[l].0.to_string());
    c.highest = Some(big[h].0.to_string());
    c.parity_difference = stats::parity_difference(&rates);
    c.ratio = stats::impact_ratio(&rates);
    let Some(ratio) = c.ratio else {
        // Nobody in any large group reached the stage.
        return c;
    };
    c.ratio_interval = stats::ratio_interval(rates[l], rates[h], t.confidence);
    c.fisher_p = stats::fisher_exact(rates[l], rates[h]);
    if let Some((z, p)) = stats::two_proportion_z(rates[l], rates[h]) {
        c.z = Some(z);
        c.z_p = Some(p);
    }
    c.status = if ratio >= threshold {
        Status::Ok
    } else if c.fisher_p.is_some_and(|p| p < t.alpha) {
        Status::AdverseImpact
    } else {
        c.needed = rates[h]
            .value()
            .and_then(|high| stats::size_needed(high, ratio, t.alpha, 0.8));
        Status::NotSignificant
    };
    c
}
