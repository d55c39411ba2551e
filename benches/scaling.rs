//! How the cost grows (issue 6): with the number of rules, the size of
//! sets, the number of recipients streamed through the gate and the number
//! of campaigns checked together. Every benchmark sweeps one size with
//! `args`; divan's throughput column (items/s) is flat when the cost is
//! linear in that size.
//!
//! Run with `cargo bench --bench scaling` (about 25 s after the build); one
//! sweep with e.g. `cargo bench --bench scaling -- set_`. The results and
//! their reading are in docs/performance.md, "How the cost grows".

mod support;

use std::io::{BufRead, Read};
use std::sync::Arc;

use divan::counter::ItemsCount;
use divan::Bencher;
use scruple::compile::load::MemoryTree;
use scruple::compile::{compile, Inputs, Policy};
use scruple::eval;
use scruple::gate::NoHistory;
use support::{
    campaigns, clean_campaign, generated_policy, options, plan, shipped_policy, stream_all,
};

fn main() {
    divan::main();
}

/// Sweeps of policy sizes (rules, set members).
const SIZES: [usize; 4] = [10, 100, 1_000, 10_000];

// ---------------------------------------------------------------- policies

/// Compiles policy files held in memory (no disk reads in the timings).
fn compile_memory(files: &[(&str, &str)]) -> Policy {
    let tree = Arc::new(MemoryTree {
        prefix: String::new(),
        files: files
            .iter()
            .map(|(name, text)| (name.to_string(), text.to_string()))
            .collect(),
    });
    let roots: Vec<String> = files.iter().map(|(name, _)| name.to_string()).collect();
    let mut inputs = Inputs::default();
    inputs.add_memory(&tree, &roots);
    match compile(inputs) {
        (Some(policy), _) => policy,
        (None, diags) => panic!("does not compile: {diags:?}"),
    }
}

/// One `forbid targeting on big` rule over a set of `n` attributes
/// (`a0`…), plus consent per purpose so the gate has something to allow.
/// With `proxies`, each member also has a declared proxy (`attribute pI
/// proxy_for aI`) and the rule says `including proxies`, so the forbidden
/// closure doubles to `2n` attributes.
fn set_policy(n: usize, proxies: bool) -> String {
    let mut text = String::with_capacity(n * 40 + 400);
    text.push_str("policy \"sets\" version \"1.0.0\"\n\n");
    text.push_str("purpose email_marketing \"Promotional email\"\n");
    text.push_str("set big \"A large set\" = [\n");
    for i in 0..n {
        text.push_str(&format!("  a{i},\n"));
    }
    text.push_str("]\n");
    // A name in a targeting set must be declared (or mean something to the
    // taxonomy), so each member is declared as an attribute.
    for i in 0..n {
        text.push_str(&format!("attribute a{i}\n"));
    }
    if proxies {
        for i in 0..n {
            text.push_str(&format!("attribute p{i} proxy_for a{i}\n"));
        }
    }
    text.push_str(&format!(
        "rule big_no_targeting {{\n  severity error\n  forbid targeting on big{}\n}}\n",
        if proxies { " including proxies" } else { "" }
    ));
    text.push_str("rule consent {\n  severity error\n  require consent for each purpose\n}\n");
    text
}

// -------------------------------------------------------------- recipients

/// An allowed recipient of spring-sale under the shipped packs (the record
/// of benches/gate.rs).
fn allowed_record(i: usize) -> String {
    format!(
        r#"{{"id":"r-{i}","jurisdiction":"EU-FR","timezone":"Europe/Paris","age":34,"consents":{{"email_marketing":{{"granted_at":"2026-06-01T09:00:00Z","source":"double_opt_in"}}}},"opt_outs":{{"unsubscribed":false}},"attributes":{{"purchase_count":3}}}}"#
    )
}

/// Half allowed, a quarter with consent withdrawn, a quarter unsubscribed.
fn mixed_record(i: usize) -> String {
    let withdrawn = if i.is_multiple_of(4) {
        r#","withdrawn_at":"2026-11-01T00:00:00Z""#
    } else {
        ""
    };
    let unsubscribed = i % 4 == 1;
    format!(
        r#"{{"id":"r-{i}","jurisdiction":"EU-FR","timezone":"Europe/Paris","age":34,"consents":{{"email_marketing":{{"granted_at":"2026-06-01T09:00:00Z","source":"double_opt_in"{withdrawn}}}}},"opt_outs":{{"unsubscribed":{unsubscribed}}},"attributes":{{"purchase_count":3}}}}"#
    )
}

/// For the set policy: odd records are targeted on a member of the set
/// (suppressed, with a reason naming it), even ones on `purchase_count`.
fn set_record(i: usize, set_size: usize) -> String {
    let attribute = if i % 2 == 1 {
        format!("a{}", (i * 7_919) % set_size)
    } else {
        "purchase_count".to_string()
    };
    format!(
        r#"{{"id":"r-{i}","jurisdiction":"EU-FR","timezone":"Europe/Paris","age":34,"consents":{{"email_marketing":{{"granted_at":"2026-06-01T09:00:00Z"}}}},"attributes":{{"{attribute}":3}}}}"#
    )
}

/// `n` records as JSON Lines, record `i` from `record(i)`.
fn block(n: usize, record: impl Fn(usize) -> String) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * 256);
    for i in 0..n {
        out.extend_from_slice(record(i).as_bytes());
        out.push(b'\n');
    }
    out
}

/// A `BufRead` that yields `block` `times` times: a stream of any length in
/// constant memory (the gate reads records; it never sees the repetition).
struct Repeat<'b> {
    block: &'b [u8],
    pos: usize,
    times: usize,
}

impl<'b> Repeat<'b> {
    fn new(block: &'b [u8], times: usize) -> Self {
        Repeat {
            block,
            pos: 0,
            times,
        }
    }
}

impl Read for Repeat<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Repeat<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.times == 0 {
            return Ok(&[]);
        }
        Ok(&self.block[self.pos..])
    }

    fn consume(&mut self, amount: usize) {
        self.pos += amount;
        if self.pos >= self.block.len() {
            self.pos = 0;
            self.times = self.times.saturating_sub(1);
        }
    }
}

// ----------------------------------------------------------------- helpers

/// Times parsing and compiling `text` from memory as the file `name`;
/// `n` items (rules or set members) per iteration.
fn bench_compile(bencher: Bencher, n: usize, name: &str, text: &str) {
    bencher
        .counter(ItemsCount::new(n))
        .bench(|| compile_memory(&[(name, text)]).rules.len());
}

/// Times checking spring-sale against `policy`; `n` items per iteration.
fn bench_check(bencher: Bencher, n: usize, policy: &Policy) {
    let campaign = clean_campaign();
    bencher.counter(ItemsCount::new(n)).bench(|| {
        eval::check(policy, divan::black_box(&campaign), options())
            .findings
            .len()
    });
}

/// Times building spring-sale's gate plan under `policy`; `n` items per
/// iteration.
fn bench_gate_plan(bencher: Bencher, n: usize, policy: &Policy) {
    let campaign = clean_campaign();
    bencher
        .counter(ItemsCount::new(n))
        .bench(|| plan(policy, divan::black_box(&campaign)).channels.len());
}

/// `set_policy(n, proxies)`, compiled.
fn compiled_set_policy(n: usize, proxies: bool) -> Policy {
    compile_memory(&[("sets.scruple", &set_policy(n, proxies))])
}

/// Times streaming `n` recipients through spring-sale's plan under the
/// shipped packs: a 1,000-record `block` of `record`, which must decide
/// as `per_block` (allowed, suppressed), repeated `n / 1,000` times.
fn bench_recipients(
    bencher: Bencher,
    n: usize,
    record: impl Fn(usize) -> String,
    per_block: (u64, u64),
) {
    let policy = shipped_policy();
    let plan = plan(&policy, &clean_campaign());
    let input = block(1_000, record);
    assert_eq!(
        stream_all(&plan, Repeat::new(&input, 1), &NoHistory),
        per_block
    );
    bencher
        .counter(ItemsCount::new(n))
        .bench(|| stream_all(&plan, Repeat::new(&input, n / 1_000), &NoHistory));
}

// ------------------------------------------------------------------- rules

/// Parse and compile a generated policy of `n` rules (and `n` sets).
#[divan::bench(args = SIZES, sample_count = 20, max_time = 4)]
fn rules_compile(bencher: Bencher, n: usize) {
    bench_compile(bencher, n, "large.scruple", &generated_policy(n));
}

/// Check one campaign (spring-sale) against a generated policy of `n` rules;
/// every rule applies and passes.
#[divan::bench(args = SIZES, sample_count = 30, max_time = 3)]
fn rules_check_one_campaign(bencher: Bencher, n: usize) {
    let policy = compile_memory(&[("large.scruple", &generated_policy(n))]);
    let findings = eval::check(&policy, &clean_campaign(), options())
        .findings
        .len();
    assert_eq!(findings, 0, "spring-sale breaks the generated policy");
    bench_check(bencher, n, &policy);
}

// -------------------------------------------------------------------- sets

/// Parse and compile one `forbid targeting on big` rule over `n` members.
#[divan::bench(args = SIZES, sample_count = 30, max_time = 3)]
fn set_compile(bencher: Bencher, n: usize) {
    bench_compile(bencher, n, "sets.scruple", &set_policy(n, false));
}

/// Check spring-sale (which targets on none of the members) against it.
#[divan::bench(args = SIZES, sample_count = 30, max_time = 3)]
fn set_check(bencher: Bencher, n: usize) {
    bench_check(bencher, n, &compiled_set_policy(n, false));
}

/// Build the gate plan: the check, the forbidden closure, interning the
/// members.
#[divan::bench(args = SIZES, sample_count = 30, max_time = 3)]
fn set_gate_plan(bencher: Bencher, n: usize) {
    bench_gate_plan(bencher, n, &compiled_set_policy(n, false));
}

/// Stream 10,000 recipients, half of them targeted on a member of the set
/// (suppressed with a reason), through the plan of that policy.
#[divan::bench(args = SIZES, sample_count = 20, max_time = 3)]
fn set_gate_stream_10k(bencher: Bencher, n: usize) {
    let policy = compiled_set_policy(n, false);
    let plan = plan(&policy, &clean_campaign());
    let input = block(10_000, |i| set_record(i, n));
    assert_eq!(
        stream_all(&plan, input.as_slice(), &NoHistory),
        (5_000, 5_000)
    );
    bencher
        .counter(ItemsCount::new(10_000usize))
        .bench(|| stream_all(&plan, input.as_slice(), &NoHistory));
}

/// As `set_compile`, with a declared proxy per member (`2n` declarations).
#[divan::bench(args = SIZES, sample_count = 20, max_time = 3)]
fn set_with_proxies_compile(bencher: Bencher, n: usize) {
    bench_compile(bencher, n, "sets.scruple", &set_policy(n, true));
}

/// As `set_check`, the rule `including proxies`.
#[divan::bench(args = SIZES, sample_count = 20, max_time = 3)]
fn set_with_proxies_check(bencher: Bencher, n: usize) {
    bench_check(bencher, n, &compiled_set_policy(n, true));
}

/// As `set_gate_plan`, the rule `including proxies` (closure of `2n`).
#[divan::bench(args = SIZES, sample_count = 10, max_time = 3)]
fn set_with_proxies_gate_plan(bencher: Bencher, n: usize) {
    bench_gate_plan(bencher, n, &compiled_set_policy(n, true));
}

// -------------------------------------------------------------- recipients

/// Stream `n` JSON Lines records, all allowed, through the plan of
/// spring-sale under every shipped pack; decisions written to a sink. The
/// input is a 1,000-record block repeated (constant memory).
#[divan::bench(args = [1_000, 10_000, 100_000, 1_000_000], sample_count = 20, max_time = 4)]
fn recipients_stream_allowed(bencher: Bencher, n: usize) {
    bench_recipients(bencher, n, allowed_record, (1_000, 0));
}

/// The same with half of the recipients suppressed (withdrawn consent or
/// unsubscribed), so reasons and citations are written.
#[divan::bench(args = [1_000, 10_000, 100_000, 1_000_000], sample_count = 20, max_time = 4)]
fn recipients_stream_mixed(bencher: Bencher, n: usize) {
    bench_recipients(bencher, n, mixed_record, (500, 500));
}

// --------------------------------------------------------------- campaigns

/// Check `n` campaigns together (one calendar) against every shipped pack.
#[divan::bench(args = [1, 10, 100, 1_000], sample_count = 20, max_time = 3)]
fn campaigns_check_all(bencher: Bencher, n: usize) {
    let policy = shipped_policy();
    let all = campaigns(n);
    bencher
        .counter(ItemsCount::new(n))
        .bench(|| eval::check_all(&policy, divan::black_box(&all), options()).len());
}
