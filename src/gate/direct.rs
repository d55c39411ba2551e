//! JSON Lines records read straight into a [`Prepared`] record.
//!
//! [`from_json`](super::recipient::from_json) then [`GatePlan::prepare`]
//! builds a [`Recipient`](super::recipient::Recipient) first: a vector of
//! consents, a vector of attribute names, owned copies of most strings. On
//! the hot path of `scruple gate` that is most of the cost of a record. Here
//! one serde visitor, seeded with the plan, reads each field into its final
//! form as it goes: consent times straight into the per-purpose slots,
//! attribute names straight to interned indexes, strings borrowed from the
//! line. Nothing is allocated for a typical record.
//!
//! The accepted input and every error message are the same as the two-step
//! path's: the same field lists, the same `expected …` texts, the same order
//! of checks; both read records, consents and opt-outs from JSON objects
//! only. `tests` below hold the two paths to that.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

use super::plan::{ConsentSlots, GatePlan, Prepared, RecordParts};
use super::recipient::AuthorisedBy;
use super::recipient::{duplicate_purpose, readable_id, ObjectOnly, OptOuts, SeenKeys, Text};

/// The record's fields, in the order `Recipient` declares them (serde's
/// "expected one of" lists them in this order).
const RECORD_FIELDS: &[&str] = &[
    "id",
    "jurisdiction",
    "timezone",
    "age",
    "birth_date",
    "consents",
    "opt_outs",
    "attributes",
    "tcf",
    "gpp",
    "gpc",
];

/// A consent record's fields, in `ConsentRecord`'s order.
const CONSENT_FIELDS: &[&str] = &[
    "granted_at",
    "withdrawn_at",
    "source",
    "written",
    "authorised_by",
];

impl GatePlan<'_> {
    /// Parses one JSON Lines record and prepares it in one pass: the same
    /// result as [`from_json`](super::recipient::from_json) followed by
    /// [`GatePlan::prepare`], errors included, without building the
    /// intermediate record.
    pub fn prepare_json<'r>(&self, line: &'r str) -> Result<Prepared<'r>, BadRecord<'r>> {
        let mut deserializer = serde_json::Deserializer::from_str(line);
        let read = RecordSeed { plan: self }
            .deserialize(&mut deserializer)
            .and_then(|read| deserializer.end().map(|()| read))
            .map_err(|e| BadRecord {
                id: readable_id(line),
                error: e.to_string(),
            })?;
        let ReadRecord {
            id,
            opt_outs,
            consent,
            consent_error,
            age,
            birth_date,
            jurisdiction,
            timezone,
            attributes,
            tcf,
            gpp,
            gpc,
        } = read;
        if let Some(error) = consent_error {
            return Err(BadRecord {
                id: Some(id),
                error,
            });
        }
        // Only copied when the id had escapes; a borrowed id is a pointer.
        let id_if_bad = id.clone();
        self.assemble(RecordParts {
            id,
            opt_outs,
            consent,
            age,
            birth_date: birth_date.as_deref(),
            jurisdiction,
            timezone: timezone.as_deref(),
            attributes,
            tcf: tcf.as_deref(),
            gpp: gpp.as_deref(),
            gpc,
        })
        .map_err(|error| BadRecord {
            id: Some(id_if_bad),
            error,
        })
    }
}

/// A record that cannot be decided: its id when it could be read, and why.
#[derive(Debug)]
pub struct BadRecord<'r> {
    /// The record's `id`, if the record was read far enough to have one.
    pub id: Option<Cow<'r, str>>,
    /// What is wrong with it.
    pub error: String,
}

impl BadRecord<'_> {
    /// A record that did not parse.
    pub fn unread(error: String) -> Self {
        BadRecord { id: None, error }
    }
}

impl fmt::Display for BadRecord<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.error)
    }
}

/// A record as read: strings borrowed from the line where they have no
/// escapes, consents and attributes already in plan terms.
struct ReadRecord<'de> {
    id: Cow<'de, str>,
    opt_outs: OptOuts,
    consent: ConsentSlots,
    /// The first error met while storing consents, reported only if the
    /// whole line parses (as the two-step path does).
    consent_error: Option<String>,
    age: Option<u32>,
    birth_date: Option<Cow<'de, str>>,
    jurisdiction: Option<Cow<'de, str>>,
    timezone: Option<Cow<'de, str>>,
    attributes: Vec<usize>,
    tcf: Option<Cow<'de, str>>,
    gpp: Option<Cow<'de, str>>,
    gpc: Option<bool>,
}

/// Reads a record object into a [`ReadRecord`].
struct RecordSeed<'a, 'p> {
    plan: &'a GatePlan<'p>,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_, '_> {
    type Value = ReadRecord<'de>;
    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<ReadRecord<'de>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

/// Fails with serde's "duplicate field" error when `slot` is already set.
fn once<T, E: de::Error>(slot: &Option<T>, name: &'static str) -> Result<(), E> {
    match slot {
        Some(_) => Err(E::duplicate_field(name)),
        None => Ok(()),
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_, '_> {
    type Value = ReadRecord<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct Recipient")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ReadRecord<'de>, A::Error> {
        let mut id: Option<Cow<'de, str>> = None;
        let mut jurisdiction: Option<Option<Cow<'de, str>>> = None;
        let mut timezone: Option<Option<Cow<'de, str>>> = None;
        let mut age: Option<Option<u32>> = None;
        let mut birth_date: Option<Option<Cow<'de, str>>> = None;
        let mut consents: Option<()> = None;
        let mut opt_outs: Option<OptOuts> = None;
        let mut attributes: Option<Vec<usize>> = None;
        let mut tcf: Option<Option<Cow<'de, str>>> = None;
        let mut gpp: Option<Option<Cow<'de, str>>> = None;
        let mut gpc: Option<Option<bool>> = None;
        let mut consent = ConsentSlots::new();
        let mut consent_error = None;
        while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
            match key.as_ref() {
                "id" => {
                    once(&id, "id")?;
                    id = Some(map.next_value::<Text<'de>>()?.0);
                }
                "jurisdiction" => {
                    once(&jurisdiction, "jurisdiction")?;
                    jurisdiction = Some(map.next_value::<Option<Text<'de>>>()?.map(|t| t.0));
                }
                "timezone" => {
                    once(&timezone, "timezone")?;
                    timezone = Some(map.next_value::<Option<Text<'de>>>()?.map(|t| t.0));
                }
                "age" => {
                    once(&age, "age")?;
                    age = Some(map.next_value::<Option<u32>>()?);
                }
                "birth_date" => {
                    once(&birth_date, "birth_date")?;
                    birth_date = Some(map.next_value::<Option<Text<'de>>>()?.map(|t| t.0));
                }
                "consents" => {
                    once(&consents, "consents")?;
                    map.next_value_seed(ConsentsSeed {
                        plan: self.plan,
                        consent: &mut consent,
                        error: &mut consent_error,
                    })?;
                    consents = Some(());
                }
                "opt_outs" => {
                    once(&opt_outs, "opt_outs")?;
                    opt_outs =
                        Some(map.next_value_seed(ObjectOnly::<OptOuts>::new("struct OptOuts"))?);
                }
                "attributes" => {
                    once(&attributes, "attributes")?;
                    attributes = Some(map.next_value_seed(AttributesSeed { plan: self.plan })?);
                }
                "tcf" => {
                    once(&tcf, "tcf")?;
                    tcf = Some(map.next_value::<Option<Text<'de>>>()?.map(|t| t.0));
                }
                "gpp" => {
                    once(&gpp, "gpp")?;
                    gpp = Some(map.next_value::<Option<Text<'de>>>()?.map(|t| t.0));
                }
                "gpc" => {
                    once(&gpc, "gpc")?;
                    gpc = Some(map.next_value::<Option<bool>>()?);
                }
                other => return Err(de::Error::unknown_field(other, RECORD_FIELDS)),
            }
        }
        let id = id.ok_or_else(|| de::Error::missing_field("id"))?;
        Ok(ReadRecord {
            id,
            opt_outs: opt_outs.unwrap_or_default(),
            consent,
            consent_error,
            age: age.flatten(),
            birth_date: birth_date.flatten(),
            jurisdiction: jurisdiction.flatten(),
            timezone: timezone.flatten(),
            attributes: attributes.unwrap_or_default(),
            tcf: tcf.flatten(),
            gpp: gpp.flatten(),
            gpc: gpc.flatten(),
        })
    }
}

/// Reads the `consents` object straight into the per-purpose time slots.
struct ConsentsSeed<'a, 'p> {
    plan: &'a GatePlan<'p>,
    consent: &'a mut ConsentSlots,
    error: &'a mut Option<String>,
}

impl<'de> DeserializeSeed<'de> for ConsentsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ConsentsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map from purpose to {granted_at, withdrawn_at, source}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = SeenKeys::new();
        while let Some(Text(purpose)) = map.next_key::<Text<'de>>()? {
            // A borrowed key is a pointer: the check allocates nothing.
            if !seen.insert(purpose.clone()) {
                return Err(duplicate_purpose(&purpose));
            }
            let times = map.next_value::<ConsentTimes<'de>>()?;
            if self.error.is_none() {
                if let Err(e) = self.plan.record_consent(
                    self.consent,
                    &purpose,
                    times.granted_at.as_deref(),
                    times.withdrawn_at.as_deref(),
                    times.written,
                    times.authorised_by,
                ) {
                    *self.error = Some(e);
                }
            }
        }
        Ok(())
    }
}

/// One consent record, strings borrowed; `source` is checked to be a string
/// and not kept.
struct ConsentTimes<'de> {
    granted_at: Option<Cow<'de, str>>,
    withdrawn_at: Option<Cow<'de, str>>,
    written: Option<bool>,
    authorised_by: Option<AuthorisedBy>,
}

impl<'de> Deserialize<'de> for ConsentTimes<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TimesVisitor;
        impl<'de> Visitor<'de> for TimesVisitor {
            type Value = ConsentTimes<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("struct ConsentRecord")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut granted_at: Option<Option<Cow<'de, str>>> = None;
                let mut withdrawn_at: Option<Option<Cow<'de, str>>> = None;
                let mut source: Option<()> = None;
                let mut written: Option<Option<bool>> = None;
                let mut authorised_by: Option<Option<AuthorisedBy>> = None;
                while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
                    match key.as_ref() {
                        "granted_at" => {
                            once(&granted_at, "granted_at")?;
                            granted_at = Some(map.next_value::<Option<Text<'de>>>()?.map(|t| t.0));
                        }
                        "withdrawn_at" => {
                            once(&withdrawn_at, "withdrawn_at")?;
                            withdrawn_at =
                                Some(map.next_value::<Option<Text<'de>>>()?.map(|t| t.0));
                        }
                        "source" => {
                            once(&source, "source")?;
                            map.next_value::<Option<Text<'de>>>()?;
                            source = Some(());
                        }
                        "written" => {
                            once(&written, "written")?;
                            written = Some(map.next_value::<Option<bool>>()?);
                        }
                        "authorised_by" => {
                            once(&authorised_by, "authorised_by")?;
                            authorised_by = Some(map.next_value::<Option<AuthorisedBy>>()?);
                        }
                        other => return Err(de::Error::unknown_field(other, CONSENT_FIELDS)),
                    }
                }
                Ok(ConsentTimes {
                    granted_at: granted_at.flatten(),
                    withdrawn_at: withdrawn_at.flatten(),
                    written: written.flatten(),
                    authorised_by: authorised_by.flatten(),
                })
            }
        }
        deserializer.deserialize_map(TimesVisitor)
    }
}

/// Reads the `attributes` object's keys straight to interned indexes; keys
/// no rule forbids are dropped, values are skipped unparsed.
struct AttributesSeed<'a, 'p> {
    plan: &'a GatePlan<'p>,
}

impl<'de> DeserializeSeed<'de> for AttributesSeed<'_, '_> {
    type Value = Vec<usize>;
    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Vec<usize>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for AttributesSeed<'_, '_> {
    type Value = Vec<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of attribute names and values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<usize>, A::Error> {
        let mut out = Vec::new();
        while let Some(Text(name)) = map.next_key::<Text<'de>>()? {
            map.next_value::<IgnoredAny>()?;
            if let Some(i) = self.plan.attribute_index(&name) {
                out.push(i);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::{compile, Inputs, Policy};
    use crate::gate::recipient::from_json;
    use crate::source::SourceFile;

    fn policy() -> Policy {
        let mut inputs = Inputs::default();
        inputs.add_builtin(&[]);
        compile(inputs).0.unwrap_or_else(|| panic!("packs compile"))
    }

    /// The one-pass and the two-step path, side by side: the prepared record
    /// (as Debug text) or the id and error of a bad one.
    fn both(plan: &GatePlan<'_>, line: &str) -> (String, String) {
        let show = |r: Result<Prepared<'_>, BadRecord<'_>>| match r {
            Ok(p) => format!("ok {p:?}"),
            Err(BadRecord { id, error }) => format!("bad {id:?}: {error}"),
        };
        let two_step = from_json(line)
            .map_err(|error| BadRecord {
                id: readable_id(line),
                error,
            })
            .and_then(|r| {
                plan.prepare(&r).map_err(|error| BadRecord {
                    id: Some(r.id.clone()),
                    error,
                })
            });
        (show(plan.prepare_json(line)), show(two_step))
    }

    /// Issue 11 item 7: a record's attribute names are read like a
    /// campaign's, by the dictionary and the taxonomy, on both paths.
    #[test]
    fn record_attributes_are_read_by_meaning() {
        use crate::gate::{Decision, NoHistory};
        let policy = policy();
        let text = include_str!("../../examples/campaigns/spring-sale.yaml");
        let campaign = crate::campaign::load(&SourceFile::new("spring-sale.yaml", text))
            .unwrap_or_else(|d| panic!("{d:?}"));
        let at = jiff::Timestamp::from_second(1_795_428_000).unwrap_or_else(|e| panic!("{e}"));
        let plan = GatePlan::new(&policy, &campaign, crate::eval::Options { now: at })
            .unwrap_or_else(|r| panic!("{:?}", r.findings));
        let record = |attributes: &str| {
            format!(
                r#"{{"id":"r","jurisdiction":"EU-FR","timezone":"Europe/Paris","age":34,"consents":{{"email_marketing":{{"granted_at":"2026-06-01T09:00:00Z","source":"double_opt_in"}}}},"attributes":{attributes}}}"#
            )
        };
        let decide = |line: &str| {
            let r = from_json(line).unwrap_or_else(|e| panic!("{e}"));
            plan.decide(&r, at, &NoHistory)
                .unwrap_or_else(|e| panic!("{e}"))
        };
        // `medical_history` is in no set: the vocabulary reads it as health.
        for _ in 0..2 {
            let line = record(r#"{"purchase_count":3,"medical_history":"copd"}"#);
            let Decision::Suppress(reasons) = decide(&line) else {
                panic!("allowed a record targeted on medical history");
            };
            let gdpr = reasons
                .iter()
                .find(|r| &*r.rule == "gdpr_art9_1_special_category_targeting")
                .unwrap_or_else(|| panic!("{reasons:?}"));
            assert!(
                gdpr.message
                    .contains("`medical_history` (read as health data)"),
                "{}",
                gdpr.message
            );
            let (one_pass, two_step) = both(&plan, &line);
            assert_eq!(one_pass, two_step);
        }
        // Look-alikes and ordinary attributes pass.
        let line = record(r#"{"purchase_count":3,"age_verified":true,"loyalty_tier":"gold"}"#);
        assert!(matches!(decide(&line), Decision::Allow), "{line}");
    }

    #[test]
    fn one_pass_agrees_with_two_steps_on_good_and_bad_records() {
        let policy = policy();
        let text = include_str!("../../examples/campaigns/spring-sale.yaml");
        let campaign = crate::campaign::load(&SourceFile::new("spring-sale.yaml", text))
            .unwrap_or_else(|d| panic!("{d:?}"));
        let at = jiff::Timestamp::from_second(1_795_428_000).unwrap_or_else(|e| panic!("{e}"));
        let plan = GatePlan::new(&policy, &campaign, crate::eval::Options { now: at })
            .unwrap_or_else(|r| panic!("{:?}", r.findings));
        let fixture = include_str!("../../tests/fixtures/gate/recipients.jsonl");
        let edge_cases = [
            // Escapes in every kind of string.
            r#"{"id":"r\u00e9-1","jurisdiction":"EU\u002dFR","timezone":"Europe\/Paris","age":30,"consents":{"email\u005fmarketing":{"granted_at":"2026-06-01T09:00:00\u005a"}}}"#,
            r#"{"id":"esc","timezone":"Europe\/Paris","birth_date":"2000-01-0\u0031","consents":{}}"#,
            // Missing, duplicate, unknown and mistyped fields.
            r#"{"jurisdiction":"EU-FR"}"#,
            r#"{"id":"dup","id":"again"}"#,
            r#"{"id":"dup-tz","timezone":"Europe/Paris","timezone":"Europe/Paris"}"#,
            r#"{"id":"unknown","colour":"blue"}"#,
            r#"{"id":5}"#,
            r#"{"id":null}"#,
            r#"{"id":"t","age":"old"}"#,
            r#"{"id":"t","age":-3}"#,
            r#"{"id":"t","jurisdiction":7}"#,
            r#"{"id":"t","consents":[]}"#,
            r#"{"id":"t","consents":{"email_marketing":"yes"}}"#,
            r#"{"id":"t","consents":{"email_marketing":{"granted":"2026-06-01"}}}"#,
            r#"{"id":"t","consents":{"email_marketing":{"granted_at":"2026-06-01","granted_at":"2026-06-02"}}}"#,
            r#"{"id":"t","consents":{"email_marketing":{"source":5}}}"#,
            r#"{"id":"t","opt_outs":{"unsubscibed":true}}"#,
            r#"{"id":"t","opt_outs":{"unsubscribed":"yes"}}"#,
            r#"{"id":"t","attributes":[]}"#,
            r#"{"id":"t","attributes":{"health":{"nested":[1,2,{"x":null}]},"zip_code":"75001"}}"#,
            // Nulls are absent values.
            r#"{"id":"n","jurisdiction":null,"timezone":null,"age":null,"birth_date":null,"consents":{"email_marketing":{"granted_at":null,"withdrawn_at":null,"source":null}}}"#,
            // Errors found while preparing, after a clean parse: the first
            // bad consent time wins, consents to other purposes are not read.
            r#"{"id":"bad-time","timezone":"Europe/Paris","consents":{"email_marketing":{"granted_at":"yesterday"}}}"#,
            r#"{"id":"two-bad","timezone":"Europe/Paris","consents":{"email_marketing":{"granted_at":"x","withdrawn_at":"y"}}}"#,
            r#"{"id":"other-purpose","timezone":"Europe/Paris","consents":{"sms_marketing":{"granted_at":"never"}}}"#,
            r#"{"id":"then-syntax","consents":{"email_marketing":{"granted_at":"x"}},"colour":1}"#,
            r#"{"id":"bad-zone","timezone":"Mars/Olympus"}"#,
            r#"{"id":"no-zone","jurisdiction":"US"}"#,
            r#"{"id":"bad-birth","timezone":"Europe/Paris","birth_date":"2000-13-45"}"#,
            // Not an object, or not only one.
            r#"["array-id"]"#,
            r#""just a string""#,
            r#"42"#,
            r#"{"id":"trailing"} x"#,
            r#"{"id":"two"}{"id":"objects"}"#,
            r#"{"id":"unclosed""#,
            r#"{}"#,
            r#"  {"id":"spaced"}"#,
            // Arrays are not records, consents or opt-outs (serde's derived
            // structs would read them by position).
            r#"{"id":"arr","timezone":"Europe/Paris","consents":{"email_marketing":["2026-06-01T09:00:00Z"]}}"#,
            r#"{"id":"arr0","consents":{"email_marketing":[]}}"#,
            r#"{"id":"arr4","consents":{"email_marketing":["x",null,null,null]}}"#,
            r#"{"id":"opt","opt_outs":[true]}"#,
            r#"{"id":"opt-null","opt_outs":null}"#,
            r#"["r-1","EU-FR"]"#,
            r#"[]"#,
            r#"null"#,
            // A purpose named twice is a bad record, whichever purpose.
            r#"{"id":"dup-p","timezone":"Europe/Paris","consents":{"email_marketing":{"granted_at":"2026-06-01","withdrawn_at":"2026-11-01"},"email_marketing":{"granted_at":"2026-06-01"}}}"#,
            r#"{"id":"dup-other","consents":{"a":{},"b":{},"a":{}}}"#,
            r#"{"id":"dup-esc","consents":{"a":{},"\u0061":{}}}"#,
            // Written consent and who authorised it (issue 12): kept,
            // null, mistyped, unknown, given twice.
            r#"{"id":"w","timezone":"Europe/Paris","consents":{"email_marketing":{"granted_at":"2026-06-01","written":true,"authorised_by":"self"}}}"#,
            r#"{"id":"w-null","consents":{"email_marketing":{"written":null,"authorised_by":null}}}"#,
            r#"{"id":"w-type","consents":{"email_marketing":{"written":"yes"}}}"#,
            r#"{"id":"by-bad","consents":{"email_marketing":{"authorised_by":"guardian"}}}"#,
            r#"{"id":"by-type","consents":{"email_marketing":{"authorised_by":1}}}"#,
            r#"{"id":"w-dup","consents":{"email_marketing":{"written":true,"written":false}}}"#,
            r#"{"id":"by-dup","consents":{"email_marketing":{"authorised_by":"self","authorised_by":"parent"}}}"#,
            // Consent signals (issue 13): kept, null, mistyped, malformed,
            // given twice.
            r#"{"id":"sig","timezone":"Europe/Paris","tcf":"CQraFkAQraFkAAKABBFRCWEoAP_gAEPgAAqIF5wAoAAgDGAvMC84AUAAQBjAXmAA.IF5wAoAAgDGAvMAA","gpp":"DBABLA~BVQqAAAAAgA.QA","gpc":true}"#,
            r#"{"id":"sig-null","tcf":null,"gpp":null,"gpc":null}"#,
            r#"{"id":"sig-type","gpc":"yes"}"#,
            r#"{"id":"sig-type2","tcf":7}"#,
            r#"{"id":"sig-bad","timezone":"Europe/Paris","tcf":"CQraFkAQ"}"#,
            r#"{"id":"sig-bad-gpp","timezone":"Europe/Paris","gpp":"a b"}"#,
            r#"{"id":"sig-dup","gpc":true,"gpc":false}"#,
            r#"{"id":"sig-dup-tcf","tcf":"x","tcf":"y"}"#,
            // The id of a record that does not parse is still reported.
            r#"{"id":"after","colour":1}"#,
            r#"{"colour":1,"id":"before"}"#,
            r#"{"id":"cut","age":3"#,
        ];
        // Beyond the inline keys, duplicates are still found (and only they).
        let many: Vec<String> = (0..40)
            .map(|n| {
                let purposes: Vec<String> = (0..20)
                    .map(|k| format!(r#""p{}":{{}}"#, if k == 19 { n % 19 } else { k }))
                    .collect();
                format!(
                    r#"{{"id":"many-{n}","timezone":"Europe/Paris","consents":{{{}}}}}"#,
                    purposes.join(",")
                )
            })
            .chain([format!(
                r#"{{"id":"distinct","timezone":"Europe/Paris","consents":{{{}}}}}"#,
                (0..30)
                    .map(|k| format!(r#""p{k}":{{}}"#))
                    .collect::<Vec<_>>()
                    .join(",")
            )])
            .collect();
        for line in &many {
            let (one_pass, two_step) = both(&plan, line);
            assert_eq!(one_pass, two_step, "record: {line}");
            assert_eq!(
                one_pass.starts_with("bad"),
                line.contains("many-"),
                "{one_pass}"
            );
        }
        let mut compared = 0;
        for line in fixture.lines().chain(edge_cases) {
            let (one_pass, two_step) = both(&plan, line);
            assert_eq!(one_pass, two_step, "record: {line}");
            compared += 1;
        }
        assert!(compared > 50, "{compared} records compared");
    }
}
