//! The vocabulary: words and phrases per category, parsed once from
//! `vocabulary.txt` into a hash map keyed by each entry's first token.
//!
//! File format (one entry a line, `#` starts a comment):
//!
//! ```text
//! [health.condition]          # entries below belong to this category
//! asthma = chronic lung disease
//! ~condition = a condition    # ~ weak: counts only with another cue
//! ^race = racial origin       # ^ only when the text is an attribute name
//! *krebs = cancer             # * also inside compound words (Lungenkrebs)
//! %ramadan = Muslim holy month # % dropped when the text is a promotion
//! [none]                      # negative entries: look-alikes, not data
//! age verified = an age check, not a person's age
//! [promotion]                 # words that make a text a promotion
//! sale
//! ```
//!
//! Phrases are tokenised like inputs, so `sign-language`, `sign language`
//! and `signLanguage` are one entry.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use super::categories::CategoryId;
use super::normalize::{fold, split_words};

/// The vocabulary text compiled into the binary.
pub const VOCABULARY: &str = include_str!("vocabulary.txt");

/// One vocabulary entry.
#[derive(Debug)]
pub struct Entry {
    /// The entry as written in the vocabulary (with accents).
    pub term: &'static str,
    /// Its normalised tokens.
    pub tokens: Vec<String>,
    /// The category, or `None` for a negative entry.
    pub category: Option<CategoryId>,
    /// What the entry means, shown as evidence.
    pub gloss: &'static str,
    /// Counts only together with another cue for the same category.
    pub weak: bool,
    /// Counts only in attribute names.
    pub name_only: bool,
    /// Also matches as the head or tail of a compound word.
    pub compound: bool,
    /// A holiday or occasion: dropped when the text is a promotion.
    pub occasion: bool,
}

/// The parsed vocabulary.
#[derive(Debug, Default)]
pub struct Index {
    /// All entries.
    pub entries: Vec<Entry>,
    /// First token → indices of the entries that start with it.
    pub by_first: HashMap<String, Vec<usize>>,
    /// Entries that may match inside compounds: (folded single token, index).
    pub compounds: Vec<(String, usize)>,
    /// Words that make a text a promotion (`sale`, `promo`).
    pub promotion: HashSet<String>,
    /// Lines that could not be read (line number, reason); a test keeps
    /// this empty.
    pub errors: Vec<(usize, String)>,
}

/// The vocabulary, parsed on first use.
pub static INDEX: LazyLock<Index> = LazyLock::new(|| parse(VOCABULARY));

/// Parses a vocabulary text; never fails, collecting unreadable lines in
/// [`Index::errors`] instead.
pub fn parse(text: &'static str) -> Index {
    enum Section {
        Category(CategoryId),
        Negative,
        Promotion,
        Unknown,
    }
    let mut index = Index::default();
    let mut section = Section::Unknown;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split_once(" #").map_or(raw, |(l, _)| l).trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = match name {
                "none" => Section::Negative,
                "promotion" => Section::Promotion,
                id => match CategoryId::parse(id) {
                    Some(c) => Section::Category(c),
                    None => {
                        index
                            .errors
                            .push((n + 1, format!("unknown category `{id}`")));
                        Section::Unknown
                    }
                },
            };
            continue;
        }
        let (mut term, gloss) = match line.split_once(" = ") {
            Some((t, g)) => (t.trim(), g.trim()),
            None => (line, ""),
        };
        let (mut weak, mut name_only, mut compound, mut occasion) = (false, false, false, false);
        while let Some(c) = term.chars().next().filter(|c| "~^*%".contains(*c)) {
            match c {
                '~' => weak = true,
                '^' => name_only = true,
                '*' => compound = true,
                _ => occasion = true,
            }
            term = &term[1..];
        }
        let mut tokens = Vec::new();
        split_words(term, &mut tokens);
        if tokens.is_empty() {
            index.errors.push((n + 1, format!("no words in `{line}`")));
            continue;
        }
        let category = match section {
            Section::Category(c) => Some(c),
            Section::Negative => None,
            Section::Promotion => {
                index.promotion.extend(tokens);
                continue;
            }
            Section::Unknown => {
                index
                    .errors
                    .push((n + 1, "entry outside a known section".into()));
                continue;
            }
        };
        let i = index.entries.len();
        if compound {
            if tokens.len() == 1 {
                index.compounds.push((fold(&tokens[0]), i));
            } else {
                index.errors.push((n + 1, "`*` needs a single word".into()));
            }
        }
        index.by_first.entry(tokens[0].clone()).or_default().push(i);
        index.entries.push(Entry {
            term,
            tokens,
            category,
            gloss,
            weak,
            name_only,
            compound,
            occasion,
        });
    }
    index
}
