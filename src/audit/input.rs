//! Reading the audit's inputs, one record at a time: outcomes (JSON Lines or
//! CSV), protected attributes (JSON Lines or CSV), decision-log lines
//! (JSON Lines) and the send ledger.
//!
//! Every reader hands each record to a callback and keeps nothing, so memory
//! does not grow with the number of rows. A record that cannot be read stops
//! the audit with a coded diagnostic naming the file and line: an audit that
//! skipped rows silently would report rates over a population nobody chose.

use std::borrow::Cow;
use std::io::BufRead;

use serde::Deserialize;

use crate::diag::Diag;
use crate::source::{SourceFile, Span};

/// Format of an input file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line.
    JsonLines,
    /// CSV with a header row.
    Csv,
}

impl Format {
    /// The format a file name implies: `.csv` is CSV, anything else JSON Lines.
    pub fn of_path(path: &str) -> Format {
        if path.to_ascii_lowercase().ends_with(".csv") {
            Format::Csv
        } else {
            Format::JsonLines
        }
    }
}

/// One outcome row: what happened to one recipient of one campaign. A field
/// left out is "not observed" (`None`), which is not the same as `false`:
/// rates are computed over the rows that observed the field.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome<'a> {
    /// Recipient id (or `sha256:<hex>`).
    pub recipient: Cow<'a, str>,
    /// Campaign id.
    pub campaign: Cow<'a, str>,
    /// Channel (`email`, `sms`, …), if given.
    pub channel: Option<Cow<'a, str>>,
    /// Day of the outcome as days since 1970-01-01, if a time was given.
    pub day: Option<i32>,
    /// The message reached the recipient.
    pub delivered: Option<bool>,
    /// Opened.
    pub opened: Option<bool>,
    /// Clicked.
    pub clicked: Option<bool>,
    /// Converted.
    pub converted: Option<bool>,
    /// The offer (credit line, price, job ad…) was made to the recipient.
    pub offer_made: Option<bool>,
    /// Unsubscribed (opted out) after this message.
    pub unsubscribed: Option<bool>,
    /// Complained (marked as spam, feedback-loop report).
    pub complained: Option<bool>,
    /// Ground-truth label for equal opportunity: the recipient qualified
    /// for the offer (for example met the lender's criteria).
    pub qualified: Option<bool>,
    /// The offer's category (`credit`, `housing`, `employment`…), which
    /// `require parity … for offers in […]` is limited to.
    pub category: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomeJson<'a> {
    #[serde(borrow)]
    recipient: Cow<'a, str>,
    #[serde(borrow)]
    campaign: Cow<'a, str>,
    #[serde(borrow, default)]
    channel: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    time: Option<Cow<'a, str>>,
    #[serde(default)]
    delivered: Option<bool>,
    #[serde(default)]
    opened: Option<bool>,
    #[serde(default)]
    clicked: Option<bool>,
    #[serde(default)]
    converted: Option<bool>,
    #[serde(default)]
    offer_made: Option<bool>,
    #[serde(default)]
    unsubscribed: Option<bool>,
    #[serde(default)]
    complained: Option<bool>,
    #[serde(default)]
    qualified: Option<bool>,
    #[serde(borrow, default)]
    category: Option<Cow<'a, str>>,
}

/// The fields an outcome row may have.
pub const OUTCOME_FIELDS: &[&str] = &[
    "recipient",
    "campaign",
    "channel",
    "time",
    "delivered",
    "opened",
    "clicked",
    "converted",
    "offer_made",
    "unsubscribed",
    "complained",
    "qualified",
    "category",
];

/// Where a bad record is: file name, 1-based line, the line's text.
pub fn bad_record(code: &str, name: &str, line: u64, text: &str, message: &str) -> Diag {
    let text: String = text.chars().take(300).collect();
    let source = SourceFile::new(format!("{name}:{line}"), text.clone());
    let diag = Diag::error(
        format!("scruple::audit::{code}"),
        format!("{name}, line {line}: {message}"),
    );
    if text.is_empty() {
        diag
    } else {
        diag.with_label(&source, Span::new(0, text.len()), "this record")
    }
}

/// An error result: diagnostics are boxed, as they are large and rare.
pub fn fail<T>(diag: Diag) -> Result<T, Box<Diag>> {
    Err(Box::new(diag))
}

/// Days since 1970-01-01 of an RFC 3339 time, a civil date or Unix seconds.
pub fn day_of(text: &str) -> Option<i32> {
    let text = text.trim();
    if let Some(day) = fast_day(text) {
        return Some(day);
    }
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Some(ts.as_second().div_euclid(86_400) as i32);
    }
    if let Ok(date) = text.parse::<jiff::civil::Date>() {
        let epoch = jiff::civil::date(1970, 1, 1);
        return Some(epoch.until(date).ok()?.get_days());
    }
    if let Ok(secs) = text.parse::<i64>() {
        return i32::try_from(secs.div_euclid(86_400)).ok();
    }
    None
}

/// The two common forms, `2026-11-23` and `2026-11-23T10:00:00Z` (UTC,
/// optional fraction), without going through a general parser: the day is
/// read off the date. Anything else (offsets, odd forms, invalid dates)
/// returns `None` and takes the general path.
fn fast_day(text: &str) -> Option<i32> {
    let b = text.as_bytes();
    let utc_time = b.len() >= 20
        && b[10] == b'T'
        && b[b.len() - 1] == b'Z'
        && b[13] == b':'
        && b[16] == b':'
        && b[11..13]
            .iter()
            .chain(&b[14..16])
            .chain(&b[17..19])
            .all(u8::is_ascii_digit);
    if !(b.len() == 10 || utc_time) || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        b[r].iter().try_fold(0i64, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    // Check the date exists (jiff knows the calendar), then count days
    // with the civil-from-days inverse (Howard Hinnant's algorithm).
    jiff::civil::Date::new(y as i16, m as i8, d as i8).ok()?;
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    i32::try_from(era * 146_097 + doe - 719_468).ok()
}

fn csv_bool(text: &str) -> Result<Option<bool>, ()> {
    let t = text.trim();
    let is = |w: &str| t.eq_ignore_ascii_case(w);
    if t.is_empty() {
        Ok(None)
    } else if t == "1" || is("true") || is("yes") || is("y") {
        Ok(Some(true))
    } else if t == "0" || is("false") || is("no") || is("n") {
        Ok(Some(false))
    } else {
        Err(())
    }
}

/// Streams outcome rows to `each`. Stops at the first bad record.
pub fn read_outcomes(
    reader: impl BufRead,
    format: Format,
    name: &str,
    mut each: impl FnMut(&Outcome<'_>),
) -> Result<u64, Box<Diag>> {
    match format {
        Format::JsonLines => {
            let mut rows = 0;
            for_each_line(reader, name, |line, text| {
                let row: OutcomeJson<'_> = serde_json::from_str(text).map_err(|e| {
                    bad_record("bad_outcome", name, line, text, &e.to_string()).with_help(format!(
                        "an outcome is a JSON object with `recipient` and `campaign` (strings) and any of: {}",
                        OUTCOME_FIELDS[2..].join(", ")
                    ))
                })?;
                let day = match &row.time {
                    Some(t) => Some(day_of(t).ok_or_else(|| {
                        bad_record(
                            "bad_time",
                            name,
                            line,
                            text,
                            &format!("`{t}` is not a time"),
                        )
                        .with_help("write an RFC 3339 time, a date (2026-11-23) or Unix seconds")
                    })?),
                    None => None,
                };
                rows += 1;
                each(&Outcome {
                    recipient: row.recipient,
                    campaign: row.campaign,
                    channel: row.channel,
                    day,
                    delivered: row.delivered,
                    opened: row.opened,
                    clicked: row.clicked,
                    converted: row.converted,
                    offer_made: row.offer_made,
                    unsubscribed: row.unsubscribed,
                    complained: row.complained,
                    qualified: row.qualified,
                    category: row.category.filter(|c| !c.is_empty()),
                });
                Ok(())
            })?;
            Ok(rows)
        }
        Format::Csv => {
            let mut csv = csv::ReaderBuilder::new().from_reader(reader);
            let headers = csv
                .byte_headers()
                .map_err(|e| bad_record("bad_outcome", name, 1, "", &e.to_string()))?
                .clone();
            let mut columns = [usize::MAX; 13];
            for (i, h) in headers.iter().enumerate() {
                let h = String::from_utf8_lossy(h);
                let h = h.trim().trim_start_matches('\u{feff}');
                match OUTCOME_FIELDS.iter().position(|f| *f == h) {
                    Some(f) => columns[f] = i,
                    None => {
                        let mut d = bad_record(
                            "unknown_field",
                            name,
                            1,
                            "",
                            &format!("unknown column `{h}`"),
                        )
                        .with_help(format!("outcome columns: {}", OUTCOME_FIELDS.join(", ")));
                        if let Some(m) =
                            crate::diag::did_you_mean(h, OUTCOME_FIELDS.iter().copied())
                        {
                            d = d.with_note(format!("did you mean `{m}`?"));
                        }
                        return fail(d);
                    }
                }
            }
            for (f, field) in OUTCOME_FIELDS.iter().enumerate().take(2) {
                if columns[f] == usize::MAX {
                    return fail(
                        bad_record(
                            "missing_field",
                            name,
                            1,
                            "",
                            &format!("no `{field}` column"),
                        )
                        .with_help("outcomes need `recipient` and `campaign` columns"),
                    );
                }
            }
            let mut record = csv::ByteRecord::new();
            let mut rows = 0;
            loop {
                let line = rows + 2;
                match csv.read_byte_record(&mut record) {
                    Ok(false) => break,
                    Ok(true) => {}
                    Err(e) => {
                        return fail(bad_record("bad_outcome", name, line, "", &e.to_string()))
                    }
                }
                let text = |f: usize| -> Option<Result<&str, ()>> {
                    let c = columns[f];
                    (c != usize::MAX).then(|| {
                        record
                            .get(c)
                            .map_or(Ok(""), |b| std::str::from_utf8(b).map_err(|_| ()))
                    })
                };
                let bad = |what: &str| {
                    let raw = String::from_utf8_lossy(record.as_slice()).into_owned();
                    bad_record("bad_outcome", name, line, &raw, what)
                };
                let string = |f: usize| -> Result<Option<&str>, Box<Diag>> {
                    match text(f) {
                        None => Ok(None),
                        Some(Ok(t)) => Ok(Some(t)),
                        Some(Err(())) => {
                            fail(bad(&format!("`{}` is not UTF-8", OUTCOME_FIELDS[f])))
                        }
                    }
                };
                let flag = |f: usize| -> Result<Option<bool>, Box<Diag>> {
                    match string(f)? {
                        None => Ok(None),
                        Some(t) => csv_bool(t).map_err(|()| {
                            Box::new(
                                bad(&format!(
                                    "`{}` is `{t}`, not a yes/no value",
                                    OUTCOME_FIELDS[f]
                                ))
                                .with_help("write true/false, 1/0 or yes/no (empty: not observed)"),
                            )
                        }),
                    }
                };
                let recipient = string(0)?.unwrap_or_default();
                let campaign = string(1)?.unwrap_or_default();
                if recipient.is_empty() || campaign.is_empty() {
                    return fail(bad("`recipient` and `campaign` must not be empty"));
                }
                let day = match string(3)? {
                    None | Some("") => None,
                    Some(t) => Some(day_of(t).ok_or_else(|| {
                        bad(&format!("`{t}` is not a time")).with_help(
                            "write an RFC 3339 time, a date (2026-11-23) or Unix seconds",
                        )
                    })?),
                };
                let outcome = Outcome {
                    recipient: Cow::Borrowed(recipient),
                    campaign: Cow::Borrowed(campaign),
                    channel: string(2)?.filter(|c| !c.is_empty()).map(Cow::Borrowed),
                    day,
                    delivered: flag(4)?,
                    opened: flag(5)?,
                    clicked: flag(6)?,
                    converted: flag(7)?,
                    offer_made: flag(8)?,
                    unsubscribed: flag(9)?,
                    complained: flag(10)?,
                    qualified: flag(11)?,
                    category: string(12)?.filter(|c| !c.is_empty()).map(Cow::Borrowed),
                };
                rows += 1;
                each(&outcome);
            }
            Ok(rows)
        }
    }
}

/// Streams protected-attribute records: `each(line, recipient, [(name,
/// value)])`, with `None` for an unknown value (empty or null).
pub fn read_attributes(
    reader: impl BufRead,
    format: Format,
    name: &str,
    mut each: impl FnMut(u64, &str, &[(&str, Option<&str>)]) -> Result<(), Box<Diag>>,
) -> Result<(), Box<Diag>> {
    match format {
        Format::JsonLines => for_each_line(reader, name, |line, text| {
            let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
                .map_err(|e| bad_record("bad_attributes", name, line, text, &e.to_string()))?;
            let Some(serde_json::Value::String(recipient)) = object.get("recipient") else {
                return fail(
                    bad_record("bad_attributes", name, line, text, "no `recipient` string")
                        .with_help(
                            "each record is {\"recipient\": ID, \"gender\": …, \"age_band\": …}",
                        ),
                );
            };
            let mut values = Vec::with_capacity(object.len());
            for (key, value) in &object {
                if key == "recipient" {
                    continue;
                }
                let value = match value {
                    serde_json::Value::Null => None,
                    serde_json::Value::String(s) if s.is_empty() => None,
                    serde_json::Value::String(s) => Some(s.as_str()),
                    other => {
                        return fail(bad_record(
                            "bad_attributes",
                            name,
                            line,
                            text,
                            &format!("`{key}` is {other}, not a string"),
                        )
                        .with_help("write each protected attribute as a string group name (\"40-59\", \"f\"), or null when unknown"))
                    }
                };
                values.push((key.as_str(), value));
            }
            each(line, recipient, &values)
        }),
        Format::Csv => {
            let mut csv = csv::ReaderBuilder::new().from_reader(reader);
            let headers = csv
                .headers()
                .map_err(|e| bad_record("bad_attributes", name, 1, "", &e.to_string()))?
                .clone();
            let names: Vec<&str> = headers
                .iter()
                .map(|h| h.trim().trim_start_matches('\u{feff}'))
                .collect();
            let Some(id) = names.iter().position(|h| *h == "recipient") else {
                return fail(bad_record("missing_field", name, 1, "", "no `recipient` column")
                    .with_help("the first row names the columns: recipient, then one column per protected attribute"));
            };
            let mut record = csv::StringRecord::new();
            let mut line = 1;
            loop {
                line += 1;
                match csv.read_record(&mut record) {
                    Ok(false) => return Ok(()),
                    Ok(true) => {}
                    Err(e) => {
                        return fail(bad_record("bad_attributes", name, line, "", &e.to_string()))
                    }
                }
                let mut values = Vec::with_capacity(names.len());
                for (i, value) in record.iter().enumerate() {
                    if i != id {
                        let value = value.trim();
                        values.push((
                            names.get(i).copied().unwrap_or(""),
                            (!value.is_empty()).then_some(value),
                        ));
                    }
                }
                each(line, record.get(id).unwrap_or(""), &values)?;
            }
        }
    }
}

/// One decision-log line (the fields the audit needs; others are ignored).
#[derive(Deserialize)]
pub struct DecisionLine<'a> {
    /// The campaign (absent in `scruple gate` output: see `--campaign`).
    #[serde(borrow, default)]
    pub campaign: Option<Cow<'a, str>>,
    /// The recipient; `null` for a record the gate could not read.
    #[serde(borrow, default)]
    pub recipient: Option<Cow<'a, str>>,
    /// `allow` or `suppress`.
    #[serde(borrow)]
    pub decision: Cow<'a, str>,
}

/// Streams decision lines (the decision log of `scruple serve`, or the
/// output of `scruple gate`) to `each(line, decision)`.
pub fn read_decisions(
    reader: impl BufRead,
    name: &str,
    mut each: impl FnMut(u64, &str, &DecisionLine<'_>) -> Result<(), Box<Diag>>,
) -> Result<(), Box<Diag>> {
    for_each_line(reader, name, |line, text| {
        let d: DecisionLine<'_> = serde_json::from_str(text).map_err(|e| {
            bad_record("bad_decision", name, line, text, &e.to_string())
                .with_help("the decision log of `scruple serve --decision-log`, or the output of `scruple gate`")
        })?;
        if d.decision != "allow" && d.decision != "suppress" {
            return fail(bad_record(
                "bad_decision",
                name,
                line,
                text,
                &format!(
                    "decision `{}` is neither `allow` nor `suppress`",
                    d.decision
                ),
            ));
        }
        each(line, text, &d)
    })
}

/// Calls `each(line number, text)` for every non-blank line, reusing one
/// buffer; a line that is not UTF-8 is a coded error.
fn for_each_line(
    mut reader: impl BufRead,
    name: &str,
    mut each: impl FnMut(u64, &str) -> Result<(), Box<Diag>>,
) -> Result<(), Box<Diag>> {
    let mut buffer = Vec::with_capacity(256);
    let mut line = 0u64;
    loop {
        buffer.clear();
        let read = reader
            .read_until(b'\n', &mut buffer)
            .map_err(|e| Diag::error("scruple::audit::read", format!("cannot read {name}: {e}")))?;
        if read == 0 {
            return Ok(());
        }
        line += 1;
        let bytes = if line == 1 {
            buffer
                .strip_prefix("\u{feff}".as_bytes())
                .unwrap_or(&buffer)
        } else {
            &buffer[..]
        };
        let Ok(text) = std::str::from_utf8(bytes) else {
            return fail(bad_record(
                "not_utf8",
                name,
                line,
                "",
                "the line is not UTF-8",
            ));
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        each(line, text)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_path_agrees_with_jiff() {
        for text in [
            "1970-01-01",
            "2000-02-29",
            "2026-11-23",
            "1969-12-31",
            "2400-12-31T23:59:59Z",
            "2026-03-01T00:00:00.125Z",
            "1600-03-01",
        ] {
            let slow = match text.parse::<jiff::Timestamp>() {
                Ok(ts) => ts.as_second().div_euclid(86_400) as i32,
                Err(_) => {
                    let date: jiff::civil::Date = text.parse().unwrap_or_default();
                    jiff::civil::date(1970, 1, 1)
                        .until(date)
                        .map(|s| s.get_days())
                        .unwrap_or(i32::MIN)
                }
            };
            assert_eq!(fast_day(text), Some(slow), "{text}");
        }
        // Not a real date, or an offset: the general path decides.
        assert_eq!(fast_day("2026-02-30"), None);
        assert_eq!(fast_day("2026-11-23T23:30:00-05:00"), None);
        assert_eq!(day_of("2026-11-23T23:30:00-05:00"), day_of("2026-11-24"));
        assert_eq!(day_of("2026-02-30"), None);
    }

    #[test]
    fn days_of_times_dates_and_seconds() {
        assert_eq!(day_of("1970-01-02"), Some(1));
        assert_eq!(day_of("1970-01-02T23:59:59Z"), Some(1));
        assert_eq!(day_of("86400"), Some(1));
        assert_eq!(day_of("yesterday"), None);
    }

    #[test]
    fn csv_and_json_outcomes_read_alike() {
        let csv = "recipient,campaign,delivered,complained\nr1,c1,yes,\n";
        let json = "{\"recipient\":\"r1\",\"campaign\":\"c1\",\"delivered\":true}\n";
        let mut a = Vec::new();
        let mut b = Vec::new();
        let n = read_outcomes(csv.as_bytes(), Format::Csv, "o.csv", |o| {
            a.push(format!("{o:?}"))
        });
        assert_eq!(n.ok(), Some(1));
        let n = read_outcomes(json.as_bytes(), Format::JsonLines, "o.jsonl", |o| {
            b.push(format!("{o:?}"))
        });
        assert_eq!(n.ok(), Some(1));
        assert_eq!(a, b);
    }

    #[test]
    fn a_misspelt_column_is_an_error_with_a_suggestion() {
        let csv = "recipient,campaign,unsubscibed\n";
        let e = read_outcomes(csv.as_bytes(), Format::Csv, "o.csv", |_| {}).err();
        let e = e.map(|d| (d.code, d.notes)).unwrap_or_default();
        assert_eq!(e.0, "scruple::audit::unknown_field");
        assert_eq!(e.1, vec!["did you mean `unsubscribed`?".to_string()]);
    }

    #[test]
    fn a_bad_flag_names_its_line() {
        let csv = "recipient,campaign,delivered\nr1,c1,maybe\n";
        let e = read_outcomes(csv.as_bytes(), Format::Csv, "o.csv", |_| {}).err();
        assert!(e.is_some_and(|d| d.message.starts_with("o.csv, line 2:")));
    }
}
