//! Which legal instrument (or standard) a citation belongs to, for grouping
//! findings "by regulation".
//!
//! Citations are free text written in the policy (`cite "GDPR Art. 9(1)"`).
//! [`instrument`] maps a citation to a short instrument name by its prefix,
//! using [`KNOWN`] first, then three generic patterns:
//!
//! 1. `RFC 8058 Section 3.1` → `RFC 8058` (each RFC is its own standard);
//! 2. an EU act with a short name in parentheses,
//!    `Regulation (EU) 2024/1689 (AI Act) Art. 5` → `AI Act`;
//! 3. a court decision or settlement (`X v. Y`, `CJEU C-…`) → `Case law`;
//!
//! and otherwise the text before the first pinpoint (` Art.`, ` Section`,
//! ` para`, ` §`, `,`), so an unknown `Foo Act Art. 3` still groups as
//! `Foo Act`.
//!
//! [`source_uri`] maps a citation to the official text it cites (EUR-Lex,
//! the US Code, the eCFR, legislation.gov.uk, …), so SARIF `helpUri` and the
//! HTML report can link a finding to its law. Only official publishers are
//! used, and only patterns whose address can be built from the citation
//! itself; anything else has no link rather than a guessed one.

use std::sync::LazyLock;

use regex::Regex;

/// Known citation prefixes and the instrument they belong to, checked in
/// order (so longer, more specific prefixes come first).
pub const KNOWN: &[(&str, &str)] = &[
    ("GDPR", "GDPR"),
    ("Regulation (EU) 2016/679", "GDPR"),
    ("Regulation (EU) 2022/2065", "DSA"),
    ("Regulation (EU) 2022/1925", "DMA"),
    ("Directive 2002/58/EC", "ePrivacy Directive"),
    (
        "Directive 2005/29/EC",
        "Unfair Commercial Practices Directive",
    ),
    ("Directive 2010/13/EU", "AVMSD"),
    ("EDPB", "EDPB guidelines"),
    ("CJEU", "Case law"),
    ("Cal. Civ. Code 1798.", "CCPA"),
    ("11 CCR 7", "CCPA"),
    ("15 U.S.C. 770", "CAN-SPAM"),
    ("15 U.S.C. 771", "CAN-SPAM"),
    ("16 CFR 316", "CAN-SPAM"),
    ("15 U.S.C. 650", "COPPA"),
    ("16 CFR 312", "COPPA"),
    ("15 U.S.C. 1691", "ECOA"),
    ("12 CFR 1002", "ECOA"),
    ("42 U.S.C. 36", "Fair Housing Act"),
    ("24 CFR 100", "Fair Housing Act"),
    ("42 U.S.C. 2000e", "Civil Rights Act Title VII"),
    ("29 U.S.C. 62", "ADEA"),
    ("47 U.S.C. 227", "TCPA"),
    ("47 CFR 64.1200", "TCPA"),
    ("Google", "Google sender guidelines"),
    ("Yahoo", "Yahoo sender requirements"),
    ("Meta ", "Meta advertising policy"),
    ("UN CRC", "UN CRC"),
    ("UK GDPR", "UK GDPR"),
    ("PECR", "PECR"),
    ("ICO", "ICO guidance"),
];

/// The instrument a citation belongs to (see the module documentation).
pub fn instrument(citation: &str) -> String {
    let citation = citation.trim();
    if let Some((_, name)) = KNOWN
        .iter()
        .find(|(prefix, _)| citation.starts_with(prefix))
    {
        return (*name).to_string();
    }
    if let Some(rest) = citation.strip_prefix("RFC ") {
        let number: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !number.is_empty() {
            return format!("RFC {number}");
        }
    }
    if citation.starts_with("Regulation (E") || citation.starts_with("Directive ") {
        if let Some(short) = eu_short_name(citation) {
            return short.to_string();
        }
    }
    if citation.contains(" v. ") || citation.contains(" v ") {
        return "Case law".to_string();
    }
    let end = [" Art.", " Article", " Section", " para", " §", ","]
        .iter()
        .filter_map(|pin| citation.find(pin))
        .min()
        .unwrap_or(citation.len());
    let name = citation[..end].trim();
    if name.is_empty() {
        citation.to_string()
    } else {
        name.to_string()
    }
}

/// The short name in the last parentheses before the first pinpoint of an
/// EU act, other than `(EU)`/`(EC)`/`(EEC)`.
fn eu_short_name(citation: &str) -> Option<&str> {
    let head = citation.split(" Art.").next().unwrap_or(citation);
    let open = head.rfind('(')?;
    let close = open + head[open..].find(')')?;
    let name = head[open + 1..close].trim();
    (!name.is_empty() && !matches!(name, "EU" | "EC" | "EEC")).then_some(name)
}

/// Citation patterns and the official address they resolve to (`{1}`,
/// `{2}`, … are the pattern's groups), checked in order.
const SOURCES: &[(&str, &str)] = &[
    (
        r"^UK GDPR\b",
        "https://www.legislation.gov.uk/eur/2016/679/contents",
    ),
    (
        r"^(?:GDPR|Regulation \(EU\) 2016/679)\b",
        "https://eur-lex.europa.eu/eli/reg/2016/679/oj",
    ),
    (
        r"^DSA\b",
        "https://eur-lex.europa.eu/eli/reg/2022/2065/oj",
    ),
    (
        r"^Regulation \((?:EU|EC)\) (\d{4})/(\d+)\b",
        "https://eur-lex.europa.eu/eli/reg/{1}/{2}/oj",
    ),
    (
        r"^Directive (\d{4})/(\d+)/(?:EU|EC|EEC)\b",
        "https://eur-lex.europa.eu/eli/dir/{1}/{2}/oj",
    ),
    (
        r"^PECR reg\. (\d+)\b",
        "https://www.legislation.gov.uk/uksi/2003/2426/regulation/{1}",
    ),
    (
        r"^(\d+) U\.S\.C\. (\d+[a-z]?(?:-\d+)?)\b",
        "https://uscode.house.gov/view.xhtml?req=granuleid:USC-prelim-title{1}-section{2}",
    ),
    (
        r"^(\d+) CFR (\d+\.\d+)\b",
        "https://www.ecfr.gov/current/title-{1}/section-{2}",
    ),
    (
        r"^(\d+) CFR (?:[Pp]art )?(\d+)\b",
        "https://www.ecfr.gov/current/title-{1}/part-{2}",
    ),
    (
        r"^Cal\. Civ\. Code (1798\.\d+)\b",
        "https://leginfo.legislature.ca.gov/faces/codes_displaySection.xhtml?lawCode=CIV&sectionNum={1}",
    ),
    (r"^RFC (\d+)\b", "https://www.rfc-editor.org/rfc/rfc{1}"),
    (
        r"^(?:CASL|S\.C\. 2010, c\. 23)\b",
        "https://laws-lois.justice.gc.ca/eng/acts/E-1.6/",
    ),
];

static COMPILED: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    SOURCES
        .iter()
        // The patterns are constants checked by `every_source_pattern_compiles`.
        .filter_map(|(pattern, uri)| Regex::new(pattern).ok().map(|re| (re, *uri)))
        .collect()
});

/// The official text a citation points into, when its address can be built
/// from the citation (see the module documentation).
pub fn source_uri(citation: &str) -> Option<String> {
    let citation = citation.trim();
    COMPILED.iter().find_map(|(re, template)| {
        let caps = re.captures(citation)?;
        let mut uri = (*template).to_string();
        for i in 1..caps.len() {
            let group = caps.get(i).map_or("", |m| m.as_str());
            uri = uri.replace(&format!("{{{i}}}"), group);
        }
        Some(uri)
    })
}

#[cfg(test)]
mod tests {
    use super::{instrument, source_uri, COMPILED, SOURCES};

    #[test]
    fn every_source_pattern_compiles() {
        assert_eq!(COMPILED.len(), SOURCES.len());
    }

    #[test]
    fn citations_link_to_their_official_text() {
        for (citation, uri) in [
            ("GDPR Art. 9(1)", Some("https://eur-lex.europa.eu/eli/reg/2016/679/oj")),
            ("UK GDPR Art. 6(1)(f)", Some("https://www.legislation.gov.uk/eur/2016/679/contents")),
            (
                "Regulation (EU) 2022/2065 (DSA) Art. 28(2)",
                Some("https://eur-lex.europa.eu/eli/reg/2022/2065/oj"),
            ),
            (
                "Directive 2002/58/EC (ePrivacy) Art. 13(2)",
                Some("https://eur-lex.europa.eu/eli/dir/2002/58/oj"),
            ),
            (
                "PECR reg. 22(3)",
                Some("https://www.legislation.gov.uk/uksi/2003/2426/regulation/22"),
            ),
            (
                "15 U.S.C. 7704(a)(5)(A)(iii)",
                Some("https://uscode.house.gov/view.xhtml?req=granuleid:USC-prelim-title15-section7704"),
            ),
            (
                "42 U.S.C. 2000e-2(a)",
                Some("https://uscode.house.gov/view.xhtml?req=granuleid:USC-prelim-title42-section2000e-2"),
            ),
            (
                "47 CFR 64.1200(c)(1)",
                Some("https://www.ecfr.gov/current/title-47/section-64.1200"),
            ),
            ("16 CFR 312", Some("https://www.ecfr.gov/current/title-16/part-312")),
            (
                "Cal. Civ. Code 1798.120(c)",
                Some("https://leginfo.legislature.ca.gov/faces/codes_displaySection.xhtml?lawCode=CIV&sectionNum=1798.120"),
            ),
            ("RFC 8058 Section 3.1", Some("https://www.rfc-editor.org/rfc/rfc8058")),
            ("Meta Business Help Center, About audiences", None),
            ("House rule 7", None),
            ("", None),
        ] {
            assert_eq!(source_uri(citation).as_deref(), uri, "{citation}");
        }
    }

    #[test]
    fn groups_the_shipped_citations() {
        for (citation, expected) in [
            ("GDPR Art. 9(1)", "GDPR"),
            ("GDPR Recital 38", "GDPR"),
            ("Regulation (EU) 2022/2065 (DSA) Art. 28(2)", "DSA"),
            ("Directive 2002/58/EC (ePrivacy) Art. 13(1)", "ePrivacy Directive"),
            (
                "Directive 2005/29/EC (Unfair Commercial Practices) Annex I point 26",
                "Unfair Commercial Practices Directive",
            ),
            ("Cal. Civ. Code 1798.120(a)", "CCPA"),
            ("11 CCR 7025(b)", "CCPA"),
            ("15 U.S.C. 7704(a)(5)(A)(iii)", "CAN-SPAM"),
            ("15 U.S.C. 6502(b)(1)(A)(ii)", "COPPA"),
            ("15 U.S.C. 1691(a)(1)", "ECOA"),
            ("42 U.S.C. 3604(c)", "Fair Housing Act"),
            ("RFC 8058 Section 3.1", "RFC 8058"),
            ("RFC 7489", "RFC 7489"),
            (
                "CJEU C-252/21 Meta Platforms v Bundeskartellamt (4 July 2023)",
                "Case law",
            ),
            (
                "National Fair Housing Alliance v. Facebook, Inc. (S.D.N.Y.), settlement of 19 March 2019",
                "Case law",
            ),
            (
                "Google Email sender guidelines, Requirements for sending 5,000 or more messages per day (from 1 February 2024)",
                "Google sender guidelines",
            ),
        ] {
            assert_eq!(instrument(citation), expected, "{citation}");
        }
    }

    #[test]
    fn falls_back_to_generic_patterns() {
        assert_eq!(
            instrument("Regulation (EU) 2024/1689 (AI Act) Art. 5(1)(b)"),
            "AI Act"
        );
        assert_eq!(
            instrument("Regulation (EU) 2024/1689 Art. 5"),
            "Regulation (EU) 2024/1689"
        );
        assert_eq!(instrument("Foo Act Section 3"), "Foo Act");
        assert_eq!(instrument("House rule 7"), "House rule 7");
        assert_eq!(instrument("  "), "");
    }
}
