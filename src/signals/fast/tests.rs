//! The fast path against the full decoders: on generated strings (every
//! field random within and sometimes outside its specified values, both
//! vendor encodings, publisher restrictions, optional segments, every
//! decoded GPP section, unknown sections) and on mutations of them
//! (truncated, a character changed, a bit flipped, a separator added or
//! removed), `Some(facts)` from the fast path is exactly the full
//! decoder's facts, and `None` exactly a full decoder error.

use super::*;
use crate::signals::gpp::decode_gpp_string;
use crate::signals::{decode_tc_string, gpp_us_privacy_of};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// xorshift64*: deterministic, so a failure names a reproducible case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// True one time in `n`.
    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}

#[derive(Default)]
struct Bits(Vec<bool>);

impl Bits {
    fn put(&mut self, value: u64, width: usize) {
        for i in (0..width).rev() {
            self.0.push((value >> i) & 1 == 1);
        }
    }
    fn text(&self) -> String {
        self.0
            .chunks(6)
            .map(|c| {
                let v = c
                    .iter()
                    .chain(std::iter::repeat(&false))
                    .take(6)
                    .fold(0usize, |a, &b| (a << 1) | usize::from(b));
                char::from(ALPHABET[v])
            })
            .collect()
    }
}

/// A two-bit US value: 0, 1 or 2, and now and then the undefined 3.
fn int2(r: &mut Rng) -> u64 {
    if r.one_in(200) {
        3
    } else {
        r.below(3)
    }
}

fn range_entries(r: &mut Rng, b: &mut Bits, max_id: u64) {
    let n = r.below(12);
    b.put(n, 12);
    for _ in 0..n {
        let is_range = r.one_in(2);
        b.put(u64::from(is_range), 1);
        let start = r.below(max_id + 1);
        b.put(start, 16);
        if is_range {
            let end = if r.one_in(50) {
                start.saturating_sub(1 + r.below(3))
            } else {
                (start + r.below(300)).min(65_535)
            };
            b.put(end, 16);
        }
    }
}

fn vendor_set(r: &mut Rng, b: &mut Bits) {
    let max = if r.one_in(10) {
        r.below(65_536)
    } else {
        r.below(1_300)
    };
    b.put(max, 16);
    if r.one_in(2) {
        b.put(1, 1);
        range_entries(r, b, max.max(1));
    } else {
        b.put(0, 1);
        // A bitfield cut short now and then (an oversized MaxVendorId).
        let n = if max > 2_000 { r.below(2_000) } else { max };
        let density = 1 + r.below(20);
        for _ in 0..n {
            b.put(u64::from(r.one_in(density)), 1);
        }
    }
}

fn tc_string(r: &mut Rng) -> String {
    let mut b = Bits::default();
    b.put(if r.one_in(100) { r.below(64) } else { 2 }, 6);
    b.put(r.below(1 << 36), 36);
    b.put(r.below(1 << 36), 36);
    b.put(r.below(4_096), 12);
    b.put(r.below(4_096), 12);
    b.put(r.below(64), 6);
    let letter = |r: &mut Rng| {
        if r.one_in(100) {
            r.below(64)
        } else {
            r.below(26)
        }
    };
    b.put(letter(r), 6);
    b.put(letter(r), 6);
    b.put(r.below(4_096), 12);
    b.put(r.below(6), 6);
    b.put(r.below(4), 2);
    b.put(r.below(1 << 12), 12);
    b.put(r.below(1 << 24), 24);
    b.put(r.below(1 << 24), 24);
    b.put(r.below(2), 1);
    b.put(letter(r), 6);
    b.put(letter(r), 6);
    vendor_set(r, &mut b);
    vendor_set(r, &mut b);
    let restrictions = if r.one_in(3) { r.below(5) } else { 0 };
    b.put(restrictions, 12);
    for _ in 0..restrictions {
        b.put(r.below(64), 6);
        b.put(r.below(4), 2);
        range_entries(r, &mut b, 1_300);
    }
    let mut out = b.text();
    let mut kinds = vec![1u64, 2, 3];
    for _ in 0..r.below(4) {
        let kind = if r.one_in(30) {
            r.below(8)
        } else {
            kinds.remove(r.below(kinds.len() as u64) as usize % kinds.len().max(1))
        };
        let mut s = Bits::default();
        s.put(kind, 3);
        if kind == 3 {
            s.put(r.below(1 << 24), 24);
            s.put(r.below(1 << 24), 24);
            let custom = r.below(64);
            s.put(custom, 6);
            for _ in 0..2 {
                s.put(r.below(1 << custom.min(40)), custom as usize);
            }
        } else {
            vendor_set(r, &mut s);
        }
        out.push('.');
        out.push_str(&s.text());
        if kinds.is_empty() {
            break;
        }
    }
    out
}

/// Zeckendorf bits of `n` (≥ 1), weights 1, 2, 3, 5, …, then the closing 1.
fn fibonacci(b: &mut Bits, n: u64) {
    let mut fib = vec![1u64, 2];
    while fib[fib.len() - 1] <= n {
        let k = fib.len();
        fib.push(fib[k - 1] + fib[k - 2]);
    }
    let mut rest = n;
    let mut used = vec![false; fib.len()];
    for i in (0..fib.len()).rev() {
        if fib[i] <= rest {
            used[i] = true;
            rest -= fib[i];
        }
    }
    let top = used.iter().rposition(|&u| u).unwrap_or(0);
    for &u in &used[..=top] {
        b.put(u64::from(u), 1);
    }
    b.put(1, 1);
}

fn us_section(r: &mut Rng, id: u16) -> String {
    let mut b = Bits::default();
    let (version, fields, gpc) = match id {
        7 => match r.below(3) {
            0 => (1, 27, true),
            1 => (1, 32, true), // version 1 in the version 2 layout
            _ => (2, 32, true),
        },
        8 => (1, 20, true),
        9 => (1, 17, false),
        10 => (1, 16, true),
        11 => (1, 18, false),
        _ => (1, 19, true),
    };
    b.put(if r.one_in(100) { r.below(64) } else { version }, 6);
    // Now and then a field short or one too many.
    let fields = match r.below(40) {
        0 => fields - 1 - r.below(3) as usize,
        1 => fields + 1,
        _ => fields,
    };
    for _ in 0..fields {
        b.put(int2(r), 2);
    }
    let mut out = b.text();
    if gpc && r.one_in(2) || r.one_in(100) {
        let mut g = Bits::default();
        g.put(if r.one_in(50) { r.below(4) } else { 1 }, 2);
        g.put(r.below(2), 1);
        out.push('.');
        out.push_str(&g.text());
    }
    out
}

fn gpp_string(r: &mut Rng) -> String {
    let pool = [2u16, 5, 6, 7, 8, 9, 10, 11, 12, 13];
    let mut ids: Vec<u16> = pool.iter().copied().filter(|_| r.one_in(3)).collect();
    if ids.is_empty() {
        ids.push(pool[r.below(pool.len() as u64) as usize]);
    }
    let mut h = Bits::default();
    h.put(3, 6);
    h.put(1, 6);
    h.put(ids.len() as u64, 12);
    let mut last = 0u64;
    for &id in &ids {
        h.put(0, 1);
        fibonacci(&mut h, u64::from(id) - last);
        last = u64::from(id);
    }
    let mut out = h.text();
    // Now and then one section too few or too many.
    let count = match r.below(60) {
        0 => ids.len() - 1,
        1 => ids.len() + 1,
        _ => ids.len(),
    };
    for i in 0..count {
        out.push('~');
        match ids.get(i).copied().unwrap_or(13) {
            2 => out.push_str(&tc_string(r)),
            id @ 7..=12 => out.push_str(&us_section(r, id)),
            _ => out.push_str(if r.one_in(50) { "" } else { "1YNN" }),
        }
    }
    out
}

/// A valid-looking string changed in one random way.
fn mutate(r: &mut Rng, s: &str) -> String {
    let mut bytes = s.as_bytes().to_vec();
    let at = r.below(bytes.len() as u64) as usize;
    match r.below(6) {
        0 => bytes.truncate(at),
        1 => bytes[at] = ALPHABET[r.below(64) as usize],
        2 => bytes[at] = b"+/=.~ "[r.below(6) as usize],
        3 => {
            // One bit of one character flipped.
            if let Some(i) = ALPHABET.iter().position(|&c| c == bytes[at]) {
                bytes[at] = ALPHABET[i ^ (1 << r.below(6))];
            }
        }
        4 => {
            bytes.insert(at, if r.one_in(2) { b'.' } else { b'~' });
        }
        _ => {
            if let Some(i) = bytes.iter().rposition(|&c| c == b'.' || c == b'~') {
                bytes.remove(i);
            }
        }
    }
    String::from_utf8(bytes).unwrap_or_default()
}

fn check_tcf(s: &str, vendors: &[Option<u16>]) {
    let full = decode_tc_string(s);
    for &v in vendors {
        let want = full.as_ref().ok().map(|tc| TcfFacts::of(tc, v));
        assert_eq!(tcf_facts(s, v), want, "TC string {s:?}, vendor {v:?}");
    }
}

fn check_gpp(s: &str) {
    let full = decode_gpp_string(s);
    let want = full.as_ref().ok().map(gpp_us_privacy_of);
    let beyond = full.as_ref().is_ok_and(|g| g.sections.len() > MAX_SECTIONS);
    let got = gpp_signals(s);
    if beyond {
        assert_eq!(got, None, "{s:?}: more sections than the fast path follows");
    } else {
        assert_eq!(got, want, "GPP string {s:?}");
    }
}

#[test]
fn tc_strings_read_like_the_full_decoder() {
    let mut r = Rng(0x5eed_7cf0);
    let (mut ok, mut bad) = (0, 0);
    for _ in 0..4_000 {
        let s = tc_string(&mut r);
        let vendors = [
            None,
            Some(0),
            Some(1),
            Some(r.below(1_300) as u16),
            Some(755),
            Some(u16::MAX),
        ];
        check_tcf(&s, &vendors);
        if decode_tc_string(&s).is_ok() {
            ok += 1;
        } else {
            bad += 1;
        }
        for _ in 0..4 {
            check_tcf(&mutate(&mut r, &s), &vendors[3..5]);
        }
    }
    // Both sides of the comparison were exercised.
    assert!(ok > 2_000 && bad > 200, "{ok} valid, {bad} malformed");
}

#[test]
fn gpp_strings_read_like_the_full_decoder() {
    let mut r = Rng(0x6a11_0001);
    let (mut ok, mut undecoded, mut bad) = (0, 0, 0);
    for _ in 0..4_000 {
        let s = gpp_string(&mut r);
        check_gpp(&s);
        match decode_gpp_string(&s).as_ref().map(gpp_us_privacy_of) {
            Ok(GppSignals::Decoded(_)) => ok += 1,
            Ok(GppSignals::NotDecoded) => undecoded += 1,
            Err(_) => bad += 1,
        }
        for _ in 0..4 {
            check_gpp(&mutate(&mut r, &s));
        }
    }
    assert!(
        ok > 500 && undecoded > 500 && bad > 200,
        "{ok} decoded, {undecoded} not, {bad} malformed"
    );
}

#[test]
fn shipped_strings_take_the_fast_path() {
    // The benches' strings (IAB reference encoders): no fallback.
    let tc = "CQraFkAQraFkAAKABBFRCWEoAP_gAEPgAAqIF5wAoAAgDGAvMC84AUAAQBjAXmAA.IF5wAoAAgDGAvMAA";
    let facts = tcf_facts(tc, Some(755));
    assert!(facts.is_some_and(|f| f.vendor_consent && f.purposes_consent & (1 << 4) != 0));
    let us = gpp_signals("DBABrw~CVQpAAAAAACA.YA~BAQAAABA.QA");
    assert!(matches!(us, Some(GppSignals::Decoded(s)) if s.sale_opt_out && s.sharing_opt_out));
}

#[test]
fn more_sections_than_followed_go_to_the_full_decoder() {
    // 17 Canadian-TCF-like sections would need a list: left to the full
    // decoder, which still decides the string.
    let mut h = Bits::default();
    h.put(3, 6);
    h.put(1, 6);
    h.put(1, 12);
    h.put(1, 1);
    fibonacci(&mut h, 20);
    fibonacci(&mut h, 16);
    let mut s = h.text();
    for _ in 20..=36 {
        s.push_str("~AAAA");
    }
    assert_eq!(gpp_signals(&s), None);
    assert_eq!(
        crate::signals::gpp_us_privacy(&s),
        Ok(GppSignals::NotDecoded)
    );
}

#[test]
fn id_masks_put_id_n_at_bit_n() {
    assert_eq!(id_mask(0x80_0000, 24), 1 << 1);
    assert_eq!(id_mask(1, 24), 1 << 24);
    assert_eq!(id_mask(0x800, 12), 1 << 1);
    assert_eq!(id_mask(0xFFF, 12), 0x1FFE);
}
