//! Any text as a GPP string: decoding returns a value or an error naming
//! the section, sub-section, field and bit offset, never panics; a decoded
//! string has one section per header id, in that order, and its US
//! summary only cites US sections it holds; the gate's fast path
//! (`signals::fast::gpp_signals`) says the same or refuses the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scruple::signals::gpp::{decode_gpp_string, Section};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let full = decode_gpp_string(text);
    // The gate's allocation-free reader agrees with the full decoder, except
    // that it leaves strings of more than MAX_SECTIONS sections to it.
    let fast = scruple::signals::fast::gpp_signals(text);
    match &full {
        Ok(gpp) if gpp.sections.len() > scruple::signals::fast::MAX_SECTIONS => {
            assert_eq!(fast, None)
        }
        Ok(gpp) => assert_eq!(fast, Some(scruple::signals::gpp_us_privacy_of(gpp))),
        Err(_) => assert_eq!(fast, None),
    }
    match full {
        Ok(gpp) => {
            let ids: Vec<u16> = gpp.sections.iter().map(Section::id).collect();
            assert_eq!(ids, gpp.header.section_ids, "one section per header id");
            assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids ascending");
            if let Some(us) = gpp.us_privacy_signals() {
                assert!(!us.sections.is_empty());
                assert!(us.sections.iter().all(|id| ids.contains(id)));
            }
            if let Some(tc) = gpp.tcf_eu_v2() {
                assert!(tc.core.vendor_consents.ids().len() <= 65_535);
            }
        }
        Err(e) => {
            // The message is built for every bad record; it must not panic.
            let _ = e.to_string();
        }
    }
});
