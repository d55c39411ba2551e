//! The engines compared, each behind the same three steps:
//!
//! * `load`: compile the policy from its text (timed as "policy load");
//! * `prepare`: build every recipient's input once, in the engine's own
//!   form (timed separately, never counted in decisions/s);
//! * `decide`: one decision, `true` = allow. This is the only thing the
//!   throughput and latency loops call.
//!
//! Each engine's call into its library is one small function
//! (`scruple_decide`, `scruple_decide_prepared`, `rego_decide`,
//! `rvm_decide`, `cedar_decide`, `hand_decide`), so following a change of
//! scruple's API changes that function and its `prepare`, nothing else.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

use crate::gen::{Case, AT, CAMPAIGN_PURPOSES, SENSITIVE};

pub const SCRUPLE_POLICY: &str = include_str!("../policies/peers.scruple");
pub const CAMPAIGN_YAML: &str = include_str!("../policies/campaign.yaml");
pub const REGO_POLICY: &str = include_str!("../policies/peers.rego");
pub const CEDAR_POLICY: &str = include_str!("../policies/peers.cedar");

/// Versions of the peers (pinned with `=` in Cargo.toml).
pub const REGORUS_VERSION: &str = "0.14.1";
pub const CEDAR_VERSION: &str = "4.14.1";

/// One engine under test.
pub trait Engine {
    /// The compiled policy and any engine state.
    type Loaded;
    /// The recipients' inputs, in the engine's form.
    type Prepared;
    fn load() -> Result<Self::Loaded, String>;
    fn prepare(loaded: &Self::Loaded, cases: &[Case]) -> Result<Self::Prepared, String>;
    fn decide(loaded: &mut Self::Loaded, prepared: &Self::Prepared, i: usize) -> bool;
}

/// Every engine's command-line name, with a one-line description.
pub const ENGINES: [(&str, &str); 9] = [
    ("scruple-prepared", "scruple GatePlan::decide_prepared on records prepared once (yes/no, no reasons)"),
    ("scruple", "scruple GatePlan::decide_at on records parsed once (reasons for every suppression)"),
    ("scruple-jsonl", "scruple GatePlan::prepare_json(line) + decide_with_reasons (what `scruple gate` does per record)"),
    ("scruple-jsonl-verdict", "scruple GatePlan::prepare_json(line) + decide_prepared (yes/no, the same work as hand-jsonl)"),
    ("regorus", "regorus Engine::set_input + eval_rule (interpreter), prebuilt input Values"),
    ("regorus-rvm", "regorus RegoVM (bytecode VM) set_input + execute, prebuilt input Values"),
    ("cedar", "cedar-policy Authorizer::is_authorized on prebuilt Requests"),
    ("hand", "hand-written Rust function on prebuilt structs"),
    ("hand-jsonl", "hand-written Rust function, each decision from a serde_json-parsed line"),
];

/// The JSON lines of scruple's record format, leaked so records can borrow
/// them for the whole run (one process runs one engine, then exits).
fn leaked_lines(cases: &[Case]) -> &'static [String] {
    Box::leak(
        cases
            .iter()
            .map(Case::scruple_json_line)
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    )
}

/// Recipient number from an id `r{number}`.
fn number_of(id: &str) -> Option<usize> {
    id.strip_prefix('r')?.parse().ok()
}

// ------------------------------------------------------------------ scruple

pub mod scruple_engine {
    use super::*;
    use scruple::compile::load::MemoryTree;
    use scruple::compile::{compile, Inputs, Policy};
    use scruple::gate::recipient::{from_json, Recipient};
    use scruple::gate::{Decision, GatePlan, History, Moment, Prepared as GatePrepared};
    use scruple::source::SourceFile;

    pub struct Loaded {
        plan: GatePlan<'static>,
        /// The per-send values of the send time, computed once per send.
        moment: Moment,
    }

    /// The send history: email sends in the last 7 days, by recipient number.
    pub struct VecHistory(Vec<u32>);

    impl History for VecHistory {
        fn sends_between(
            &self,
            _: &str,
            _: &str,
            _: i64,
            _: i64,
            _: &mut Vec<i64>,
        ) -> Result<(), String> {
            Ok(())
        }

        /// The prebuilt count, as Rego and Cedar get it in their input.
        fn busiest_window(&self, recipient: &str, channel: &str, _: i64, _: i64) -> Result<u32, String> {
            if channel != "email" {
                return Ok(0);
            }
            number_of(recipient)
                .and_then(|n| self.0.get(n).copied())
                .ok_or_else(|| format!("unknown recipient `{recipient}`"))
        }
    }

    /// Moves the prepared records' ids out of the 30 MB of JSON lines into
    /// one contiguous block. Each decision reads its id for the frequency-cap
    /// lookup (`History::busiest_window`); borrowed from the lines, that read was
    /// a cache miss per decision and 65 % of the engine's time, while Rego
    /// and Cedar get the send count inside their prebuilt input. In
    /// `scruple gate` the id is in the line just read, so hot in the cache.
    fn compact_ids(prepared: &mut [GatePrepared<'static>]) {
        let mut block = String::new();
        let mut ends = Vec::with_capacity(prepared.len());
        for p in prepared.iter() {
            block.push_str(&p.id);
            ends.push(block.len());
        }
        let block: &'static str = Box::leak(block.into_boxed_str());
        let mut start = 0;
        for (p, end) in prepared.iter_mut().zip(ends) {
            p.id = std::borrow::Cow::Borrowed(&block[start..end]);
            start = end;
        }
    }

    /// Inputs of the three scruple variants (each fills what it uses).
    pub struct Prepared {
        lines: &'static [String],
        recipients: Vec<Recipient<'static>>,
        prepared: Vec<GatePrepared<'static>>,
        history: VecHistory,
    }

    /// Compiles `policies/peers.scruple`, loads `policies/campaign.yaml`,
    /// checks the campaign and builds its gate plan.
    pub fn load() -> Result<Loaded, String> {
        let tree = MemoryTree {
            prefix: "peers/".into(),
            files: BTreeMap::from([("peers.scruple".to_string(), SCRUPLE_POLICY.to_string())]),
        };
        let mut inputs = Inputs::default();
        inputs.add_memory(&Arc::new(tree), &["peers.scruple".to_string()]);
        let policy = match compile(inputs) {
            (Some(policy), _) => policy,
            (None, diags) => return Err(format!("peers.scruple does not compile: {diags:?}")),
        };
        // The plan borrows the policy for the rest of the process.
        let policy: &'static Policy = Box::leak(Box::new(policy));
        let source = SourceFile::new("campaign.yaml", CAMPAIGN_YAML);
        let campaign = scruple::campaign::load(&source)
            .map_err(|d| format!("campaign.yaml does not load: {d:?}"))?;
        let at = jiff::Timestamp::from_second(AT).map_err(|e| e.to_string())?;
        let options = scruple::eval::Options { now: at };
        let plan = GatePlan::new(policy, &campaign, options)
            .map_err(|r| format!("the campaign fails the policy: {:?}", r.findings))?;
        let moment = plan.moment(at);
        Ok(Loaded { plan, moment })
    }

    fn inputs(cases: &[Case]) -> Prepared {
        Prepared {
            lines: leaked_lines(cases),
            recipients: Vec::new(),
            prepared: Vec::new(),
            history: VecHistory(cases.iter().map(|c| c.email_sends_7d).collect()),
        }
    }

    fn parse_all(lines: &'static [String]) -> Result<Vec<Recipient<'static>>, String> {
        lines.iter().map(|l| from_json(l)).collect()
    }

    /// The one call into scruple per decision, on a parsed record: the
    /// decision with its reasons (`scruple gate` does this per record).
    #[inline]
    pub fn scruple_decide(loaded: &Loaded, r: &Recipient<'_>, history: &VecHistory) -> bool {
        match loaded.plan.decide_at(r, &loaded.moment, history) {
            Ok(Decision::Allow) => true,
            Ok(Decision::Suppress(_)) => false,
            Err(e) => panic!("scruple: bad record {}: {e}", r.id),
        }
    }

    /// The one call into scruple per decision, on a prepared record: the
    /// set of failed checks, no reasons (a yes/no like Rego's and Cedar's).
    #[inline]
    pub fn scruple_decide_prepared(
        loaded: &Loaded,
        p: &GatePrepared<'_>,
        history: &VecHistory,
    ) -> bool {
        match loaded.plan.decide_prepared(p, &loaded.moment, history) {
            Ok(failed) => failed == 0,
            Err(e) => panic!("scruple: {}: {e}", p.id),
        }
    }

    /// Parsed records, decided with reasons.
    pub struct Scruple;
    impl Engine for Scruple {
        type Loaded = Loaded;
        type Prepared = Prepared;
        fn load() -> Result<Loaded, String> {
            load()
        }
        fn prepare(_: &Loaded, cases: &[Case]) -> Result<Prepared, String> {
            let mut p = inputs(cases);
            p.recipients = parse_all(p.lines)?;
            Ok(p)
        }
        fn decide(l: &mut Loaded, p: &Prepared, i: usize) -> bool {
            scruple_decide(l, &p.recipients[i], &p.history)
        }
    }

    /// Prepared records (`GatePlan::prepare` once each), yes/no only.
    pub struct ScruplePrepared;
    impl Engine for ScruplePrepared {
        type Loaded = Loaded;
        type Prepared = Prepared;
        fn load() -> Result<Loaded, String> {
            load()
        }
        fn prepare(l: &Loaded, cases: &[Case]) -> Result<Prepared, String> {
            let mut p = inputs(cases);
            let recipients = parse_all(p.lines)?;
            p.prepared = recipients
                .iter()
                .map(|r| l.plan.prepare(r))
                .collect::<Result<_, _>>()?;
            compact_ids(&mut p.prepared);
            Ok(p)
        }
        fn decide(l: &mut Loaded, p: &Prepared, i: usize) -> bool {
            scruple_decide_prepared(l, &p.prepared[i], &p.history)
        }
    }

    /// Each decision from its JSON line: parse and prepare in one pass, then
    /// decide with reasons.
    pub struct ScrupleJsonl;
    impl Engine for ScrupleJsonl {
        type Loaded = Loaded;
        type Prepared = Prepared;
        fn load() -> Result<Loaded, String> {
            load()
        }
        fn prepare(_: &Loaded, cases: &[Case]) -> Result<Prepared, String> {
            Ok(inputs(cases))
        }
        fn decide(l: &mut Loaded, p: &Prepared, i: usize) -> bool {
            let r = l
                .plan
                .prepare_json(&p.lines[i])
                .unwrap_or_else(|e| panic!("scruple: line {i}: {e}"));
            match l.plan.decide_with_reasons(&r, &l.moment, &p.history) {
                Ok(Decision::Allow) => true,
                Ok(Decision::Suppress(_)) => false,
                Err(e) => panic!("scruple: line {i}: {e}"),
            }
        }
    }
    /// Each decision from its JSON line, yes/no only: parse and prepare in
    /// one pass, run the flat plan. The same work as `hand-jsonl` (which builds no reasons).
    pub struct ScrupleJsonlVerdict;
    impl Engine for ScrupleJsonlVerdict {
        type Loaded = Loaded;
        type Prepared = Prepared;
        fn load() -> Result<Loaded, String> {
            load()
        }
        fn prepare(_: &Loaded, cases: &[Case]) -> Result<Prepared, String> {
            Ok(inputs(cases))
        }
        fn decide(l: &mut Loaded, p: &Prepared, i: usize) -> bool {
            let prepared = l
                .plan
                .prepare_json(&p.lines[i])
                .unwrap_or_else(|e| panic!("scruple: line {i}: {e}"));
            scruple_decide_prepared(l, &prepared, &p.history)
        }
    }
}

// ------------------------------------------------------------------ regorus

/// The Rego input of one case: attribute names, consents reduced to
/// `withdrawn` flags at the send time, and the 7-day email send count.
fn rego_input_json(c: &Case) -> String {
    let mut consents = serde_json::Map::new();
    for consent in &c.consents {
        let withdrawn = consent.withdrawn_at.is_some_and(|w| w <= AT) || consent.granted_at > AT;
        consents.insert(
            consent.purpose.into(),
            serde_json::json!({ "withdrawn": withdrawn }),
        );
    }
    serde_json::json!({
        "attributes": c.attributes_json(),
        "consents": consents,
        "email_sends_7d": c.email_sends_7d,
    })
    .to_string()
}

fn rego_data() -> Result<regorus::Value, String> {
    let data = serde_json::json!({ "campaign": { "purposes": CAMPAIGN_PURPOSES } });
    regorus::Value::from_json_str(&data.to_string()).map_err(|e| e.to_string())
}

fn rego_inputs(cases: &[Case]) -> Result<Vec<regorus::Value>, String> {
    cases
        .iter()
        .map(|c| regorus::Value::from_json_str(&rego_input_json(c)).map_err(|e| e.to_string()))
        .collect()
}

const REGO_RULE: &str = "data.peers.allow";

pub struct Regorus;

impl Engine for Regorus {
    type Loaded = regorus::Engine;
    type Prepared = Vec<regorus::Value>;

    fn load() -> Result<regorus::Engine, String> {
        let mut engine = regorus::Engine::new();
        engine
            .add_policy("peers.rego".into(), REGO_POLICY.into())
            .map_err(|e| e.to_string())?;
        engine.add_data(rego_data()?).map_err(|e| e.to_string())?;
        // regorus analyses the modules on the first evaluation: do it here,
        // on an empty input, so that work counts as loading, not deciding.
        engine.set_input(regorus::Value::new_object());
        engine
            .eval_rule(REGO_RULE.to_string())
            .map_err(|e| e.to_string())?;
        Ok(engine)
    }

    fn prepare(_: &regorus::Engine, cases: &[Case]) -> Result<Vec<regorus::Value>, String> {
        rego_inputs(cases)
    }

    fn decide(engine: &mut regorus::Engine, inputs: &Vec<regorus::Value>, i: usize) -> bool {
        rego_decide(engine, &inputs[i])
    }
}

/// The one call into regorus's interpreter per decision (`Value` clones are
/// reference-counted, not deep).
#[inline]
pub fn rego_decide(engine: &mut regorus::Engine, input: &regorus::Value) -> bool {
    engine.set_input(input.clone());
    match engine.eval_rule(REGO_RULE.to_string()) {
        Ok(regorus::Value::Bool(b)) => b,
        Ok(other) => panic!("regorus: allow is {other:?}"),
        Err(e) => panic!("regorus: {e}"),
    }
}

pub struct RegorusRvm;

impl Engine for RegorusRvm {
    type Loaded = regorus::rvm::RegoVM;
    type Prepared = Vec<regorus::Value>;

    fn load() -> Result<regorus::rvm::RegoVM, String> {
        let mut engine = regorus::Engine::new();
        engine
            .add_policy("peers.rego".into(), REGO_POLICY.into())
            .map_err(|e| e.to_string())?;
        let data = rego_data()?;
        engine.add_data(data.clone()).map_err(|e| e.to_string())?;
        let compiled = engine
            .compile_with_entrypoint(&REGO_RULE.into())
            .map_err(|e| e.to_string())?;
        let program = regorus::languages::rego::compiler::Compiler::compile_from_policy(
            &compiled,
            &[REGO_RULE],
        )
        .map_err(|e| e.to_string())?;
        let mut vm = regorus::rvm::RegoVM::new();
        vm.load_program(program);
        vm.set_data(data).map_err(|e| e.to_string())?;
        Ok(vm)
    }

    fn prepare(_: &regorus::rvm::RegoVM, cases: &[Case]) -> Result<Vec<regorus::Value>, String> {
        rego_inputs(cases)
    }

    fn decide(vm: &mut regorus::rvm::RegoVM, inputs: &Vec<regorus::Value>, i: usize) -> bool {
        rvm_decide(vm, &inputs[i])
    }
}

/// The one call into regorus's bytecode VM per decision.
#[inline]
pub fn rvm_decide(vm: &mut regorus::rvm::RegoVM, input: &regorus::Value) -> bool {
    vm.set_input(input.clone());
    match vm.execute() {
        Ok(regorus::Value::Bool(b)) => b,
        Ok(other) => panic!("regorus rvm: allow is {other:?}"),
        Err(e) => panic!("regorus rvm: {e}"),
    }
}

// ------------------------------------------------------------------ cedar

pub struct CedarLoaded {
    authorizer: cedar_policy::Authorizer,
    policies: cedar_policy::PolicySet,
    /// One entity: the campaign, with its purposes.
    entities: cedar_policy::Entities,
}

pub struct Cedar;

impl Engine for Cedar {
    type Loaded = CedarLoaded;
    type Prepared = Vec<cedar_policy::Request>;

    fn load() -> Result<CedarLoaded, String> {
        let policies =
            cedar_policy::PolicySet::from_str(CEDAR_POLICY).map_err(|e| e.to_string())?;
        let campaign = serde_json::json!([{
            "uid": { "type": "Campaign", "id": "peers-bench" },
            "attrs": { "purposes": CAMPAIGN_PURPOSES },
            "parents": [],
        }]);
        let entities =
            cedar_policy::Entities::from_json_value(campaign, None).map_err(|e| e.to_string())?;
        Ok(CedarLoaded {
            authorizer: cedar_policy::Authorizer::new(),
            policies,
            entities,
        })
    }

    fn prepare(_: &CedarLoaded, cases: &[Case]) -> Result<Vec<cedar_policy::Request>, String> {
        let uid = |text: &str| cedar_policy::EntityUid::from_str(text).map_err(|e| e.to_string());
        let action = uid(r#"Action::"send""#)?;
        let resource = uid(r#"Campaign::"peers-bench""#)?;
        cases
            .iter()
            .map(|c| {
                let names: Vec<&str> = c.attributes.iter().map(|(n, _)| *n).collect();
                let consents: Vec<&str> = c
                    .consents
                    .iter()
                    .filter(|x| x.granted_at <= AT)
                    .map(|x| x.purpose)
                    .collect();
                let withdrawn: Vec<&str> = c
                    .consents
                    .iter()
                    .filter(|x| x.withdrawn_at.is_some_and(|w| w <= AT))
                    .map(|x| x.purpose)
                    .collect();
                let context = serde_json::json!({
                    "targeting": names,
                    "consents": consents,
                    "withdrawn": withdrawn,
                    "email_sends_7d": c.email_sends_7d,
                });
                let context = cedar_policy::Context::from_json_value(context, None)
                    .map_err(|e| e.to_string())?;
                let principal = uid(&format!(r#"Recipient::"{}""#, c.id()))?;
                cedar_policy::Request::new(
                    principal,
                    action.clone(),
                    resource.clone(),
                    context,
                    None,
                )
                .map_err(|e| e.to_string())
            })
            .collect()
    }

    fn decide(l: &mut CedarLoaded, requests: &Vec<cedar_policy::Request>, i: usize) -> bool {
        cedar_decide(l, &requests[i])
    }
}

/// The one call into cedar-policy per decision.
#[inline]
pub fn cedar_decide(l: &CedarLoaded, request: &cedar_policy::Request) -> bool {
    let response = l
        .authorizer
        .is_authorized(request, &l.policies, &l.entities);
    response.decision() == cedar_policy::Decision::Allow
}

// ------------------------------------------------------------------ hand-written

/// A recipient in plain Rust structs.
pub struct HandRecipient {
    attributes: Vec<String>,
    /// (purpose, usable: granted and not withdrawn at the send time)
    consents: Vec<(String, bool)>,
    email_sends_7d: u32,
}

/// The three checks, written by hand.
#[inline]
pub fn hand_decide(r: &HandRecipient) -> bool {
    let sensitive = r.attributes.iter().any(|a| SENSITIVE.contains(&a.as_str()));
    let consent = CAMPAIGN_PURPOSES
        .iter()
        .all(|p| r.consents.iter().any(|(q, usable)| q == p && *usable));
    let cap = r.email_sends_7d < 3;
    !sensitive && consent && cap
}

pub struct Hand;

impl Engine for Hand {
    type Loaded = ();
    type Prepared = Vec<HandRecipient>;

    fn load() -> Result<(), String> {
        Ok(())
    }

    fn prepare(_: &(), cases: &[Case]) -> Result<Vec<HandRecipient>, String> {
        Ok(cases
            .iter()
            .map(|c| HandRecipient {
                attributes: c.attributes.iter().map(|(n, _)| n.to_string()).collect(),
                consents: c
                    .consents
                    .iter()
                    .map(|x| {
                        (
                            x.purpose.to_string(),
                            x.granted_at <= AT && x.withdrawn_at.is_none_or(|w| w > AT),
                        )
                    })
                    .collect(),
                email_sends_7d: c.email_sends_7d,
            })
            .collect())
    }

    fn decide(_: &mut (), recipients: &Vec<HandRecipient>, i: usize) -> bool {
        hand_decide(&recipients[i])
    }
}

/// scruple's record line, as a hand-written program would read it: borrowed
/// strings, the attribute names only, consents as (purpose, times).
#[derive(Deserialize)]
struct HandLine<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "consent_list")]
    consents: Vec<(Cow<'a, str>, HandConsent<'a>)>,
    #[serde(borrow, default, deserialize_with = "key_list")]
    attributes: Vec<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct HandConsent<'a> {
    #[serde(borrow, default)]
    granted_at: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    withdrawn_at: Option<Cow<'a, str>>,
    #[serde(default, rename = "source")]
    _source: IgnoredAny,
}

fn consent_list<'de, D: de::Deserializer<'de>>(
    d: D,
) -> Result<Vec<(Cow<'de, str>, HandConsent<'de>)>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<(Cow<'de, str>, HandConsent<'de>)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map of consents")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(entry) = map.next_entry()? {
                out.push(entry);
            }
            Ok(out)
        }
    }
    d.deserialize_map(V)
}

fn key_list<'de, D: de::Deserializer<'de>>(d: D) -> Result<Vec<Cow<'de, str>>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<Cow<'de, str>>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map of attributes")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(key) = map.next_key()? {
                map.next_value::<IgnoredAny>()?;
                out.push(key);
            }
            Ok(out)
        }
    }
    d.deserialize_map(V)
}

pub struct HandJsonlPrepared {
    lines: &'static [String],
    /// Email sends in the last 7 days, by recipient number (the history).
    sends: Vec<u32>,
    /// The send time as the generator writes times (RFC 3339, UTC, `Z`), so
    /// times compare as strings.
    at: String,
}

/// The three checks on a line parsed with serde_json.
#[inline]
pub fn hand_decide_line(p: &HandJsonlPrepared, line: &str) -> bool {
    let r: HandLine<'_> = serde_json::from_str(line).unwrap_or_else(|e| panic!("hand: {e}"));
    let at = p.at.as_str();
    let sensitive = r.attributes.iter().any(|a| SENSITIVE.contains(&a.as_ref()));
    let consent = CAMPAIGN_PURPOSES.iter().all(|purpose| {
        r.consents.iter().any(|(q, c)| {
            q == purpose
                && c.granted_at.as_deref().is_some_and(|g| g <= at)
                && c.withdrawn_at.as_deref().is_none_or(|w| w > at)
        })
    });
    let sends = number_of(&r.id)
        .and_then(|n| p.sends.get(n).copied())
        .unwrap_or(u32::MAX);
    !sensitive && consent && sends < 3
}

pub struct HandJsonl;

impl Engine for HandJsonl {
    type Loaded = ();
    type Prepared = HandJsonlPrepared;

    fn load() -> Result<(), String> {
        Ok(())
    }

    fn prepare(_: &(), cases: &[Case]) -> Result<HandJsonlPrepared, String> {
        Ok(HandJsonlPrepared {
            lines: leaked_lines(cases),
            sends: cases.iter().map(|c| c.email_sends_7d).collect(),
            at: crate::gen::rfc3339(AT),
        })
    }

    fn decide(_: &mut (), p: &HandJsonlPrepared, i: usize) -> bool {
        hand_decide_line(p, &p.lines[i])
    }
}
