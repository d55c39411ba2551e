//! Recipient records (documented in `docs/recipients.md`, schema in
//! `schemas/recipient.schema.json`): one JSON object per line, or one CSV row.
//!
//! JSON is deserialized straight into borrowed fields (`Cow` falls back to an
//! owned string only when the text has escapes), so no generic JSON tree is
//! built per record. Unknown keys are errors: a misspelt opt-out must never
//! let a message through.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// JSON Schema of a recipient record (`scruple schema recipient`).
pub const RECIPIENT_SCHEMA: &str = include_str!("../../schemas/recipient.schema.json");

use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::Deserialize;

use super::OPT_OUTS;

/// One recipient of a send.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipient<'a> {
    /// Stable identifier (required).
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// Jurisdiction code such as `EU-FR` or `US-CA`.
    #[serde(borrow, default)]
    pub jurisdiction: Option<Cow<'a, str>>,
    /// IANA time zone such as `Europe/Paris`.
    #[serde(borrow, default)]
    pub timezone: Option<Cow<'a, str>>,
    /// Age in years.
    #[serde(default)]
    pub age: Option<u32>,
    /// Birth date (`YYYY-MM-DD`), used when `age` is absent.
    #[serde(borrow, default)]
    pub birth_date: Option<Cow<'a, str>>,
    /// Consent per purpose.
    #[serde(borrow, default, deserialize_with = "consents")]
    pub consents: Vec<(Cow<'a, str>, ConsentRecord<'a>)>,
    /// Opt-outs.
    #[serde(default, deserialize_with = "opt_outs_object")]
    pub opt_outs: OptOuts,
    /// Attributes the campaign targets this recipient on; only the names
    /// are read (checked against `forbid targeting` rules), values are skipped.
    #[serde(borrow, default)]
    pub attributes: AttributeNames<'a>,
    /// IAB TCF v2 TC string, as the CMP produced it (decoded by the gate).
    #[serde(borrow, default)]
    pub tcf: Option<Cow<'a, str>>,
    /// IAB GPP string (US sections read through [`crate::signals::gpp_us_privacy`]).
    #[serde(borrow, default)]
    pub gpp: Option<Cow<'a, str>>,
    /// Global Privacy Control (`Sec-GPC: 1`) received from the person's
    /// browser: an opt-out of sale and sharing, like `opt_outs.gpc`.
    #[serde(default)]
    pub gpc: Option<bool>,
}

/// The keys of the `attributes` object (values are skipped unparsed).
#[derive(Debug, Default, Clone)]
pub struct AttributeNames<'a>(pub Vec<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for AttributeNames<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> Visitor<'de> for Keys {
            type Value = AttributeNames<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of attribute names and values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    map.next_value::<de::IgnoredAny>()?;
                    out.push(key);
                }
                Ok(AttributeNames(out))
            }
        }
        deserializer.deserialize_map(Keys)
    }
}

/// Consent for one purpose.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentRecord<'a> {
    /// When it was given (RFC 3339 time or date).
    #[serde(borrow, default)]
    pub granted_at: Option<Cow<'a, str>>,
    /// When it was withdrawn, if it was.
    #[serde(borrow, default)]
    pub withdrawn_at: Option<Cow<'a, str>>,
    /// How it was collected (`double_opt_in`, `checkout`, …).
    #[serde(borrow, default)]
    pub source: Option<Cow<'a, str>>,
    /// A signed written agreement (an E-SIGN signature counts): the TCPA's
    /// prior express written consent (47 CFR 64.1200(f)(9)).
    #[serde(default)]
    pub written: Option<bool>,
    /// Who gave it, for a minor: the person (`self`) or a parent or
    /// guardian (`parent`); CCPA 1798.120(c), 11 CCR 7070-7071.
    #[serde(default)]
    pub authorised_by: Option<AuthorisedBy>,
}

/// Who authorised a consent (`authorised_by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum AuthorisedBy {
    /// The person themselves (`self`).
    #[serde(rename = "self")]
    Person,
    /// A parent or guardian (`parent`).
    #[serde(rename = "parent")]
    Parent,
}

/// Opt-outs the recipient expressed.
#[derive(Debug, Default, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OptOuts {
    /// Unsubscribed from marketing.
    #[serde(default)]
    pub unsubscribed: bool,
    /// Objected to direct marketing (GDPR Art. 21(2)).
    #[serde(default)]
    pub objected: bool,
    /// Sent a Global Privacy Control signal (opt-out of sale/sharing).
    #[serde(default)]
    pub gpc: bool,
    /// Asked to limit the use of sensitive personal information (CCPA 1798.121).
    #[serde(default)]
    pub limit_sensitive: bool,
    /// When the recipient unsubscribed: suppressed from then on (with
    /// `unsubscribed: false` too, since a doubt must not let a message
    /// through), and the reason names each law's processing deadline.
    #[serde(default)]
    pub unsubscribed_at: Option<OptOutTime>,
    /// When the recipient objected to direct marketing (GDPR Art. 21(2)).
    #[serde(default)]
    pub objected_at: Option<OptOutTime>,
}

/// The time of an opt-out, in seconds since the epoch (read from an RFC
/// 3339 time or a date, as consent times are).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptOutTime(pub i64);

impl<'de> Deserialize<'de> for OptOutTime {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <Cow<'de, str>>::deserialize(deserializer)?;
        super::parse_time_seconds(&text)
            .map(OptOutTime)
            .map_err(de::Error::custom)
    }
}

impl OptOuts {
    /// The opt-out named as in campaign `audience.suppressions`.
    pub fn get(&self, name: &str) -> Option<bool> {
        match name {
            "unsubscribed" => Some(self.unsubscribed),
            "objected" => Some(self.objected),
            "gpc" => Some(self.gpc),
            "limit_sensitive" => Some(self.limit_sensitive),
            _ => None,
        }
    }

    /// When the opt-out named as in `audience.suppressions` was recorded,
    /// if the record says (`unsubscribed_at`, `objected_at`).
    pub fn since(&self, name: &str) -> Option<i64> {
        match name {
            "unsubscribed" => self.unsubscribed_at.map(|t| t.0),
            "objected" => self.objected_at.map(|t| t.0),
            _ => None,
        }
    }
}

/// Reads the `consents` map into a vector (a handful of purposes: a linear
/// scan beats hashing, and keeps the record allocation-light).
fn consents<'de, D>(deserializer: D) -> Result<Vec<(Cow<'de, str>, ConsentRecord<'de>)>, D::Error>
where
    D: de::Deserializer<'de>,
{
    struct ConsentMap;
    impl<'de> Visitor<'de> for ConsentMap {
        type Value = Vec<(Cow<'de, str>, ConsentRecord<'de>)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map from purpose to {granted_at, withdrawn_at, source}")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            let mut seen = SeenKeys::new();
            while let Some(Text(k)) = map.next_key::<Text<'de>>()? {
                if !seen.insert(k.clone()) {
                    return Err(duplicate_purpose(&k));
                }
                let v = map.next_value_seed(ObjectOnly::<ConsentRecord<'de>>::new(
                    "struct ConsentRecord",
                ))?;
                out.push((k, v));
            }
            Ok(out)
        }
    }
    deserializer.deserialize_map(ConsentMap)
}

/// The error for a purpose named twice in one `consents` object: which of
/// the two records holds would be a guess (the last one, silently, for serde).
pub(super) fn duplicate_purpose<E: de::Error>(purpose: &str) -> E {
    E::custom(format_args!(
        "purpose `{purpose}` appears twice in `consents`"
    ))
}

/// Keys of one JSON object read so far, to refuse a duplicate: the first
/// few inline (an object rarely has more, and a record must not allocate),
/// the rest in a hash set, so an object of any size is checked in linear time.
pub(super) struct SeenKeys<'de> {
    inline: [Option<Cow<'de, str>>; SeenKeys::INLINE],
    more: Option<HashSet<Cow<'de, str>>>,
}

impl<'de> SeenKeys<'de> {
    const INLINE: usize = 8;

    /// No key seen.
    pub(super) fn new() -> Self {
        SeenKeys {
            inline: Default::default(),
            more: None,
        }
    }

    /// Adds `key`; false when it was already there.
    pub(super) fn insert(&mut self, key: Cow<'de, str>) -> bool {
        if let Some(more) = &mut self.more {
            return more.insert(key);
        }
        for slot in &mut self.inline {
            match slot {
                Some(k) if *k == key => return false,
                Some(_) => {}
                None => {
                    *slot = Some(key);
                    return true;
                }
            }
        }
        let mut more: HashSet<Cow<'de, str>> =
            self.inline.iter_mut().filter_map(Option::take).collect();
        let fresh = more.insert(key);
        self.more = Some(more);
        fresh
    }
}

/// A string borrowed from the line when it has no escapes (serde's own
/// `Cow<str>` always copies).
pub(super) struct Text<'de>(pub(super) Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// The `id` of a JSON Lines record that did not parse, when it can still be
/// read: the first `id` key of the top-level object with a string value,
/// before any syntax error. Reported with the bad record, so that it can be
/// traced to its recipient.
pub fn readable_id(line: &str) -> Option<Cow<'_, str>> {
    struct IdProbe<'c, 'de> {
        id: &'c mut Option<Cow<'de, str>>,
    }
    impl<'de> DeserializeSeed<'de> for IdProbe<'_, 'de> {
        type Value = ();
        fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
            deserializer.deserialize_map(self)
        }
    }
    impl<'de> Visitor<'de> for IdProbe<'_, 'de> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
                if key == "id" && self.id.is_none() {
                    // Stored as soon as read: a later error keeps it.
                    *self.id = Some(map.next_value::<Text<'de>>()?.0);
                } else {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
            Ok(())
        }
    }
    let mut id = None;
    let mut deserializer = serde_json::Deserializer::from_str(line);
    // The error is the record's own, already reported: only the id matters.
    let _ = IdProbe { id: &mut id }.deserialize(&mut deserializer);
    id
}

/// Parses one JSON Lines record.
pub fn from_json(line: &str) -> Result<Recipient<'_>, String> {
    let mut deserializer = serde_json::Deserializer::from_str(line);
    ObjectOnly::<Recipient<'_>>::new("struct Recipient")
        .deserialize(&mut deserializer)
        .and_then(|record| deserializer.end().map(|()| record))
        .map_err(|e| e.to_string())
}

fn opt_outs_object<'de, D: de::Deserializer<'de>>(deserializer: D) -> Result<OptOuts, D::Error> {
    ObjectOnly::new("struct OptOuts").deserialize(deserializer)
}

/// Reads a derived struct from a JSON object only. serde's derived structs
/// also accept an array, fields by position (`["r-1"]` would be a record,
/// `["2026-06-01"]` a consent), which the record format and its schema do
/// not allow. `expecting` is the derived text (`struct Recipient`), so the
/// error for anything else reads as before.
pub(super) struct ObjectOnly<T> {
    expecting: &'static str,
    marker: PhantomData<T>,
}

impl<T> ObjectOnly<T> {
    /// A seed for `T`, saying "expected {expecting}" on anything but an object.
    pub(super) const fn new(expecting: &'static str) -> Self {
        ObjectOnly {
            expecting,
            marker: PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for ObjectOnly<T> {
    type Value = T;
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectOnly<T> {
    type Value = T;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map))
    }
}

/// The columns of one purpose's consent: `consent:`, `withdrawn:`,
/// `source:`, `written:` and `authorised_by:`.
#[derive(Debug, Default)]
struct ConsentColumns {
    purpose: String,
    /// Index of each column, in that order.
    columns: [Option<usize>; 5],
}

/// Column layout of a CSV file, found from its header row.
///
/// Known columns: `id`, `jurisdiction`, `timezone`, `age`, `birth_date`,
/// `unsubscribed`, `objected`, `gpc`, `limit_sensitive`, `unsubscribed_at`,
/// `objected_at`, `tcf`, `gpp`, and per purpose
/// `consent:<purpose>` (granted time), `withdrawn:<purpose>`,
/// `source:<purpose>`, `written:<purpose>` and `authorised_by:<purpose>`. Attributes are declared with `attr:<name>`. Any
/// other column, and any column named twice, makes the header unusable: a
/// misspelt opt-out taken for an attribute, or the second of two
/// `unsubscribed` columns, would let a message through.
#[derive(Debug, Default)]
pub struct CsvLayout {
    id: Option<usize>,
    jurisdiction: Option<usize>,
    timezone: Option<usize>,
    age: Option<usize>,
    birth_date: Option<usize>,
    opt_outs: Vec<(usize, &'static str)>,
    /// `unsubscribed_at` and `objected_at`.
    opt_out_times: [Option<usize>; 2],
    consents: Vec<ConsentColumns>,
    attributes: Vec<(usize, String)>,
    tcf: Option<usize>,
    gpp: Option<usize>,
    /// Number of columns: every row must have as many.
    width: usize,
}

/// The plain (unprefixed) CSV columns.
const CSV_COLUMNS: [&str; 13] = [
    "id",
    "jurisdiction",
    "timezone",
    "age",
    "birth_date",
    "unsubscribed",
    "objected",
    "gpc",
    "limit_sensitive",
    "unsubscribed_at",
    "objected_at",
    "tcf",
    "gpp",
];

/// The CSV column prefixes: per purpose, and for attributes.
const CSV_PREFIXES: [&str; 6] = [
    "consent:",
    "withdrawn:",
    "source:",
    "written:",
    "authorised_by:",
    "attr:",
];

impl CsvLayout {
    /// Reads the header row. Errors (naming the column) when there is no
    /// `id` column, when a column is named twice, or when a column is not
    /// one of the known ones nor declared as an attribute (`attr:`).
    /// Linear in the number of columns.
    pub fn new(headers: &csv::StringRecord) -> Result<CsvLayout, String> {
        let mut layout = CsvLayout {
            width: headers.len(),
            ..CsvLayout::default()
        };
        // Column name (prefixed names with the part after the prefix
        // trimmed) → its 1-based number, to name both of a duplicate.
        let mut seen: HashMap<String, usize> = HashMap::with_capacity(headers.len());
        // Purpose → its index in `layout.consents`.
        let mut purposes: HashMap<&str, usize> = HashMap::new();
        for (i, raw) in headers.iter().enumerate() {
            let name = raw.trim();
            let prefixed = CSV_PREFIXES.iter().find_map(|prefix| {
                let rest = name.strip_prefix(prefix)?.trim();
                Some((*prefix, rest)).filter(|_| !rest.is_empty())
            });
            let key = match prefixed {
                Some((prefix, rest)) => format!("{prefix}{rest}"),
                None => name.to_string(),
            };
            if let Some(first) = seen.insert(key, i + 1) {
                return Err(format!(
                    "column `{name}` is named twice (columns {first} and {}); a column may appear only once",
                    i + 1
                ));
            }
            let column = match name {
                "id" => &mut layout.id,
                "jurisdiction" => &mut layout.jurisdiction,
                "timezone" => &mut layout.timezone,
                "age" => &mut layout.age,
                "birth_date" => &mut layout.birth_date,
                "unsubscribed_at" => &mut layout.opt_out_times[0],
                "objected_at" => &mut layout.opt_out_times[1],
                "tcf" => &mut layout.tcf,
                "gpp" => &mut layout.gpp,
                _ => {
                    if let Some(known) = OPT_OUTS.iter().find(|o| **o == name) {
                        layout.opt_outs.push((i, *known));
                        continue;
                    }
                    let Some((prefix, rest)) = prefixed else {
                        return Err(unknown_column(name, i + 1));
                    };
                    layout.prefixed(i, prefix, rest, &mut purposes);
                    continue;
                }
            };
            *column = Some(i);
        }
        if layout.id.is_none() {
            return Err("the header row has no `id` column".into());
        }
        Ok(layout)
    }

    /// Places a `consent:`, `withdrawn:`, `source:` or `attr:` column.
    fn prefixed<'h>(
        &mut self,
        i: usize,
        prefix: &str,
        rest: &'h str,
        purposes: &mut HashMap<&'h str, usize>,
    ) {
        let slot = match prefix {
            "consent:" => 0,
            "withdrawn:" => 1,
            "source:" => 2,
            "written:" => 3,
            "authorised_by:" => 4,
            _ => {
                self.attributes.push((i, rest.to_string()));
                return;
            }
        };
        let consents = &mut self.consents;
        let index = *purposes.entry(rest).or_insert_with(|| {
            consents.push(ConsentColumns {
                purpose: rest.to_string(),
                columns: [None; 5],
            });
            consents.len() - 1
        });
        consents[index].columns[slot] = Some(i);
    }

    /// The row's `id`, when it has one: reported with a row that is bad.
    pub fn id_of<'r>(&self, row: &'r csv::StringRecord) -> Option<&'r str> {
        self.id
            .and_then(|i| row.get(i))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// Builds a recipient from one row.
    pub fn recipient<'r>(&self, row: &'r csv::StringRecord) -> Result<Recipient<'r>, String> {
        if row.len() != self.width {
            return Err(format!(
                "the row has {} fields, the header {}",
                row.len(),
                self.width
            ));
        }
        let text = |col: Option<usize>| -> Option<Cow<'r, str>> {
            col.and_then(|i| row.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(Cow::Borrowed)
        };
        let id = text(self.id).ok_or("the `id` column is empty")?;
        let age = match text(self.age) {
            Some(a) => Some(
                a.parse::<u32>()
                    .map_err(|_| format!("`age` is not a whole number: `{a}`"))?,
            ),
            None => None,
        };
        let mut opt_outs = OptOuts::default();
        let mut gpc = None;
        for (i, name) in &self.opt_outs {
            let value = match row.get(*i).map(str::trim).unwrap_or("") {
                "" | "false" | "0" | "no" | "n" => false,
                "true" | "1" | "yes" | "y" => true,
                other => return Err(format!("`{name}` must be true or false, found `{other}`")),
            };
            match *name {
                "unsubscribed" => opt_outs.unsubscribed = value,
                "objected" => opt_outs.objected = value,
                // The column is the signal as received (record field `gpc`).
                "gpc" => gpc = Some(value),
                _ => opt_outs.limit_sensitive = value,
            }
        }
        for (k, col) in self.opt_out_times.iter().enumerate() {
            let Some(t) = text(*col) else { continue };
            let name = ["unsubscribed_at", "objected_at"][k];
            let at = super::parse_time_seconds(&t)
                .map(OptOutTime)
                .map_err(|e| format!("`{name}`: {e}"))?;
            if k == 0 {
                opt_outs.unsubscribed_at = Some(at);
            } else {
                opt_outs.objected_at = Some(at);
            }
        }
        let mut consents = Vec::with_capacity(self.consents.len());
        for c in &self.consents {
            let [granted, withdrawn, source, written, by] = c.columns;
            let purpose = &c.purpose;
            let written = match text(written).as_deref() {
                None => None,
                Some("false" | "0" | "no" | "n") => Some(false),
                Some("true" | "1" | "yes" | "y") => Some(true),
                Some(other) => {
                    return Err(format!(
                        "`written:{purpose}` must be true or false, found `{other}`"
                    ))
                }
            };
            let authorised_by = match text(by).as_deref() {
                None => None,
                Some("self") => Some(AuthorisedBy::Person),
                Some("parent") => Some(AuthorisedBy::Parent),
                Some(other) => {
                    return Err(format!(
                        "`authorised_by:{purpose}` must be `self` or `parent`, found `{other}`"
                    ))
                }
            };
            let record = ConsentRecord {
                granted_at: text(granted),
                withdrawn_at: text(withdrawn),
                source: text(source),
                written,
                authorised_by,
            };
            if record.granted_at.is_some() || record.withdrawn_at.is_some() {
                consents.push((Cow::Owned(c.purpose.clone()), record));
            }
        }
        Ok(Recipient {
            id,
            jurisdiction: text(self.jurisdiction),
            timezone: text(self.timezone),
            age,
            birth_date: text(self.birth_date),
            consents,
            opt_outs,
            attributes: AttributeNames(
                self.attributes
                    .iter()
                    .filter(|(i, _)| row.get(*i).is_some_and(|v| !v.trim().is_empty()))
                    .map(|(_, name)| Cow::Owned(name.clone()))
                    .collect(),
            ),
            tcf: text(self.tcf),
            gpp: text(self.gpp),
            gpc,
        })
    }
}

/// The error for a header column that is neither known nor an attribute,
/// suggesting the known column it is closest to.
fn unknown_column(name: &str, number: usize) -> String {
    let suggestion = match name.split_once(':') {
        // An unknown or empty prefix, or a prefix with nothing after it.
        Some((prefix, rest)) => {
            let prefixes = CSV_PREFIXES.map(|p| p.trim_end_matches(':'));
            crate::diag::did_you_mean(prefix, prefixes)
                .map(|p| format!("did you mean `{p}:{}`?", rest.trim()))
                .filter(|_| !rest.trim().is_empty())
        }
        None => {
            crate::diag::did_you_mean(name, CSV_COLUMNS).map(|c| format!("did you mean `{c}`?"))
        }
    };
    let help = suggestion.unwrap_or_else(|| {
        "columns are `id`, `jurisdiction`, `timezone`, `age`, `birth_date`, `unsubscribed`, `objected`, `gpc`, `limit_sensitive`, `unsubscribed_at`, `objected_at`, `tcf`, `gpp`, `consent:<purpose>`, `withdrawn:<purpose>`, `source:<purpose>`, `written:<purpose>`, `authorised_by:<purpose>`, and attributes declared as `attr:<name>`".to_string()
    });
    format!("unknown column `{name}` (column {number}): {help}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_record_borrowing_strings() {
        let line = r#"{"id":"r1","jurisdiction":"EU-FR","timezone":"Europe/Paris","age":34,"consents":{"email_marketing":{"granted_at":"2026-01-01","source":"double_opt_in"}},"opt_outs":{"gpc":true},"attributes":{"x":[1,2]}}"#;
        let r = from_json(line).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(r.id, Cow::Borrowed("r1")));
        assert_eq!(r.consents.len(), 1);
        assert!(r.opt_outs.gpc && !r.opt_outs.unsubscribed);
    }

    #[test]
    fn arrays_are_not_records_consents_or_opt_outs() {
        let cases = [
            (
                r#"["r-1"]"#,
                "invalid type: sequence, expected struct Recipient at line 1 column 0",
            ),
            (
                r#"{"id":"r","consents":{"email_marketing":["2026-06-01"]}}"#,
                "invalid type: sequence, expected struct ConsentRecord at line 1 column 40",
            ),
            (
                r#"{"id":"r","opt_outs":[true]}"#,
                "invalid type: sequence, expected struct OptOuts at line 1 column 21",
            ),
            (
                r#""r-1""#,
                "invalid type: string \"r-1\", expected struct Recipient at line 1 column 5",
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(from_json(line).err().as_deref(), Some(expected), "{line}");
        }
    }

    #[test]
    fn misspelt_opt_out_is_an_error() {
        let err = from_json(r#"{"id":"r1","opt_outs":{"unsubscibed":true}}"#)
            .err()
            .unwrap_or_default();
        assert!(err.contains("unknown field `unsubscibed`"), "{err}");
    }

    /// Issue 10 item 6: each `consent:` column looked its purpose up in a
    /// list, so 50,000 columns took seconds; the header is read in one pass.
    #[test]
    fn csv_header_with_50000_consent_columns_is_linear() {
        let mut columns = vec!["id".to_string(), "attr:x".to_string()];
        for n in 0..25_000 {
            columns.push(format!("consent:p{n}"));
            columns.push(format!("withdrawn:p{n}"));
        }
        let headers = csv::StringRecord::from(columns.clone());
        let layout = CsvLayout::new(&headers).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(layout.consents.len(), 25_000);
        let mut cells = vec![String::new(); columns.len()];
        cells[0] = "r1".into();
        cells[2] = "2026-06-01".into();
        let row = csv::StringRecord::from(cells);
        let r = layout.recipient(&row).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.consents.len(), 1);
        assert_eq!(r.consents[0].0, "p0");
        // A duplicate far down the header is found too.
        columns.push("withdrawn:p24999".into());
        let err = CsvLayout::new(&csv::StringRecord::from(columns)).err();
        assert_eq!(
            err.as_deref(),
            Some("column `withdrawn:p24999` is named twice (columns 50002 and 50003); a column may appear only once")
        );
    }

    #[test]
    fn csv_columns_map_to_the_record() {
        let headers = csv::StringRecord::from(vec![
            "id",
            "age",
            "consent:email_marketing",
            "unsubscribed",
            "attr:city",
        ]);
        let layout = CsvLayout::new(&headers).unwrap_or_else(|e| panic!("{e}"));
        let row = csv::StringRecord::from(vec!["r9", "41", "2026-02-01", "yes", "Lyon"]);
        let r = layout.recipient(&row).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.id, "r9");
        assert_eq!(r.age, Some(41));
        assert!(r.opt_outs.unsubscribed);
        assert_eq!(r.consents[0].0, "email_marketing");
        let bad = csv::StringRecord::from(vec!["r9", "forty", "", "", ""]);
        assert!(layout.recipient(&bad).is_err());
    }

    /// Issue 12: `written:` and `authorised_by:` columns per purpose.
    #[test]
    fn csv_written_and_authorised_by_columns() {
        let headers = csv::StringRecord::from(vec![
            "id",
            "consent:sale_sharing",
            "authorised_by:sale_sharing",
            "written: sms_marketing",
            "consent:sms_marketing",
        ]);
        let layout = CsvLayout::new(&headers).unwrap_or_else(|e| panic!("{e}"));
        let row = csv::StringRecord::from(vec!["r1", "2026-01-05", "self", "yes", "2026-01-06"]);
        let r = layout.recipient(&row).unwrap_or_else(|e| panic!("{e}"));
        let sale = r.consents.iter().find(|c| c.0 == "sale_sharing");
        assert_eq!(
            sale.and_then(|c| c.1.authorised_by),
            Some(AuthorisedBy::Person)
        );
        let sms = r.consents.iter().find(|c| c.0 == "sms_marketing");
        assert_eq!(sms.and_then(|c| c.1.written), Some(true));
        let bad = csv::StringRecord::from(vec!["r2", "2026-01-05", "guardian", "", ""]);
        assert_eq!(
            layout.recipient(&bad).err().as_deref(),
            Some("`authorised_by:sale_sharing` must be `self` or `parent`, found `guardian`")
        );
        let bad = csv::StringRecord::from(vec!["r3", "", "", "signed", "2026-01-06"]);
        assert_eq!(
            layout.recipient(&bad).err().as_deref(),
            Some("`written:sms_marketing` must be true or false, found `signed`")
        );
        // Named twice, however spaced, is a header error.
        let twice = csv::StringRecord::from(vec!["id", "written:x", "written: x"]);
        assert!(CsvLayout::new(&twice).is_err());
    }
}
