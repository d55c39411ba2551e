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

#[cfg(test)]
mod tests {
    use super::instrument;

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
