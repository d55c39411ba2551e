//! Classification speed: it runs once per targeting input of every campaign
//! checked, so it must stay in the low microseconds.
//!
//! Run with `cargo bench --bench taxonomy`.

use divan::counter::ItemsCount;
use divan::{black_box, Bencher};
use scruple::taxonomy::{classify, Kind};

fn main() {
    // Build the vocabulary index outside the measured loops; its one-off cost
    // is measured by `index_build` below.
    let _ = classify("warm up", Kind::Value);
    divan::main();
}

const NAMES: &[&str] = &[
    "chronic_conditions",
    "household.children_count",
    "account_age_days",
    "email_marketing_consent",
    "context.location.latitude",
    "Staatsangehoerigkeit",
    "date_de_naissance",
    "lastOrderTotal",
];

const VALUES: &[&str] = &[
    "copd",
    "sign_language",
    "arabic-language news",
    "Running and Jogging",
    "Women's Outerwear",
    "Lungenkrebs",
    "25-34",
    "enfermedad crónica",
];

const URLS: &[&str] = &[
    "https://www.cancer.org/cancer/types/lung-cancer.html",
    "https://www.aa.org/find-aa-meeting",
    "https://www.shop.example/collections/running-shoes?utm_source=news",
    "https://www.chefkoch.de/rezepte/",
];

const AUDIENCES: &[&str] = &[
    "Debt-stressed renters",
    "Cart abandoners last 30 days",
    "Junge Eltern",
];

fn run(bencher: Bencher, items: &[&str], kind: Kind) {
    bencher.counter(ItemsCount::new(items.len())).bench(|| {
        for text in items {
            black_box(classify(black_box(text), kind));
        }
    });
}

/// Attribute names, ns per name.
#[divan::bench]
fn attribute_names(bencher: Bencher) {
    run(bencher, NAMES, Kind::AttributeName);
}

/// Filter values and interests, ns per value.
#[divan::bench]
fn values(bencher: Bencher) {
    run(bencher, VALUES, Kind::Value);
}

/// Page URLs, ns per URL.
#[divan::bench]
fn urls(bencher: Bencher) {
    run(bencher, URLS, Kind::Url);
}

/// Audience names, ns per name.
#[divan::bench]
fn audience_names(bencher: Bencher) {
    run(bencher, AUDIENCES, Kind::AudienceName);
}

/// A 1 KiB value: the bound on input length keeps it flat.
#[divan::bench]
fn long_value(bencher: Bencher) {
    let long = "asthma inhaler refill ".repeat(200);
    bencher.bench(|| black_box(classify(black_box(&long), Kind::Value)));
}

/// Parsing the vocabulary into its index, paid once per process.
#[divan::bench(sample_count = 20)]
fn index_build() {
    black_box(scruple::taxonomy::vocab::parse(
        scruple::taxonomy::vocab::VOCABULARY,
    ));
}
