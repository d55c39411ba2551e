//! Any text as a TC string: decoding returns a value or an error naming the
//! segment, field and bit offset, never panics, and a decoded value's
//! vendor sets can be listed and queried (the listing is bounded by 65,535
//! ids however many ranges the string claims); the gate's fast path
//! (`signals::fast::tcf_facts`) gives the same facts or the same refusal.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let full = scruple::signals::decode_tc_string(text);
    // The gate's allocation-free reader agrees with the full decoder: the
    // same facts for a valid string, `None` (then the full decoder's error)
    // for a malformed one.
    for vendor in [None, Some(1), Some(755)] {
        assert_eq!(
            scruple::signals::fast::tcf_facts(text, vendor),
            full.as_ref()
                .ok()
                .map(|tc| scruple::signals::TcfFacts::of(tc, vendor)),
            "fast path differs, vendor {vendor:?}"
        );
    }
    match full {
        Ok(tc) => {
            let core = &tc.core;
            for set in [&core.vendor_consents, &core.vendor_legitimate_interests]
                .into_iter()
                .chain(tc.disclosed_vendors.as_ref())
                .chain(tc.allowed_vendors.as_ref())
            {
                let ids = set.ids();
                assert!(ids.len() <= 65_535);
                assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids ascending");
                for &id in ids.iter().take(64) {
                    assert!(set.contains(id), "listed id {id} not contained");
                }
            }
            for r in &core.pub_restrictions {
                assert!(r.vendor_ids().len() <= 65_535);
            }
        }
        Err(e) => {
            // The message is built for every bad record; it must not panic.
            let _ = e.to_string();
        }
    }
});
