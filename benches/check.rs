//! Checking campaigns against every shipped pack: one campaign, and a
//! calendar of 1,000 campaigns (the example campaigns with distinct ids and
//! segments, so frequency caps compare every pair but count none together).

use scruple::compile::{compile, Inputs, Policy};
use scruple::eval::{self, Options};
use scruple::source::SourceFile;

fn main() {
    divan::main();
}

fn policy() -> Policy {
    let mut inputs = Inputs::default();
    inputs.add_builtin(&[]);
    match compile(inputs) {
        (Some(policy), _) => policy,
        (None, diags) => panic!("shipped packs do not compile: {diags:?}"),
    }
}

fn options() -> Options {
    Options {
        now: "2026-11-23T12:00:00Z"
            .parse()
            .unwrap_or_else(|_| jiff::Timestamp::now()),
    }
}

const CLEAN: &str = include_str!("../examples/campaigns/spring-sale.yaml");
const VIOLATING: &str = include_str!("../examples/campaigns/baby-club.yaml");

fn campaigns(n: usize) -> Vec<scruple::campaign::Campaign> {
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
            let source = SourceFile::new(format!("c{i}.yaml"), text);
            scruple::campaign::load(&source).unwrap_or_else(|d| panic!("{d:?}"))
        })
        .collect()
}

#[divan::bench]
fn load_one_campaign(bencher: divan::Bencher) {
    let source = SourceFile::new("spring-sale.yaml", CLEAN);
    bencher.bench(|| scruple::campaign::load(divan::black_box(&source)).is_ok());
}

#[divan::bench]
fn check_one_clean_campaign(bencher: divan::Bencher) {
    let policy = policy();
    let campaign = &campaigns(1)[0];
    bencher.bench(|| {
        eval::check(&policy, divan::black_box(campaign), options())
            .findings
            .len()
    });
}

#[divan::bench]
fn check_one_violating_campaign(bencher: divan::Bencher) {
    let policy = policy();
    let all = campaigns(2);
    bencher.bench(|| {
        eval::check(&policy, divan::black_box(&all[1]), options())
            .findings
            .len()
    });
}

#[divan::bench(sample_count = 10)]
fn check_1000_campaigns(bencher: divan::Bencher) {
    let policy = policy();
    let all = campaigns(1000);
    bencher.bench(|| eval::check_all(&policy, divan::black_box(&all), options()).len());
}
