//! Judging targeting by meaning: a taxonomy of data categories and the laws
//! that protect them.
//!
//! - [`categories`]: the hierarchical categories (`health.condition`), each
//!   with the laws and platform rules that protect it, and law views
//!   ([`law_view`]`("gdpr_art9")`).
//!
//! Nothing here is wired into the rules yet.

pub mod categories;

pub use categories::{category, descendants, law_view, Category, CategoryId, Law, CATEGORIES};
