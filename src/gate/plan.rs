//! The compiled gate plan and the two-step decision: [`GatePlan::prepare`]
//! turns a parsed record into a [`Prepared`] one (times as integers, purposes
//! and attributes as interned indexes, jurisdiction as an index into the
//! plan's age tables, time zone resolved), then [`GatePlan::decide_prepared`]
//! runs the flat list of checks against it without allocating and returns a
//! bit set of the checks that failed. Reasons are written out only for
//! suppressed recipients ([`GatePlan::explain`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::recipient::{OptOuts, Recipient};
use super::{window_seconds, Decision, History, Reason, OPT_OUTS};
use crate::campaign::tree::{Node, Value};
use crate::campaign::Campaign;
use crate::compile::{Check, Policy};
use crate::eval::{self, CampaignReport, Options};
use crate::signals::{GppSignals, TcfFacts, UsPrivacySignals};
use crate::syntax::ast::{Duration, TimeOfDay, TimeUnit};

/// The `gpc` bit of `OPT_OUTS` (opt-out of sale and sharing).
const OPT_OUT_GPC: u8 = 1 << 2;
/// The `limit_sensitive` bit of `OPT_OUTS`.
const OPT_OUT_LIMIT_SENSITIVE: u8 = 1 << 3;

/// Most distinct purposes a plan checks; consent for any further purpose
/// always fails (see `intern_purpose`).
pub const MAX_PURPOSES: usize = 16;
/// Most checks a plan holds (the failure set is a `u128`).
pub const MAX_CHECKS: usize = 128;
/// Most distinct record attribute names a plan remembers having read by
/// meaning; further names are read again at each use (never dropped).
pub const MAX_READ_NAMES: usize = 65_536;

/// Record attribute names read by meaning: name → its id (past the plan's
/// own names) when it falls in a forbidden category, and id → (name, the
/// category member it was read as).
#[derive(Debug, Default)]
struct ReadNames {
    ids: HashMap<Box<str>, Option<usize>>,
    names: Vec<(Arc<str>, usize)>,
}

/// What one check of the plan tests.
#[derive(Clone, Debug)]
enum Test {
    /// Opt-out flag `OPT_OUTS[i]` is set.
    OptOut(usize),
    /// Consent for plan purpose `purpose`, optionally no older than `within`.
    /// With `age_only`, only the age of a consent in force is tested: another
    /// check of the plan already suppresses a missing or withdrawn consent,
    /// and reports it under the rule that requires consent, not freshness.
    Consent {
        purpose: usize,
        within: Option<Duration>,
        age_only: bool,
        /// The consent must also be `written` (TCPA).
        written: bool,
    },
    /// The recipient's jurisdiction lies within none of the campaign's.
    OutsideCampaign,
    /// Age at least the limit of `ages[table]` for the recipient's
    /// jurisdiction; with `unless`, a younger recipient passes with a
    /// consent in force to plan purpose `unless.0` authorised by the person
    /// (from age `unless.1`) or else a parent, and no GPP known-child signal
    /// without consent.
    Age {
        limits: usize,
        unless: Option<(usize, Option<u32>)>,
    },
    /// Local time outside `from..to`.
    Quiet { from: TimeOfDay, to: TimeOfDay },
    /// Fewer than `max` sends on `channel` in `window_seconds`; with
    /// `calendar`, in the recipient's calendar period of that unit that
    /// holds the send (`window_seconds` is then how far that period can
    /// reach, for reading the ledger).
    Cap {
        max: u32,
        window_seconds: i64,
        channel: String,
        calendar: Option<TimeUnit>,
    },
    /// No targeting attribute in `forbidden[set]`.
    Targeting { set: usize },
    /// The recipient's TC string gives campaign purpose `purpose` (plan
    /// index, for the stored consent it may conflict with) what it needs:
    /// the TCF purposes in `need` (bit `n` for purpose `n`), consent or,
    /// for those in `li`, legitimate interest; the special features in
    /// `special`; the campaign's vendor on the same basis, unless a
    /// publisher restriction says otherwise. `if_signalled`: a record
    /// without a TC string passes.
    Tcf {
        purpose: usize,
        need: u32,
        special: u32,
        li: u32,
        if_signalled: bool,
    },
    /// More per-recipient checks than the plan can hold: always fails.
    TooManyChecks,
}

/// Why a TC string fails a [`Test::Tcf`] check; the first gap found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TcfGap {
    /// The record has no `tcf` field.
    NoString,
    /// `PurposesConsent` lacks the purpose (and legitimate interest is not
    /// allowed for it, or not established either).
    Purpose(u32),
    /// A publisher restriction (`RestrictionType` 0) forbids the purpose to the vendor.
    NotAllowed(u32),
    /// The purpose is granted, but not to the campaign's vendor.
    Vendor(u32),
    /// The publisher requires legitimate interest for the purpose
    /// (`RestrictionType` 2), which is not established (or not allowed).
    RequiresLi(u32),
    /// `SpecialFeatureOptIns` lacks the special feature.
    SpecialFeature(u32),
    /// No TCF purpose is mapped, and the vendor has neither consent nor
    /// legitimate interest.
    VendorOnly,
}

/// Whether `facts` satisfies a TCF check; `vendor`: the campaign names one.
fn tcf_gap(
    facts: Option<&TcfFacts>,
    need: u32,
    special: u32,
    li: u32,
    if_signalled: bool,
    vendor: bool,
) -> Option<TcfGap> {
    let Some(f) = facts else {
        return (!if_signalled).then_some(TcfGap::NoString);
    };
    let has = |mask: u32, id: u32| mask & (1 << id) != 0;
    for id in 1..32 {
        if !has(need, id) {
            continue;
        }
        if vendor && has(f.restricted_not_allowed, id) {
            return Some(TcfGap::NotAllowed(id));
        }
        let consent = has(f.purposes_consent, id)
            && (!vendor || (f.vendor_consent && !has(f.restricted_require_li, id)));
        let interest = has(li, id)
            && has(f.purposes_li_transparency, id)
            && (!vendor
                || (f.vendor_legitimate_interest && !has(f.restricted_require_consent, id)));
        if consent || interest {
            continue;
        }
        return Some(
            if vendor && has(f.restricted_require_li, id) && has(f.purposes_consent, id) {
                TcfGap::RequiresLi(id)
            } else if has(f.purposes_consent, id) {
                TcfGap::Vendor(id)
            } else {
                TcfGap::Purpose(id)
            },
        );
    }
    for id in 1..32 {
        if has(special, id) && !has(f.special_feature_opt_ins, id) {
            return Some(TcfGap::SpecialFeature(id));
        }
    }
    if need == 0 && special == 0 && vendor && !f.vendor_consent && !f.vendor_legitimate_interest {
        return Some(TcfGap::VendorOnly);
    }
    None
}

#[derive(Clone, Debug)]
struct PlanCheck {
    /// Index of the policy rule (None for built-in opt-outs with no rule).
    rule: Option<usize>,
    test: Test,
}

/// The rule a check's reasons name.
#[derive(Clone, Debug)]
struct Label {
    rule: Arc<str>,
    severity: crate::diag::Severity,
    citations: Arc<[String]>,
}

/// Minimum ages per jurisdiction index, for one age rule.
#[derive(Clone, Debug)]
struct AgeLimits {
    /// Limit for a recipient whose jurisdiction matched nothing (the table
    /// default or the fixed age); `None` means no limit.
    default: Option<u32>,
    /// Limit per plan jurisdiction index.
    by_jurisdiction: Vec<Option<u32>>,
}

/// The per-recipient rules of a campaign, compiled once.
pub struct GatePlan<'p> {
    policy: &'p Policy,
    checks: Vec<PlanCheck>,
    purposes: Vec<String>,
    jurisdictions: Vec<String>,
    /// The campaign's jurisdictions: what it was checked for.
    scope: Vec<String>,
    ages: Vec<AgeLimits>,
    /// Forbidden attribute closures, as sorted attribute-symbol indexes.
    forbidden: Vec<Vec<bool>>,
    attributes: HashMap<Arc<str>, usize>,
    /// Interned attribute id → name.
    attribute_names: Vec<Arc<str>>,
    /// Some targeting rule forbids taxonomy categories: record attribute
    /// names the plan does not list are read by meaning.
    by_meaning: bool,
    /// Record attribute names read by meaning so far.
    read_names: RwLock<ReadNames>,
    /// Per check: what its reasons say about the rule.
    labels: Vec<Label>,
    /// Per check: the jurisdictions its rule is confined to (a top-level
    /// `jurisdiction in […]` of its `when`). A recipient known to be
    /// elsewhere is not held to it: a Florida limit does not decide a
    /// Californian's text, nor COPPA a French child's. Opt-outs are never
    /// confined (a doubt about one must not let a message through).
    confined: Vec<Option<crate::compile::cond::SymbolSet>>,
    needs_zone: bool,
    /// A calendar cap counts in the recipient's zone; unlike quiet hours,
    /// an unknown zone is no bad record (the widest period is counted).
    needs_cap_zone: bool,
    needs_age: bool,
    /// The campaign's `tcf_vendor_id`.
    tcf_vendor: Option<u16>,
    /// The campaign's channels.
    pub channels: Vec<String>,
    /// Whether the sender is a Gmail/Yahoo bulk sender (5,000 or more a
    /// day, `sending.max_daily_volume`); `None` when the campaign does not
    /// say. Decides which opt-out deadlines a reason names.
    bulk_sender: Option<bool>,
    /// The campaign id.
    pub campaign_id: String,
    /// Whether the sends this plan allows count toward frequency caps
    /// ([`crate::campaign::model::CampaignModel::counts_toward_caps`]).
    pub counts_toward_caps: bool,
}

/// Per-send values derived once from the send time.
#[derive(Clone, Debug)]
pub struct Moment {
    at: Timestamp,
    at_second: i64,
    /// Today as `yyyymmdd`, for ages.
    today: i32,
    /// Per check: consent cutoff (seconds).
    cutoff: Vec<i64>,
}

/// Purposes whose consent times a [`Prepared`] record holds inline; the
/// rest (campaigns rarely declare more) go to a vector.
const INLINE_PURPOSES: usize = 4;

/// No consent recorded: (granted second, withdrawn second).
const NO_CONSENT: (i64, i64) = (i64::MIN, i64::MAX);

/// Consent per plan purpose: (granted second or `i64::MIN`, withdrawn second
/// or `i64::MAX`). The first four inline, so a prepared record stays within
/// a few cache lines (a 16-slot array made it 380 bytes, and decisions over
/// 100,000 records slower for it).
#[derive(Clone, Debug)]
pub(super) struct ConsentSlots {
    inline: [(i64, i64); INLINE_PURPOSES],
    more: Vec<(i64, i64)>,
    /// Per plan purpose `i` (at most [`MAX_PURPOSES`], 4 bits each from bit
    /// `4 * i`): `CONSENT_WRITTEN`, `CONSENT_BY_SELF`, `CONSENT_BY_PARENT`.
    flags: u64,
}

/// The consent is a signed written agreement (`written: true`).
const CONSENT_WRITTEN: u8 = 1;
/// The person authorised it themselves (`authorised_by: self`).
const CONSENT_BY_SELF: u8 = 2;
/// A parent or guardian authorised it (`authorised_by: parent`).
const CONSENT_BY_PARENT: u8 = 4;

impl ConsentSlots {
    /// No consent for any purpose.
    pub(super) fn new() -> Self {
        ConsentSlots {
            inline: [NO_CONSENT; INLINE_PURPOSES],
            more: Vec::new(),
            flags: 0,
        }
    }

    /// The `CONSENT_*` flags of plan purpose `i`.
    pub(super) fn flags(&self, i: usize) -> u8 {
        if i >= MAX_PURPOSES {
            return 0;
        }
        ((self.flags >> (4 * i)) & 0xf) as u8
    }

    fn set_flags(&mut self, i: usize, flags: u8) {
        if i < MAX_PURPOSES {
            self.flags |= u64::from(flags & 0xf) << (4 * i);
        }
    }

    /// (granted, withdrawn) for plan purpose `i`.
    pub(super) fn get(&self, i: usize) -> (i64, i64) {
        match i.checked_sub(INLINE_PURPOSES) {
            None => self.inline[i],
            Some(j) => self.more.get(j).copied().unwrap_or(NO_CONSENT),
        }
    }

    fn slot(&mut self, i: usize) -> &mut (i64, i64) {
        match i.checked_sub(INLINE_PURPOSES) {
            None => &mut self.inline[i],
            Some(j) => {
                if self.more.len() <= j {
                    self.more.resize(j + 1, NO_CONSENT);
                }
                &mut self.more[j]
            }
        }
    }
}

/// What [`GatePlan::assemble`] needs of a record, however it was read.
pub(super) struct RecordParts<'r, 'b> {
    pub id: Cow<'r, str>,
    pub opt_outs: OptOuts,
    pub consent: ConsentSlots,
    pub age: Option<u32>,
    pub birth_date: Option<&'b str>,
    pub jurisdiction: Option<Cow<'r, str>>,
    pub timezone: Option<&'b str>,
    pub attributes: Vec<usize>,
    /// The `tcf` field: a TC string.
    pub tcf: Option<&'b str>,
    /// The `gpp` field: a GPP string.
    pub gpp: Option<&'b str>,
    /// The `gpc` field: Global Privacy Control received.
    pub gpc: Option<bool>,
}

/// Signal bits of a [`Prepared`] record (`signals`).
const SIGNAL_GPC: u8 = 1;
/// A GPP string that was decoded.
const SIGNAL_GPP_DECODED: u8 = 2;
/// A GPP string that is present but was not decoded.
const SIGNAL_GPP_UNDECODED: u8 = 4;

/// A recipient ready for [`GatePlan::decide_prepared`].
#[derive(Clone, Debug)]
pub struct Prepared<'r> {
    /// The recipient id.
    pub id: Cow<'r, str>,
    opt_outs: u8,
    /// Per opt-out of [`OPT_OUTS`]: the second it was recorded at
    /// (`unsubscribed_at`, `objected_at`), `i64::MAX` when not given.
    opt_out_since: [i64; 4],
    /// Per plan purpose: (granted second or `i64::MIN`, withdrawn second or `i64::MAX`).
    consent: ConsentSlots,
    /// Age in years, or birth date as `yyyymmdd` (negative), or unknown.
    age: AgeKnown,
    jurisdiction: Option<usize>,
    jurisdiction_text: Option<Cow<'r, str>>,
    /// Within none of the campaign's jurisdictions.
    outside: bool,
    /// The zone when quiet hours need one; why it is unknown otherwise
    /// (an error only if nothing else suppresses the recipient).
    zone: Result<Option<TimeZone>, String>,
    /// Interned targeting attributes (unknown ones are dropped: they cannot be forbidden).
    attributes: Vec<usize>,
    /// Opt-outs (bits as in `opt_outs`) that come from signals (`gpc`,
    /// `gpp`) rather than from the stored `opt_outs`.
    signal_opt_outs: u8,
    /// Which signals the record carries (`SIGNAL_*`).
    signals: u8,
    /// The GPP US facts, when `gpp` was given.
    gpp: Option<UsPrivacySignals>,
    /// What the `tcf` field says for this campaign, when given.
    tcf: Option<TcfFacts>,
}

impl Prepared<'_> {
    /// The same recipient, owning its text: kept across a chunk of records
    /// decided together (issue 14).
    pub fn into_owned(self) -> Prepared<'static> {
        Prepared {
            id: Cow::Owned(self.id.into_owned()),
            opt_outs: self.opt_outs,
            opt_out_since: self.opt_out_since,
            consent: self.consent,
            age: self.age,
            jurisdiction: self.jurisdiction,
            jurisdiction_text: self.jurisdiction_text.map(|t| Cow::Owned(t.into_owned())),
            outside: self.outside,
            zone: self.zone,
            attributes: self.attributes,
            signal_opt_outs: self.signal_opt_outs,
            signals: self.signals,
            gpp: self.gpp,
            tcf: self.tcf,
        }
    }
}

/// Why a recipient fails a minimum age ([`GatePlan::age_fails`]).
#[derive(Clone, Copy, Debug)]
enum AgeGap {
    /// Below the limit (`None`: the age is unknown); the rule admits no consent.
    Below(Option<i64>),
    /// The GPP string says a known child who has not consented.
    KnownChild,
    /// Below the limit, and no consent to the rule's purpose in force.
    NoConsent(Option<i64>),
    /// Below the limit with consent in force, but not authorised by the
    /// person who must (`parent`: a parent must).
    Authoriser { age: i64, parent: bool },
}

#[derive(Clone, Copy, Debug)]
enum AgeKnown {
    Years(u32),
    Born(i32),
    Unknown,
}

impl<'p> GatePlan<'p> {
    /// Checks the campaign, then compiles its per-recipient rules. A campaign
    /// with failing (unwaived) findings is returned as `Err` with its report.
    pub fn new(
        policy: &'p Policy,
        campaign: &Campaign,
        options: Options,
    ) -> Result<GatePlan<'p>, Box<CampaignReport>> {
        let report = eval::check(policy, campaign, options);
        if !report.passes(false) {
            return Err(Box::new(report));
        }
        let model = &campaign.model;
        let campaign_purposes: Vec<String> = model.purposes().map(|p| p.value.clone()).collect();
        let marketing = model
            .message_type
            .as_ref()
            .is_none_or(|m| m.value.as_str() == "marketing");
        let mut plan = GatePlan {
            policy,
            checks: Vec::new(),
            purposes: Vec::new(),
            jurisdictions: Vec::new(),
            scope: model
                .jurisdictions()
                .map(|j| j.as_str().to_string())
                .collect(),
            ages: Vec::new(),
            forbidden: Vec::new(),
            attributes: HashMap::new(),
            attribute_names: Vec::new(),
            by_meaning: false,
            read_names: RwLock::new(ReadNames::default()),
            labels: Vec::new(),
            confined: Vec::new(),
            needs_zone: false,
            needs_cap_zone: false,
            needs_age: false,
            tcf_vendor: model
                .tcf_vendor_id
                .as_ref()
                .and_then(|v| u16::try_from(v.value).ok()),
            channels: model
                .channels()
                .map(|(c, _)| c.as_str().to_string())
                .collect(),
            bulk_sender: model
                .sending
                .as_ref()
                .and_then(|s| s.value.max_daily_volume.as_ref())
                .map(|v| v.value >= super::windows::BULK_SENDER_DAILY_VOLUME),
            campaign_id: model.id.value.clone(),
            counts_toward_caps: model.counts_toward_caps(),
        };
        // Opt-outs first: those the campaign says it honours, plus unsubscribe
        // and objection for any marketing message (never optional). They need
        // no time zone, so they decide even a record without one.
        for (i, name) in OPT_OUTS.iter().enumerate() {
            let always = marketing && (*name == "unsubscribed" || *name == "objected");
            if model.has_suppression(name) || always {
                // Cite every applicable rule that requires this suppression list.
                let rules = opt_out_rules(policy, campaign, name);
                if rules.is_empty() {
                    plan.checks.push(PlanCheck {
                        rule: None,
                        test: Test::OptOut(i),
                    });
                }
                for rule in rules {
                    plan.checks.push(PlanCheck {
                        rule: Some(rule),
                        test: Test::OptOut(i),
                    });
                }
            }
        }
        // The campaign was checked for its jurisdictions only.
        if !plan.scope.is_empty() {
            plan.checks.push(PlanCheck {
                rule: None,
                test: Test::OutsideCampaign,
            });
        }
        for (index, rule) in policy.rules.iter().enumerate() {
            let applies = rule
                .when
                .as_ref()
                .is_none_or(|c| eval::expr::holds(c, &campaign.tree));
            // `defers to`: where a more specific rule applies to the
            // campaign, it decides per recipient too (as in `check`).
            let deferred = rule
                .defers_to
                .iter()
                .filter_map(|&j| policy.rules.get(j))
                .any(|to| eval::decides(to, campaign));
            if rule.disabled.is_some() || !applies || deferred {
                continue;
            }
            let rule_index = Some(index);
            match &rule.check {
                Check::RequireConsent {
                    purposes: listed,
                    within,
                    written,
                } => {
                    // A written consent is asked for every listed purpose,
                    // declared or not (as in `check`).
                    let wanted: Vec<String> = match (written, listed) {
                        (true, Some(set)) => set.iter().cloned().collect(),
                        _ => campaign_purposes
                            .iter()
                            .filter(|p| listed.as_ref().is_none_or(|set| set.contains(*p)))
                            .cloned()
                            .collect(),
                    };
                    for p in &wanted {
                        let purpose = plan.intern_purpose(p);
                        plan.checks.push(PlanCheck {
                            rule: rule_index,
                            test: Test::Consent {
                                purpose,
                                within: *within,
                                age_only: false,
                                written: *written,
                            },
                        });
                    }
                }
                Check::RequireTcf {
                    legitimate_interest,
                    if_signalled,
                } => {
                    let mut mapped = false;
                    for p in &campaign_purposes {
                        let Some(map) = policy.purposes.get(p).and_then(|d| d.decl.tcf.as_ref())
                        else {
                            continue;
                        };
                        let mask = |ids: &[crate::syntax::ast::Spanned<u32>]| {
                            ids.iter().fold(0u32, |m, id| m | (1 << id.value.min(31)))
                        };
                        mapped = true;
                        let purpose = plan.intern_purpose(p);
                        plan.checks.push(PlanCheck {
                            rule: rule_index,
                            test: Test::Tcf {
                                purpose,
                                need: mask(&map.purposes),
                                special: mask(&map.special_features),
                                li: *legitimate_interest,
                                if_signalled: *if_signalled,
                            },
                        });
                    }
                    // No purpose maps to TCF: the string must still be
                    // there (unless `if signalled`), and the vendor in it.
                    if !mapped {
                        plan.checks.push(PlanCheck {
                            rule: rule_index,
                            test: Test::Tcf {
                                purpose: usize::MAX,
                                need: 0,
                                special: 0,
                                li: *legitimate_interest,
                                if_signalled: *if_signalled,
                            },
                        });
                    }
                }
                Check::MinimumAge {
                    fixed,
                    table,
                    unless,
                } => {
                    let limits = plan.age_limits(*fixed, table.as_deref());
                    plan.ages.push(limits);
                    plan.needs_age = true;
                    let unless = unless
                        .as_ref()
                        .map(|u| (plan.intern_purpose(&u.purpose), u.self_from));
                    plan.checks.push(PlanCheck {
                        rule: rule_index,
                        test: Test::Age {
                            limits: plan.ages.len() - 1,
                            unless,
                        },
                    });
                }
                Check::QuietHours { from, to } => {
                    plan.needs_zone = true;
                    plan.checks.push(PlanCheck {
                        rule: rule_index,
                        test: Test::Quiet {
                            from: *from,
                            to: *to,
                        },
                    });
                }
                Check::FrequencyCap {
                    max,
                    window,
                    calendar,
                    channels,
                } => {
                    let calendar = calendar.then_some(window.unit);
                    plan.needs_cap_zone |= calendar.is_some();
                    for channel in plan.channels.clone() {
                        if channels.as_ref().is_none_or(|set| set.contains(&channel)) {
                            plan.checks.push(PlanCheck {
                                rule: rule_index,
                                test: Test::Cap {
                                    max: *max,
                                    window_seconds: match calendar {
                                        Some(unit) => super::calendar::reach_seconds(unit),
                                        None => window_seconds(window),
                                    },
                                    channel,
                                    calendar,
                                },
                            });
                        }
                    }
                }
                Check::ForbidTargeting {
                    attributes,
                    including_proxies,
                } => {
                    let closure = closure(policy, attributes, *including_proxies);
                    plan.by_meaning |= closure
                        .iter()
                        .any(|m| m.starts_with(crate::compile::cond::CATEGORY_PREFIX));
                    let set = plan.intern_attribute_set(&closure);
                    plan.checks.push(PlanCheck {
                        rule: rule_index,
                        test: Test::Targeting { set },
                    });
                }
                _ => {}
            }
        }
        // A freshness check next to a check that consent exists at all
        // reports only the age of a consent in force.
        let required: Vec<usize> = plan
            .checks
            .iter()
            .filter_map(|c| match c.test {
                Test::Consent {
                    purpose,
                    within: None,
                    ..
                } => Some(purpose),
                _ => None,
            })
            .collect();
        for check in &mut plan.checks {
            if let Test::Consent {
                purpose,
                within: Some(_),
                age_only,
                ..
            } = &mut check.test
            {
                *age_only = required.contains(purpose);
            }
        }
        if plan.checks.len() > MAX_CHECKS {
            // The failure set has 128 bits: rather than drop checks (and allow
            // what was not checked), the last slot fails every recipient.
            plan.checks.truncate(MAX_CHECKS - 1);
            plan.checks.push(PlanCheck {
                rule: None,
                test: Test::TooManyChecks,
            });
        }
        Ok(plan.finish())
    }

    fn intern_purpose(&mut self, p: &str) -> usize {
        match self.purposes.iter().position(|q| q == p) {
            Some(i) => i,
            None if self.purposes.len() < MAX_PURPOSES => {
                self.purposes.push(p.to_string());
                self.purposes.len() - 1
            }
            // Beyond the limit a purpose gets no slot, and its consent
            // check always fails: never allow what cannot be checked.
            None => usize::MAX,
        }
    }

    fn intern_attribute(&mut self, a: &str) -> usize {
        if let Some(&id) = self.attributes.get(a) {
            return id;
        }
        // One allocation shared by the map and the id → name table.
        let name: Arc<str> = a.into();
        let id = self.attribute_names.len();
        self.attributes.insert(name.clone(), id);
        self.attribute_names.push(name);
        id
    }

    fn intern_attribute_set(&mut self, names: &[String]) -> usize {
        let ids: Vec<usize> = names.iter().map(|n| self.intern_attribute(n)).collect();
        let mut mask = vec![false; self.attributes.len()];
        for id in ids {
            mask[id] = true;
        }
        self.forbidden.push(mask);
        self.forbidden.len() - 1
    }

    fn age_limits(&mut self, fixed: Option<u32>, table: Option<&str>) -> AgeLimits {
        let table = table.and_then(|t| self.policy.tables.get(t));
        let to_age = |n: f64| n.max(0.0) as u32;
        match (fixed, table) {
            (Some(age), _) => AgeLimits {
                default: Some(age),
                by_jurisdiction: Vec::new(),
            },
            (None, Some(t)) => {
                for (key, _) in &t.decl.entries {
                    if !self.jurisdictions.contains(&key.name) {
                        self.jurisdictions.push(key.name.clone());
                    }
                }
                AgeLimits {
                    default: t.lookup_number("").map(|(n, _)| to_age(n)),
                    // Filled for every plan jurisdiction once all tables are known.
                    by_jurisdiction: Vec::new(),
                }
            }
            (None, None) => AgeLimits {
                default: None,
                by_jurisdiction: Vec::new(),
            },
        }
    }

    /// Per-send values for a send at `at`.
    /// What frequency caps read from the ledger: the capped channels, and
    /// the longest cap window in seconds (0 when no cap applies).
    pub fn cap_reads(&self) -> (Vec<String>, i64) {
        let mut channels: Vec<String> = Vec::new();
        let mut longest = 0;
        for check in &self.checks {
            if let Test::Cap {
                window_seconds,
                channel,
                ..
            } = &check.test
            {
                longest = longest.max((*window_seconds).max(1));
                if !channels.contains(channel) {
                    channels.push(channel.clone());
                }
            }
        }
        (channels, longest)
    }

    pub fn moment(&self, at: Timestamp) -> Moment {
        let utc = at.to_zoned(TimeZone::UTC);
        let date = utc.date();
        let today =
            i32::from(date.year()) * 10_000 + i32::from(date.month()) * 100 + i32::from(date.day());
        let cutoff = self
            .checks
            .iter()
            .map(|c| match &c.test {
                Test::Consent {
                    within: Some(w), ..
                } => consent_cutoff(&utc, w),
                _ => 0,
            })
            .collect();
        Moment {
            at,
            at_second: at.as_second(),
            today,
            cutoff,
        }
    }

    /// Converts a parsed record; errors make it a bad record.
    pub fn prepare<'r>(&self, r: &Recipient<'r>) -> Result<Prepared<'r>, String> {
        let mut consent = ConsentSlots::new();
        for (purpose, record) in &r.consents {
            self.record_consent(
                &mut consent,
                purpose,
                record.granted_at.as_deref(),
                record.withdrawn_at.as_deref(),
                record.written,
                record.authorised_by,
            )?;
        }
        let attributes = r
            .attributes
            .0
            .iter()
            .filter_map(|a| self.attribute_index(a))
            .collect();
        self.assemble(RecordParts {
            id: r.id.clone(),
            opt_outs: r.opt_outs,
            consent,
            age: r.age,
            birth_date: r.birth_date.as_deref(),
            jurisdiction: r.jurisdiction.clone(),
            timezone: r.timezone.as_deref(),
            attributes,
            tcf: r.tcf.as_deref(),
            gpp: r.gpp.as_deref(),
            gpc: r.gpc,
        })
    }

    /// Stores one consent record's times when the plan checks its purpose
    /// (consent to other purposes is not read, so it cannot be an error).
    pub(super) fn record_consent(
        &self,
        consent: &mut ConsentSlots,
        purpose: &str,
        granted_at: Option<&str>,
        withdrawn_at: Option<&str>,
        written: Option<bool>,
        authorised_by: Option<super::recipient::AuthorisedBy>,
    ) -> Result<(), String> {
        use super::recipient::AuthorisedBy;
        let Some(i) = self.purposes.iter().position(|p| p == purpose) else {
            return Ok(());
        };
        let mut flags = 0;
        if written == Some(true) {
            flags |= CONSENT_WRITTEN;
        }
        flags |= match authorised_by {
            Some(AuthorisedBy::Person) => CONSENT_BY_SELF,
            Some(AuthorisedBy::Parent) => CONSENT_BY_PARENT,
            None => 0,
        };
        consent.set_flags(i, flags);
        if let Some(g) = granted_at {
            consent.slot(i).0 = super::parse_time_seconds(g)
                .map_err(|e| format!("consents.{purpose}.granted_at: {e}"))?;
        }
        if let Some(w) = withdrawn_at {
            consent.slot(i).1 = super::parse_time_seconds(w)
                .map_err(|e| format!("consents.{purpose}.withdrawn_at: {e}"))?;
        }
        Ok(())
    }

    /// The interned index of a targeting attribute the plan forbids
    /// somewhere: by name, or, for a name the plan does not list, by what
    /// the data dictionary or the taxonomy reads it as (issue 11 item 7).
    /// Each distinct name is read once per plan and remembered (up to
    /// [`MAX_READ_NAMES`] names; beyond that it is read every time).
    pub(super) fn attribute_index(&self, name: &str) -> Option<usize> {
        if let Some(&id) = self.attributes.get(name) {
            return Some(id);
        }
        if !self.by_meaning {
            return None;
        }
        if let Ok(read) = self.read_names.read() {
            if let Some(&known) = read.ids.get(name) {
                return known;
            }
        }
        let category = self
            .policy
            .dictionary
            .read(name, crate::taxonomy::Kind::AttributeName)
            .category()?;
        let member = crate::compile::cond::category_member(category.as_str());
        let Some(&pseudo) = self.attributes.get(member.as_str()) else {
            self.remember(name, None);
            return None;
        };
        Some(self.remember(name, Some(pseudo)).unwrap_or(pseudo))
    }

    /// Records how `name` was read; returns its own id (past the plan's
    /// names) so that reasons can name it, or `None` when the table is full.
    fn remember(&self, name: &str, pseudo: Option<usize>) -> Option<usize> {
        let Ok(mut table) = self.read_names.write() else {
            return None;
        };
        if table.ids.len() >= MAX_READ_NAMES {
            return None;
        }
        let Some(pseudo) = pseudo else {
            table.ids.insert(name.into(), None);
            return None;
        };
        let id = self.attribute_names.len() + table.names.len();
        table.names.push((name.into(), pseudo));
        table.ids.insert(name.into(), Some(id));
        Some(id)
    }

    /// The attribute id a mask is indexed by: itself, or for a name read by
    /// meaning, its category's member.
    fn mask_id(&self, id: usize) -> usize {
        if id < self.attribute_names.len() {
            return id;
        }
        self.read_names
            .read()
            .ok()
            .and_then(|t| t.names.get(id - self.attribute_names.len()).map(|n| n.1))
            .unwrap_or(id)
    }

    /// The name of attribute `id` for reasons: a name the plan lists, or a
    /// record's name with how it was read (`medical_history`, read as
    /// health.condition data).
    fn attribute_label(&self, id: usize) -> String {
        if let Some(name) = self.attribute_names.get(id) {
            return match name.strip_prefix(crate::compile::cond::CATEGORY_PREFIX) {
                Some(category) => format!("an attribute read as {category} data"),
                None => format!("`{name}`"),
            };
        }
        let read = self.read_names.read().ok().and_then(|t| {
            t.names
                .get(id - self.attribute_names.len())
                .map(|(n, pseudo)| (n.clone(), *pseudo))
        });
        match read {
            Some((name, pseudo)) => {
                let category = self
                    .attribute_names
                    .get(pseudo)
                    .and_then(|p| p.strip_prefix(crate::compile::cond::CATEGORY_PREFIX))
                    .unwrap_or("sensitive");
                format!("`{name}` (read as {category} data)")
            }
            None => String::new(),
        }
    }

    /// The rest of [`GatePlan::prepare`], shared with the JSON fast path
    /// ([`GatePlan::prepare_json`]): opt-outs, age, jurisdiction and zone.
    pub(super) fn assemble<'r>(&self, parts: RecordParts<'r, '_>) -> Result<Prepared<'r>, String> {
        let mut opt_outs = 0u8;
        let mut opt_out_since = [i64::MAX; 4];
        for (i, name) in OPT_OUTS.iter().enumerate() {
            if parts.opt_outs.get(name) == Some(true) {
                opt_outs |= 1 << i;
            }
            // A time without the flag still counts from that time: a doubt
            // about an opt-out never lets a message through.
            if let Some(at) = parts.opt_outs.since(name) {
                opt_out_since[i] = at;
            }
        }
        // Signals: a malformed string is a bad record, whether or not a
        // rule reads it (it says nothing reliable about the person).
        let tcf = match parts.tcf {
            Some(text) => Some(
                TcfFacts::decode_cached(text, self.tcf_vendor).map_err(|e| format!("tcf: {e}"))?,
            ),
            None => None,
        };
        let mut signals = 0u8;
        let mut signal_opt_outs = 0u8;
        if parts.gpc == Some(true) {
            signals |= SIGNAL_GPC;
            signal_opt_outs |= OPT_OUT_GPC;
        }
        let gpp = match parts.gpp {
            Some(text) => {
                let read = crate::signals::gpp_us_privacy(text).map_err(|e| format!("gpp: {e}"))?;
                signals |= match read {
                    GppSignals::Decoded(_) => SIGNAL_GPP_DECODED,
                    GppSignals::NotDecoded => SIGNAL_GPP_UNDECODED,
                };
                let us = read.effective();
                if us.sale_opt_out || us.sharing_opt_out || us.targeted_advertising_opt_out {
                    signal_opt_outs |= OPT_OUT_GPC;
                }
                if us.sensitive_data_limit {
                    signal_opt_outs |= OPT_OUT_LIMIT_SENSITIVE;
                }
                Some(us)
            }
            None => None,
        };
        let age = match (parts.age, parts.birth_date) {
            (Some(a), _) => AgeKnown::Years(a),
            (None, Some(b)) if self.needs_age => {
                let d: jiff::civil::Date = b.parse().map_err(|e| format!("birth_date: {e}"))?;
                AgeKnown::Born(
                    i32::from(d.year()) * 10_000 + i32::from(d.month()) * 100 + i32::from(d.day()),
                )
            }
            _ => AgeKnown::Unknown,
        };
        let parts = RecordParts {
            jurisdiction: parts.jurisdiction.map(|j| self.canonical_jurisdiction(j)),
            ..parts
        };
        let jurisdiction = parts
            .jurisdiction
            .as_deref()
            .and_then(|j| self.jurisdiction_index(j));
        // Not an error yet: an opt-out, a missing consent or any other
        // reason decides the recipient without the zone.
        let zone = if self.needs_zone || self.needs_cap_zone {
            recipient_zone(parts.timezone, parts.jurisdiction.as_deref()).map(Some)
        } else {
            Ok(None)
        };
        // A record without a jurisdiction is taken to be within the
        // campaign's (docs/recipients.md).
        let outside = parts.jurisdiction.as_deref().is_some_and(|j| {
            !self.scope.is_empty()
                && !self
                    .scope
                    .iter()
                    .any(|s| crate::compile::cond::within(j, s))
        });
        Ok(Prepared {
            id: parts.id,
            opt_outs,
            opt_out_since,
            consent: parts.consent,
            age,
            jurisdiction,
            jurisdiction_text: parts.jurisdiction,
            outside,
            zone,
            attributes: parts.attributes,
            signal_opt_outs,
            signals,
            gpp,
            tcf,
        })
    }

    /// `written` in the hierarchy campaigns and policies are written against
    /// (`FR` is `EU-FR`, `UK` is `GB`): a record written `FR` on a campaign
    /// for `EU-FR` would otherwise be outside it, and its age limits unknown.
    /// A code the plan already names is canonical (the plan's codes are), so
    /// the usual record costs one comparison per plan code. A code that is no
    /// jurisdiction stays as written: it lies within none of the campaign's,
    /// so the recipient is suppressed as outside them, with the other reasons.
    fn canonical_jurisdiction<'r>(&self, written: Cow<'r, str>) -> Cow<'r, str> {
        let known = |j: &str| self.scope.iter().chain(&self.jurisdictions).any(|k| k == j);
        if known(&written) {
            return written;
        }
        match crate::geo::canonical(&written) {
            Ok(code) if code != *written => Cow::Owned(code),
            _ => written,
        }
    }

    /// The nearest plan jurisdiction at or above `code` (`EU-FR-75` → `EU-FR` → `EU`).
    fn jurisdiction_index(&self, code: &str) -> Option<usize> {
        let mut probe = code;
        loop {
            if let Some(i) = self.jurisdictions.iter().position(|j| j == probe) {
                return Some(i);
            }
            probe = probe.rsplit_once('-')?.0;
        }
    }

    fn age_limit(&self, limits: usize, jurisdiction: Option<usize>) -> Option<u32> {
        let table = self.ages.get(limits)?;
        match jurisdiction.and_then(|j| table.by_jurisdiction.get(j)) {
            Some(Some(limit)) => Some(*limit),
            _ => table.default,
        }
    }

    /// Why a recipient fails a minimum age (`None`: it passes). With
    /// `unless` (plan purpose, age from which the person consents), a
    /// recipient below the age passes with a consent in force to the purpose
    /// authorised by the right person: themselves from that age, a parent
    /// below it. A GPP string saying the person is a known child without
    /// consent fails whatever the record says (the signal is the latest
    /// word, and a doubt about a child's consent never lets a message
    /// through).
    fn age_fails(
        &self,
        p: &Prepared<'_>,
        m: &Moment,
        limits: usize,
        unless: Option<(usize, Option<u32>)>,
    ) -> Option<AgeGap> {
        if unless.is_some() && p.gpp.is_some_and(|g| g.known_child_no_consent) {
            return Some(AgeGap::KnownChild);
        }
        let limit = i64::from(self.age_limit(limits, p.jurisdiction)?);
        let age = match p.age {
            AgeKnown::Years(a) => Some(i64::from(a)),
            AgeKnown::Born(b) => Some(i64::from((m.today - b) / 10_000)),
            AgeKnown::Unknown => None,
        };
        if age.is_some_and(|a| a >= limit) {
            return None;
        }
        let Some((purpose, self_from)) = unless else {
            return Some(AgeGap::Below(age));
        };
        let (granted, withdrawn) = p.consent.get(purpose);
        let in_force = granted != i64::MIN && granted <= m.at_second && withdrawn > m.at_second;
        // Who must authorise depends on the age: unknown, nobody can tell.
        let (true, Some(age)) = (in_force, age) else {
            return Some(AgeGap::NoConsent(age));
        };
        let parent = self_from.is_none_or(|from| age < i64::from(from));
        let need = if parent {
            CONSENT_BY_PARENT
        } else {
            CONSENT_BY_SELF
        };
        (p.consent.flags(purpose) & need == 0).then_some(AgeGap::Authoriser { age, parent })
    }

    /// Runs every check; bit `i` of the result is set when check `i` fails.
    /// Allocation-free; `history` is consulted only for frequency caps.
    pub fn decide_prepared(
        &self,
        p: &Prepared<'_>,
        m: &Moment,
        history: &dyn History,
    ) -> Result<u128, String> {
        let mut failed = 0u128;
        let mut local_minutes: Option<u32> = None;
        for (i, check) in self.checks.iter().enumerate() {
            if let (Some(Some(set)), Some(j)) =
                (self.confined.get(i), p.jurisdiction_text.as_deref())
            {
                if !crate::compile::cond::set_contains(set, j) {
                    continue;
                }
            }
            let fails = match &check.test {
                Test::OptOut(bit) => {
                    (p.opt_outs | p.signal_opt_outs) & (1 << bit) != 0
                        || p.opt_out_since[*bit] <= m.at_second
                }
                Test::OutsideCampaign => p.outside,
                Test::Consent {
                    purpose,
                    within,
                    age_only,
                    written,
                } => {
                    let (granted, withdrawn) = p.consent.get(*purpose);
                    let in_force =
                        granted != i64::MIN && granted <= m.at_second && withdrawn > m.at_second;
                    let stale = within.is_some() && granted < m.cutoff[i];
                    let unwritten = *written && p.consent.flags(*purpose) & CONSENT_WRITTEN == 0;
                    if *age_only {
                        in_force && stale
                    } else {
                        !in_force || stale || unwritten
                    }
                }
                Test::Age { limits, unless } => self.age_fails(p, m, *limits, *unless).is_some(),
                Test::Quiet { from, to } => {
                    let minutes = match local_minutes {
                        Some(v) => v,
                        None => {
                            let v = match &p.zone {
                                Ok(Some(zone)) => {
                                    let offset = zone.to_offset(m.at).seconds();
                                    let local =
                                        (m.at_second + i64::from(offset)).rem_euclid(86_400);
                                    (local / 60) as u32
                                }
                                Ok(None) => 12 * 60,
                                // Decided below, once the other checks are in.
                                Err(_) => continue,
                            };
                            local_minutes = Some(v);
                            v
                        }
                    };
                    in_period(minutes, from.minutes(), to.minutes())
                }
                Test::Cap {
                    max,
                    channel,
                    window_seconds,
                    calendar,
                } => {
                    let sent = cap_count(p, m, history, channel, *window_seconds, *calendar)?;
                    sent.saturating_add(1) > *max
                }
                Test::Targeting { set } => {
                    let mask = &self.forbidden[*set];
                    p.attributes
                        .iter()
                        .any(|a| mask.get(self.mask_id(*a)).copied().unwrap_or(false))
                }
                Test::Tcf {
                    need,
                    special,
                    li,
                    if_signalled,
                    ..
                } => tcf_gap(
                    p.tcf.as_ref(),
                    *need,
                    *special,
                    *li,
                    *if_signalled,
                    self.tcf_vendor.is_some(),
                )
                .is_some(),
                Test::TooManyChecks => true,
            };
            if fails {
                failed |= 1 << i;
            }
        }
        // Quiet hours could not be checked: a recipient suppressed anyway
        // keeps the real reasons; one who would be sent to is a bad record.
        match &p.zone {
            Err(unknown) if failed == 0 && self.needs_zone => Err(unknown.clone()),
            _ => Ok(failed),
        }
    }

    /// Decides one parsed recipient for a send at `at`.
    pub fn decide(
        &self,
        r: &Recipient<'_>,
        at: Timestamp,
        history: &dyn History,
    ) -> Result<Decision, String> {
        let m = self.moment(at);
        self.decide_at(r, &m, history)
    }

    /// Like [`GatePlan::decide`], with the per-send values computed once.
    pub fn decide_at(
        &self,
        r: &Recipient<'_>,
        m: &Moment,
        history: &dyn History,
    ) -> Result<Decision, String> {
        let p = self.prepare(r)?;
        self.decide_with_reasons(&p, m, history)
    }

    /// The decision on a prepared record, with reasons when it is suppressed.
    pub fn decide_with_reasons(
        &self,
        p: &Prepared<'_>,
        m: &Moment,
        history: &dyn History,
    ) -> Result<Decision, String> {
        let failed = self.decide_prepared(p, m, history)?;
        if failed == 0 {
            return Ok(Decision::Allow);
        }
        self.explain(p, m, failed, history).map(Decision::Suppress)
    }

    /// The reasons behind a failure set.
    pub fn explain(
        &self,
        p: &Prepared<'_>,
        m: &Moment,
        failed: u128,
        history: &dyn History,
    ) -> Result<Vec<Reason>, String> {
        let mut reasons = Vec::new();
        let place = match &p.jurisdiction_text {
            Some(j) => format!(" in {j}"),
            None => String::new(),
        };
        for (i, check) in self.checks.iter().enumerate() {
            if failed & (1 << i) == 0 {
                continue;
            }
            let message = match &check.test {
                Test::OptOut(bit)
                    if p.opt_outs & (1 << bit) == 0 && p.opt_out_since[*bit] > m.at_second =>
                {
                    // Only a signal set it: name the signal and the field.
                    let message = self.signal_opt_out_message(p, *bit);
                    let message = match check.rule {
                        Some(_) => message,
                        None => format!(
                            "built-in: {message}; no loaded rule requires honouring it, and scruple always does"
                        ),
                    };
                    // A stored consent conflicts with an opt-out of sale
                    // and sharing (11 CCR 7025(c)(3)); a limit on sensitive
                    // data is another matter than the consent to a purpose.
                    let conflict = (OPT_OUTS[*bit] == "gpc")
                        .then(|| self.advertising_consent_in_force(p, m))
                        .flatten()
                        .map(|purpose| {
                        format!(
                            "stored consent for `{purpose}` (consents.{purpose}) against {}",
                            self.signal_fields(p, *bit)
                        )
                    });
                    let message = match &conflict {
                        Some(_) => format!(
                            "{message}; it conflicts with the stored consent for `{}`, and the signal prevails (the latest choice; 11 CCR 7025(c)(3))",
                            self.advertising_consent_in_force(p, m).unwrap_or_default()
                        ),
                        None => message,
                    };
                    let mut reason = self.reason(i, message);
                    reason.conflict = conflict;
                    reasons.push(reason);
                    continue;
                }
                Test::Tcf {
                    purpose,
                    need,
                    special,
                    li,
                    if_signalled,
                } => {
                    let gap = tcf_gap(
                        p.tcf.as_ref(),
                        *need,
                        *special,
                        *li,
                        *if_signalled,
                        self.tcf_vendor.is_some(),
                    );
                    let name = self.purposes.get(*purpose).map(String::as_str);
                    let message = self.tcf_message(gap, name);
                    let conflict = match (gap, name) {
                        (Some(g), Some(name)) if g != TcfGap::NoString => self
                            .consent_in_force(p, m, Some(*purpose))
                            .map(|_| format!("stored consent for `{name}` (consents.{name}) against the TC string (record field `tcf`)")),
                        _ => None,
                    };
                    let message = match (&conflict, name) {
                        (Some(_), Some(name)) => format!(
                            "{message}; it conflicts with the stored consent for `{name}`, and the TC string, the user's latest choice, prevails (GDPR Art. 7(3))"
                        ),
                        _ => message,
                    };
                    let mut reason = self.reason(i, message);
                    reason.conflict = conflict;
                    reasons.push(reason);
                    continue;
                }
                Test::OptOut(bit) => {
                    let what = match OPT_OUTS[*bit] {
                        "unsubscribed" => "the recipient unsubscribed",
                        "objected" => "the recipient objected to direct marketing",
                        "gpc" => "the recipient's browser sent a Global Privacy Control opt-out",
                        _ => "the recipient asked to limit the use of sensitive personal information",
                    };
                    // When the record says when, each law's deadline is named.
                    let since = p.opt_out_since[*bit];
                    let when = if since == i64::MAX {
                        String::new()
                    } else {
                        super::windows::describe(
                            OPT_OUTS[*bit],
                            since,
                            m.at_second,
                            p.jurisdiction_text.as_deref(),
                            &self.channels,
                            self.bulk_sender,
                        )
                    };
                    match check.rule {
                        Some(_) => format!("{what}{when}"),
                        None => format!(
                            "built-in: {what}{when}; no loaded rule requires honouring it, and scruple always does"
                        ),
                    }
                }
                Test::OutsideCampaign => {
                    let code = p.jurisdiction_text.as_deref().unwrap_or_default();
                    format!(
                        "built-in: the recipient is in {code}, outside the campaign's jurisdictions ({}); the campaign was not checked for {code}",
                        self.scope.join(", ")
                    )
                }
                Test::Consent {
                    purpose, within, ..
                } => {
                    let Some(name) = self.purposes.get(*purpose) else {
                        reasons.push(self.reason(i, format!("the campaign declares more than {MAX_PURPOSES} purposes; consent cannot be checked")));
                        continue;
                    };
                    let (granted, withdrawn) = p.consent.get(*purpose);
                    if granted == i64::MIN {
                        format!("no consent for purpose `{name}`")
                    } else if withdrawn <= m.at_second {
                        format!(
                            "consent for `{name}` was withdrawn on {}",
                            date_of(withdrawn)
                        )
                    } else if granted > m.at_second {
                        format!(
                            "consent for `{name}` is only granted from {}",
                            date_of(granted)
                        )
                    } else if within.is_some() && granted < m.cutoff[i] {
                        let within = within.map(|w| w.to_string()).unwrap_or_default();
                        format!(
                            "consent for `{name}` is from {}, older than {within}",
                            date_of(granted)
                        )
                    } else {
                        format!(
                            "consent for `{name}` is not recorded as a signed written agreement (consents.{name}.written)"
                        )
                    }
                }
                Test::Age { limits, unless } => {
                    let limit = self.age_limit(*limits, p.jurisdiction).unwrap_or(0);
                    let name = unless
                        .and_then(|(i, _)| self.purposes.get(i))
                        .map(String::as_str)
                        .unwrap_or_default();
                    match self.age_fails(p, m, *limits, *unless) {
                        Some(AgeGap::KnownChild) => format!(
                            "the GPP string (record field `gpp`) says the consumer is a known child who has not consented (KnownChildSensitiveDataConsents: no consent), so `{name}` is not authorised whatever the record's age and consents say"
                        ),
                        Some(AgeGap::Below(Some(a))) => {
                            format!("aged {a}, under the minimum of {limit}{place}")
                        }
                        Some(AgeGap::NoConsent(Some(a))) => format!(
                            "aged {a}, under {limit}{place}, with no consent to `{name}` in force (consents.{name})"
                        ),
                        Some(AgeGap::Authoriser { age, parent }) => {
                            let who = if parent {
                                "a parent or guardian (authorised_by: parent)"
                            } else {
                                "the consumer themselves (authorised_by: self)"
                            };
                            let got = match p.consent.flags(unless.map_or(usize::MAX, |u| u.0))
                                & (CONSENT_BY_SELF | CONSENT_BY_PARENT)
                            {
                                0 => "who gave it is not recorded",
                                CONSENT_BY_SELF => "it was given by the consumer",
                                CONSENT_BY_PARENT => "it was given by a parent",
                                _ => "it says both",
                            };
                            format!(
                                "aged {age}, under {limit}{place}: consent to `{name}` must be authorised by {who} at this age; {got} (consents.{name}.authorised_by)"
                            )
                        }
                        Some(AgeGap::Below(None) | AgeGap::NoConsent(None)) | None => {
                            format!("age unknown; the minimum is {limit}{place}")
                        }
                    }
                }
                Test::Quiet { from, to } => {
                    let (zone, local) = match &p.zone {
                        Ok(Some(z)) => (
                            z.iana_name().unwrap_or("recipient zone").to_string(),
                            m.at.to_zoned(z.clone()).time(),
                        ),
                        _ => ("UTC".to_string(), m.at.to_zoned(TimeZone::UTC).time()),
                    };
                    format!(
                        "{:02}:{:02} local time ({zone}) is within quiet hours {from}–{to}",
                        local.hour(),
                        local.minute()
                    )
                }
                Test::Cap {
                    max,
                    channel,
                    window_seconds,
                    calendar,
                } => {
                    let sent = cap_count(p, m, history, channel, *window_seconds, *calendar)?;
                    match calendar {
                        Some(unit) => {
                            let unit = unit.as_str();
                            let zone = match &p.zone {
                                Ok(Some(z)) => z.iana_name().unwrap_or("recipient zone").to_string(),
                                _ => "zone unknown: every zone the recipient may be in".to_string(),
                            };
                            format!(
                                "already {sent} {channel} sends this calendar {} ({zone}); the cap is {max}",
                                &unit[..unit.len() - 1]
                            )
                        }
                        None => format!(
                            "already {sent} {channel} sends in the window; the cap is {max}"
                        ),
                    }
                }
                Test::Targeting { set } => {
                    // The record's own few attributes, in the record's order
                    // (not the plan's map: that grows with the sets, and its
                    // iteration order is not stable).
                    let mask = &self.forbidden[*set];
                    let mut hit: Vec<String> = Vec::new();
                    for &id in &p.attributes {
                        let name = self.attribute_label(id);
                        if mask.get(self.mask_id(id)).copied().unwrap_or(false)
                            && !hit.contains(&name)
                        {
                            hit.push(name);
                        }
                    }
                    format!("targeted on {}, which this rule forbids", hit.join(", "))
                }
                Test::TooManyChecks => format!(
                    "the policy has more than {MAX_CHECKS} per-recipient checks for this campaign; the rest cannot be checked, so nobody is sent to"
                ),
            };
            reasons.push(self.reason(i, message));
        }
        Ok(reasons)
    }

    fn reason(&self, check: usize, message: String) -> Reason {
        match self.labels.get(check) {
            Some(label) => Reason {
                rule: label.rule.clone(),
                severity: label.severity,
                message,
                citations: label.citations.clone(),
                conflict: None,
            },
            None => Reason {
                rule: "scruple::gate".into(),
                severity: crate::diag::Severity::Error,
                message,
                citations: Arc::from([]),
                conflict: None,
            },
        }
    }

    /// The first plan purpose (or only `only`) whose stored consent is in
    /// force at the send: what a signal against it conflicts with.
    fn consent_in_force(&self, p: &Prepared<'_>, m: &Moment, only: Option<usize>) -> Option<&str> {
        self.purposes
            .iter()
            .enumerate()
            .filter(|(i, _)| only.is_none_or(|o| o == *i))
            .find(|(i, _)| {
                let (granted, withdrawn) = p.consent.get(*i);
                granted != i64::MIN && granted <= m.at_second && withdrawn > m.at_second
            })
            .map(|(_, name)| name.as_str())
    }

    /// The first stored consent in force to a purpose of personalised
    /// advertising (mapped to TCF purpose 3 or 4): the consent to the
    /// sharing for cross-context behavioural advertising that a GPC or GPP
    /// opt-out of sale and sharing overrides. Consent to email marketing is
    /// no consent to sharing, so it is no conflict.
    fn advertising_consent_in_force(&self, p: &Prepared<'_>, m: &Moment) -> Option<&str> {
        self.purposes
            .iter()
            .enumerate()
            .filter(|(_, name)| {
                self.policy
                    .purposes
                    .get(name.as_str())
                    .and_then(|d| d.decl.tcf.as_ref())
                    .is_some_and(|t| t.purposes.iter().any(|id| matches!(id.value, 3 | 4)))
            })
            .find_map(|(i, _)| self.consent_in_force(p, m, Some(i)))
    }

    /// The record fields whose signals set opt-out `bit`.
    fn signal_fields(&self, p: &Prepared<'_>, bit: usize) -> String {
        let mut fields = Vec::new();
        if OPT_OUTS[bit] == "gpc" && p.signals & SIGNAL_GPC != 0 {
            fields.push("Global Privacy Control (record field `gpc`)");
        }
        if p.signals & (SIGNAL_GPP_DECODED | SIGNAL_GPP_UNDECODED) != 0 {
            fields.push("the GPP string (record field `gpp`)");
        }
        fields.join(" and ")
    }

    /// Why a signal (not a stored opt-out) set opt-out `bit`.
    fn signal_opt_out_message(&self, p: &Prepared<'_>, bit: usize) -> String {
        let gpc = OPT_OUTS[bit] == "gpc";
        let mut parts = Vec::new();
        if gpc && p.signals & SIGNAL_GPC != 0 {
            parts.push(
                "the recipient's browser sent Global Privacy Control (record field `gpc`: true), an opt-out of sale and sharing".to_string(),
            );
        }
        if p.signals & SIGNAL_GPP_UNDECODED != 0 {
            parts.push(format!(
                "the GPP string (record field `gpp`) holds a section this version of scruple does not decode (such as `uspv1` or another US state), so it is read as every US opt-out, {}",
                if gpc { "including sale, sharing and targeted advertising" } else { "including the limit on sensitive data" }
            ));
        } else if let Some(us) = p.gpp.filter(|_| p.signals & SIGNAL_GPP_DECODED != 0) {
            let mut fields = Vec::new();
            if gpc {
                if us.sale_opt_out {
                    fields.push("SaleOptOut");
                }
                if us.sharing_opt_out {
                    fields.push("SharingOptOut");
                }
                if us.targeted_advertising_opt_out {
                    fields.push("TargetedAdvertisingOptOut");
                }
            } else if us.sensitive_data_limit {
                fields.push("SensitiveDataProcessingOptOuts");
            }
            if !fields.is_empty() {
                parts.push(format!(
                    "the GPP string (record field `gpp`) US section opts out: {}",
                    fields.join(", ")
                ));
            }
        }
        parts.join("; ")
    }

    /// The reason text of a failed TCF check.
    fn tcf_message(&self, gap: Option<TcfGap>, purpose: Option<&str>) -> String {
        let vendor = self
            .tcf_vendor
            .map(|v| format!("vendor {v}"))
            .unwrap_or_default();
        let of = purpose
            .map(|p| format!(" (needed for campaign purpose `{p}`)"))
            .unwrap_or_default();
        match gap {
            None => String::new(),
            Some(TcfGap::NoString) => {
                "the record has no TC string (record field `tcf`), so no TCF consent is established".into()
            }
            Some(TcfGap::Purpose(id)) => format!(
                "the TC string (record field `tcf`) does not establish TCF purpose {id}{of}: PurposesConsent bit {id} is not set{}",
                if crate::signals::TCF_LI_FORBIDDEN & (1 << id) != 0 {
                    ", and legitimate interest is not allowed for it (TCF v2.2)"
                } else {
                    ""
                }
            ),
            Some(TcfGap::NotAllowed(id)) => format!(
                "the TC string (record field `tcf`) carries a publisher restriction (PubRestrictionEntry, RestrictionType 0) that does not allow {vendor} TCF purpose {id}{of}"
            ),
            Some(TcfGap::Vendor(id)) => format!(
                "the TC string (record field `tcf`) grants TCF purpose {id}{of} but not to {vendor}: it is not in the Vendor Consent Section"
            ),
            Some(TcfGap::RequiresLi(id)) => format!(
                "the TC string (record field `tcf`) carries a publisher restriction (RestrictionType 2) requiring legitimate interest for TCF purpose {id}{of}, which {vendor} does not have or may not use"
            ),
            Some(TcfGap::SpecialFeature(id)) => format!(
                "the TC string (record field `tcf`) has no opt-in to TCF special feature {id}{of}: SpecialFeatureOptIns bit {id} is not set{}",
                if id == 1 { " (precise geolocation)" } else { "" }
            ),
            Some(TcfGap::VendorOnly) => format!(
                "the TC string (record field `tcf`) gives {vendor} neither consent nor legitimate interest"
            ),
        }
    }

    /// The rule id, severity and citations each check's reasons carry,
    /// made once so that a suppression shares them instead of copying.
    fn label(&self, check: &PlanCheck) -> Label {
        match check.rule.and_then(|i| self.policy.rules.get(i)) {
            Some(rule) => Label {
                rule: rule.id.as_str().into(),
                severity: rule.severity,
                citations: rule.cites().map(str::to_string).collect(),
            },
            None => Label {
                rule: match check.test {
                    Test::OptOut(bit) => format!("scruple::gate::{}", OPT_OUTS[bit]).into(),
                    Test::OutsideCampaign => "scruple::gate::jurisdiction".into(),
                    _ => "scruple::gate".into(),
                },
                severity: crate::diag::Severity::Error,
                citations: match check.test {
                    Test::OptOut(bit) => built_in_citations(OPT_OUTS[bit]),
                    _ => &[],
                }
                .iter()
                .map(|c| c.to_string())
                .collect(),
            },
        }
    }

    /// Fills the per-jurisdiction age limits (after all tables are known).
    fn finish(mut self) -> Self {
        self.labels = self.checks.iter().map(|c| self.label(c)).collect();
        let policy = self.policy;
        self.confined = self
            .checks
            .iter()
            .map(
                |c| match (&c.test, c.rule.and_then(|r| policy.rules.get(r))) {
                    (Test::OptOut(_) | Test::OutsideCampaign | Test::TooManyChecks, _) => None,
                    (_, Some(rule)) => rule.jurisdictions.clone(),
                    (_, None) => None,
                },
            )
            .collect();
        let fixed: Vec<Option<u32>> = self.ages.iter().map(|a| a.default).collect();
        let tables: Vec<Option<String>> = self
            .checks
            .iter()
            .filter_map(
                |c| match (&c.test, c.rule.and_then(|r| policy.rules.get(r))) {
                    (Test::Age { .. }, Some(rule)) => Some(match &rule.check {
                        Check::MinimumAge { table, .. } => table.clone(),
                        _ => None,
                    }),
                    _ => None,
                },
            )
            .collect();
        for (k, limits) in self.ages.iter_mut().enumerate() {
            let Some(Some(table)) = tables
                .get(k)
                .map(|t| t.as_ref().and_then(|t| policy.tables.get(t)))
            else {
                limits.by_jurisdiction = vec![fixed[k]; self.jurisdictions.len()];
                continue;
            };
            limits.by_jurisdiction = self
                .jurisdictions
                .iter()
                .map(|j| table.lookup_number(j).map(|(n, _)| n.max(0.0) as u32))
                .collect();
        }
        self
    }
}

fn in_period(minutes: u32, start: u32, end: u32) -> bool {
    if start < end {
        (start..end).contains(&minutes)
    } else {
        minutes >= start || minutes < end
    }
}

fn date_of(second: i64) -> String {
    Timestamp::from_second(second)
        .map(|t| t.to_zoned(TimeZone::UTC).date().to_string())
        .unwrap_or_default()
}

/// The earliest grant time still within `within` of the send (calendar
/// arithmetic in UTC for months and years).
fn consent_cutoff(at: &jiff::Zoned, within: &Duration) -> i64 {
    let amount = i64::from(within.amount);
    let span = jiff::Span::new();
    let span = match within.unit {
        TimeUnit::Minutes => span.try_minutes(amount),
        TimeUnit::Hours => span.try_hours(amount),
        TimeUnit::Days => span.try_days(amount),
        TimeUnit::Weeks => span.try_weeks(amount),
        TimeUnit::Months => span.try_months(amount),
        TimeUnit::Years => span.try_years(amount),
    };
    match span.ok().and_then(|s| at.checked_sub(s).ok()) {
        Some(z) => z.timestamp().as_second(),
        None => i64::MIN,
    }
}

/// Every attribute whose lineage (policy `derived_from`, and `proxy_for`
/// when asked) reaches a forbidden one, the forbidden ones included.
///
/// A walk down the lineage edges from the forbidden attributes, so linear in
/// the number of attributes and edges. (Attribute names are identifiers,
/// without the `-` that makes [`set_contains`](crate::compile::cond::set_contains)
/// walk up a hierarchy, so plain membership is the same test.)
fn closure(policy: &Policy, forbidden: &crate::compile::SymbolSet, proxies: bool) -> Vec<String> {
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    for (name, def) in &policy.attributes {
        let proxied = if proxies {
            &def.decl.proxy_for[..]
        } else {
            &[]
        };
        for parent in def.decl.derived_from.iter().chain(proxied) {
            children
                .entry(parent.name.as_str())
                .or_default()
                .push(name.as_str());
        }
    }
    // A taxonomy category (`category:health`) stands for itself and every
    // category below it: a record attribute the dictionary or the vocabulary
    // reads as `health.condition` is matched through the member
    // `category:health.condition` ([`GatePlan::attribute_index`]).
    let names = forbidden
        .iter()
        .filter(|m| !m.starts_with(crate::compile::cond::CATEGORY_PREFIX));
    let mut seen: std::collections::HashSet<&str> = names.clone().map(String::as_str).collect();
    let mut out: Vec<String> = names.cloned().collect();
    for category in crate::compile::cond::set_categories(forbidden) {
        for below in crate::taxonomy::descendants(category) {
            let member = crate::compile::cond::category_member(below.as_str());
            if !out.contains(&member) {
                out.push(member);
            }
        }
    }
    let mut to_visit: Vec<&str> = forbidden.iter().map(String::as_str).collect();
    while let Some(name) = to_visit.pop() {
        for &child in children.get(name).map_or(&[][..], Vec::as_slice) {
            if seen.insert(child) {
                out.push(child.to_string());
                to_visit.push(child);
            }
        }
    }
    out
}

/// The law behind an opt-out scruple honours even when no loaded rule
/// requires it (see [`opt_out_rules`]).
fn built_in_citations(opt_out: &str) -> &'static [&'static str] {
    match opt_out {
        "unsubscribed" => &["15 U.S.C. 7704(a)(4)", "GDPR Art. 21(3)"],
        "objected" => &["GDPR Art. 21(2)", "GDPR Art. 21(3)"],
        "gpc" => &["Cal. Code Regs. tit. 11 § 7025"],
        "limit_sensitive" => &["Cal. Civ. Code 1798.121"],
        _ => &[],
    }
}

/// The enabled policy rules that require the suppression list `name`, so
/// gate reasons cite them: rules that read `audience.suppressions` for that
/// name (in `ensure` or in `when`) and would apply to the campaign were the
/// list missing. The second half matters for rules such as CCPA 1798.121,
/// which require `limit_sensitive` by switching themselves off once it is
/// declared.
fn opt_out_rules(policy: &Policy, campaign: &Campaign, name: &str) -> Vec<usize> {
    let quoted = format!("\"{name}\"");
    let mentions = |cond: &crate::compile::cond::Cond| {
        let text = format!("{cond:?}");
        text.contains("\"suppressions\"") && text.contains(&quoted)
    };
    let candidates: Vec<usize> = policy
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.disabled.is_none())
        .filter(|(_, r)| {
            r.when.as_ref().is_some_and(mentions)
                || matches!(&r.check, Check::Ensure { cond } if mentions(cond))
        })
        .map(|(i, _)| i)
        .collect();
    if candidates.is_empty() {
        return candidates;
    }
    let without = without_suppression(&campaign.tree, name);
    candidates
        .into_iter()
        .filter(|&i| {
            policy.rules[i]
                .when
                .as_ref()
                .is_none_or(|c| eval::expr::holds(c, &without))
        })
        .collect()
}

/// The campaign tree with `name` taken out of `audience.suppressions`.
fn without_suppression(tree: &Node, name: &str) -> Node {
    let mut tree = tree.clone();
    let suppressions = map_entry(&mut tree, "audience").and_then(|a| map_entry(a, "suppressions"));
    if let Some(Node {
        value: Value::List(items),
        ..
    }) = suppressions
    {
        items.retain(|item| !matches!(&item.value, Value::Str(s) if s == name));
    }
    tree
}

fn map_entry<'t>(node: &'t mut Node, key: &str) -> Option<&'t mut Node> {
    match &mut node.value {
        Value::Map(entries) => entries
            .iter_mut()
            .find(|e| e.key == key)
            .map(|e| &mut e.value),
        _ => None,
    }
}

/// Sends on `channel` that count against a cap for a send at `m`: the most
/// in one rolling window of `window_seconds` holding it, or with `calendar`
/// all in the recipient's calendar period holding it (see
/// [`super::calendar`]).
fn cap_count(
    p: &Prepared<'_>,
    m: &Moment,
    history: &dyn History,
    channel: &str,
    window_seconds: i64,
    calendar: Option<TimeUnit>,
) -> Result<u32, String> {
    let Some(unit) = calendar else {
        return history.busiest_window(&p.id, channel, m.at_second, window_seconds);
    };
    let zone = match &p.zone {
        Ok(Some(zone)) => Some(zone),
        _ => None,
    };
    let (start, end) =
        super::calendar::period(m.at_second, unit, zone, p.jurisdiction_text.as_deref())
            .ok_or_else(|| "the send time is out of range for a calendar cap".to_string())?;
    let mut times = Vec::new();
    history.sends_between(&p.id, channel, start.saturating_sub(1), end, &mut times)?;
    Ok(u32::try_from(times.len()).unwrap_or(u32::MAX))
}

/// The recipient's time zone: `timezone`, else the single zone of their
/// jurisdiction. An unknown zone is an error (a bad record).
fn recipient_zone(timezone: Option<&str>, jurisdiction: Option<&str>) -> Result<TimeZone, String> {
    if let Some(name) = timezone {
        return cached_zone(name).ok_or_else(|| format!("unknown time zone `{name}`"));
    }
    let zones = jurisdiction.map(crate::geo::zones_of).unwrap_or(&[]);
    match zones {
        [one] => crate::tz::get(one).map_err(|e| e.to_string()),
        [] => Err("no `timezone`, and the jurisdiction does not tell one".into()),
        _ => Err("no `timezone`, and the jurisdiction spans several zones".into()),
    }
}

thread_local! {
    /// Zones seen by this thread: records name a handful of zones, and a
    /// lookup by name in the tz database costs more than deciding a record.
    static ZONES: std::cell::RefCell<Vec<(Box<str>, TimeZone)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Looks a zone up by name, through a small per-thread cache (64 zones).
fn cached_zone(name: &str) -> Option<TimeZone> {
    let hit = ZONES.with(|z| {
        z.borrow()
            .iter()
            .find(|(n, _)| n.as_ref() == name)
            .map(|(_, tz)| tz.clone())
    });
    if hit.is_some() {
        return hit;
    }
    let zone = crate::tz::get(name).ok()?;
    ZONES.with(|z| {
        let mut zones = z.borrow_mut();
        if zones.len() < 64 {
            zones.push((name.into(), zone.clone()));
        }
    });
    Some(zone)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// TCF purposes 3 and 4 with vendor 755 (issue 13 item 4): consent,
    /// legitimate interest where allowed, and the three restriction types
    /// ("Consent string and vendor list formats v2", Publisher Restrictions).
    #[test]
    fn tcf_gap_honours_legal_bases_and_publisher_restrictions() {
        let p = |ids: &[u32]| ids.iter().fold(0u32, |m, id| m | (1 << id));
        let granted = TcfFacts {
            purposes_consent: p(&[1, 3, 4, 7]),
            purposes_li_transparency: p(&[7]),
            special_feature_opt_ins: p(&[1]),
            vendor_consent: true,
            vendor_legitimate_interest: true,
            ..TcfFacts::default()
        };
        let gap = |f: &TcfFacts, need: &[u32], li: &[u32]| {
            tcf_gap(Some(f), p(need), 0, p(li), false, true)
        };
        assert_eq!(gap(&granted, &[1, 3, 4], &[]), None);
        // Purpose 7 on legitimate interest alone, where the rule allows it.
        let li_only = TcfFacts {
            purposes_consent: p(&[1]),
            ..granted
        };
        assert_eq!(gap(&li_only, &[7], &[7]), None);
        assert_eq!(gap(&li_only, &[7], &[]), Some(TcfGap::Purpose(7)));
        // RestrictionType 0: not allowed, whatever the user said.
        let not_allowed = TcfFacts {
            restricted_not_allowed: p(&[4]),
            ..granted
        };
        assert_eq!(gap(&not_allowed, &[3, 4], &[]), Some(TcfGap::NotAllowed(4)));
        // RestrictionType 1: consent required; legitimate interest no longer counts.
        let consent_only = TcfFacts {
            restricted_require_consent: p(&[7]),
            ..li_only
        };
        assert_eq!(gap(&consent_only, &[7], &[7]), Some(TcfGap::Purpose(7)));
        // RestrictionType 2: legitimate interest required; consent no longer counts.
        let li_required = TcfFacts {
            restricted_require_li: p(&[7]),
            purposes_li_transparency: 0,
            ..granted
        };
        assert_eq!(gap(&li_required, &[7], &[7]), Some(TcfGap::RequiresLi(7)));
        let li_given = TcfFacts {
            purposes_li_transparency: p(&[7]),
            ..li_required
        };
        assert_eq!(gap(&li_given, &[7], &[7]), None);
        // The vendor without consent.
        let no_vendor = TcfFacts {
            vendor_consent: false,
            vendor_legitimate_interest: false,
            ..granted
        };
        assert_eq!(gap(&no_vendor, &[3], &[]), Some(TcfGap::Vendor(3)));
        assert_eq!(gap(&no_vendor, &[], &[]), Some(TcfGap::VendorOnly));
        // Special feature 1, and the string's absence.
        let no_geo = TcfFacts {
            special_feature_opt_ins: 0,
            ..granted
        };
        assert_eq!(
            tcf_gap(Some(&no_geo), p(&[4]), p(&[1]), 0, false, true),
            Some(TcfGap::SpecialFeature(1))
        );
        assert_eq!(
            tcf_gap(None, p(&[4]), 0, 0, false, true),
            Some(TcfGap::NoString)
        );
        assert_eq!(tcf_gap(None, p(&[4]), 0, 0, true, true), None);
    }

    #[test]
    fn consent_slots_hold_purposes_beyond_the_inline_ones() {
        let mut slots = ConsentSlots::new();
        for i in [0, 3, 4, 9] {
            *slots.slot(i) = (i as i64, 100 + i as i64);
        }
        for i in [0, 3, 4, 9] {
            assert_eq!(slots.get(i), (i as i64, 100 + i as i64));
        }
        // Never set, inline or not, and the "no slot" index: no consent.
        for i in [1, 5, 8, 15, usize::MAX] {
            assert_eq!(slots.get(i), NO_CONSENT);
        }
    }
}
