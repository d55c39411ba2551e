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
        assert_eq!(zones_of("EU-FR-75"), ["Europe/Paris"]);
        assert!(zones_of("US-WY").contains(&"America/Denver"));
        assert!(zones_of("XX").is_empty());
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
