//! Campaign YAML → load → check against every shipped pack → every renderer.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        scruple::fuzzing::campaign_yaml(text);
    }
});
