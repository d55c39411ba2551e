//! scruple vs regorus vs cedar-policy vs hand-written Rust, on the same
//! generated recipient decisions. See README.md.
//!
//! Without `--engine`, the harness runs itself once per engine (a separate
//! process each, so peak memory does not mix), one after the other, then
//! checks that every engine made the same decision for every recipient and
//! prints the table and the ratios. With `--engine NAME` it runs that one
//! engine in this process.

mod engines;
mod gen;

use std::hint::black_box;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use engines::Engine;
use serde::{Deserialize, Serialize};

const USAGE: &str = "\
usage: scruple-peers [--engine NAME]... [--n N] [--seed S] [--min-seconds SECS]
                     [--json FILE] [--list]

  --engine NAME      run only this engine (repeatable; default: all). With a
                     single --engine the engine runs in this process.
  --n N              decisions per pass (default 100000)
  --seed S           generator seed (default 20261201)
  --min-seconds SECS minimum time of the throughput measurement (default 2)
  --json FILE        also write every result as JSON
  --list             list the engines";

struct Config {
    engines: Vec<String>,
    n: usize,
    seed: u64,
    min_seconds: f64,
    json: Option<String>,
    child: bool,
}

fn parse_args() -> Result<Option<Config>, String> {
    let mut config = Config {
        engines: Vec::new(),
        n: 100_000,
        seed: 20_261_201,
        min_seconds: 2.0,
        json: None,
        child: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--engine" => {
                let name = value("--engine")?;
                if !engines::ENGINES.iter().any(|(n, _)| *n == name) {
                    return Err(format!("unknown engine `{name}` (see --list)"));
                }
                config.engines.push(name);
            }
            "--n" => config.n = value("--n")?.parse().map_err(|e| format!("--n: {e}"))?,
            "--seed" => {
                config.seed = value("--seed")?
                    .parse()
                    .map_err(|e| format!("--seed: {e}"))?
            }
            "--min-seconds" => {
                config.min_seconds = value("--min-seconds")?
                    .parse()
                    .map_err(|e| format!("--min-seconds: {e}"))?
            }
            "--json" => config.json = Some(value("--json")?),
            "--child" => config.child = true,
            "--list" => {
                for (name, what) in engines::ENGINES {
                    println!("{name:<22} {what}");
                }
                return Ok(None);
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    if config.n == 0 {
        return Err("--n must be at least 1".into());
    }
    Ok(Some(config))
}

/// What one engine's run measured.
#[derive(Debug, Serialize, Deserialize)]
struct Outcome {
    engine: String,
    n: usize,
    seed: u64,
    /// One character per decision: `1` allow, `0` deny.
    decisions: String,
    allowed: usize,
    /// First policy load in the process, and the median of 20 more.
    load_first_ms: f64,
    load_median_ms: f64,
    /// Building the n recipients' inputs in the engine's form (not timed as decisions).
    prepare_ms: f64,
    /// Throughput: full passes over the n decisions after a warm-up pass.
    passes: usize,
    measured_s: f64,
    decisions_per_s: f64,
    best_pass_decisions_per_s: f64,
    /// Per-decision latency (each decision timed alone), timer overhead subtracted.
    p50_ns: f64,
    p99_ns: f64,
    p999_ns: f64,
    max_ns: f64,
    /// The same, raw.
    p50_raw_ns: f64,
    p99_raw_ns: f64,
    /// Median cost of the two clock reads around an empty body.
    timer_overhead_ns: f64,
    /// Latency as the mean of 100-decision batches: median and p99 of those.
    batch100_p50_ns: f64,
    batch100_p99_ns: f64,
    /// Memory, from /proc/self/status (kB).
    rss_after_generate_kb: u64,
    rss_after_load_kb: u64,
    rss_after_prepare_kb: u64,
    peak_rss_kb: u64,
}

/// `VmRSS` and `VmHWM` of this process, in kB.
fn proc_status(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim_start_matches(':')
                .trim()
                .strip_suffix("kB")
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

const LOAD_REPEATS: usize = 20;

/// Runs one engine in this process.
fn measure<E: Engine>(name: &str, config: &Config) -> Result<Outcome, String> {
    let n = config.n;
    let cases = gen::generate(n, config.seed);
    let rss_after_generate_kb = proc_status("VmRSS");

    let started = Instant::now();
    let mut loaded = E::load()?;
    let load_first = started.elapsed();
    let mut loads = Vec::with_capacity(LOAD_REPEATS);
    for _ in 0..LOAD_REPEATS {
        let started = Instant::now();
        let again = black_box(E::load()?);
        loads.push(ms(started.elapsed()));
        drop(again);
    }
    let load_median_ms = percentile(&sorted(loads), 50.0);
    let rss_after_load_kb = proc_status("VmRSS");

    let started = Instant::now();
    let prepared = E::prepare(&loaded, &cases)?;
    let prepare_ms = ms(started.elapsed());
    drop(cases);
    let rss_after_prepare_kb = proc_status("VmRSS");

    // Warm-up pass, which is also the pass whose decisions are compared.
    let decisions: Vec<bool> = (0..n)
        .map(|i| E::decide(&mut loaded, &prepared, i))
        .collect();
    let allowed = decisions.iter().filter(|d| **d).count();

    // Throughput: whole passes until `min_seconds` and at least 3 passes.
    let mut passes = 0usize;
    let mut measured = Duration::ZERO;
    let mut best = Duration::MAX;
    while passes < 3 || measured.as_secs_f64() < config.min_seconds {
        let started = Instant::now();
        let mut count = 0usize;
        for i in 0..n {
            count += usize::from(E::decide(&mut loaded, &prepared, black_box(i)));
        }
        let took = started.elapsed();
        if count != allowed {
            return Err(format!(
                "{name}: a later pass allowed {count}, the first {allowed}"
            ));
        }
        measured += took;
        best = best.min(took);
        passes += 1;
    }
    let decisions_per_s = (passes * n) as f64 / measured.as_secs_f64();
    let best_pass_decisions_per_s = n as f64 / best.as_secs_f64();

    // Timer overhead: two clock reads around nothing.
    let mut empty = Vec::with_capacity(100_000);
    for _ in 0..100_000 {
        let started = Instant::now();
        empty.push(started.elapsed().as_nanos() as f64);
    }
    let timer_overhead_ns = percentile(&sorted(empty), 50.0);

    // Latency: every decision timed alone.
    let mut each = Vec::with_capacity(n);
    for i in 0..n {
        let started = Instant::now();
        black_box(E::decide(&mut loaded, &prepared, black_box(i)));
        each.push(started.elapsed().as_nanos() as f64);
    }
    let raw = sorted(each);
    let net = |p: f64| (percentile(&raw, p) - timer_overhead_ns).max(0.0);

    // Latency, batch method: the mean of each run of 100 decisions.
    let mut batches = Vec::with_capacity(n / 100 + 1);
    for start in (0..n).step_by(100) {
        let end = (start + 100).min(n);
        let started = Instant::now();
        for i in start..end {
            black_box(E::decide(&mut loaded, &prepared, black_box(i)));
        }
        batches.push(started.elapsed().as_nanos() as f64 / (end - start) as f64);
    }
    let batches = sorted(batches);

    drop(prepared);
    drop(loaded);
    Ok(Outcome {
        engine: name.to_string(),
        n,
        seed: config.seed,
        decisions: decisions
            .iter()
            .map(|d| if *d { '1' } else { '0' })
            .collect(),
        allowed,
        load_first_ms: ms(load_first),
        load_median_ms,
        prepare_ms,
        passes,
        measured_s: measured.as_secs_f64(),
        decisions_per_s,
        best_pass_decisions_per_s,
        p50_ns: net(50.0),
        p99_ns: net(99.0),
        p999_ns: net(99.9),
        max_ns: net(100.0),
        p50_raw_ns: percentile(&raw, 50.0),
        p99_raw_ns: percentile(&raw, 99.0),
        timer_overhead_ns,
        batch100_p50_ns: percentile(&batches, 50.0),
        batch100_p99_ns: percentile(&batches, 99.0),
        rss_after_generate_kb,
        rss_after_load_kb,
        rss_after_prepare_kb,
        peak_rss_kb: proc_status("VmHWM"),
    })
}

fn run_in_process(name: &str, config: &Config) -> Result<Outcome, String> {
    use engines::scruple_engine::{Scruple, ScrupleJsonl, ScrupleJsonlVerdict, ScruplePrepared};
    use engines::{Cedar, Hand, HandJsonl, Regorus, RegorusRvm};
    match name {
        "scruple-prepared" => measure::<ScruplePrepared>(name, config),
        "scruple" => measure::<Scruple>(name, config),
        "scruple-jsonl" => measure::<ScrupleJsonl>(name, config),
        "scruple-jsonl-verdict" => measure::<ScrupleJsonlVerdict>(name, config),
        "regorus" => measure::<Regorus>(name, config),
        "regorus-rvm" => measure::<RegorusRvm>(name, config),
        "cedar" => measure::<Cedar>(name, config),
        "hand" => measure::<Hand>(name, config),
        "hand-jsonl" => measure::<HandJsonl>(name, config),
        other => Err(format!("unknown engine `{other}`")),
    }
}

/// Runs one engine in a fresh process of this same binary.
fn run_child(name: &str, config: &Config) -> Result<Outcome, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    eprintln!("running {name} ...");
    let output = Command::new(exe)
        .args(["--child", "--engine", name])
        .args([
            "--n",
            &config.n.to_string(),
            "--seed",
            &config.seed.to_string(),
        ])
        .args(["--min-seconds", &config.min_seconds.to_string()])
        .output()
        .map_err(|e| format!("{name}: cannot start: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{name} failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("{name}: bad result: {e}"))
}

/// Every engine against the generator's expected decision and against each
/// other. Returns the number of decisions in disagreement.
fn verify(outcomes: &[Outcome], config: &Config) -> usize {
    let cases = gen::generate(config.n, config.seed);
    let mut bad = 0usize;
    let mut shown = 0usize;
    for (i, case) in cases.iter().enumerate() {
        let expected = case.expect.allowed();
        let got: Vec<Option<bool>> = outcomes
            .iter()
            .map(|o| o.decisions.as_bytes().get(i).map(|b| *b == b'1'))
            .collect();
        if got.iter().all(|g| *g == Some(expected)) {
            continue;
        }
        bad += 1;
        if shown < 10 {
            shown += 1;
            eprintln!(
                "MISMATCH at decision {i} (recipient {}): expected {}",
                case.id(),
                case.expect.describe()
            );
            for (o, g) in outcomes.iter().zip(&got) {
                let g = match g {
                    Some(true) => "allow",
                    Some(false) => "deny",
                    None => "missing",
                };
                eprintln!("    {:<22} {g}", o.engine);
            }
            eprintln!("    record: {}", case.scruple_json_line());
            eprintln!("    email sends in 7 days: {}", case.email_sends_7d);
        }
    }
    bad
}

fn kb_to_mib(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn human_rate(r: f64) -> String {
    if r >= 1e6 {
        format!("{:.2} M", r / 1e6)
    } else {
        format!("{:.1} k", r / 1e3)
    }
}

fn human_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn report(outcomes: &[Outcome], config: &Config, mismatches: usize) {
    let allowed = outcomes.first().map_or(0, |o| o.allowed);
    println!();
    println!(
        "{} decisions per pass (seed {}), {} allowed / {} denied; one thread; regorus {}, cedar-policy {}",
        config.n,
        config.seed,
        allowed,
        config.n - allowed,
        engines::REGORUS_VERSION,
        engines::CEDAR_VERSION
    );
    println!();
    println!(
        "| {:<22} | {:>12} | {:>9} | {:>9} | {:>10} | {:>10} | {:>9} |",
        "engine", "decisions/s", "median", "p99", "load", "prepare", "peak RSS"
    );
    println!(
        "|{:-<18}|{:->14}|{:->11}|{:->11}|{:->12}|{:->12}|{:->11}|",
        ":", ":", ":", ":", ":", ":", ":"
    );
    for o in outcomes {
        println!(
            "| {:<22} | {:>12} | {:>9} | {:>9} | {:>10} | {:>7.0} ms | {:>5.0} MiB |",
            o.engine,
            human_rate(o.decisions_per_s),
            human_ns(o.p50_ns),
            human_ns(o.p99_ns),
            if o.engine.starts_with("hand") {
                "—".to_string()
            } else {
                format!("{:.3} ms", o.load_median_ms)
            },
            o.prepare_ms,
            kb_to_mib(o.peak_rss_kb),
        );
    }
    println!();
    println!("details:");
    for o in outcomes {
        println!(
            "  {:<22} {} passes in {:.2} s, best pass {}/s; latency p99.9 {}, max {}; \
             raw median {} / p99 {} (timer {}); 100-batch mean median {} / p99 {}; \
             load first {:.3} ms; RSS after generate {:.0} MiB, +load {:.1} MiB, +prepare {:.0} MiB",
            o.engine,
            o.passes,
            o.measured_s,
            human_rate(o.best_pass_decisions_per_s),
            human_ns(o.p999_ns),
            human_ns(o.max_ns),
            human_ns(o.p50_raw_ns),
            human_ns(o.p99_raw_ns),
            human_ns(o.timer_overhead_ns),
            human_ns(o.batch100_p50_ns),
            human_ns(o.batch100_p99_ns),
            o.load_first_ms,
            kb_to_mib(o.rss_after_generate_kb),
            kb_to_mib(o.rss_after_load_kb.saturating_sub(o.rss_after_generate_kb)),
            kb_to_mib(o.rss_after_prepare_kb.saturating_sub(o.rss_after_load_kb)),
        );
    }
    let rate = |name: &str| {
        outcomes
            .iter()
            .find(|o| o.engine == name)
            .map(|o| o.decisions_per_s)
    };
    let peers = ["regorus", "regorus-rvm", "cedar", "hand", "hand-jsonl"];
    let mut lines = Vec::new();
    for ours in [
        "scruple-prepared",
        "scruple",
        "scruple-jsonl",
        "scruple-jsonl-verdict",
    ] {
        let Some(r) = rate(ours) else { continue };
        let ratios: Vec<String> = peers
            .iter()
            .filter_map(|p| rate(p).map(|pr| format!("/{p} {:.2}x", r / pr)))
            .collect();
        if !ratios.is_empty() {
            lines.push(format!("  {ours:<22} {}", ratios.join("  ")));
        }
    }
    if !lines.is_empty() {
        println!();
        println!("throughput ratios (decisions/s of scruple ÷ decisions/s of the other; >1 = scruple faster):");
        for l in lines {
            println!("{l}");
        }
    }
    println!();
    if mismatches == 0 {
        println!(
            "agreement: all {} engines made the same decision on all {} recipients, and it is the generator's expected one",
            outcomes.len(),
            config.n
        );
    } else {
        println!("DISAGREEMENT: {mismatches} decisions differ (first ones above)");
    }
}

fn main() -> ExitCode {
    let config = match parse_args() {
        Ok(Some(c)) => c,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if config.child {
        let Some(name) = config.engines.first() else {
            eprintln!("--child needs --engine");
            return ExitCode::from(2);
        };
        return match run_in_process(name, &config) {
            Ok(outcome) => {
                println!("{}", serde_json::to_string(&outcome).unwrap_or_default());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        };
    }
    let names: Vec<String> = if config.engines.is_empty() {
        engines::ENGINES
            .iter()
            .map(|(n, _)| n.to_string())
            .collect()
    } else {
        config.engines.clone()
    };
    let mut outcomes = Vec::new();
    for name in &names {
        let result = if names.len() == 1 {
            run_in_process(name, &config)
        } else {
            run_child(name, &config)
        };
        match result {
            Ok(o) => outcomes.push(o),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let mismatches = verify(&outcomes, &config);
    report(&outcomes, &config, mismatches);
    if let Some(path) = &config.json {
        let text = serde_json::to_string_pretty(&outcomes).unwrap_or_default();
        if let Err(e) = std::fs::write(path, text + "\n") {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    }
    if mismatches == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
