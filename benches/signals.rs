//! Consent-signal decoding cost (issue 13): a record's TC string and GPP
//! string are decoded once per record, so together they must stay far
//! below the 2 µs a 500,000 records/s gate allows per record.
//!
//! The strings were made by the IAB reference encoders
//! (`@iabgpp/cmpapi` 3.2.0): a TCF 2.3 string with 100 vendor consents,
//! 60 legitimate interests and 120 disclosed vendors among ids 1–1200 (634
//! characters), the same string as the EU section of a GPP string, and a
//! GPP string with US National (with GPC) and California sections.
//!
//! Each string is timed twice: through the full decoder (every field,
//! what `explain` and the differential tests use) and through the gate's
//! allocation-free reader (`scruple::signals::fast`: the facts a policy
//! reads, taken straight from the base64url text).
//!
//! Run with `cargo bench --bench signals`.

use divan::{black_box, Bencher};
use scruple::signals::decode_tc_string;
use scruple::signals::gpp::decode_gpp_string;
use scruple::signals::{fast, gpp_us_privacy_of, TcfFacts};

fn main() {
    divan::main();
}

const TC_100_VENDORS: &str = "CQupuoAQupuoAEsAAAENBQFoAP_gAEHgAAYgJXABAggAAAAAQAAAACcIABCAUABAAAwAAIAAAIAAAAABACQAQAAISgAADAgJIgIAAaAGAAEAMACAAAAEAABBBAAAAAAAABAIIAAAAAAAEAAQRAIAAAAAABgACAAIQABAAEBAgAIAAAAAQADAAAKgAQIgAIgCBAwgAgAIAAAAAgACgEAAQQgAAEAIAAAAKAAAAmAAAAAIEBBJ6BsAAUADAAL4AZABmAD8AJsAeQB6AFcAM0AbgA_ACIgEgAJIATAAmQBRQCjgFJAKqAVgAsIBdoDIgMkAbUA_UCHwIgATOAn0BYACyQFmALngYGBggDEwGLAMdAY-AzIBvYDlwHMwOhA6IB0oDxgHqAPhAgmBC4CGQETgI5gSNAk8AAAA.IJTk4AAEAIAAAAAhGAAIAAAAFgAAAREAACIAAAACBAAxCgAAECAAICAAAQAIAAAAAQAgQBAAAACqEEAIoVAAAABAECQBCAgAoAAACAUJRQDgEBAAABEEQggAAIiAIhgAABAACACEAEAQCRQAAAAAIAAAAAAEJAgAA4AAAQQAAAAAABAYIFAgAAAAAAAEAAgAAAIgQABBYCAA.YAAAAAAAAAAA";

const GPP_TCF: &str = "DBABMA~CQupuoAQupuoAEsAAAENBQFoAP_gAEHgAAYgJXABAggAAAAAQAAAACcIABCAUABAAAwAAIAAAIAAAAABACQAQAAISgAADAgJIgIAAaAGAAEAMACAAAAEAABBBAAAAAAAABAIIAAAAAAAEAAQRAIAAAAAABgACAAIQABAAEBAgAIAAAAAQADAAAKgAQIgAIgCBAwgAgAIAAAAAgACgEAAQQgAAEAIAAAAKAAAAmAAAAAIEBBJ6BsAAUADAAL4AZABmAD8AJsAeQB6AFcAM0AbgA_ACIgEgAJIATAAmQBRQCjgFJAKqAVgAsIBdoDIgMkAbUA_UCHwIgATOAn0BYACyQFmALngYGBggDEwGLAMdAY-AzIBvYDlwHMwOhA6IB0oDxgHqAPhAgmBC4CGQETgI5gSNAk8AAAA.IJTk4AAEAIAAAAAhGAAIAAAAFgAAAREAACIAAAACBAAxCgAAECAAICAAAQAIAAAAAQAgQBAAAACqEEAIoVAAAABAECQBCAgAoAAACAUJRQDgEBAAABEEQggAAIiAIhgAABAACACEAEAQCRQAAAAAIAAAAAAEJAgAA4AAAQQAAAAAABAYIFAgAAAAAAAEAAgAAAIgQABBYCAA.YAAAAAAAAAAA";

const GPP_US: &str = "DBABrw~CVQpAAAAAACA.YA~BAQAAABA.QA";

/// A typical TC string on its own.
#[divan::bench]
fn tc_string_100_vendors(bencher: Bencher) {
    bencher.bench(|| black_box(decode_tc_string(black_box(TC_100_VENDORS))));
}

/// The gate's facts of that TC string for one vendor, through the full
/// decoder (the path before the fast reader).
#[divan::bench]
fn tc_facts_full_decoder(bencher: Bencher) {
    bencher.bench(|| {
        black_box(
            decode_tc_string(black_box(TC_100_VENDORS)).map(|tc| TcfFacts::of(&tc, Some(755))),
        )
    });
}

/// The same facts through the fast reader.
#[divan::bench]
fn tc_facts_fast(bencher: Bencher) {
    bencher.bench(|| black_box(fast::tcf_facts(black_box(TC_100_VENDORS), Some(755))));
}

/// The same TC string as the EU TCF section of a GPP string.
#[divan::bench]
fn gpp_with_tcf_section(bencher: Bencher) {
    bencher.bench(|| black_box(decode_gpp_string(black_box(GPP_TCF))));
}

/// What the gate reads from that GPP string, through the fast reader (the
/// TCF section validated, not read).
#[divan::bench]
fn gpp_with_tcf_section_fast(bencher: Bencher) {
    bencher.bench(|| black_box(fast::gpp_signals(black_box(GPP_TCF))));
}

/// A US-only GPP string (usnat with GPC, usca), decoded and summarised.
#[divan::bench]
fn gpp_us_sections_and_summary(bencher: Bencher) {
    bencher.bench(|| {
        let gpp = decode_gpp_string(black_box(GPP_US));
        black_box(gpp.ok().and_then(|g| g.us_privacy_signals()))
    });
}

/// The gate's US facts of that string through the full decoder.
#[divan::bench]
fn gpp_us_full_decoder(bencher: Bencher) {
    bencher
        .bench(|| black_box(decode_gpp_string(black_box(GPP_US)).map(|g| gpp_us_privacy_of(&g))));
}

/// The same facts through the fast reader.
#[divan::bench]
fn gpp_us_fast(bencher: Bencher) {
    bencher.bench(|| black_box(fast::gpp_signals(black_box(GPP_US))));
}
