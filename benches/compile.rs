//! Parsing and compiling policies: the shipped packs (built into the binary),
//! the `policies/` directory read from disk, and large generated policies.
//!
//! Run with `cargo bench --bench compile`.

mod support;

use std::path::{Path, PathBuf};

use divan::counter::BytesCount;
use divan::Bencher;
use scruple::compile::load::BUILTIN_FILES;
use scruple::compile::{compile, Inputs};
use scruple::source::SourceFile;
use support::generated_policy;

fn main() {
    divan::main();
}

/// Compiles inputs that must compile; returns the rule count.
fn compile_ok(inputs: Inputs) -> usize {
    match compile(inputs) {
        (Some(policy), _) => policy.rules.len(),
        (None, diags) => panic!("does not compile: {diags:?}"),
    }
}

fn builtin_bytes() -> usize {
    BUILTIN_FILES.iter().map(|(_, text)| text.len()).sum()
}

/// Every shipped pack, from the texts embedded in the binary: load, parse,
/// resolve, order.
#[divan::bench]
fn builtin_packs(bencher: Bencher) {
    assert!(!BUILTIN_FILES.is_empty(), "no built-in packs");
    bencher.counter(BytesCount::new(builtin_bytes())).bench(|| {
        let mut inputs = Inputs::default();
        inputs.add_builtin(&[]);
        compile_ok(inputs)
    });
}

/// Parsing alone (pest and lowering) of every embedded file.
#[divan::bench]
fn builtin_files_parse_only(bencher: Bencher) {
    let sources: Vec<_> = BUILTIN_FILES
        .iter()
        .map(|(name, text)| SourceFile::new(*name, *text))
        .collect();
    bencher.counter(BytesCount::new(builtin_bytes())).bench(|| {
        sources
            .iter()
            .map(|s| scruple::syntax::parse(s).0.map_or(0, |f| f.items.len()))
            .sum::<usize>()
    });
}

/// The `policies/` directory read from disk (file reads included).
#[divan::bench]
fn policies_dir_from_disk() -> usize {
    let mut inputs = Inputs::default();
    inputs.add_path(&Path::new(env!("CARGO_MANIFEST_DIR")).join("policies"));
    compile_ok(inputs)
}

/// Parsing (pest and lowering) of a generated policy of `n` rules and sets.
#[divan::bench(args = [1_000, 20_000], sample_count = 10)]
fn generated_parse(bencher: Bencher, n: usize) {
    let source = SourceFile::new("generated.scruple", generated_policy(n));
    bencher
        .counter(BytesCount::new(source.text.len()))
        .bench(|| {
            let (file, diags) = scruple::syntax::parse(&source);
            assert!(diags.is_empty());
            file.map_or(0, |f| f.items.len())
        });
}

/// A generated policy compiled from disk: read, parse, resolve, order.
#[divan::bench(args = [1_000, 20_000], sample_count = 10)]
fn generated_compile(bencher: Bencher, n: usize) {
    let text = generated_policy(n);
    let dir = TempFile::new(&text);
    bencher.counter(BytesCount::new(text.len())).bench(|| {
        let mut inputs = Inputs::default();
        inputs.add_path(&dir.0);
        compile_ok(inputs)
    });
}

/// A policy file under the temp dir, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(text: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!(
            "scruple-bench-{}-{}.scruple",
            std::process::id(),
            text.len()
        ));
        std::fs::write(&path, text).expect("write generated policy");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
