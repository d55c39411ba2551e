//! Classifying one targeting input — an attribute name, a filter value, a
//! URL or an audience name — into a category of the taxonomy, with the
//! evidence for it.
//!
//! The input is tokenised ([`super::normalize`]), then read left to right:
//! at each token the longest vocabulary entry that starts there wins, so the
//! phrase `sign language` beats the word `language`, and the negative entry
//! `age verified` beats the word `age`. Matched tokens are consumed. Tokens
//! no entry starts with are tried against compound heads and tails
//! (`Lungenkrebs` ends with `krebs`).
//!
//! Each counted match scores 2 (1 when the entry is weak) for its category.
//! Sensitive categories are decided first, by family (`health.*` adds up):
//! the best family needs 2 points, i.e. one strong cue or two weak ones.
//! Otherwise the best non-sensitive category with any score is returned,
//! otherwise nothing: unknown is an answer the caller must report.

use std::fmt;

use super::categories::{CategoryId, CATEGORIES};
use super::normalize::{tokens, variants};
use super::vocab::{Entry, INDEX};

/// What kind of text is being classified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A targeting attribute's name: `chronic_conditions`, `household.children_count`.
    AttributeName,
    /// A filter operand or list element: `copd`, `sign_language`, `25-34`.
    Value,
    /// A page or URL value: `https://www.cancer.org/…`.
    Url,
    /// A segment, lookalike-seed or audience name: `Debt-stressed renters`.
    AudienceName,
}

/// How a match was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// The token is a vocabulary word.
    Word,
    /// An inflected form of a vocabulary word (`conditions` → `condition`).
    Inflection,
    /// A multi-word vocabulary phrase.
    Phrase,
    /// A vocabulary word inside a compound (`lungenkrebs` ⊃ `krebs`).
    Compound,
    /// Two ages in a row (`25-34`) or an age with a plus (`65+`).
    AgeRange,
}

/// Why a match did not count towards the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ignored {
    /// It counts: not ignored.
    No,
    /// A negative entry: the tokens are a look-alike, not sensitive data.
    Negative,
    /// A weak cue with nothing to support it.
    WeakAlone,
    /// The entry is only meaningful as an attribute name.
    NotAName,
    /// An occasion in a promotion (`Ramadan sale`).
    Promotion,
}

/// One piece of evidence: which tokens matched which vocabulary entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    /// The normalised tokens that matched, joined by spaces.
    pub text: String,
    /// The vocabulary entry as written.
    pub term: &'static str,
    /// The entry's gloss (what it means, or why it is a look-alike).
    pub gloss: &'static str,
    /// The entry's category; `None` for a negative entry.
    pub category: Option<CategoryId>,
    /// How it matched.
    pub how: How,
    /// A weak cue: 1 point instead of 2.
    pub weak: bool,
    /// Whether and why it did not count.
    pub ignored: Ignored,
}

/// Everything the classifier found in one input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evidence {
    /// The matches, in input order.
    pub matches: Vec<Match>,
    /// How many tokens were read.
    pub tokens: usize,
    /// Whether the input was too long and was cut.
    pub truncated: bool,
}

/// The result of [`classify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classification {
    /// The category, or `None` when nothing (or only look-alikes) matched.
    pub category: Option<CategoryId>,
    /// Why.
    pub evidence: Evidence,
}

impl Classification {
    /// Whether the input was classified into a sensitive category.
    pub fn is_sensitive(&self) -> bool {
        self.category.is_some_and(CategoryId::is_sensitive)
    }

    /// The matches that decided the category.
    pub fn deciding(&self) -> impl Iterator<Item = &Match> {
        let chosen = self.category.map(|c| family(c.as_str()));
        self.evidence.matches.iter().filter(move |m| {
            m.ignored == Ignored::No && m.category.map(|c| family(c.as_str())) == chosen
        })
    }
}

impl fmt::Display for Classification {
    /// `health.condition (word `copd`: chronic lung disease)`, or
    /// `unclassified` with the look-alikes that were set aside.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.category {
            Some(c) => {
                write!(f, "{c}")?;
                let reasons: Vec<String> = self.deciding().map(Match::to_string).collect();
                if !reasons.is_empty() {
                    write!(f, " ({})", reasons.join("; "))?;
                }
                Ok(())
            }
            None => {
                f.write_str("unclassified")?;
                let set_aside: Vec<String> =
                    self.evidence.matches.iter().map(Match::to_string).collect();
                if !set_aside.is_empty() {
                    write!(f, " ({})", set_aside.join("; "))?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Match {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = match self.how {
            How::Word => "word",
            How::Inflection => "inflection of",
            How::Phrase => "phrase",
            How::Compound => "compound with",
            How::AgeRange => "age range",
        };
        if self.ignored == Ignored::Negative {
            return write!(f, "`{}` is a look-alike: {}", self.text, self.gloss);
        }
        write!(f, "{how} `{}`", self.term)?;
        if !self.gloss.is_empty() {
            write!(f, ": {}", self.gloss)?;
        }
        match self.ignored {
            Ignored::No | Ignored::Negative => Ok(()),
            Ignored::WeakAlone => f.write_str(" [weak cue, not enough alone]"),
            Ignored::NotAName => f.write_str(" [only read in attribute names]"),
            Ignored::Promotion => f.write_str(" [an occasion in a promotion]"),
        }
    }
}

/// The top-level family of a dotted id (`health` for `health.mental`).
fn family(id: &str) -> &str {
    id.split_once('.').map_or(id, |(f, _)| f)
}

/// Classifies one input. Total: never panics, bounded on long inputs.
pub fn classify(text: &str, kind: Kind) -> Classification {
    let index = &*INDEX;
    let (toks, truncated) = tokens(text, kind == Kind::Url);
    // Each token with its inflected forms, computed once.
    let forms: Vec<Vec<String>> = toks
        .iter()
        .map(|t| std::iter::once(t.clone()).chain(variants(t)).collect())
        .collect();
    let promotion = toks.iter().any(|t| index.promotion.contains(t));
    let mut matches = Vec::new();

    if matches!(kind, Kind::Value | Kind::AudienceName) {
        if let Some(m) = age_range(text, &toks) {
            matches.push(m);
        }
    }

    let mut i = 0;
    while i < toks.len() {
        match longest_at(i, &forms, kind) {
            Some((entry, len, inflected)) => {
                let how = if entry.tokens.len() > 1 {
                    How::Phrase
                } else if inflected {
                    How::Inflection
                } else {
                    How::Word
                };
                matches.push(make_match(
                    entry,
                    toks[i..i + len].join(" "),
                    how,
                    kind,
                    promotion,
                ));
                i += len;
            }
            None => {
                if let Some(entry) = compound_at(&toks[i]) {
                    matches.push(make_match(
                        entry,
                        toks[i].clone(),
                        How::Compound,
                        kind,
                        promotion,
                    ));
                }
                i += 1;
            }
        }
    }

    let category = decide(&mut matches);
    Classification {
        category,
        evidence: Evidence {
            matches,
            tokens: toks.len(),
            truncated,
        },
    }
}

fn make_match(entry: &'static Entry, text: String, how: How, kind: Kind, promotion: bool) -> Match {
    let ignored = if entry.category.is_none() {
        Ignored::Negative
    } else if entry.name_only && kind != Kind::AttributeName {
        Ignored::NotAName
    } else if entry.occasion && promotion {
        Ignored::Promotion
    } else {
        Ignored::No
    };
    Match {
        text,
        term: entry.term,
        gloss: entry.gloss,
        category: entry.category,
        how,
        weak: entry.weak,
        ignored,
    }
}

/// The longest entry starting at token `i`: (entry, tokens consumed,
/// whether the first token matched only through an inflected form). On equal
/// length a negative entry wins, so a look-alike is never outvoted by the
/// word it contains; then an entry that applies to this kind of input and
/// is strong (`^children` in a name beats `~children`).
fn longest_at(
    i: usize,
    forms: &[Vec<String>],
    kind: Kind,
) -> Option<(&'static Entry, usize, bool)> {
    let rank = |e: &Entry| {
        (
            e.tokens.len(),
            e.category.is_none(),
            !e.name_only || kind == Kind::AttributeName,
            !e.weak,
        )
    };
    let index = &*INDEX;
    let mut best: Option<(&'static Entry, usize, bool)> = None;
    for (k, form) in forms[i].iter().enumerate() {
        let Some(candidates) = index.by_first.get(form) else {
            continue;
        };
        for &e in candidates {
            let entry = &index.entries[e];
            let len = entry.tokens.len();
            if i + len > forms.len() {
                continue;
            }
            let rest_matches = entry.tokens[1..]
                .iter()
                .zip(&forms[i + 1..i + len])
                .all(|(want, have)| have.contains(want));
            if !rest_matches {
                continue;
            }
            let better = match best {
                None => true,
                Some((b, _, _)) => rank(entry) > rank(b),
            };
            if better {
                best = Some((entry, len, k > 0));
            }
        }
    }
    best
}

/// A compound word that starts or ends with a `*` entry (`lungenkrebs`,
/// `krebsvorsorge`); the rest must be at least three letters, so the entry
/// itself or a near miss does not count twice.
fn compound_at(token: &str) -> Option<&'static Entry> {
    let index = &*INDEX;
    if token.len() < 6 {
        return None;
    }
    index
        .compounds
        .iter()
        .find(|(stem, _)| {
            token.len() >= stem.len() + 3
                && (token.starts_with(stem.as_str()) || token.ends_with(stem.as_str()))
        })
        .map(|&(_, e)| &index.entries[e])
}

/// `25-34`, `18 - 24`, `65+`: a value that is nothing but an age band.
fn age_range(text: &str, toks: &[String]) -> Option<Match> {
    let ages: Vec<u32> = toks
        .iter()
        .map(|t| t.parse::<u32>().ok())
        .collect::<Option<_>>()?;
    let plausible = |a: u32| (13..=99).contains(&a);
    let band = match ages.as_slice() {
        [a, b] => plausible(*a) && plausible(*b) && a < b && text.contains(['-', '–']),
        [a] => plausible(*a) && text.trim_end().ends_with('+'),
        _ => false,
    };
    band.then(|| Match {
        text: toks.join(" "),
        term: "NN-NN / NN+",
        gloss: "an age band",
        category: CategoryId::parse("age"),
        how: How::AgeRange,
        weak: false,
        ignored: Ignored::No,
    })
}

/// Picks the category from the counted matches and marks weak cues that
/// decided nothing.
fn decide(matches: &mut [Match]) -> Option<CategoryId> {
    let counted = |m: &Match| m.ignored == Ignored::No;
    let score = |m: &Match| if m.weak { 1 } else { 2 };
    // (family, points) over sensitive matches, in first-seen order.
    let mut families: Vec<(&str, u32)> = Vec::new();
    let mut per_category: Vec<(CategoryId, u32)> = Vec::new();
    for m in matches.iter().filter(|m| counted(m)) {
        let Some(c) = m.category else { continue };
        let s = score(m);
        match per_category.iter_mut().find(|(k, _)| *k == c) {
            Some((_, p)) => *p += s,
            None => per_category.push((c, s)),
        }
        if c.is_sensitive() {
            let f = family(c.as_str());
            match families.iter_mut().find(|(k, _)| *k == f) {
                Some((_, p)) => *p += s,
                None => families.push((f, s)),
            }
        }
    }
    // Most points wins; on a tie the family listed first in the taxonomy,
    // which lists health before gender (`Femmes enceintes` is pregnancy).
    let order = |f: &str| {
        CATEGORIES
            .iter()
            .position(|c| c.id == f)
            .unwrap_or(usize::MAX)
    };
    let best_family =
        families
            .iter()
            .filter(|(_, p)| *p >= 2)
            .fold(None::<(&str, u32)>, |best, &(f, p)| match best {
                Some((bf, bp)) if bp > p || (bp == p && order(bf) <= order(f)) => best,
                _ => Some((f, p)),
            });
    let chosen = match best_family {
        Some((f, _)) => per_category
            .iter()
            .filter(|(c, _)| c.is_sensitive() && family(c.as_str()) == f)
            .fold(None::<(CategoryId, u32)>, |best, &(c, p)| match best {
                // More points wins; on a tie the more specific id.
                Some((bc, bp)) if bp > p || (bp == p && bc.as_str().len() >= c.as_str().len()) => {
                    best
                }
                _ => Some((c, p)),
            })
            .map(|(c, _)| c),
        None => per_category
            .iter()
            .filter(|(c, _)| !c.is_sensitive())
            .fold(None::<(CategoryId, u32)>, |best, &(c, p)| match best {
                Some((_, bp)) if bp >= p => best,
                _ => Some((c, p)),
            })
            .map(|(c, _)| c),
    };
    for m in matches.iter_mut() {
        let undecisive_weak = m.ignored == Ignored::No
            && m.category.is_some_and(|c| c.is_sensitive())
            && best_family.is_none_or(|(f, _)| m.category.is_some_and(|c| family(c.as_str()) != f))
            && score(m) == 1;
        if undecisive_weak {
            m.ignored = Ignored::WeakAlone;
        }
    }
    chosen
}
