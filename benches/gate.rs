//! The pre-send gate: deciding one recipient with the history in memory,
//! streaming JSON Lines through the gate, and the same against an SQLite
//! send ledger of 1,000,000 sends (200,000 recipients, 5 email sends each
//! over the last 30 days), including one frequency-cap lookup on its own.

mod support;

use std::collections::HashMap;
use std::io::BufReader;

use divan::Bencher;
use scruple::gate::recipient::from_json;
use scruple::gate::{History, NoHistory};
use scruple::ledger::rows::Send;
use scruple::ledger::{Ledger, SendSlot};
use support::{at, clean_campaign, plan, shipped_policy, stream_all, AT};

fn main() {
    divan::main();
}

const LEDGER_RECIPIENTS: u64 = 200_000;
const SENDS_EACH: u64 = 5;

fn record(id: u64) -> String {
    format!(
        r#"{{"id":"r-{id}","jurisdiction":"EU-FR","timezone":"Europe/Paris","age":34,"consents":{{"email_marketing":{{"granted_at":"2026-06-01T09:00:00Z","source":"double_opt_in"}}}},"opt_outs":{{"unsubscribed":false}}}}"#
    )
}

/// `n` records of recipients spread over the ledger's ids.
fn jsonl(n: u64) -> Vec<u8> {
    (0..n)
        .flat_map(|i| (record(i * 7_919 % LEDGER_RECIPIENTS) + "\n").into_bytes())
        .collect()
}

/// History in a hash map: sends per (recipient, channel), as timestamps.
struct MemoryHistory(HashMap<(String, String), Vec<i64>>);

impl History for MemoryHistory {
    fn sends_between(
        &self,
        recipient: &str,
        channel: &str,
        after: i64,
        before: i64,
        out: &mut Vec<i64>,
    ) -> Result<(), String> {
        let key = (recipient.to_string(), channel.to_string());
        if let Some(times) = self.0.get(&key) {
            out.extend(times.iter().filter(|t| after < **t && **t < before));
        }
        Ok(())
    }
}

/// The `i`-th send of the ledger: recipient `r-{i / 5}`, one send every 6
/// days back from `AT`, each from its own campaign.
fn send(i: u64) -> Send {
    let recipient = i / SENDS_EACH;
    let age = (i % SENDS_EACH) as i64;
    let sent_at = AT - 86_400 - age * 6 * 86_400;
    Send {
        campaign: format!("past-{age}"),
        slot: sent_at,
        recipient: format!("r-{recipient}"),
        channel: "email".into(),
        sent_at,
        counts: true,
    }
}

fn ledger() -> Ledger {
    let ledger = Ledger::in_memory().unwrap_or_else(|e| panic!("{e}"));
    let rows = (0..LEDGER_RECIPIENTS * SENDS_EACH).map(|i| Ok::<_, String>(send(i)));
    match ledger.import(rows) {
        Ok(Ok(_)) => ledger,
        other => panic!("{other:?}"),
    }
}

fn slot() -> SendSlot {
    SendSlot {
        campaign: "spring-sale-2026".into(),
        slot: AT,
    }
}

#[divan::bench]
fn decide_one_in_memory(bencher: Bencher) {
    let policy = shipped_policy();
    let plan = plan(&policy, &clean_campaign());
    let mut map = HashMap::new();
    map.insert(
        ("r-1".to_string(), "email".to_string()),
        vec![AT - 86_400, AT - 2 * 86_400],
    );
    let history = MemoryHistory(map);
    let line = record(1);
    bencher.bench(|| {
        let recipient = from_json(divan::black_box(&line)).unwrap_or_else(|e| panic!("{e}"));
        plan.decide(&recipient, at(), &history).is_ok()
    });
}

/// 10,000 JSON Lines records, no history (throughput: divide by 10,000).
#[divan::bench(sample_count = 20)]
fn stream_10k_jsonl_no_history(bencher: Bencher) {
    let policy = shipped_policy();
    let plan = plan(&policy, &clean_campaign());
    let input = jsonl(10_000);
    bencher
        .counter(divan::counter::ItemsCount::new(10_000usize))
        .bench(|| stream_all(&plan, BufReader::new(input.as_slice()), &NoHistory));
}

/// 10,000 JSON Lines records, caps counted in the 1M-send ledger.
#[divan::bench(sample_count = 20)]
fn stream_10k_jsonl_sqlite_ledger(bencher: Bencher) {
    let policy = shipped_policy();
    let plan = plan(&policy, &clean_campaign());
    let input = jsonl(10_000);
    let ledger = ledger();
    let history = ledger.history(&slot()).unwrap_or_else(|e| panic!("{e}"));
    bencher
        .counter(divan::counter::ItemsCount::new(10_000usize))
        .bench_local(|| stream_all(&plan, BufReader::new(input.as_slice()), &history));
}

/// One cap lookup (`busiest_window`) in the 1M-send ledger (a
/// covering-index range).
#[divan::bench]
fn busiest_window_sqlite_1m_rows(bencher: Bencher) {
    let ledger = ledger();
    let history = ledger.history(&slot()).unwrap_or_else(|e| panic!("{e}"));
    let ids: Vec<String> = (0..1_024u64)
        .map(|i| format!("r-{}", i * 7_919 % LEDGER_RECIPIENTS))
        .collect();
    let mut next = 0usize;
    bencher.bench_local(|| {
        next = (next + 1) % ids.len();
        history.busiest_window(&ids[next], "email", AT, 7 * 86_400)
    });
}

/// Recording 10,000 allowed recipients: ten chunk transactions of 1,000
/// (lock, read the cap history, write the sends) into the 1M-send ledger
/// (a new slot each time, so every row is new).
#[divan::bench(sample_count = 10)]
fn record_10k_sends_sqlite_ledger(bencher: Bencher) {
    use scruple::ledger::backend::{Backend, Chunk, Mode, CHUNK};
    let mut ledger = ledger();
    let ids: Vec<String> = (0..10_000u64).map(|i| format!("r-{i}")).collect();
    let channels = vec!["email".to_string()];
    let mut slot = AT;
    bencher.bench_local(|| {
        slot += 1;
        let send = SendSlot {
            campaign: "bench".into(),
            slot,
        };
        for part in ids.chunks(CHUNK) {
            let refs: Vec<&str> = part.iter().map(String::as_str).collect();
            let chunk = Chunk {
                send: &send,
                recipients: &refs,
                counted: &channels,
                window: 7 * 86_400,
                channels: &channels,
                counts: true,
                mode: Mode::Record,
                now: AT,
            };
            ledger
                .decide_chunk(&chunk, &mut |_| (0..refs.len()).collect())
                .unwrap_or_else(|e| panic!("{e}"));
        }
    });
}

/// Email sends per recipient, looked up by `&str` without allocating.
struct EmailHistory(HashMap<String, Vec<i64>>);

impl History for EmailHistory {
    fn sends_between(
        &self,
        recipient: &str,
        channel: &str,
        after: i64,
        before: i64,
        out: &mut Vec<i64>,
    ) -> Result<(), String> {
        if channel == "email" {
            if let Some(times) = self.0.get(recipient) {
                out.extend(times.iter().filter(|t| after < **t && **t < before));
            }
        }
        Ok(())
    }
}

/// 10,000 records, a deterministic mix of allowed and suppressed recipients
/// (withdrawn consent, minors, night-time zones, caps), with their history.
fn mixed(n: u64) -> (Vec<String>, EmailHistory) {
    let mut history = HashMap::new();
    let lines = (0..n)
        .map(|i| {
            let (zone, jurisdiction) = if i % 7 == 0 { ("America/Los_Angeles", "US-CA") } else { ("Europe/Paris", "EU-FR") };
            let age = if i % 11 == 0 { 15 } else { 34 };
            let withdrawn = if i % 13 == 0 { r#","withdrawn_at":"2026-11-01T00:00:00Z""# } else { "" };
            if i % 5 == 0 {
                history.insert(format!("r-{i}"), vec![AT - 86_400, AT - 2 * 86_400, AT - 3 * 86_400]);
            }
            format!(
                r#"{{"id":"r-{i}","jurisdiction":"{jurisdiction}","timezone":"{zone}","age":{age},"consents":{{"email_marketing":{{"granted_at":"2026-06-01T09:00:00Z"{withdrawn}}}}},"attributes":{{"purchase_count":3}}}}"#
            )
        })
        .collect();
    (lines, EmailHistory(history))
}

/// Parses benchmark lines, which are valid by construction.
fn parse_all(lines: &[String]) -> Vec<scruple::gate::recipient::Recipient<'_>> {
    lines
        .iter()
        .map(|l| from_json(l).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

/// Decisions on prebuilt (prepared) recipients: the flat plan alone.
#[divan::bench(sample_count = 50)]
fn decide_prepared_10k(bencher: Bencher) {
    let policy = shipped_policy();
    let plan = plan(&policy, &clean_campaign());
    let (lines, history) = mixed(10_000);
    let parsed = parse_all(&lines);
    let prepared: Vec<_> = parsed
        .iter()
        .map(|r| plan.prepare(r).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    let moment = plan.moment(at());
    bencher
        .counter(divan::counter::ItemsCount::new(prepared.len()))
        .bench(|| {
            let mut suppressed = 0u32;
            for p in &prepared {
                if plan.decide_prepared(p, &moment, &history).unwrap_or(1) != 0 {
                    suppressed += 1;
                }
            }
            suppressed
        });
}

/// Decisions from parsed records: prepare (times, zone, interning) + decide
/// + reasons for the suppressed ones.
#[divan::bench(sample_count = 20)]
fn prepare_and_decide_10k(bencher: Bencher) {
    let policy = shipped_policy();
    let plan = plan(&policy, &clean_campaign());
    let (lines, history) = mixed(10_000);
    let parsed = parse_all(&lines);
    let moment = plan.moment(at());
    bencher
        .counter(divan::counter::ItemsCount::new(parsed.len()))
        .bench(|| {
            parsed
                .iter()
                .filter(|r| {
                    plan.decide_at(r, &moment, &history)
                        .is_ok_and(|d| d != scruple::gate::Decision::Allow)
                })
                .count()
        });
}

/// The whole stream: JSON Lines in (mixed), decisions as JSON Lines out.
#[divan::bench(sample_count = 20)]
fn stream_10k_jsonl_mixed(bencher: Bencher) {
    let policy = shipped_policy();
    let plan = plan(&policy, &clean_campaign());
    let (lines, history) = mixed(10_000);
    let input: Vec<u8> = lines
        .iter()
        .flat_map(|l| (l.clone() + "\n").into_bytes())
        .collect();
    bencher
        .counter(divan::counter::ItemsCount::new(10_000usize))
        .bench(|| stream_all(&plan, BufReader::new(input.as_slice()), &history));
}

/// A typical TC string (issue 13): 100 vendors spread over ids up to 1,200
/// (bitfield sections), purposes 1-11, the DisclosedVendors segment; encoded
/// by `@iabtechlabtcf/core`.
const TYPICAL_TC_STRING: &str = "CQraFkAQraFkAAKABBFRCWEoAP_gAEPgAAqIJWoAAAACIEAAAAggiQQEAAAAAAIAAAAEIAAAAgAACgKgQAEAECAAggAAAABBCIwABAAAAAgABAAiAABgAgQAAIAACAAAiYCAAAIAAEAAQAAIQACAABAAAgACESIgADAAkAAAAAgACgICAAAAAGAAAAlAAAAEESAAIABAQBACAEIgIABAQYAACAAAAIAgCAAAAAAAAAACBCCVsDkAEIAJQAWABHACaAFMAK4AWgA0ACwAFqAOkAeIA9QB-AEdgLOAtABeADLgGogOYA5oB4AD5gIrASoAnwBRYCngFYgLBAWMAs0BaIC5gF5gMXAZOAymBrgGugN3Ab0A3wB2oDxAHmAPWAfYA_ECBgEFAINAQvAiWBFUCUIEqAJWgAAA.IJWoAAAACIEAAAAggiQQEAAAAAAIAAAAEIAAAAgAACgKgQAEAECAAggAAAABBCIwABAAAAAgABAAiAABgAgQAAIAACAAAiYCAAAIAAEAAQAAIQACAABAAAgACESIgADAAkAAAAAgACgICAAAAAGAAAAlAAAAEESAAIABAQBACAEIgIABAQYAACAAAAIAgCAAAAAAAAAACBCA";

/// Decoding one TC string, every time (no cache).
#[divan::bench]
fn tcf_decode_typical_string(bencher: Bencher) {
    bencher.bench(|| scruple::signals::decode_tc_string(divan::black_box(TYPICAL_TC_STRING)));
}

/// The gate's per-record cost for a string already seen (cache hit).
#[divan::bench]
fn tcf_facts_cached(bencher: Bencher) {
    bencher.bench(|| {
        scruple::signals::TcfFacts::decode_cached(divan::black_box(TYPICAL_TC_STRING), Some(755))
    });
}
