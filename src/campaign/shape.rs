//! The campaign schema as data: the keys of each mapping, which are required,
//! and what each holds.
//!
//! The builder checks keys against these shapes (unknown and missing keys),
//! words its "expected …" messages from them, and asserts in debug builds
//! that it reads every value with the type declared here. A unit test walks
//! them side by side with `schemas/campaign.schema.json`, so the validator and
//! the published schema cannot drift apart.

use super::model::{
    AdPlacement, AdPlatform, Category, Channel, ContactController, ContactObtained, FilterOp,
    Keyword, Keywords, LawfulBasis, MessageType, Noun, SpecialAdCategory, TriggerEvent,
};

/// Jurisdiction codes: a country or region, then `-`-separated subdivisions.
pub(crate) const JURISDICTION_PATTERN: &str = "^[A-Z]{2,3}(-[A-Z0-9]{1,3})*$";

/// `schedule.repeat.every`: an amount and a unit, singular or plural.
pub(crate) const EVERY_PATTERN: &str = "^([1-9][0-9]*) (minute|hour|day|week)s?$";

/// A time of day, `HH:MM` (`schedule.trigger.window`).
pub(crate) const TIME_OF_DAY_PATTERN: &str = "^([01][0-9]|2[0-3]):[0-5][0-9]$";

/// Bounds of `audience.age.min` / `max`, in years.
pub(crate) const AGE: (i64, i64) = (0, 150);

/// A mapping: what it is called and its keys.
#[derive(Debug)]
pub(crate) struct Shape {
    /// What the mapping is, for "expected …" messages.
    pub noun: Noun,
    /// Its keys, in documentation order.
    pub fields: &'static [Field],
}

/// One key of a mapping.
#[derive(Debug)]
pub(crate) struct Field {
    /// The key.
    pub key: &'static str,
    /// Whether the key must be present.
    pub required: bool,
    /// What its value holds.
    pub ty: Ty,
}

/// What a value holds.
#[derive(Debug)]
pub(crate) enum Ty {
    /// Any string.
    Text,
    /// A non-blank string naming something (a purpose, an attribute…).
    Name(Noun),
    /// `true` or `false`.
    Bool,
    /// An integer within bounds (inclusive).
    Int {
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
    },
    /// One of a closed set of words.
    Keyword(&'static Keywords),
    /// A jurisdiction code ([`JURISDICTION_PATTERN`]).
    Jurisdiction,
    /// A date, a local date-time, or an instant.
    When,
    /// A local date-time (no offset).
    LocalDateTime,
    /// `recipient` or an IANA time zone name.
    Zone,
    /// An interval ([`EVERY_PATTERN`]).
    Every,
    /// A string or a boolean.
    TextOrBool,
    /// A number (integer or decimal) from 0 to 100: a percentage.
    Percent,
    /// A time of day ([`TIME_OF_DAY_PATTERN`]).
    TimeOfDay,
    /// A scalar, or a list of scalars.
    FilterValue,
    /// A list.
    List(&'static Ty),
    /// A list, or a single item standing for a one-item list.
    OneOrList(&'static Ty),
    /// A mapping.
    Map(&'static Shape),
}

impl Ty {
    /// The singular phrase with article: "a list of channel names".
    pub fn one(&self) -> String {
        match self {
            Ty::List(item) => format!("a list of {}", item.many()),
            Ty::OneOrList(item) => format!("{} or a list of {}", item.one(), item.many()),
            _ => self.noun().one.to_owned(),
        }
    }

    /// The plural phrase: "channel names".
    pub fn many(&self) -> String {
        match self {
            Ty::List(_) | Ty::OneOrList(_) => "lists".to_owned(),
            _ => self.noun().many.to_owned(),
        }
    }

    fn noun(&self) -> Noun {
        let (one, many) = match self {
            Ty::Name(noun) => return *noun,
            Ty::Keyword(keywords) => return keywords.noun,
            Ty::Map(shape) => return shape.noun,
            Ty::Text => ("a string", "strings"),
            Ty::Bool => ("true or false", "booleans"),
            Ty::Int { .. } => ("a whole number", "whole numbers"),
            Ty::Jurisdiction => ("a jurisdiction code", "jurisdiction codes"),
            Ty::When => ("a date or date-time", "dates or date-times"),
            Ty::LocalDateTime => ("a local date-time", "local date-times"),
            Ty::Zone => ("a time zone", "time zones"),
            Ty::Every => ("an interval such as `1 day`", "intervals"),
            Ty::TextOrBool => ("a string or true/false", "strings or booleans"),
            Ty::Percent => ("a percentage from 0 to 100", "percentages"),
            Ty::TimeOfDay => ("a time of day such as `09:00`", "times of day"),
            Ty::FilterValue => ("a value or a list of values", "values"),
            // Handled by `one` / `many`; a list of lists never occurs.
            Ty::List(_) | Ty::OneOrList(_) => ("a list", "lists"),
        };
        Noun { one, many }
    }
}

const fn field(key: &'static str, ty: Ty) -> Field {
    Field {
        key,
        required: false,
        ty,
    }
}

const fn required(key: &'static str, ty: Ty) -> Field {
    Field {
        key,
        required: true,
        ty,
    }
}

const fn noun(one: &'static str, many: &'static str) -> Noun {
    Noun { one, many }
}

const fn shape(one: &'static str, many: &'static str, fields: &'static [Field]) -> Shape {
    Shape {
        noun: noun(one, many),
        fields,
    }
}

const ATTRIBUTE: Ty = Ty::Name(noun("an attribute name", "attribute names"));
const PURPOSE: Ty = Ty::Name(noun("a purpose name", "purpose names"));
const SEGMENT_NAME: Ty = Ty::Name(noun("a segment name", "segment names"));

/// The top-level mapping.
pub(crate) static CAMPAIGN: Shape = shape(
    "a mapping of settings",
    "campaigns",
    &[
        required("id", Ty::Name(noun("a campaign id", "campaign ids"))),
        field("name", Ty::Text),
        field("owner", Ty::Text),
        field("category", Ty::Keyword(&Category::KEYWORDS)),
        field("jurisdictions", Ty::List(&Ty::Jurisdiction)),
        field("platform", Ty::Map(&PLATFORM)),
        field("message_type", Ty::Keyword(&MessageType::KEYWORDS)),
        field("channels", Ty::OneOrList(&Ty::Keyword(&Channel::KEYWORDS))),
        field("purposes", Ty::List(&PURPOSE)),
        field("lawful_basis", Ty::Keyword(&LawfulBasis::KEYWORDS)),
        field(
            "legitimate_interest_assessment",
            Ty::Map(&LEGITIMATE_INTEREST_ASSESSMENT),
        ),
        field("audience", Ty::Map(&AUDIENCE)),
        field("consent", Ty::Map(&CONSENT)),
        field("data", Ty::Map(&DATA)),
        field("schedule", Ty::Map(&SCHEDULE)),
        field("message", Ty::Map(&MESSAGE)),
        field("personalization", Ty::Map(&PERSONALIZATION)),
        field("sending", Ty::Map(&SENDING)),
        field("ads", Ty::Map(&ADS)),
        field("waivers", Ty::List(&Ty::Map(&WAIVER))),
        field(
            "tcf_vendor_id",
            Ty::Int {
                min: 1,
                max: 65_535,
            },
        ),
        field("counts_toward_caps", Ty::Bool),
    ],
);

const PLATFORM: Shape = shape(
    "a mapping of platform settings",
    "platforms",
    &[field("name", Ty::Text), field("online_platform", Ty::Bool)],
);

const AUDIENCE: Shape = shape(
    "a mapping of audience settings",
    "audiences",
    &[
        field("segments", Ty::List(&Ty::Map(&SEGMENT))),
        field("exclusions", Ty::List(&Ty::Map(&SEGMENT))),
        field("age", Ty::Map(&AGE_RANGE)),
        field(
            "suppressions",
            Ty::List(&Ty::Name(noun(
                "a suppression list name",
                "suppression list names",
            ))),
        ),
        field("derived_attributes", Ty::List(&Ty::Map(&DERIVED_ATTRIBUTE))),
        field("model_features", Ty::List(&Ty::Map(&MODEL_FEATURE))),
        field("contact_source", Ty::Map(&CONTACT_SOURCE)),
    ],
);

const CONTACT_SOURCE: Shape = shape(
    "a contact source (a mapping with `obtained`, `controller`, …)",
    "contact sources",
    &[
        field("obtained", Ty::Keyword(&ContactObtained::KEYWORDS)),
        field("controller", Ty::Keyword(&ContactController::KEYWORDS)),
        field("brand", Ty::Text),
        field("similar_products", Ty::Bool),
        field("opt_out_at_collection", Ty::Bool),
        field("oldest_relationship_days", DAYS),
    ],
);

/// A count of days, up to a century.
const DAYS: Ty = Ty::Int {
    min: 0,
    max: 36_500,
};

const SENDING: Shape = shape(
    "a mapping of sending facts",
    "sending facts",
    &[
        field(
            "max_daily_volume",
            Ty::Int {
                min: 0,
                max: 10_000_000_000,
            },
        ),
        field("spam_rate", Ty::Map(&SPAM_RATE)),
    ],
);

const SPAM_RATE: Shape = shape(
    "a spam rate (a mapping with `percent` and `period`)",
    "spam rates",
    &[
        required("percent", Ty::Percent),
        required("period", Ty::Every),
        field("source", Ty::Text),
    ],
);

const ADS: Shape = shape(
    "a mapping of ad settings",
    "ad settings",
    &[
        field("placement", Ty::Keyword(&AdPlacement::KEYWORDS)),
        field("platform", Ty::Keyword(&AdPlatform::KEYWORDS)),
        field(
            "special_ad_category",
            Ty::Keyword(&SpecialAdCategory::KEYWORDS),
        ),
    ],
);

const SMS: Shape = shape(
    "a mapping of text-message settings",
    "text-message settings",
    &[
        field("sender_name", Ty::Text),
        field("opt_out_instructions", Ty::Text),
        field("help_instructions", Ty::Text),
    ],
);

const TRIGGER: Shape = shape(
    "a trigger (a mapping with an `event`)",
    "triggers",
    &[
        required("event", Ty::Keyword(&TriggerEvent::KEYWORDS)),
        field("delay", Ty::Every),
        field("window", Ty::Map(&SEND_WINDOW)),
    ],
);

const SEND_WINDOW: Shape = shape(
    "a send window (a mapping with `from` and `to`)",
    "send windows",
    &[
        required("from", Ty::TimeOfDay),
        required("to", Ty::TimeOfDay),
    ],
);

const LEGITIMATE_INTEREST_ASSESSMENT: Shape = shape(
    "a legitimate-interest assessment (a mapping with a `reference`)",
    "legitimate-interest assessments",
    &[required("reference", Ty::Text), field("date", Ty::When)],
);

const SEGMENT: Shape = shape(
    "a segment (a mapping with a `name`)",
    "segments",
    &[
        required("name", SEGMENT_NAME),
        field("filters", Ty::List(&Ty::Map(&FILTER))),
        field("lookalike_of", SEGMENT_NAME),
    ],
);

const FILTER: Shape = shape(
    "a filter (a mapping with `attribute`, `op` and `value`)",
    "filters",
    &[
        required("attribute", ATTRIBUTE),
        required("op", Ty::Keyword(&FilterOp::KEYWORDS)),
        // Required unless `op` is `exists`; the builder checks that.
        field("value", Ty::FilterValue),
    ],
);

const AGE_RANGE: Shape = shape(
    "an age range (a mapping with `min` and `max`)",
    "age ranges",
    &[
        field(
            "min",
            Ty::Int {
                min: AGE.0,
                max: AGE.1,
            },
        ),
        field(
            "max",
            Ty::Int {
                min: AGE.0,
                max: AGE.1,
            },
        ),
    ],
);

const DERIVED_ATTRIBUTE: Shape = shape(
    "a derived attribute (a mapping with `name` and `derived_from`)",
    "derived attributes",
    &[
        required("name", ATTRIBUTE),
        field("derived_from", Ty::List(&ATTRIBUTE)),
    ],
);

const MODEL_FEATURE: Shape = shape(
    "a model feature (a mapping with `name` and `inputs`)",
    "model features",
    &[
        required("name", ATTRIBUTE),
        field("inputs", Ty::List(&ATTRIBUTE)),
    ],
);

const CONSENT: Shape = shape(
    "a mapping of consent details",
    "consent details",
    &[
        field("purposes", Ty::List(&PURPOSE)),
        field("collected_at", Ty::When),
        field("method", Ty::Text),
        field("written", Ty::Bool),
        field("parental", Ty::Bool),
    ],
);

const DATA: Shape = shape(
    "a mapping of data settings",
    "data settings",
    &[field(
        "fields",
        Ty::List(&Ty::Name(noun("a data field name", "data field names"))),
    )],
);

const SCHEDULE: Shape = shape(
    "a mapping of schedule settings",
    "schedules",
    &[
        field("timezone", Ty::Zone),
        field("send_at", Ty::OneOrList(&Ty::LocalDateTime)),
        field("repeat", Ty::Map(&REPEAT)),
        field("trigger", Ty::Map(&TRIGGER)),
    ],
);

const REPEAT: Shape = shape(
    "a recurrence (a mapping with `every` and `count`)",
    "recurrences",
    &[
        required("every", Ty::Every),
        required(
            "count",
            Ty::Int {
                min: 1,
                max: super::model::MAX_SENDS as i64,
            },
        ),
    ],
);

const MESSAGE: Shape = shape(
    "a mapping of message settings",
    "messages",
    &[
        field("subject", Ty::Text),
        field("from", Ty::Text),
        field("postal_address", Ty::Text),
        field("ad_disclosure", Ty::TextOrBool),
        field("unsubscribe", Ty::Map(&UNSUBSCRIBE)),
        field("authentication", Ty::Map(&AUTHENTICATION)),
        field("sms", Ty::Map(&SMS)),
    ],
);

const UNSUBSCRIBE: Shape = shape(
    "a mapping of unsubscribe settings",
    "unsubscribe settings",
    &[
        field("link", Ty::Text),
        field("one_click", Ty::Bool),
        field("mailto", Ty::Text),
        field("processing_days", DAYS),
    ],
);

const AUTHENTICATION: Shape = shape(
    "a mapping of sender authentication flags",
    "authentication settings",
    &[
        field("spf", Ty::Bool),
        field("dkim", Ty::Bool),
        field("dmarc", Ty::Bool),
    ],
);

const PERSONALIZATION: Shape = shape(
    "a mapping of personalization settings",
    "personalization settings",
    &[
        field("attributes", Ty::List(&ATTRIBUTE)),
        field("explanation", Ty::Text),
        field("automated_decision", Ty::Map(&AUTOMATED_DECISION)),
    ],
);

const AUTOMATED_DECISION: Shape = shape(
    "a mapping of automated-decision flags",
    "automated-decision settings",
    &[
        field("significant_effect", Ty::Bool),
        field("human_review", Ty::Bool),
    ],
);

const WAIVER: Shape = shape(
    "a waiver (a mapping with a `rule`)",
    "waivers",
    &[
        required("rule", Ty::Name(noun("a rule id", "rule ids"))),
        field("justification", Ty::Text),
        field("approver", Ty::Text),
        field("reference", Ty::Text),
        field("expires", Ty::When),
    ],
);

/// The mappings that have `key`, as display paths (`audience`,
/// `audience.segments[]`), for "this key belongs elsewhere" hints.
pub(crate) fn paths_with_key(key: &str) -> Vec<String> {
    fn walk(shape: &Shape, path: &str, key: &str, out: &mut Vec<String>) {
        if shape.fields.iter().any(|f| f.key == key) && !out.iter().any(|p| p == path) {
            out.push(path.to_owned());
        }
        for f in shape.fields {
            let sub = if path.is_empty() {
                f.key.to_owned()
            } else {
                format!("{path}.{}", f.key)
            };
            match &f.ty {
                Ty::Map(inner) => walk(inner, &sub, key, out),
                Ty::List(Ty::Map(inner)) => walk(inner, &format!("{sub}[]"), key, out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(&CAMPAIGN, "", key, &mut out);
    out
}
