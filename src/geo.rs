//! Time zones of jurisdictions, for checking quiet hours when a campaign is
//! scheduled in the sender's zone rather than each recipient's.
//!
//! A jurisdiction maps to every zone its people may live in: `US` to the six
//! main US zones, `US-CA` to `America/Los_Angeles`. Lookup walks up the
//! hierarchy (`EU-FR-75` → `EU-FR`); codes without a country part (`EU`)
//! cover all their members' zones. Unknown codes yield no zone.

/// (jurisdiction, zones). Country codes follow ISO 3166-1 alpha-2, inside
/// `EU-` for EU member states; US states and Canadian provinces by ISO 3166-2.
const ZONES: &[(&str, &[&str])] = &[
    (
        "EU",
        &[
            "Europe/Lisbon",
            "Atlantic/Azores",
            "Europe/Paris",
            "Europe/Helsinki",
        ],
    ),
    ("EU-AT", &["Europe/Vienna"]),
    ("EU-BE", &["Europe/Brussels"]),
    ("EU-BG", &["Europe/Sofia"]),
    ("EU-HR", &["Europe/Zagreb"]),
    ("EU-CY", &["Asia/Nicosia"]),
    ("EU-CZ", &["Europe/Prague"]),
    ("EU-DK", &["Europe/Copenhagen"]),
    ("EU-EE", &["Europe/Tallinn"]),
    ("EU-FI", &["Europe/Helsinki"]),
    ("EU-FR", &["Europe/Paris"]),
    ("EU-DE", &["Europe/Berlin"]),
    ("EU-GR", &["Europe/Athens"]),
    ("EU-HU", &["Europe/Budapest"]),
    ("EU-IE", &["Europe/Dublin"]),
    ("EU-IT", &["Europe/Rome"]),
    ("EU-LV", &["Europe/Riga"]),
    ("EU-LT", &["Europe/Vilnius"]),
    ("EU-LU", &["Europe/Luxembourg"]),
    ("EU-MT", &["Europe/Malta"]),
    ("EU-NL", &["Europe/Amsterdam"]),
    ("EU-PL", &["Europe/Warsaw"]),
    ("EU-PT", &["Europe/Lisbon", "Atlantic/Azores"]),
    ("EU-RO", &["Europe/Bucharest"]),
    ("EU-SK", &["Europe/Bratislava"]),
    ("EU-SI", &["Europe/Ljubljana"]),
    ("EU-ES", &["Europe/Madrid", "Atlantic/Canary"]),
    ("EU-SE", &["Europe/Stockholm"]),
    ("IS", &["Atlantic/Reykjavik"]),
    ("LI", &["Europe/Vaduz"]),
    ("NO", &["Europe/Oslo"]),
    ("CH", &["Europe/Zurich"]),
    ("GB", &["Europe/London"]),
    ("UK", &["Europe/London"]),
    (
        "US",
        &[
            "America/New_York",
            "America/Chicago",
            "America/Denver",
            "America/Phoenix",
            "America/Los_Angeles",
            "America/Anchorage",
            "Pacific/Honolulu",
        ],
    ),
    ("US-AK", &["America/Anchorage"]),
    ("US-AZ", &["America/Phoenix"]),
    ("US-CA", &["America/Los_Angeles"]),
    ("US-CO", &["America/Denver"]),
    ("US-CT", &["America/New_York"]),
    ("US-FL", &["America/New_York", "America/Chicago"]),
    ("US-GA", &["America/New_York"]),
    ("US-HI", &["Pacific/Honolulu"]),
    ("US-IL", &["America/Chicago"]),
    ("US-MA", &["America/New_York"]),
    ("US-NJ", &["America/New_York"]),
    ("US-NV", &["America/Los_Angeles"]),
    ("US-NY", &["America/New_York"]),
    ("US-OR", &["America/Los_Angeles"]),
    ("US-TX", &["America/Chicago", "America/Denver"]),
    ("US-UT", &["America/Denver"]),
    ("US-VA", &["America/New_York"]),
    ("US-WA", &["America/Los_Angeles"]),
    (
        "CA",
        &[
            "America/St_Johns",
            "America/Halifax",
            "America/Toronto",
            "America/Winnipeg",
            "America/Edmonton",
            "America/Vancouver",
        ],
    ),
    ("CA-ON", &["America/Toronto"]),
    ("CA-QC", &["America/Toronto"]),
    ("CA-BC", &["America/Vancouver"]),
    (
        "AU",
        &[
            "Australia/Perth",
            "Australia/Adelaide",
            "Australia/Sydney",
            "Australia/Brisbane",
        ],
    ),
    ("BR", &["America/Sao_Paulo", "America/Manaus"]),
    ("IN", &["Asia/Kolkata"]),
    ("JP", &["Asia/Tokyo"]),
    ("SG", &["Asia/Singapore"]),
    ("NZ", &["Pacific/Auckland"]),
    ("ZA", &["Africa/Johannesburg"]),
    (
        "MX",
        &["America/Mexico_City", "America/Tijuana", "America/Cancun"],
    ),
];

/// The EU member states (ISO 3166-1 alpha-2); inside the hierarchy they are
/// written `EU-FR`, so that a rule for `EU` covers them.
pub const EU_MEMBERS: [&str; 27] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];

/// Why a code is not a jurisdiction, and the code meant if one is near.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotAJurisdiction {
    /// What is wrong with it.
    pub reason: String,
    /// The code in the hierarchy it most likely means.
    pub suggestion: Option<String>,
}

/// The code of `written` in scruple's hierarchy, which policies are written
/// against: `EU` and `EU-FR` (EU members, also accepted as plain ISO 3166-1
/// codes: `FR` is `EU-FR`), any other ISO 3166-1 alpha-2 country (`JP`,
/// `GB`, with `UK` for `GB`), and under a country an ISO 3166-2 subdivision
/// (`US-CA`, `CA-ON`, `EU-FR-75C`), then any deeper parts. Anything else is
/// refused: a code no rule could match would silently turn the law's rules
/// off. `written` is expected in capitals (see [`canonical_suggestion`]).
pub fn canonical(written: &str) -> Result<String, NotAJurisdiction> {
    let mut parts: Vec<&str> = written.split('-').collect();
    if parts.first() == Some(&"EU") {
        match parts.get(1) {
            None => return Ok("EU".to_owned()),
            Some(member) if EU_MEMBERS.contains(member) => {
                parts.remove(0);
            }
            Some(other) => {
                return Err(NotAJurisdiction {
                    reason: format!("`{other}` is not an EU member state"),
                    suggestion: canonical(&parts[1..].join("-")).ok(),
                })
            }
        }
    }
    let Some(&first) = parts.first() else {
        return Err(not_a_country(written));
    };
    let country = if first == "UK" { "GB" } else { first };
    if rust_iso3166::from_alpha2(country).is_none() {
        return Err(not_a_country(first));
    }
    if let Some(sub) = parts.get(1) {
        let code = format!("{country}-{sub}");
        let entry = rust_iso3166::from_alpha2(country);
        let known = entry.as_ref().and_then(|c| c.subdivisions());
        if let Some(known) = known.filter(|k| !k.is_empty()) {
            if rust_iso3166::iso3166_2::from_code(&code).is_none() {
                let codes: Vec<&str> = known.iter().map(|s| s.code).collect();
                let near = crate::diag::did_you_mean(&code, codes.iter().copied())
                    .and_then(|near| canonical(near).ok());
                return Err(NotAJurisdiction {
                    reason: format!("`{code}` is not an ISO 3166-2 subdivision of `{country}`"),
                    suggestion: near,
                });
            }
        }
    }
    let mut out = if EU_MEMBERS.contains(&country) {
        format!("EU-{country}")
    } else {
        country.to_owned()
    };
    for part in &parts[1..] {
        out.push('-');
        out.push_str(part);
    }
    Ok(out)
}

fn not_a_country(code: &str) -> NotAJurisdiction {
    // An alpha-3 code names a country too, just not in the form used here.
    let suggestion = rust_iso3166::from_alpha3(code).and_then(|c| canonical(c.alpha2).ok());
    NotAJurisdiction {
        reason: format!("`{code}` is not an ISO 3166-1 country code, `EU` or `UK`"),
        suggestion,
    }
}

/// The code `written` was probably meant as, whatever its case: `fr` is
/// `EU-FR`, `us-ca` is `US-CA`.
pub fn canonical_suggestion(written: &str) -> Option<String> {
    canonical(&written.to_ascii_uppercase()).ok()
}

/// The zones people in `jurisdiction` may live in (empty when unknown).
pub fn zones_of(jurisdiction: &str) -> &'static [&'static str] {
    let mut probe = jurisdiction;
    loop {
        if let Some((_, zones)) = ZONES.iter().find(|(code, _)| *code == probe) {
            return zones;
        }
        match probe.rsplit_once('-') {
            Some((parent, _)) => probe = parent,
            None => return &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn falls_back_up_the_hierarchy() {
        assert_eq!(zones_of("US-CA"), ["America/Los_Angeles"]);
        assert_eq!(zones_of("EU-FR-75C"), ["Europe/Paris"]);
        assert!(zones_of("US-WY").contains(&"America/Denver"));
        assert!(zones_of("XX").is_empty());
    }

    /// Issue 10 item 14: ISO codes map into the hierarchy, or are refused.
    #[test]
    fn iso_country_codes_map_into_the_hierarchy() {
        assert_eq!(canonical("FR").as_deref(), Ok("EU-FR"));
        assert_eq!(canonical("EU-FR").as_deref(), Ok("EU-FR"));
        assert_eq!(canonical("EU").as_deref(), Ok("EU"));
        assert_eq!(canonical("US-CA").as_deref(), Ok("US-CA"));
        assert_eq!(canonical("CA-ON").as_deref(), Ok("CA-ON"));
        assert_eq!(canonical("UK").as_deref(), Ok("GB"));
        assert_eq!(canonical("GB").as_deref(), Ok("GB"));
        assert_eq!(canonical("JP").as_deref(), Ok("JP"));
        assert_eq!(canonical("FR-75C").as_deref(), Ok("EU-FR-75C"));
        assert_eq!(canonical_suggestion("fr").as_deref(), Some("EU-FR"));
        let xx = canonical("XX").unwrap_err();
        assert_eq!(xx.suggestion, None);
        assert_eq!(
            canonical("FRA").unwrap_err().suggestion.as_deref(),
            Some("EU-FR")
        );
        assert_eq!(
            canonical("US-CX").unwrap_err().suggestion.as_deref(),
            Some("US-CA")
        );
        assert!(canonical("EU-US").is_err());
    }

    #[test]
    fn every_zone_is_in_the_database() {
        for (_, zones) in ZONES {
            for zone in *zones {
                assert!(crate::tz::get(zone).is_ok(), "{zone}");
            }
        }
    }
}
