//! Judging targeting by meaning: a taxonomy of data categories, the laws
//! that protect them, and a classifier that reads attribute names, values,
//! URLs and audience names into those categories with the evidence for it.
//!
//! - [`categories`]: the hierarchical categories (`health.condition`), each
//!   with the laws and platform rules that protect it, and law views
//!   ([`law_view`]`("gdpr_art9")`).
//! - [`classify()`]: one input → an optional category and its evidence.
//!
//! `forbid targeting` uses it when its set holds `category …` or `law …`
//! terms (see `crate::eval::rules::forbid_targeting`).

pub mod categories;
pub mod classify;
pub mod normalize;
pub mod vocab;

pub use categories::{category, descendants, law_view, Category, CategoryId, Law, CATEGORIES};
pub use classify::{classify, Classification, Evidence, How, Ignored, Kind, Match};
