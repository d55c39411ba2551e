//! The time-zone database every part of scruple uses.
//!
//! It is the IANA database built into the binary, never the system's
//! `/usr/share/zoneinfo`: the same campaign and recipients give the same
//! decisions on every machine, and a process does not walk the system's zone
//! directory on start-up (about 0.7 ms, a tenth of a whole `scruple check`).

use std::sync::LazyLock;

use jiff::tz::{TimeZone, TimeZoneDatabase};

static DATABASE: LazyLock<TimeZoneDatabase> = LazyLock::new(TimeZoneDatabase::bundled);

/// The bundled IANA time-zone database.
pub fn db() -> &'static TimeZoneDatabase {
    &DATABASE
}

/// Looks an IANA zone name (`Europe/Paris`) up in the bundled database.
pub fn get(name: &str) -> Result<TimeZone, jiff::Error> {
    DATABASE.get(name)
}

/// Parses an RFC 9557 timestamp with a zone annotation
/// (`2026-06-01T09:00:00+02:00[Europe/Paris]`) against the bundled database.
pub fn parse_zoned(text: &str) -> Result<jiff::Zoned, jiff::Error> {
    static PARSER: jiff::fmt::temporal::DateTimeParser = jiff::fmt::temporal::DateTimeParser::new();
    PARSER.parse_zoned_with(&DATABASE, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_zones_and_parses_annotated_times() {
        assert!(get("Europe/Paris").is_ok());
        assert!(get("Mars/Olympus_Mons").is_err());
        let zoned = parse_zoned("2026-06-01T09:00:00+02:00[Europe/Paris]").ok();
        assert_eq!(
            zoned.map(|z| z.time_zone().iana_name().map(str::to_owned)),
            Some(Some("Europe/Paris".to_owned()))
        );
    }
}
