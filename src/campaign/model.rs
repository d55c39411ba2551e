//! The typed campaign model, built from the tree once it has been validated.
//!
//! Every value keeps the [`Span`] it was written at so rules can label it.
//! Optional keys are `Option`s; lists are [`List`]s (the list's span plus
//! each item's span). The accessors at the bottom answer the questions rule
//! code asks most: which channels, which attributes are targeted (including
//! through lookalike seeds), where data comes from, when messages go out.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::ops::Deref;

use jiff::civil;
use jiff::tz::TimeZone;

use crate::source::Span;

/// A value with the span it was written at.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it is written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Pairs a value with its span.
    pub fn new(value: T, span: Span) -> Spanned<T> {
        Spanned { value, span }
    }
}

impl<T> Deref for Spanned<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

/// A list with its own span and a span per item.
pub type List<T> = Spanned<Vec<Spanned<T>>>;

/// The items of an optional list (none when the key is absent).
pub fn items<T>(list: &Option<List<T>>) -> impl Iterator<Item = &Spanned<T>> {
    list.iter().flat_map(|l| l.value.iter())
}

/// How a kind of value is named in messages: "a channel name" / "channel names".
#[derive(Clone, Copy, Debug)]
pub(crate) struct Noun {
    /// Singular, with its article.
    pub one: &'static str,
    /// Plural.
    pub many: &'static str,
}

/// A closed set of words (the values of a keyword enum).
#[derive(Debug)]
pub(crate) struct Keywords {
    /// What the words name.
    pub noun: Noun,
    /// The canonical spellings.
    pub names: &'static [&'static str],
    /// Other accepted spellings (e.g. `>=` for `gte`).
    pub aliases: &'static [&'static str],
}

/// An enum whose values are written as words in campaign files.
pub(crate) trait Keyword: Copy + Sized + 'static {
    /// The accepted words.
    const KEYWORDS: Keywords;
    /// The value a word (or an alias) stands for.
    fn from_name(name: &str) -> Option<Self>;
}

/// Declares a keyword enum: its words, aliases, `as_str`, `Display` and [`Keyword`].
macro_rules! keywords {
    (
        $(#[$meta:meta])*
        $name:ident ($one:literal, $many:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in schema order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word written in campaign files.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Keyword for $name {
            const KEYWORDS: Keywords = Keywords {
                noun: Noun { one: $one, many: $many },
                names: &[$($text),+],
                aliases: &[$($($alias,)*)+],
            };

            fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($text $(| $alias)* => Some($name::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

keywords! {
    /// The sector a campaign advertises in (some rules only apply to some sectors).
    Category ("a category", "categories") {
        /// Retail.
        Retail = "retail",
        /// Housing (anti-discrimination rules apply).
        Housing = "housing",
        /// Employment (anti-discrimination rules apply).
        Employment = "employment",
        /// Credit (anti-discrimination rules apply).
        Credit = "credit",
        /// Financial products.
        Financial = "financial",
        /// Insurance.
        Insurance = "insurance",
        /// Health.
        Health = "health",
        /// Political advertising.
        Politics = "politics",
        /// Education.
        Education = "education",
        /// Travel.
        Travel = "travel",
        /// Entertainment.
        Entertainment = "entertainment",
        /// Gambling.
        Gambling = "gambling",
        /// Alcohol.
        Alcohol = "alcohol",
        /// Anything else.
        Other = "other",
    }
}

keywords! {
    /// A channel messages are sent through.
    Channel ("a channel name", "channel names") {
        /// E-mail.
        Email = "email",
        /// Text messages.
        Sms = "sms",
        /// Mobile push notifications.
        Push = "push",
        /// On-site personalization.
        Web = "web",
        /// Paid advertising.
        Ads = "ads",
    }
}

keywords! {
    /// Whether the message is promotional or part of a transaction.
    MessageType ("a message type", "message types") {
        /// Promotional.
        Marketing = "marketing",
        /// Triggered by a transaction the recipient made (receipts, notices).
        Transactional = "transactional",
        /// A service message to a customer under a contract (account, billing
        /// or terms notices, recalls): not direct marketing, so consent for
        /// marketing is not needed (GDPR Art. 6(1)(b)).
        Service = "service",
    }
}

keywords! {
    /// A GDPR Art. 6(1) lawful basis.
    LawfulBasis ("a lawful basis", "lawful bases") {
        /// (a) consent.
        Consent = "consent",
        /// (b) contract.
        Contract = "contract",
        /// (c) legal obligation.
        LegalObligation = "legal_obligation",
        /// (d) vital interests.
        VitalInterests = "vital_interests",
        /// (e) public task.
        PublicTask = "public_task",
        /// (f) legitimate interests.
        LegitimateInterests = "legitimate_interests",
    }
}

keywords! {
    /// A filter comparison. The symbols `==` `!=` `<` `<=` `>` `>=` are accepted too.
    FilterOp ("a filter operator", "filter operators") {
        /// Equal.
        Eq = "eq" | "==",
        /// Not equal.
        Ne = "ne" | "!=",
        /// Less than.
        Lt = "lt" | "<",
        /// Less than or equal.
        Lte = "lte" | "<=",
        /// Greater than.
        Gt = "gt" | ">",
        /// Greater than or equal.
        Gte = "gte" | ">=",
        /// One of a list.
        In = "in",
        /// None of a list.
        NotIn = "not_in",
        /// The attribute is known (the value, if given, is `true` or `false`).
        Exists = "exists",
        /// The text contains the value (or one of a list of values).
        Contains = "contains",
        /// The text contains none of the values.
        NotContains = "not_contains",
        /// The text starts with the value (or one of them): page paths.
        StartsWith = "starts_with",
        /// The text starts with none of the values.
        NotStartsWith = "not_starts_with",
        /// The text ends with the value (or one of them).
        EndsWith = "ends_with",
        /// The text ends with none of the values.
        NotEndsWith = "not_ends_with",
        /// The text matches a regular expression (Rust syntax, bounded size).
        Matches = "matches",
        /// The text does not match the regular expression.
        NotMatches = "not_matches",
        /// Within `[low, high]`, both included: two numbers, or two dates.
        Between = "between",
        /// Outside `[low, high]`.
        NotBetween = "not_between",
    }
}

impl FilterOp {
    /// Operators that take a list: `in`, `not_in`, `between` (two bounds)
    /// and the text operators (any of several texts).
    pub fn takes_list(self) -> bool {
        matches!(
            self,
            FilterOp::In
                | FilterOp::NotIn
                | FilterOp::Between
                | FilterOp::NotBetween
                | FilterOp::Contains
                | FilterOp::NotContains
                | FilterOp::StartsWith
                | FilterOp::NotStartsWith
                | FilterOp::EndsWith
                | FilterOp::NotEndsWith
        )
    }

    /// Operators whose operands are text: `contains`, `starts_with`,
    /// `ends_with` and their negations.
    pub fn is_text(self) -> bool {
        matches!(
            self,
            FilterOp::Contains
                | FilterOp::NotContains
                | FilterOp::StartsWith
                | FilterOp::NotStartsWith
                | FilterOp::EndsWith
                | FilterOp::NotEndsWith
        )
    }

    /// `matches` or `not_matches`: the operand is a regular expression.
    pub fn is_regex(self) -> bool {
        matches!(self, FilterOp::Matches | FilterOp::NotMatches)
    }

    /// `between` or `not_between`.
    pub fn is_range(self) -> bool {
        matches!(self, FilterOp::Between | FilterOp::NotBetween)
    }
}

/// The most bytes a filter's regular expression may have, and the most
/// its compiled form may take: a campaign cannot make checking slow.
pub const MAX_FILTER_REGEX_BYTES: usize = 1024;
/// See [`MAX_FILTER_REGEX_BYTES`].
pub const MAX_FILTER_REGEX_COMPILED: usize = 1 << 20;

/// The words of a filter's regular expression, for classifying what it
/// selects: `(?i)^/health/(oncology|chemo)` reads as `/health/ oncology
/// chemo`. Flags and escapes of character classes are dropped, and
/// operators become spaces, so a URL pattern still reads as a path.
pub fn regex_words(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // `(?i)` and `(?:`: flags and non-capturing groups.
            '(' if chars.peek() == Some(&'?') => {
                chars.next();
                while let Some(&f) = chars.peek() {
                    if f == ')' || f == ':' {
                        chars.next();
                        break;
                    }
                    chars.next();
                }
                out.push(' ');
            }
            '\\' => match chars.next() {
                // An escaped literal stays (`\.` in `cancer\.org`).
                Some(e) if !e.is_ascii_alphanumeric() => out.push(e),
                // `\d`, `\w`, `\b`: a class or an anchor, not a word.
                _ => out.push(' '),
            },
            '^' | '$' | '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' => out.push(' '),
            // `.` is a wildcard between words, but part of a host name.
            '.' if chars.peek().is_some_and(|n| n.is_alphanumeric()) && !out.ends_with(' ') => {
                out.push('.');
            }
            '.' => out.push(' '),
            c => out.push(c),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A jurisdiction code such as `EU-FR`, `US-CA` or `GB`: a country or region
/// followed by `-`-separated subdivisions, uppercase.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Jurisdiction(pub(crate) String);

impl Jurisdiction {
    /// The code as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `-`-separated parts, outermost first (`EU`, `FR`).
    pub fn parts(&self) -> impl Iterator<Item = &str> {
        self.0.split('-')
    }

    /// True if this is `outer` or lies inside it: `EU-FR` is within `EU`
    /// and `EU-FR`, not within `EU-F`.
    pub fn is_within(&self, outer: &str) -> bool {
        self.0 == outer
            || self
                .0
                .strip_prefix(outer)
                .is_some_and(|rest| rest.starts_with('-'))
    }
}

impl fmt::Display for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A date or a point in time, as written (`2025-03-01`, `2025-03-01T10:00`,
/// `2025-03-01T10:00Z`).
#[derive(Clone, Debug, PartialEq)]
pub enum When {
    /// A calendar date.
    Date(civil::Date),
    /// A local date and time without offset.
    DateTime(civil::DateTime),
    /// An exact instant (written with an offset, `Z` or a `[zone]` annotation).
    Instant(jiff::Timestamp),
}

impl When {
    /// Reads the forms scruple accepts for a time, in campaigns and on the
    /// command line alike: a date (`2026-11-23`), a civil date-time without
    /// offset (`2026-11-23T10:00`, seconds optional), or an instant (RFC 3339
    /// with `Z` or an offset, or with a `[Zone]` annotation).
    pub fn parse(text: &str) -> Result<When, jiff::Error> {
        if let Ok(ts) = text.parse::<jiff::Timestamp>() {
            return Ok(When::Instant(ts));
        }
        if let Ok(zoned) = crate::tz::parse_zoned(text) {
            return Ok(When::Instant(zoned.timestamp()));
        }
        // jiff reads a date-time string as a date by dropping the time, so
        // decide by the presence of a time part.
        if text.contains(['T', 't', ' ']) {
            text.parse::<civil::DateTime>().map(When::DateTime)
        } else {
            text.parse::<civil::Date>().map(When::Date)
        }
    }

    /// [`When::parse`] with a message for people: what was wrong, and the
    /// forms that are accepted.
    pub fn read(text: &str) -> Result<When, String> {
        When::parse(text).map_err(|_| {
            format!(
                "`{text}` is not a time: write a date (2026-11-23), a date and time \
                 (2026-11-23T10:00) or an instant with an offset (2026-11-23T10:00:00Z, \
                 2026-11-23T10:00+01:00)"
            )
        })
    }

    /// Reads `text` as [`When::read`] does and resolves it in `zone`.
    pub fn read_instant(text: &str, zone: &TimeZone) -> Result<jiff::Timestamp, String> {
        When::read(text)?
            .instant_in(zone)
            .ok_or_else(|| format!("`{text}` is out of range"))
    }

    /// The instant this names when a time without offset is read in `zone`
    /// (a date is the start of that day there). `None` past jiff's range.
    pub fn instant_in(&self, zone: &TimeZone) -> Option<jiff::Timestamp> {
        match self {
            When::Instant(ts) => Some(*ts),
            When::DateTime(dt) => dt.to_zoned(zone.clone()).ok().map(|z| z.timestamp()),
            When::Date(d) => d.to_zoned(zone.clone()).ok().map(|z| z.timestamp()),
        }
    }

    /// The calendar date (in UTC for instants).
    pub fn date(&self) -> civil::Date {
        match self {
            When::Date(d) => *d,
            When::DateTime(dt) => dt.date(),
            When::Instant(ts) => ts.to_zoned(TimeZone::UTC).date(),
        }
    }
}

/// One scalar of a filter value.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A string.
    Str(String),
}

/// The `value:` of a filter.
#[derive(Clone, Debug, PartialEq)]
pub enum FilterValue {
    /// A single value.
    One(Scalar),
    /// A list (for `in` / `not_in`).
    Many(Vec<Spanned<Scalar>>),
}

/// The whole campaign.
#[derive(Clone, Debug)]
pub struct CampaignModel {
    /// `id` (required).
    pub id: Spanned<String>,
    /// `name`.
    pub name: Option<Spanned<String>>,
    /// `owner`.
    pub owner: Option<Spanned<String>>,
    /// `category`.
    pub category: Option<Spanned<Category>>,
    /// `jurisdictions`.
    pub jurisdictions: Option<List<Jurisdiction>>,
    /// `platform`.
    pub platform: Option<Spanned<Platform>>,
    /// `message_type`.
    pub message_type: Option<Spanned<MessageType>>,
    /// `channels` (a single channel is read as a one-item list).
    pub channels: Option<List<Channel>>,
    /// `purposes`: processing purposes, named by the policy.
    pub purposes: Option<List<String>>,
    /// `lawful_basis`.
    pub lawful_basis: Option<Spanned<LawfulBasis>>,
    /// `legitimate_interest_assessment`: the balancing test behind
    /// `lawful_basis: legitimate_interests`.
    pub legitimate_interest_assessment: Option<Spanned<LegitimateInterestAssessment>>,
    /// `audience`.
    pub audience: Option<Spanned<Audience>>,
    /// `consent`.
    pub consent: Option<Spanned<Consent>>,
    /// `data`.
    pub data: Option<Spanned<Data>>,
    /// `schedule`.
    pub schedule: Option<Spanned<Schedule>>,
    /// `message`.
    pub message: Option<Spanned<Message>>,
    /// `personalization`.
    pub personalization: Option<Spanned<Personalization>>,
    /// `sending`: volume and spam rate at the mailbox providers.
    pub sending: Option<Spanned<Sending>>,
    /// `ads`: placement, platform and declared special ad category.
    pub ads: Option<Spanned<Ads>>,
    /// `waivers`.
    pub waivers: Option<List<Waiver>>,
    /// `tcf_vendor_id`: the sender's (or its ad partner's) IAB Global Vendor
    /// List id, whose consent TC strings must carry (issue 13).
    pub tcf_vendor_id: Option<Spanned<i64>>,
    /// `counts_toward_caps`: whether this campaign's sends count toward
    /// frequency caps (issue 14 item 4); see
    /// [`CampaignModel::counts_toward_caps`].
    pub counts_toward_caps: Option<Spanned<bool>>,
}

/// `platform`: where the campaign runs.
#[derive(Clone, Debug)]
pub struct Platform {
    /// `name`.
    pub name: Option<Spanned<String>>,
    /// `online_platform`: the service is a DSA "online platform".
    pub online_platform: Option<Spanned<bool>>,
}

/// `audience`: who is targeted.
#[derive(Clone, Debug)]
pub struct Audience {
    /// `segments`: targeted segments.
    pub segments: Option<List<Segment>>,
    /// `exclusions`: segments removed from the audience.
    pub exclusions: Option<List<Segment>>,
    /// `age`.
    pub age: Option<Spanned<AgeRange>>,
    /// `suppressions`: suppression lists honoured (`unsubscribed`, `gpc`, …).
    pub suppressions: Option<List<String>>,
    /// `derived_attributes`: declared lineage of computed attributes.
    pub derived_attributes: Option<List<DerivedAttribute>>,
    /// `model_features`: ML features and their inputs.
    pub model_features: Option<List<ModelFeature>>,
    /// `contact_source`: how the contact details were obtained.
    pub contact_source: Option<Spanned<ContactSource>>,
}

/// A segment of `audience.segments` or `audience.exclusions`.
#[derive(Clone, Debug)]
pub struct Segment {
    /// `name` (required).
    pub name: Spanned<String>,
    /// `filters`.
    pub filters: Option<List<Filter>>,
    /// `lookalike_of`: the segment is a lookalike audience seeded from this one.
    pub lookalike_of: Option<Spanned<String>>,
}

/// One condition of a segment.
#[derive(Clone, Debug)]
pub struct Filter {
    /// `attribute` (required).
    pub attribute: Spanned<String>,
    /// `op` (required).
    pub op: Spanned<FilterOp>,
    /// `value`: required except for `exists`.
    pub value: Option<Spanned<FilterValue>>,
}

/// `audience.age`, in years.
#[derive(Clone, Debug)]
pub struct AgeRange {
    /// `min`.
    pub min: Option<Spanned<i64>>,
    /// `max`.
    pub max: Option<Spanned<i64>>,
}

/// An item of `audience.derived_attributes`.
#[derive(Clone, Debug)]
pub struct DerivedAttribute {
    /// `name` (required).
    pub name: Spanned<String>,
    /// `derived_from`.
    pub derived_from: Option<List<String>>,
}

/// An item of `audience.model_features`.
#[derive(Clone, Debug)]
pub struct ModelFeature {
    /// `name` (required).
    pub name: Spanned<String>,
    /// `inputs`.
    pub inputs: Option<List<String>>,
}

/// `consent`: what the audience agreed to.
#[derive(Clone, Debug)]
pub struct Consent {
    /// `purposes` consented to.
    pub purposes: Option<List<String>>,
    /// `collected_at`.
    pub collected_at: Option<Spanned<When>>,
    /// `method` (e.g. `double_opt_in`).
    pub method: Option<Spanned<String>>,
    /// `written`: a signed written agreement (E-SIGN counts) naming the
    /// sender and the number, with the disclosure that it is not a condition
    /// of purchase: the TCPA's prior express written consent (47 CFR
    /// 64.1200(f)(9)) and the Florida, Oklahoma and Maryland equivalents.
    pub written: Option<Spanned<bool>>,
    /// `parental`: for children under 13, given by a parent and verified by
    /// a method of 16 CFR 312.5(b) (COPPA).
    pub parental: Option<Spanned<bool>>,
}

/// `data`: personal data the campaign uses.
#[derive(Clone, Debug)]
pub struct Data {
    /// `fields`.
    pub fields: Option<List<String>>,
}

/// `schedule`: when messages go out.
#[derive(Clone, Debug)]
pub struct Schedule {
    /// `timezone`.
    pub timezone: Option<Spanned<ScheduleZone>>,
    /// `send_at` (a single date-time is read as a one-item list).
    pub send_at: Option<List<civil::DateTime>>,
    /// `repeat`.
    pub repeat: Option<Spanned<Repeat>>,
    /// `trigger`: the event that sends this flow, once per recipient.
    pub trigger: Option<Spanned<Trigger>>,
    /// Every send: each `send_at` repeated as `repeat` says, in `send_at`
    /// order. Computed while loading (and capped at [`MAX_SENDS`]).
    pub sends: Vec<Send>,
}

/// Most sends a schedule may expand to.
pub const MAX_SENDS: usize = 10_000;

/// `schedule.timezone`.
#[derive(Clone, Debug)]
pub enum ScheduleZone {
    /// `recipient`: each recipient's local time.
    Recipient,
    /// An IANA time zone such as `Europe/Paris`.
    Zone(TimeZone),
}

/// `schedule.repeat`.
#[derive(Clone, Debug)]
pub struct Repeat {
    /// `every` (required).
    pub every: Spanned<Every>,
    /// `count` (required): sends per `send_at`, the first included.
    pub count: Spanned<u32>,
}

/// A recurrence interval such as `1 day` or `12 hours`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Every {
    /// How many units.
    pub amount: u32,
    /// Which unit.
    pub unit: TimeUnit,
}

/// The unit of [`Every`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    /// Minutes.
    Minute,
    /// Hours.
    Hour,
    /// Days (calendar days: local time of day is kept across DST changes).
    Day,
    /// Weeks.
    Week,
}

impl Every {
    /// `times` intervals as a jiff span (`None` if out of jiff's range).
    pub fn times(self, times: u32) -> Option<jiff::Span> {
        let n = i64::from(self.amount).checked_mul(i64::from(times))?;
        let span = jiff::Span::new();
        match self.unit {
            TimeUnit::Minute => span.try_minutes(n),
            TimeUnit::Hour => span.try_hours(n),
            TimeUnit::Day => span.try_days(n),
            TimeUnit::Week => span.try_weeks(n),
        }
        .ok()
    }
}

/// One expanded send of a [`Schedule`].
#[derive(Clone, Debug)]
pub struct Send {
    /// Local date and time of the send.
    pub at: civil::DateTime,
    /// The exact instant, when the schedule names a time zone (`None` for
    /// `recipient`, where it depends on each recipient, and when
    /// `schedule.timezone` is absent).
    pub zoned: Option<jiff::Zoned>,
    /// The `send_at` item this send comes from.
    pub span: Span,
    /// 0 for the `send_at` itself, then 1, 2, … for repeats.
    pub occurrence: u32,
}

/// `message`: the content sent.
#[derive(Clone, Debug)]
pub struct Message {
    /// `subject`.
    pub subject: Option<Spanned<String>>,
    /// `from`.
    pub from: Option<Spanned<String>>,
    /// `postal_address` of the sender.
    pub postal_address: Option<Spanned<String>>,
    /// `ad_disclosure`.
    pub ad_disclosure: Option<Spanned<AdDisclosure>>,
    /// `unsubscribe`.
    pub unsubscribe: Option<Spanned<Unsubscribe>>,
    /// `authentication`.
    pub authentication: Option<Spanned<Authentication>>,
    /// `sms`: sender identification and opt-out instructions of a text.
    pub sms: Option<Spanned<SmsMessage>>,
}

/// `message.ad_disclosure`: a label text, or a flag.
#[derive(Clone, Debug, PartialEq)]
pub enum AdDisclosure {
    /// The label shown (e.g. `Advertisement`).
    Text(String),
    /// Whether the message is labelled as an ad.
    Flag(bool),
}

impl AdDisclosure {
    /// True when a label is present (a non-blank text or `true`).
    pub fn is_disclosed(&self) -> bool {
        match self {
            AdDisclosure::Text(t) => !t.trim().is_empty(),
            AdDisclosure::Flag(b) => *b,
        }
    }
}

/// `message.unsubscribe`.
#[derive(Clone, Debug)]
pub struct Unsubscribe {
    /// `link`.
    pub link: Option<Spanned<String>>,
    /// `one_click`: RFC 8058 one-click unsubscribe.
    pub one_click: Option<Spanned<bool>>,
    /// `mailto`.
    pub mailto: Option<Spanned<String>>,
    /// `processing_days`: the most calendar days between an unsubscribe
    /// request and its taking effect.
    pub processing_days: Option<Spanned<i64>>,
}

/// `message.authentication`.
#[derive(Clone, Debug)]
pub struct Authentication {
    /// `spf`.
    pub spf: Option<Spanned<bool>>,
    /// `dkim`.
    pub dkim: Option<Spanned<bool>>,
    /// `dmarc`.
    pub dmarc: Option<Spanned<bool>>,
}

/// `personalization`.
#[derive(Clone, Debug)]
pub struct Personalization {
    /// `attributes` used to personalize.
    pub attributes: Option<List<String>>,
    /// `explanation` shown to the recipient.
    pub explanation: Option<Spanned<String>>,
    /// `automated_decision`.
    pub automated_decision: Option<Spanned<AutomatedDecision>>,
}

/// `personalization.automated_decision` (GDPR Art. 22).
#[derive(Clone, Debug)]
pub struct AutomatedDecision {
    /// `significant_effect`.
    pub significant_effect: Option<Spanned<bool>>,
    /// `human_review`.
    pub human_review: Option<Spanned<bool>>,
}

/// An item of `waivers`: an accountable exception to a rule.
#[derive(Clone, Debug)]
pub struct Waiver {
    /// `rule` (required): the waived rule's id.
    pub rule: Spanned<String>,
    /// `justification`.
    pub justification: Option<Spanned<String>>,
    /// `approver`.
    pub approver: Option<Spanned<String>>,
    /// `reference`.
    pub reference: Option<Spanned<String>>,
    /// `expires`.
    pub expires: Option<Spanned<When>>,
}

/// An attribute the audience is selected on, and how.
#[derive(Clone, Debug)]
pub struct TargetedAttribute<'a> {
    /// The attribute name.
    pub name: &'a str,
    /// The `attribute:` value naming it.
    pub span: Span,
    /// The filter's `value:`, whose strings are classified by meaning.
    pub value: Option<&'a Spanned<FilterValue>>,
    /// The filter's operator (a regex operand is read by its words).
    pub op: FilterOp,
    /// The segment whose filter names it.
    pub segment: &'a Spanned<Segment>,
    /// True when the targeting segment is in `audience.exclusions`.
    pub excluded: bool,
    /// Lookalike segments leading to `segment`, starting with the one in the
    /// audience: `[lookalikes]` when segment `lookalikes` is a lookalike of
    /// `segment`. Empty for a segment's own filters.
    pub via: Vec<&'a Spanned<Segment>>,
}

impl TargetedAttribute<'_> {
    /// Explains the targeting in words, e.g. "segment `lookalikes` is a
    /// lookalike of `vip`, which filters on `health`".
    pub fn explain(&self) -> String {
        let Some(first) = self.via.first() else {
            return format!(
                "segment `{}` filters on `{}`",
                self.segment.name.value, self.name
            );
        };
        let mut out = format!("segment `{}` is a lookalike of ", first.name.value);
        for seed in self.via.iter().skip(1) {
            out.push_str(&format!("`{}`, a lookalike of ", seed.name.value));
        }
        out.push_str(&format!(
            "`{}`, which filters on `{}`",
            self.segment.name.value, self.name
        ));
        out
    }
}

/// Where a lookalike segment's seeds lead.
#[derive(Clone, Debug)]
pub struct LookalikeChain<'a> {
    /// The seeds in order: the segment's seed, that seed's seed, and so on.
    pub seeds: Vec<&'a Spanned<Segment>>,
    /// The last `lookalike_of` when it names no segment of this campaign
    /// (an audience defined elsewhere, whose attributes are unknown).
    pub unresolved: Option<&'a Spanned<String>>,
}

/// An upstream source of a derived attribute or model feature.
#[derive(Clone, Debug)]
pub struct Upstream<'a> {
    /// The source attribute.
    pub name: &'a str,
    /// Where it is named (in `derived_from` or `inputs`).
    pub span: Span,
    /// The derivation path from the attribute asked about to `name`
    /// (`[likely_parent, baby_score]` means `likely_parent` comes from
    /// `baby_score`, which comes from `name`).
    pub path: Vec<&'a str>,
}

impl CampaignModel {
    /// Whether the campaign's sends count toward frequency caps, its own and
    /// every other campaign's: yes, unless it is transactional (never
    /// counted, as Braze exempts transactional sends) or a service message
    /// that says `counts_toward_caps: false`. A marketing campaign always
    /// counts: a cap may be law (Fla. Stat. 501.616(6)(b) counts every
    /// solicitation), and a doubt about a cap must not let a message
    /// through. The sends are recorded in the ledger either way.
    pub fn counts_toward_caps(&self) -> bool {
        match self.message_type.as_ref().map(|m| m.value) {
            Some(MessageType::Transactional) => false,
            Some(MessageType::Service) => self.counts_toward_caps.as_ref().is_none_or(|c| c.value),
            _ => true,
        }
    }

    /// The channels, with spans.
    pub fn channels(&self) -> impl Iterator<Item = (Channel, Span)> + '_ {
        items(&self.channels).map(|c| (c.value, c.span))
    }

    /// True if the campaign uses `channel`.
    pub fn uses_channel(&self, channel: Channel) -> bool {
        self.channels().any(|(c, _)| c == channel)
    }

    /// The jurisdictions.
    pub fn jurisdictions(&self) -> impl Iterator<Item = &Spanned<Jurisdiction>> {
        items(&self.jurisdictions)
    }

    /// The processing purposes.
    pub fn purposes(&self) -> impl Iterator<Item = &Spanned<String>> {
        items(&self.purposes)
    }

    /// The purposes the audience consented to.
    pub fn consented_purposes(&self) -> impl Iterator<Item = &Spanned<String>> {
        self.consent.iter().flat_map(|c| items(&c.purposes))
    }

    /// The data fields used.
    pub fn data_fields(&self) -> impl Iterator<Item = &Spanned<String>> {
        self.data.iter().flat_map(|d| items(&d.fields))
    }

    /// The suppression lists honoured.
    pub fn suppressions(&self) -> impl Iterator<Item = &Spanned<String>> {
        self.audience.iter().flat_map(|a| items(&a.suppressions))
    }

    /// True if suppression list `name` is honoured.
    pub fn has_suppression(&self, name: &str) -> bool {
        self.suppressions().any(|s| s.value == name)
    }

    /// The attributes used for personalization.
    pub fn personalization_attributes(&self) -> impl Iterator<Item = &Spanned<String>> {
        self.personalization
            .iter()
            .flat_map(|p| items(&p.attributes))
    }

    /// The targeted segments.
    pub fn segments(&self) -> impl Iterator<Item = &Spanned<Segment>> {
        self.audience.iter().flat_map(|a| items(&a.segments))
    }

    /// The excluded segments.
    pub fn exclusions(&self) -> impl Iterator<Item = &Spanned<Segment>> {
        self.audience.iter().flat_map(|a| items(&a.exclusions))
    }

    /// The segment (targeted or excluded) called `name`.
    pub fn segment(&self, name: &str) -> Option<&Spanned<Segment>> {
        self.segments()
            .chain(self.exclusions())
            .find(|s| s.name.value == name)
    }

    /// Follows `lookalike_of` from `segment` through the campaign's segments.
    /// Loading rejects cycles; the walk stops at a repeat anyway.
    pub fn lookalike_chain<'a>(&'a self, segment: &'a Segment) -> LookalikeChain<'a> {
        let mut seeds: Vec<&'a Spanned<Segment>> = Vec::new();
        let mut next = segment.lookalike_of.as_ref();
        while let Some(seed_name) = next {
            match self.segment(&seed_name.value) {
                Some(seed) if !seeds.iter().any(|s| std::ptr::eq(*s, seed)) => {
                    seeds.push(seed);
                    next = seed.lookalike_of.as_ref();
                }
                Some(_) => break,
                None => {
                    return LookalikeChain {
                        seeds,
                        unresolved: Some(seed_name),
                    };
                }
            }
        }
        LookalikeChain {
            seeds,
            unresolved: None,
        }
    }

    /// Every attribute the audience is selected on: the filters of targeted
    /// and excluded segments, and the filters of their lookalike seeds.
    pub fn targeted_attributes(&self) -> Vec<TargetedAttribute<'_>> {
        let mut out = Vec::new();
        let roots = self
            .segments()
            .map(|s| (s, false))
            .chain(self.exclusions().map(|s| (s, true)));
        for (root, excluded) in roots {
            let chain = self.lookalike_chain(root);
            let mut via = Vec::new();
            for segment in std::iter::once(root).chain(chain.seeds) {
                for filter in items(&segment.filters) {
                    out.push(TargetedAttribute {
                        name: &filter.attribute.value,
                        span: filter.attribute.span,
                        value: filter.value.value.as_ref(),
                        op: filter.op.value,
                        segment,
                        excluded,
                        via: via.clone(),
                    });
                }
                via.push(segment);
            }
        }
        out
    }

    /// Everything `attribute` is computed from, transitively, through
    /// `derived_attributes` and `model_features` (breadth first; each source
    /// once, cycles ignored).
    pub fn upstream(&self, attribute: &str) -> Vec<Upstream<'_>> {
        let derivations: Vec<(&str, &Option<List<String>>)> = self
            .audience
            .iter()
            .flat_map(|a| {
                let derived =
                    items(&a.derived_attributes).map(|d| (d.name.value.as_str(), &d.derived_from));
                let features = items(&a.model_features).map(|f| (f.name.value.as_str(), &f.inputs));
                derived.chain(features)
            })
            .collect();
        let mut out: Vec<Upstream<'_>> = Vec::new();
        // Paths must borrow from the model, so start from the model's own
        // spelling of `attribute` (if nothing derives it, it has no sources).
        let Some(start) = derivations
            .iter()
            .map(|(n, _)| *n)
            .find(|n| *n == attribute)
        else {
            return out;
        };
        let mut queue = VecDeque::from([(start, vec![start])]);
        let mut expanded: HashSet<&str> = HashSet::new();
        while let Some((name, path)) = queue.pop_front() {
            if !expanded.insert(name) {
                continue;
            }
            for (_, sources) in derivations.iter().filter(|(n, _)| *n == name) {
                for source in items(sources) {
                    let known =
                        source.value == attribute || out.iter().any(|u| u.name == source.value);
                    if known {
                        continue;
                    }
                    out.push(Upstream {
                        name: &source.value,
                        span: source.span,
                        path: path.clone(),
                    });
                    let mut next = path.clone();
                    next.push(&source.value);
                    queue.push_back((&source.value, next));
                }
            }
        }
        out
    }

    /// The zone a time written without offset means for this campaign: its
    /// `schedule.timezone` when that names a zone, else UTC (also for
    /// `recipient`, where each recipient's zone differs).
    pub fn civil_zone(&self) -> TimeZone {
        match self.schedule.as_ref().and_then(|s| s.timezone.as_ref()) {
            Some(Spanned {
                value: ScheduleZone::Zone(tz),
                ..
            }) => tz.clone(),
            _ => TimeZone::UTC,
        }
    }

    /// The instant of a send slot given as `when` (`gate --at`): a time
    /// without offset is in [`Self::civil_zone`]. A date alone is refused:
    /// which hour it means decides quiet hours, so it must be written.
    pub fn send_instant(&self, when: &When) -> Result<jiff::Timestamp, Box<crate::diag::Diag>> {
        let refuse = |message: String, help: &str| {
            Box::new(crate::diag::Diag::error("scruple::gate::bad_time", message).with_help(help))
        };
        if let When::Date(d) = when {
            return Err(refuse(
                format!("`{d}` is a date without a time of day, and a send slot needs one"),
                "give the send time, such as `2026-12-01T10:00` (in the campaign's \
                 schedule.timezone, else UTC) or `2026-12-01T10:00:00+01:00`",
            ));
        }
        when.instant_in(&self.civil_zone()).ok_or_else(|| {
            refuse(
                "the send time is out of range".into(),
                "give a time between the years 1 and 9999",
            )
        })
    }

    /// Every expanded send of the schedule.
    pub fn sends(&self) -> &[Send] {
        self.schedule.as_ref().map_or(&[], |s| &s.sends)
    }

    /// The waivers.
    pub fn waivers(&self) -> impl Iterator<Item = &Spanned<Waiver>> {
        items(&self.waivers)
    }

    /// The waiver for rule `rule`, if any.
    pub fn waiver_for(&self, rule: &str) -> Option<&Spanned<Waiver>> {
        self.waivers().find(|w| w.rule.value == rule)
    }
}

keywords! {
    /// How the contact details of `audience.contact_source` were obtained.
    /// The soft opt-in (ePrivacy Art. 13(2), PECR reg. 22(3)) covers only
    /// `sale` and `negotiation`.
    ContactObtained ("a way contact details were obtained", "ways contact details were obtained") {
        /// From the customer, in the course of a sale of a product or service.
        Sale = "sale",
        /// From the customer, in negotiations for a sale (a quote, an enquiry
        /// about buying).
        Negotiation = "negotiation",
        /// A sign-up (newsletter, account) without a purchase or negotiation.
        Signup = "signup",
        /// A competition, prize draw or survey entry.
        Competition = "competition",
        /// A list bought from someone else.
        PurchasedList = "purchased_list",
        /// A list rented or licensed from someone else.
        RentedList = "rented_list",
        /// Shared by a partner or another company.
        Partner = "partner",
        /// Any other way.
        Other = "other",
    }
}

keywords! {
    /// Which controller collected the contact details of
    /// `audience.contact_source`, relative to the sender.
    ContactController ("a controller relation", "controller relations") {
        /// The sender itself.
        Same = "same",
        /// Another company of the sender's group (a separate controller).
        GroupCompany = "group_company",
        /// An unrelated controller.
        Other = "other",
    }
}

/// `audience.contact_source`: how the audience's contact details were
/// obtained, so that the conditions of the soft opt-in can be checked.
#[derive(Clone, Debug)]
pub struct ContactSource {
    /// `obtained`: in a sale, in negotiations for a sale, at sign-up, …
    pub obtained: Option<Spanned<ContactObtained>>,
    /// `controller`: who collected them, relative to the sender.
    pub controller: Option<Spanned<ContactController>>,
    /// `brand`: the brand under which they were collected (for the record).
    pub brand: Option<Spanned<String>>,
    /// `similar_products`: the campaign markets products or services similar
    /// to those the customer bought or enquired about.
    pub similar_products: Option<Spanned<bool>>,
    /// `opt_out_at_collection`: a simple way to refuse marketing was offered
    /// when the details were collected.
    pub opt_out_at_collection: Option<Spanned<bool>>,
    /// `oldest_relationship_days`: for the contact in the audience whose
    /// purchase or enquiry is oldest, the days since it (at sending); CASL's
    /// implied consent lasts 2 years after a purchase, 6 months after an
    /// enquiry (s. 10(10)).
    pub oldest_relationship_days: Option<Spanned<i64>>,
}

/// `legitimate_interest_assessment`: the recorded balancing test
/// (GDPR Art. 6(1)(f)) a campaign relying on legitimate interests rests on.
#[derive(Clone, Debug)]
pub struct LegitimateInterestAssessment {
    /// `reference` (required): where the assessment is kept (`LIA-2026-04`).
    pub reference: Spanned<String>,
    /// `date`: when it was made or last reviewed.
    pub date: Option<Spanned<When>>,
}

// ------------------------------------------------------------ issue 12 facts
//
// Facts that US messaging law, the mailbox providers, ad platforms, COPPA
// and CASL turn on. Rules read them through the generic tree; the typed
// model keeps them so that the loader checks every value's type.

/// `sending`: the sender's volume and reputation at the mailbox providers.
#[derive(Clone, Debug)]
pub struct Sending {
    /// `max_daily_volume`: the most messages the sending primary domain has
    /// sent to personal mailboxes (Gmail, Yahoo) in any 24 hours. Google
    /// counts a sender that reached about 5,000 once as a bulk sender for
    /// good, so this is the peak, not today's volume.
    pub max_daily_volume: Option<Spanned<i64>>,
    /// `spam_rate`: the user-reported spam rate, as postmaster tools show it.
    pub spam_rate: Option<Spanned<SpamRate>>,
}

/// `sending.spam_rate`.
#[derive(Clone, Debug)]
pub struct SpamRate {
    /// `percent` (required): the rate, in percent (`0.12` is 0.12 %).
    pub percent: Spanned<f64>,
    /// `period` (required): the period it was measured over (`1 day`, `30 days`).
    pub period: Option<Spanned<Every>>,
    /// `source`: where it was read (Google Postmaster Tools, Yahoo Sender Hub).
    pub source: Option<Spanned<String>>,
}

/// `ads`: how an ad is placed.
#[derive(Clone, Debug)]
pub struct Ads {
    /// `placement`: contextual (by the content shown) or by profiling.
    pub placement: Option<Spanned<AdPlacement>>,
    /// `platform`: the ad platform.
    pub platform: Option<Spanned<AdPlatform>>,
    /// `special_ad_category`: the category declared to the platform.
    pub special_ad_category: Option<Spanned<SpecialAdCategory>>,
}

keywords! {
    /// `ads.placement`.
    AdPlacement ("an ad placement kind", "ad placement kinds") {
        /// Chosen by the content of the page, app or search where it is
        /// shown, with no profile of the person (not profiling, GDPR Art. 4(4)).
        Contextual = "contextual",
        /// Chosen by a profile of the person (interests, behaviour,
        /// uploaded lists, lookalikes).
        Profiling = "profiling",
    }
}

keywords! {
    /// `ads.platform`.
    AdPlatform ("an ad platform", "ad platforms") {
        /// Meta (Facebook, Instagram).
        Meta = "meta",
        /// Google Ads (Search, YouTube, Display).
        Google = "google",
        /// TikTok.
        Tiktok = "tiktok",
        /// LinkedIn.
        Linkedin = "linkedin",
        /// Snapchat.
        Snapchat = "snapchat",
        /// Pinterest.
        Pinterest = "pinterest",
        /// X (Twitter).
        X = "x",
        /// Microsoft Advertising.
        Microsoft = "microsoft",
        /// Amazon Ads.
        Amazon = "amazon",
        /// Any other.
        Other = "other",
    }
}

keywords! {
    /// `ads.special_ad_category`: the category declared to the platform
    /// (Meta's special ad categories; Google's housing, employment and
    /// credit policy).
    SpecialAdCategory ("a special ad category", "special ad categories") {
        /// No special category declared.
        NoCategory = "none",
        /// Housing.
        Housing = "housing",
        /// Employment.
        Employment = "employment",
        /// Credit (Meta's earlier name for financial products and services).
        Credit = "credit",
        /// Financial products and services.
        FinancialProductsServices = "financial_products_services",
        /// Social issues, elections or politics.
        IssuesElectionsPolitics = "issues_elections_politics",
    }
}

/// `message.sms`: what a text message says about its sender and opting out.
#[derive(Clone, Debug)]
pub struct SmsMessage {
    /// `sender_name`: the brand or program named in the text.
    pub sender_name: Option<Spanned<String>>,
    /// `opt_out_instructions`: e.g. "Reply STOP to opt out".
    pub opt_out_instructions: Option<Spanned<String>>,
    /// `help_instructions`: e.g. "Reply HELP for help".
    pub help_instructions: Option<Spanned<String>>,
}

/// `schedule.trigger`: a flow sent once per recipient per event rather
/// than on a calendar.
#[derive(Clone, Debug)]
pub struct Trigger {
    /// `event` (required): what starts the flow.
    pub event: Spanned<TriggerEvent>,
    /// `delay`: how long after the event the message goes out.
    pub delay: Option<Spanned<Every>>,
    /// `window`: the hours, in the recipient's local time, outside which the
    /// message is held until the window opens.
    pub window: Option<Spanned<SendWindow>>,
}

/// `schedule.trigger.window`, in the recipient's local time.
#[derive(Clone, Debug)]
pub struct SendWindow {
    /// `from` (required): opens.
    pub from: Spanned<civil::Time>,
    /// `to` (required): closes.
    pub to: Spanned<civil::Time>,
}

keywords! {
    /// `schedule.trigger.event`.
    TriggerEvent ("a trigger event", "trigger events") {
        /// A sign-up or a first purchase.
        Welcome = "welcome",
        /// Items left in the cart.
        AbandonedCart = "abandoned_cart",
        /// Products viewed and not bought.
        BrowseAbandonment = "browse_abandonment",
        /// After a purchase (review requests, cross-sells).
        PostPurchase = "post_purchase",
        /// The recipient's birthday.
        Birthday = "birthday",
        /// A product back in stock or a price drop the recipient watched.
        BackInStock = "back_in_stock",
        /// A lapsed customer (win-back).
        WinBack = "win_back",
        /// Any other event.
        Other = "other",
    }
}
