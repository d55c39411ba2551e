//! Turning a name, value, URL or audience name into normalised tokens.
//!
//! Names arrive as `snake_case`, `camelCase`, `kebab-case`, dotted paths
//! (`household.children_count`), `SCREAMING_CASE` merge tags or free text;
//! URLs as `https://host/path?query`. Every form becomes the same list of
//! lowercase ASCII-folded words, so `Santé`, `sante` and `SANTE` are one
//! token and the vocabulary is written once.

/// Inputs longer than this are cut (at a character boundary): a name or a
/// value that long is not a name or a value, and the work must stay bounded.
pub const MAX_INPUT_BYTES: usize = 1024;
/// At most this many tokens are looked at.
pub const MAX_TOKENS: usize = 96;

/// Tokens of `text`; `url` splits host, path and query first and drops the
/// parts of a URL that carry no meaning (scheme, `www`, top-level domains,
/// file extensions, tracking parameters).
///
/// Returns the tokens and whether the input was cut.
pub fn tokens(text: &str, url: bool) -> (Vec<String>, bool) {
    let (text, mut truncated) = bounded(text);
    let mut out = Vec::with_capacity(8);
    if url || looks_like_url(text) {
        url_tokens(text, &mut out);
    } else {
        split_words(text, &mut out);
    }
    if out.len() > MAX_TOKENS {
        out.truncate(MAX_TOKENS);
        truncated = true;
    }
    (out, truncated)
}

fn bounded(text: &str) -> (&str, bool) {
    if text.len() <= MAX_INPUT_BYTES {
        return (text, false);
    }
    let mut end = MAX_INPUT_BYTES;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], true)
}

/// Whether free text is really a URL (a value in `pages_viewed`).
fn looks_like_url(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with("http://")
        || t.starts_with("https://")
        || t.starts_with("www.")
        || (t.starts_with('/') && t.len() > 1 && !t.contains(' '))
}

fn url_tokens(text: &str, out: &mut Vec<String>) {
    let t = text.trim();
    let t = t.split_once("://").map_or(t, |(_, rest)| rest);
    // The fragment is the page's own anchor, rarely meaningful, but keep it:
    // single-page apps route on it (`/#/conditions/asthma`).
    let (before_query, query) = t.split_once('?').unwrap_or((t, ""));
    let (host, path) = match before_query.find('/') {
        Some(0) => ("", before_query),
        Some(i) => (&before_query[..i], &before_query[i..]),
        None => (before_query, ""),
    };
    // Credentials and ports are not words.
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = host.split_once(':').map_or(host, |(h, _)| h);
    let labels: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).collect();
    let n = labels.len();
    for (i, label) in labels.iter().enumerate() {
        let is_tld = i + 1 == n && n > 1;
        let is_sld = i + 2 == n && n > 2 && SECOND_LEVEL.contains(label);
        if is_tld || is_sld || label.eq_ignore_ascii_case("www") {
            continue;
        }
        split_words(&percent_decoded(label), out);
    }
    for segment in path.split(['/', '#']) {
        let segment = strip_extension(segment);
        split_words(&percent_decoded(segment), out);
    }
    for pair in query.split(['&', ';']) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let k = key.to_ascii_lowercase();
        if k.starts_with("utm_") || URL_NOISE_KEYS.contains(&k.as_str()) {
            continue;
        }
        split_words(&percent_decoded(key), out);
        split_words(&percent_decoded(&value.replace('+', " ")), out);
    }
    out.retain(|t| !URL_STOP.contains(&t.as_str()));
}

/// Labels like `co` in `nhs.co.uk` that are part of the public suffix.
const SECOND_LEVEL: &[&str] = &["co", "com", "org", "gov", "ac", "gob", "gouv", "net", "edu"];
const URL_NOISE_KEYS: &[&str] = &["gclid", "fbclid", "msclkid", "ref", "sid", "session"];
const URL_STOP: &[&str] = &[
    "index", "html", "htm", "php", "aspx", "jsp", "amp", "en", "fr", "de", "es", "us", "uk", "www",
    "http", "https",
];

fn strip_extension(segment: &str) -> &str {
    match segment.rsplit_once('.') {
        Some((stem, "html" | "htm" | "php" | "aspx" | "jsp" | "pdf")) => stem,
        _ => segment,
    }
}

/// Decodes `%XX` escapes; invalid escapes and invalid UTF-8 stay as they are
/// (lossily), because a classifier must read whatever it is given.
fn percent_decoded(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('%') {
        return std::borrow::Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hi = (bytes[i + 1] as char).to_digit(16);
            let lo = (bytes[i + 2] as char).to_digit(16);
            if let (Some(h), Some(l)) = (hi, lo) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    std::borrow::Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// Splits on anything that is not a letter or digit, on lower→upper case
/// changes (`chronicConditions`), on `HTTPServer`-style acronyms, and between
/// letters and digits (`age18`); folds each word; drops English possessive
/// `'s` and [`STOPWORDS`], so `Women's Health`, `womens-health` and
/// `health and fitness` / `health & fitness` read alike.
pub fn split_words(text: &str, out: &mut Vec<String>) {
    let chars: Vec<char> = text.chars().collect();
    let mut word = String::new();
    let mut skip = 0;
    for (i, &c) in chars.iter().enumerate() {
        if skip > 0 {
            skip -= 1;
            continue;
        }
        if !c.is_alphanumeric() {
            // `women's` → `women`: the possessive carries no meaning.
            let possessive = matches!(c, '\'' | '’')
                && !word.is_empty()
                && matches!(chars.get(i + 1), Some('s' | 'S'))
                && !chars.get(i + 2).is_some_and(|n| n.is_alphanumeric());
            if possessive {
                skip = 1;
            }
            flush(&mut word, out);
            continue;
        }
        if let Some(&prev) = i.checked_sub(1).and_then(|p| chars.get(p)) {
            let next = chars.get(i + 1).copied();
            let boundary = (prev.is_lowercase() && c.is_uppercase())
                || (prev.is_uppercase()
                    && c.is_uppercase()
                    && next.is_some_and(|n| n.is_lowercase()))
                || (prev.is_alphabetic() && c.is_numeric())
                || (prev.is_numeric() && c.is_alphabetic());
            if boundary {
                flush(&mut word, out);
            }
        }
        fold_into(c, &mut word);
    }
    flush(&mut word, out);
}

fn flush(word: &mut String, out: &mut Vec<String>) {
    if !word.is_empty() {
        if STOPWORDS.contains(&word.as_str()) {
            word.clear();
        } else {
            out.push(std::mem::take(word));
        }
    }
}

/// Function words dropped from inputs and vocabulary alike, in the four
/// languages; they carry no category and would break phrase matching
/// (`Health & Fitness` against `health and fitness`).
pub const STOPWORDS: &[&str] = &[
    "a", "an", "and", "of", "the", "s", "et", "und", "y", "de", "des", "du", "la", "le", "les",
    "el", "los", "las", "der", "die", "das", "d", "l", "del",
];

/// Lowercases and strips diacritics from one character, appending the
/// result (`ß` → `ss`, `œ` → `oe`). Letters outside Latin scripts are kept
/// lowercased: they simply match no vocabulary entry.
pub fn fold_into(c: char, out: &mut String) {
    let folded: &str = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => "a",
        'ç' | 'Ç' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ñ' | 'Ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
        'ý' | 'ÿ' | 'Ý' => "y",
        'ß' => "ss",
        'œ' | 'Œ' => "oe",
        'æ' | 'Æ' => "ae",
        _ => {
            for l in c.to_lowercase() {
                out.push(l);
            }
            return;
        }
    };
    out.push_str(folded);
}

/// Folds a whole word (used for the vocabulary, which is written with
/// accents for readability).
pub fn fold(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        fold_into(c, &mut out);
    }
    out
}

/// Inflected forms to try when a word is not in the vocabulary as written:
/// English, French and Spanish plurals (`-s`, `-es`, `-ies`, `-x`), German
/// plurals and case endings (`-en`, `-n`, `-e`, `-er`). Only words of five
/// letters or more are reduced, so that `ages` → `age` but short words do not
/// collapse into each other.
pub fn variants(word: &str) -> impl Iterator<Item = String> + '_ {
    const RULES: &[(&str, &str)] = &[
        ("ies", "y"),
        ("aux", "al"),
        ("es", ""),
        ("s", ""),
        ("x", ""),
        ("en", ""),
        ("n", ""),
        ("e", ""),
        ("er", ""),
    ];
    // German written without umlauts (`Staatsangehoerigkeit`) folds to the
    // same word as with them.
    let transliterated = (word.len() >= 6
        && (word.contains("oe") || word.contains("ue") || word.contains("ae")))
    .then(|| {
        word.replace("oe", "o")
            .replace("ue", "u")
            .replace("ae", "a")
    });
    RULES
        .iter()
        .filter_map(move |(suffix, replacement)| {
            let stem = word.strip_suffix(suffix)?;
            (word.len() >= 5 && stem.len() >= 3).then(|| format!("{stem}{replacement}"))
        })
        .chain(transliterated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        tokens(s, false).0
    }

    #[test]
    fn splits_every_naming_style() {
        assert_eq!(toks("chronic_conditions"), ["chronic", "conditions"]);
        assert_eq!(toks("chronicConditions"), ["chronic", "conditions"]);
        assert_eq!(toks("chronic-conditions"), ["chronic", "conditions"]);
        assert_eq!(
            toks("household.children_count"),
            ["household", "children", "count"]
        );
        assert_eq!(toks("HTTPServerAge"), ["http", "server", "age"]);
        assert_eq!(toks("age18Plus"), ["age", "18", "plus"]);
        assert_eq!(toks("Santé Maladie"), ["sante", "maladie"]);
        assert_eq!(toks("Straße"), ["strasse"]);
        assert_eq!(
            toks("Women's Health & Fitness"),
            ["women", "health", "fitness"]
        );
        assert_eq!(toks("nombre d'enfants"), ["nombre", "enfants"]);
    }

    #[test]
    fn reads_urls() {
        let (t, _) = tokens(
            "https://www.cancer.org/cancer/lung-cancer.html?utm_source=x&q=chemo",
            true,
        );
        assert_eq!(t, ["cancer", "cancer", "lung", "cancer", "q", "chemo"]);
        let (t, _) = tokens("https://www.nhs.co.uk/conditions/asthma/", true);
        assert_eq!(t, ["nhs", "conditions", "asthma"]);
        assert_eq!(
            toks("/health/diabetes%20care"),
            ["health", "diabetes", "care"]
        );
    }

    #[test]
    fn bounded_and_total() {
        let huge = "é".repeat(10_000);
        let (_, cut) = tokens(&huge, false);
        assert!(cut);
        assert!(toks("").is_empty());
        assert_eq!(toks("🙂 asthma 🙂"), ["asthma"]);
        assert!(toks("%").is_empty());
        let _ = tokens("http://%zz%/%", true);
    }
}
