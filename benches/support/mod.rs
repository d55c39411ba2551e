//! Helpers shared by the benchmarks (`mod support;` in each). Cargo does not
//! take this directory for a benchmark of its own: only `benches/*.rs` and
//! `benches/*/main.rs` are.

// Each benchmark is its own crate and uses only some of these helpers.
#![allow(dead_code)]

use std::io::BufRead;
use std::sync::Arc;

use scruple::campaign::Campaign;
use scruple::compile::{compile, Inputs, Policy};
use scruple::eval::Options;
use scruple::gate::stream::{self, InputFormat, JsonLinesSink, OnBadRecord, RunOptions};
use scruple::gate::{GatePlan, History};
use scruple::source::SourceFile;

/// spring-sale: passes every shipped pack.
pub const CLEAN: &str = include_str!("../../examples/campaigns/spring-sale.yaml");
/// baby-club: 14 findings under the shipped packs.
pub const VIOLATING: &str = include_str!("../../examples/campaigns/baby-club.yaml");
/// Mon 2026-11-23 10:00 UTC, 11:00 in Paris (outside quiet hours).
pub const AT: i64 = 1_795_428_000;

/// [`AT`] as a timestamp: the planned send time of the gate benchmarks.
pub fn at() -> jiff::Timestamp {
    jiff::Timestamp::from_second(AT).unwrap_or_else(|e| panic!("{e}"))
}

/// Evaluation options at [`AT`].
pub fn options() -> Options {
    Options { now: at() }
}

// ---------------------------------------------------------------- policies

/// Every shipped pack, compiled from the texts embedded in the library.
pub fn shipped_policy() -> Policy {
    let mut inputs = Inputs::default();
    inputs.add_builtin(&[]);
    match compile(inputs) {
        (Some(policy), _) => policy,
        (None, diags) => panic!("shipped packs do not compile: {diags:?}"),
    }
}

/// `n` sets and `n` rules of every statement kind (as in tests/stress.rs):
/// set references chain in groups of ten and `requires` in groups of five,
/// so nothing grows quadratically in the policy itself.
pub fn generated_policy(n: usize) -> String {
    let mut text = String::with_capacity(n * 400);
    text.push_str("policy \"large\" version \"1.0.0\"\n\n");
    for i in 0..n {
        text.push_str(&format!(
            "set s{i} \"Set number {i}\" = [field_{i}_a, field_{i}_b, EU-X{i}]"
        ));
        if i % 10 != 0 {
            text.push_str(&format!(" + s{}", i - 1));
        }
        text.push('\n');
    }
    for i in 0..n {
        text.push_str(&format!(
            "rule r{i} {{\n  severity warning\n  cite \"Art. {i}\"\n  tags stress, group-{}\n",
            i % 7
        ));
        text.push_str(&format!(
            "  when channel in [email, sms] and not (x.y{i} is present or x.z > {i})\n"
        ));
        if i % 5 != 0 {
            text.push_str(&format!("  requires r{}\n", i - 1));
        }
        text.push_str(&format!(
            "  forbid fields s{i}\n  message \"Rule {i} found {{field}} at {{path}}.\"\n}}\n"
        ));
    }
    text
}

// --------------------------------------------------------------- campaigns

/// Loads a campaign that must load (YAML, validation, schedule expansion).
pub fn load_campaign(name: impl Into<String>, text: impl Into<Arc<str>>) -> Campaign {
    let source = SourceFile::new(name, text);
    scruple::campaign::load(&source).unwrap_or_else(|d| panic!("{d:?}"))
}

/// spring-sale, loaded.
pub fn clean_campaign() -> Campaign {
    load_campaign("spring-sale.yaml", CLEAN)
}

/// `n` campaigns: spring-sale and baby-club alternately, each with its own
/// id and segment, so no two share a frequency cap (every pair is compared,
/// no sends count together).
pub fn campaigns(n: usize) -> Vec<Campaign> {
    (0..n)
        .map(|i| {
            let base = if i % 2 == 0 { CLEAN } else { VIOLATING };
            let text = base
                .replace("id: spring-sale-2026", &format!("id: spring-sale-{i}"))
                .replace("id: baby-club-launch", &format!("id: baby-club-{i}"))
                .replace(
                    "name: returning_customers",
                    &format!("name: returning_customers_{i}"),
                )
                .replace(
                    "name: expecting_parents",
                    &format!("name: expecting_parents_{i}"),
                );
            load_campaign(format!("c{i}.yaml"), text)
        })
        .collect()
}

// -------------------------------------------------------------------- gate

/// The gate plan of `campaign` under `policy` at [`AT`]; the campaign must
/// pass the policy.
pub fn plan<'p>(policy: &'p Policy, campaign: &Campaign) -> GatePlan<'p> {
    GatePlan::new(policy, campaign, options()).unwrap_or_else(|r| panic!("{:?}", r.findings))
}

/// Streams JSON Lines `input` through `plan` at [`AT`], as `scruple gate`
/// does, with the decisions written as JSON Lines to a sink; returns
/// (allowed, suppressed). Every record must be readable.
pub fn stream_all(plan: &GatePlan<'_>, input: impl BufRead, history: &dyn History) -> (u64, u64) {
    let mut sink = JsonLinesSink::new(std::io::sink(), None::<std::io::Sink>);
    let options = RunOptions {
        at: at(),
        history,
        on_bad: OnBadRecord::Suppress,
        progress: None,
        ledger: None,
    };
    let summary = stream::run(
        plan,
        input,
        InputFormat::JsonLines,
        &mut sink,
        options,
        &mut |_| Ok(()),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.bad, 0, "bad records");
    (summary.allowed, summary.suppressed)
}
