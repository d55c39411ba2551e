//! Consent signals that arrive with a recipient rather than as stored
//! consent records (issue 13). This first slice decodes IAB TCF v2 TC
//! strings ([`tcf`]); GPP and Global Privacy Control come later.

mod bits;
pub mod gpp;
pub mod tcf;

pub use tcf::{
    decode_tc_string, Core, IdBits, PubRestriction, PublisherTc, RangeEntry, TcString, TcfError,
    TcfErrorKind, VendorEncoding, VendorSet,
};
