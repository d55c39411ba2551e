//! Checking campaigns against every shipped pack: one campaign, and a
//! calendar of 1,000 campaigns (the example campaigns with distinct ids and
//! segments, so frequency caps compare every pair but count none together).

mod support;

use scruple::eval::{self, Options};
use scruple::source::SourceFile;
use support::{campaigns, shipped_policy, CLEAN};

fn main() {
    divan::main();
}

/// Checks run at noon UTC on 2026-11-23.
fn options() -> Options {
    Options {
        now: "2026-11-23T12:00:00Z"
            .parse()
            .unwrap_or_else(|_| jiff::Timestamp::now()),
    }
}

#[divan::bench]
fn load_one_campaign(bencher: divan::Bencher) {
    let source = SourceFile::new("spring-sale.yaml", CLEAN);
    bencher.bench(|| scruple::campaign::load(divan::black_box(&source)).is_ok());
}

#[divan::bench]
fn check_one_clean_campaign(bencher: divan::Bencher) {
    let policy = shipped_policy();
    let campaign = &campaigns(1)[0];
    bencher.bench(|| {
        eval::check(&policy, divan::black_box(campaign), options())
            .findings
            .len()
    });
}

#[divan::bench]
fn check_one_violating_campaign(bencher: divan::Bencher) {
    let policy = shipped_policy();
    let all = campaigns(2);
    bencher.bench(|| {
        eval::check(&policy, divan::black_box(&all[1]), options())
            .findings
            .len()
    });
}

#[divan::bench(sample_count = 10)]
fn check_1000_campaigns(bencher: divan::Bencher) {
    let policy = shipped_policy();
    let all = campaigns(1000);
    bencher.bench(|| eval::check_all(&policy, divan::black_box(&all), options()).len());
}
