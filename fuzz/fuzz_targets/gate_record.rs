//! One JSON Lines record, or a CSV header and row, through the gate:
//! differential between the one-pass reader (`prepare_json`) and the
//! two-step one (a `Recipient`, then `prepare`); they must agree on
//! allow/suppress (and the rules) or bad.
//!
//! The first byte picks the campaign (bit 0) and the format (bit 1: CSV).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let campaign = usize::from(selector & 1);
    if selector & 2 == 0 {
        for line in text.lines() {
            if let Some((one_pass, two_step)) = scruple::fuzzing::gate_jsonl(campaign, line) {
                assert_eq!(one_pass, two_step, "one-pass vs two-step on {line:?}");
            }
        }
    } else if let Some(pairs) = scruple::fuzzing::gate_csv(campaign, text) {
        for (two_step, one_pass) in pairs {
            assert_eq!(two_step, one_pass, "CSV two-step vs one-pass on {text:?}");
        }
    }
});
