//! Validation: spanned tree → typed model, collecting every problem.
//!
//! The builder walks the tree along the [`shape`](super::shape) of the
//! schema. Each mapping is checked for unknown and missing keys before its
//! values are read, and a value that fails does not stop its siblings from
//! being checked, so one run reports everything. A value that fails is
//! reported and left out (`None`, or missing from its list); the model is
//! only used when nothing was reported.

use std::sync::LazyLock;

use jiff::civil;
use regex::Regex;

mod facts;
mod lawful;

use super::codes;
use super::model::*;
use super::shape::{self, Shape, Ty, EVERY_PATTERN, JURISDICTION_PATTERN, TIME_OF_DAY_PATTERN};
use super::tree::{item_anchor, Entry, Node, Value};
use super::yaml::join_path;
use crate::diag::{did_you_mean, Diag};
use crate::source::{Source, Span};

static JURISDICTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(JURISDICTION_PATTERN).expect("constant pattern"));
static EVERY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(EVERY_PATTERN).expect("constant pattern"));
static TIME_OF_DAY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(TIME_OF_DAY_PATTERN).expect("constant pattern"));

/// Validates the tree and builds the model. Problems go to `diags`; the
/// model is `None` when a required value is missing or unusable.
pub(crate) fn build(source: &Source, root: &Node, diags: &mut Vec<Diag>) -> Option<CampaignModel> {
    let mut cx = Cx {
        source,
        diags,
        path: Vec::new(),
        anchors: Vec::new(),
        root_anchor: Span {
            start: root.span.start,
            end: root.span.start,
        },
    };
    campaign(&mut cx, root)
}

/// The validation context: where we are in the tree, and the diagnostics.
struct Cx<'s> {
    source: &'s Source,
    diags: &'s mut Vec<Diag>,
    /// Path of the current value (`audience`, `segments`, `[0]`).
    path: Vec<String>,
    /// For each path step, where to point when that value is missing or empty.
    anchors: Vec<Span>,
    /// Where to point for a key missing from the top level.
    root_anchor: Span,
}

/// A mapping being read, with the shape it must have.
struct Obj<'n> {
    entries: &'n [Entry],
    shape: &'static Shape,
}

/// Why a conversion produced no value.
enum Failed {
    /// The value has the wrong type. The caller reports it, because only the
    /// caller knows what was expected here: "a channel name", or "a channel
    /// name or a list of channel names".
    WrongType,
    /// A problem was reported already.
    Reported,
}

/// The result of reading one value.
type Conv<T> = Result<T, Failed>;

impl Cx<'_> {
    /// Runs `f` one step deeper in the tree.
    fn enter<T>(&mut self, step: String, anchor: Span, f: impl FnOnce(&mut Self) -> T) -> T {
        self.path.push(step);
        self.anchors.push(anchor);
        let out = f(self);
        self.path.pop();
        self.anchors.pop();
        out
    }

    /// Runs `f` for list item `index`.
    fn enter_item<T>(&mut self, index: usize, item: &Node, f: impl FnOnce(&mut Self) -> T) -> T {
        let anchor = item_anchor(&self.source.text, item);
        self.enter(format!("[{index}]"), anchor, f)
    }

    /// "`audience.age`", or "the campaign" at the top.
    fn subject(&self) -> String {
        if self.path.is_empty() {
            "the campaign".to_owned()
        } else {
            format!("`{}`", join_path(&self.path))
        }
    }

    /// "in `audience.age`", or "in the campaign" at the top.
    fn within(&self) -> String {
        format!("in {}", self.subject())
    }

    /// Where the current value's key (or list item) is.
    fn anchor(&self) -> Span {
        self.anchors.last().copied().unwrap_or(self.root_anchor)
    }

    /// The span to label for `node`: the value, or its key when it is empty.
    fn label_span(&self, node: &Node) -> Span {
        if node.span.is_empty() {
            self.anchor()
        } else {
            node.span
        }
    }

    fn push(&mut self, diag: Diag) {
        self.diags.push(diag);
    }

    /// Reports a failed conversion of `node`, which should have been `ty`.
    fn report(&mut self, failed: Failed, node: &Node, ty: &Ty) {
        if let Failed::WrongType = failed {
            self.type_error(node, ty);
        }
    }

    fn type_error(&mut self, node: &Node, ty: &Ty) {
        let expected = ty.one();
        let diag = Diag::error(
            codes::TYPE_ERROR,
            format!(
                "expected {expected} for {}, found {}",
                self.subject(),
                node.kind()
            ),
        )
        .with_label(
            self.source,
            self.label_span(node),
            format!("expected {expected}"),
        )
        .with_help_opt(self.type_help(node, ty));
        self.push(diag);
    }

    /// A hint for the usual type mistakes.
    fn type_help(&self, node: &Node, ty: &Ty) -> Option<String> {
        let written = self.source.slice(node.span);
        match (&node.value, ty) {
            (Value::Null, _) => Some(
                self.quote_hint(node)
                    .unwrap_or_else(|| "write a value after the `:`, or remove the key".to_owned()),
            ),
            (Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_), Ty::List(item))
                if !matches!(item, Ty::Map(_)) =>
            {
                Some(format!("write a list, even of one item: `[{written}]`"))
            }
            (Value::Int(_) | Value::Float(_) | Value::Bool(_), Ty::Text | Ty::Name(_)) => {
                Some(format!("quote it to make it a string: `\"{written}\"`"))
            }
            (Value::Float(_), Ty::Int { .. }) => Some("use a whole number".to_owned()),
            (Value::Str(_), Ty::Bool) if written.starts_with(['"', '\'']) => {
                Some("write `true` or `false` without quotes".to_owned())
            }
            (Value::Str(_), Ty::Bool) => Some("write `true` or `false`".to_owned()),
            (_, Ty::Map(shape)) => Some(format!("write a mapping with {}", key_list(shape))),
            _ => None,
        }
    }

    /// For an empty value, advice to quote the text after its key that YAML
    /// did not read as a value: `op: !=` is a tag on nothing, `op: >` an
    /// empty folded block.
    fn quote_hint(&self, node: &Node) -> Option<String> {
        if !node.span.is_empty() {
            return None;
        }
        let after_key = self.source.text.get(self.anchor().end as usize..)?;
        let line = after_key.lines().next()?.trim_start_matches(':').trim();
        let line = line.split(" #").next().unwrap_or("").trim();
        (!line.is_empty() && !line.starts_with('#'))
            .then(|| format!("`{line}` has a meaning in YAML; quote it: `\"{line}\"`"))
    }

    /// Reports an `invalid_value` problem on `node`.
    fn invalid(
        &mut self,
        node: &Node,
        message: String,
        label: &str,
        help: Option<String>,
    ) -> Failed {
        let span = self.label_span(node);
        let diag = Diag::error(codes::INVALID_VALUE, message)
            .with_label(self.source, span, label)
            .with_help_opt(help);
        self.push(diag);
        Failed::Reported
    }

    /// Checks that `node` is a mapping of shape `ty`: reports unknown keys
    /// and missing required keys, and hands back the entries to read.
    fn obj<'n>(&mut self, node: &'n Node, ty: &'static Ty) -> Conv<Obj<'n>> {
        let Ty::Map(shape) = ty else {
            debug_assert!(false, "obj() called for {ty:?}");
            return Err(Failed::Reported);
        };
        let Value::Map(entries) = &node.value else {
            return Err(Failed::WrongType);
        };
        for entry in entries {
            if !shape.fields.iter().any(|f| f.key == entry.key) {
                self.unknown_key(entry, shape);
            }
        }
        for field in shape.fields.iter().filter(|f| f.required) {
            if !entries.iter().any(|e| e.key == field.key) {
                self.missing_key(field.key, None);
            }
        }
        Ok(Obj { entries, shape })
    }

    fn unknown_key(&mut self, entry: &Entry, shape: &Shape) {
        let keys = shape.fields.iter().map(|f| f.key);
        let here = strip_indices(&join_path(&self.path));
        let elsewhere = shape::paths_with_key(&entry.key)
            .into_iter()
            .find(|p| p.replace("[]", "") != here);
        let help = if let Some(near) = did_you_mean(&entry.key, keys) {
            format!("did you mean `{near}`?")
        } else if let Some(place) = elsewhere {
            format!("`{}` belongs in `{place}`", entry.key)
        } else {
            format!("the keys allowed here are {}", key_list(shape))
        };
        let diag = Diag::error(
            codes::UNKNOWN_KEY,
            format!("unknown key `{}` {}", entry.key, self.within()),
        )
        .with_label(self.source, entry.key_span, "unknown key")
        .with_help(help);
        self.push(diag);
    }

    fn missing_key(&mut self, key: &str, why: Option<&str>) {
        let mut diag = Diag::error(
            codes::MISSING_KEY,
            format!("missing required key `{key}` {}", self.within()),
        )
        .with_label(
            self.source,
            self.anchor(),
            format!("`{key}` is missing here"),
        )
        .with_help(format!("add `{key}: …`"));
        if let Some(why) = why {
            diag = diag.with_note(why);
        }
        self.push(diag);
    }

    /// Reads `key` of `obj` with `conv`, inside the key's path step.
    fn field<'n, T>(
        &mut self,
        obj: &Obj<'n>,
        key: &'static str,
        conv: impl FnOnce(&mut Self, &'n Node, &'static Ty) -> Conv<T>,
    ) -> Option<Spanned<T>> {
        let field = obj.shape.fields.iter().find(|f| f.key == key);
        debug_assert!(field.is_some(), "`{key}` is not in the shape");
        let field = field?;
        let entry = obj.entries.iter().find(|e| e.key == key)?;
        let node = &entry.value;
        let value = self.enter(key.to_owned(), entry.key_span, |cx| {
            conv(cx, node, &field.ty).map_err(|failed| cx.report(failed, node, &field.ty))
        });
        Some(Spanned::new(value.ok()?, node.span))
    }

    fn text(&mut self, obj: &Obj<'_>, key: &'static str) -> Option<Spanned<String>> {
        self.field(obj, key, Cx::string)
    }

    fn flag(&mut self, obj: &Obj<'_>, key: &'static str) -> Option<Spanned<bool>> {
        self.field(obj, key, Cx::boolean)
    }

    fn keyword<K: Keyword>(&mut self, obj: &Obj<'_>, key: &'static str) -> Option<Spanned<K>> {
        self.field(obj, key, Cx::keyword_value::<K>)
    }

    fn names(&mut self, obj: &Obj<'_>, key: &'static str) -> Option<List<String>> {
        self.list_field(obj, key, Cx::string)
    }

    fn list_field<'n, T>(
        &mut self,
        obj: &Obj<'n>,
        key: &'static str,
        item: impl FnMut(&mut Self, &'n Node, &'static Ty) -> Conv<T>,
    ) -> Option<List<T>> {
        self.field(obj, key, |cx, node, ty| cx.list(node, ty, item))
    }

    /// Reads mapping `key` of `obj` and builds it with `build`.
    fn map<'n, T>(
        &mut self,
        obj: &Obj<'n>,
        key: &'static str,
        build: impl FnOnce(&mut Self, Obj<'n>) -> Option<T>,
    ) -> Option<Spanned<T>> {
        self.field(obj, key, |cx, node, ty| {
            let inner = cx.obj(node, ty)?;
            build(cx, inner).ok_or(Failed::Reported)
        })
    }

    /// Reads list-of-mappings `key` of `obj`, building each item with `build`.
    fn maps<'n, T>(
        &mut self,
        obj: &Obj<'n>,
        key: &'static str,
        build: fn(&mut Cx<'_>, Obj<'n>) -> Option<T>,
    ) -> Option<List<T>> {
        self.list_field(obj, key, |cx, node, ty| {
            let inner = cx.obj(node, ty)?;
            build(cx, inner).ok_or(Failed::Reported)
        })
    }

    /// Reads a list (or, for [`Ty::OneOrList`], a single item) with `item`.
    /// Items that fail are reported and left out, so checks that look at the
    /// list as a whole (unique names, lookalike cycles) still run on the rest;
    /// the model is discarded anyway once anything was reported.
    fn list<'n, T>(
        &mut self,
        node: &'n Node,
        ty: &'static Ty,
        mut item: impl FnMut(&mut Self, &'n Node, &'static Ty) -> Conv<T>,
    ) -> Conv<Vec<Spanned<T>>> {
        let (item_ty, one_allowed) = match ty {
            Ty::List(item_ty) => (*item_ty, false),
            Ty::OneOrList(item_ty) => (*item_ty, true),
            _ => {
                debug_assert!(false, "list() called for {ty:?}");
                return Err(Failed::Reported);
            }
        };
        match &node.value {
            Value::List(nodes) => {
                let mut out = Vec::with_capacity(nodes.len());
                for (i, n) in nodes.iter().enumerate() {
                    let value = self.enter_item(i, n, |cx| {
                        item(cx, n, item_ty).map_err(|f| cx.report(f, n, item_ty))
                    });
                    if let Ok(v) = value {
                        out.push(Spanned::new(v, n.span));
                    }
                }
                Ok(out)
            }
            // A single item's type error is reported against the whole
            // `ty` by the caller ("a channel name or a list of channel names").
            _ if one_allowed && node.is_scalar() && !node.is_null() => {
                item(self, node, item_ty).map(|v| vec![Spanned::new(v, node.span)])
            }
            _ => Err(Failed::WrongType),
        }
    }

    // Conversions of single values. Each checks it is used with the type the
    // shape declares, so the shape (and the JSON schema compared with it)
    // stays the truth about what is accepted.

    fn string(&mut self, node: &Node, ty: &'static Ty) -> Conv<String> {
        debug_assert!(matches!(ty, Ty::Text | Ty::Name(_)), "string() for {ty:?}");
        let Value::Str(s) = &node.value else {
            return Err(Failed::WrongType);
        };
        if matches!(ty, Ty::Name(_)) && s.trim().is_empty() {
            let message = format!("{} is blank", self.subject());
            return Err(self.invalid(node, message, &format!("expected {}", ty.one()), None));
        }
        Ok(s.clone())
    }

    fn boolean(&mut self, node: &Node, ty: &'static Ty) -> Conv<bool> {
        debug_assert!(matches!(ty, Ty::Bool), "boolean() for {ty:?}");
        node.as_bool().ok_or(Failed::WrongType)
    }

    fn int(&mut self, node: &Node, ty: &'static Ty) -> Conv<i64> {
        let &Ty::Int { min, max } = ty else {
            debug_assert!(false, "int() for {ty:?}");
            return Err(Failed::Reported);
        };
        let Value::Int(i) = node.value else {
            return Err(Failed::WrongType);
        };
        if !(min..=max).contains(&i) {
            let message = format!("{} is {i}, outside {min}..={max}", self.subject());
            let label = format!("expected a whole number from {min} to {max}");
            return Err(self.invalid(node, message, &label, None));
        }
        Ok(i)
    }

    fn keyword_value<K: Keyword>(&mut self, node: &Node, ty: &'static Ty) -> Conv<K> {
        debug_assert!(
            matches!(ty, Ty::Keyword(k) if k.names == K::KEYWORDS.names),
            "keyword_value() for {ty:?}"
        );
        let Value::Str(s) = &node.value else {
            return Err(Failed::WrongType);
        };
        if let Some(k) = K::from_name(s) {
            return Ok(k);
        }
        let words = &K::KEYWORDS;
        let all = || words.names.iter().chain(words.aliases).copied();
        let suggestion = all()
            .find(|w| w.eq_ignore_ascii_case(s))
            .or_else(|| did_you_mean(s, all()));
        let shown = if s.is_empty() {
            "an empty string".to_owned()
        } else {
            format!("`{s}`")
        };
        let diag = Diag::error(
            codes::UNKNOWN_VALUE,
            format!("{shown} is not {} {}", words.noun.one, self.within()),
        )
        .with_label(
            self.source,
            self.label_span(node),
            format!("not {}", words.noun.one),
        )
        .with_help_opt(
            suggestion
                .map(|w| format!("did you mean `{w}`?"))
                .or_else(|| self.quote_hint(node)),
        )
        .with_note(format!("{}: {}", words.noun.many, words.names.join(", ")));
        self.push(diag);
        Err(Failed::Reported)
    }

    fn jurisdiction(&mut self, node: &Node, ty: &'static Ty) -> Conv<Jurisdiction> {
        debug_assert!(matches!(ty, Ty::Jurisdiction), "jurisdiction() for {ty:?}");
        let Value::Str(s) = &node.value else {
            return Err(Failed::WrongType);
        };
        let help = if JURISDICTION.is_match(s) {
            match crate::geo::canonical(s) {
                Ok(code) => return Ok(Jurisdiction(code)),
                Err(no) => match no.suggestion {
                    Some(near) => format!("{}: did you mean `{near}`?", no.reason),
                    None => format!(
                        "{}; write an ISO 3166 code such as `GB`, `EU-FR` (or `FR`), `US-CA`",
                        no.reason
                    ),
                },
            }
        } else {
            match crate::geo::canonical_suggestion(s) {
                Some(near) => format!("jurisdiction codes are ISO 3166, in capitals: `{near}`"),
                None => "write an ISO 3166 country code (2 capital letters), optionally followed \
                         by `-` and subdivisions: `GB`, `EU-FR` (or `FR`), `US-CA`"
                    .to_owned(),
            }
        };
        let message = format!("`{s}` is not a jurisdiction code {}", self.within());
        Err(self.invalid(node, message, "expected a code such as `EU-FR`", Some(help)))
    }

    fn when(&mut self, node: &Node, ty: &'static Ty) -> Conv<When> {
        debug_assert!(matches!(ty, Ty::When), "when() for {ty:?}");
        let Value::Str(s) = &node.value else {
            return Err(Failed::WrongType);
        };
        parse_when(s).map_err(|err| {
            let message = format!("`{s}` is not a date {}", self.within());
            let help =
                "write a date such as `2025-03-01` or a date-time such as `2025-03-01T09:00`";
            self.invalid(node, message, &err.to_string(), Some(help.to_owned()))
        })
    }

    fn local_datetime(&mut self, node: &Node, ty: &'static Ty) -> Conv<civil::DateTime> {
        debug_assert!(
            matches!(ty, Ty::LocalDateTime),
            "local_datetime() for {ty:?}"
        );
        let Value::Str(s) = &node.value else {
            return Err(Failed::WrongType);
        };
        let problem = match parse_when(s) {
            Ok(When::DateTime(dt)) => return Ok(dt),
            Ok(When::Date(_)) => "a date without a time of day".to_owned(),
            Ok(When::Instant(_)) => "a time with an offset or zone".to_owned(),
            Err(err) => err.to_string(),
        };
        let message = format!("`{s}` is not a local date-time {}", self.within());
        let help = "write a date and time without offset, such as `2026-12-01T09:00`; \
                    the zone comes from `schedule.timezone`";
        Err(self.invalid(node, message, &problem, Some(help.to_owned())))
    }

    fn zone(&mut self, node: &Node, ty: &'static Ty) -> Conv<ScheduleZone> {
        debug_assert!(matches!(ty, Ty::Zone), "zone() for {ty:?}");
        let Value::Str(s) = &node.value else {
            return Err(Failed::WrongType);
        };
        if s == "recipient" {
            return Ok(ScheduleZone::Recipient);
        }
        // `Etc/Unknown` resolves to jiff's "unknown" zone, which has no IANA name.
        if let Some(tz) = crate::tz::get(s).ok().filter(|tz| tz.iana_name().is_some()) {
            return Ok(ScheduleZone::Zone(tz));
        }
        let help = match suggest_zone(s) {
            Some(zone) => format!("did you mean `{zone}`?"),
            None => "use `recipient` or an IANA time zone name such as `Europe/Paris`".to_owned(),
        };
        let diag = Diag::error(
            codes::UNKNOWN_VALUE,
            format!("`{s}` is not a known time zone {}", self.within()),
        )
        .with_label(self.source, self.label_span(node), "unknown time zone")
        .with_help(help);
        self.push(diag);
        Err(Failed::Reported)
    }

    fn every(&mut self, node: &Node, ty: &'static Ty) -> Conv<Every> {
        debug_assert!(matches!(ty, Ty::Every), "every() for {ty:?}");
        let Value::Str(s) = &node.value else {
            return Err(Failed::WrongType);
        };
        let parsed = EVERY.captures(s).and_then(|c| {
            let amount = c.get(1)?.as_str().parse::<u32>().ok()?;
            let unit = match c.get(2)?.as_str() {
                "minute" => TimeUnit::Minute,
                "hour" => TimeUnit::Hour,
                "day" => TimeUnit::Day,
                _ => TimeUnit::Week,
            };
            Some(Every { amount, unit })
        });
        parsed.ok_or_else(|| {
            let message = format!("`{s}` is not an interval {}", self.within());
            let help = "write it like `30 minutes`, `1 hour`, `1 day` or `2 weeks`";
            self.invalid(
                node,
                message,
                "expected an amount and a unit",
                Some(help.to_owned()),
            )
        })
    }

    /// A percentage: an integer or decimal from 0 to 100.
    pub(super) fn percent(&mut self, node: &Node, ty: &'static Ty) -> Conv<f64> {
        debug_assert!(matches!(ty, Ty::Percent), "percent() for {ty:?}");
        let value = match node.value {
            // Whole percentages are small, so the conversion is exact.
            #[allow(clippy::cast_precision_loss)]
            Value::Int(i) => i as f64,
            Value::Float(f) => f,
            _ => return Err(Failed::WrongType),
        };
        if !(0.0..=100.0).contains(&value) {
            let message = format!("{} is {value}, outside 0 to 100", self.subject());
            return Err(self.invalid(node, message, "expected a percentage from 0 to 100", None));
        }
        Ok(value)
    }

    /// A time of day, `HH:MM`.
    pub(super) fn time_of_day(&mut self, node: &Node, ty: &'static Ty) -> Conv<civil::Time> {
        debug_assert!(matches!(ty, Ty::TimeOfDay), "time_of_day() for {ty:?}");
        let Value::Str(s) = &node.value else {
            return Err(Failed::WrongType);
        };
        let parsed = TIME_OF_DAY
            .is_match(s)
            .then(|| civil::Time::strptime("%H:%M", s).ok())
            .flatten();
        parsed.ok_or_else(|| {
            let message = format!("`{s}` is not a time of day {}", self.within());
            let help = "write hours and minutes on a 24-hour clock, such as `09:00` or `20:30`";
            self.invalid(node, message, "expected `HH:MM`", Some(help.to_owned()))
        })
    }

    fn text_or_bool(&mut self, node: &Node, ty: &'static Ty) -> Conv<AdDisclosure> {
        debug_assert!(matches!(ty, Ty::TextOrBool), "text_or_bool() for {ty:?}");
        match &node.value {
            Value::Str(s) => Ok(AdDisclosure::Text(s.clone())),
            Value::Bool(b) => Ok(AdDisclosure::Flag(*b)),
            _ => Err(Failed::WrongType),
        }
    }

    fn filter_value(&mut self, node: &Node, ty: &'static Ty) -> Conv<FilterValue> {
        debug_assert!(matches!(ty, Ty::FilterValue), "filter_value() for {ty:?}");
        let Value::List(nodes) = &node.value else {
            return scalar(node).map(FilterValue::One).ok_or(Failed::WrongType);
        };
        let mut out = Vec::with_capacity(nodes.len());
        for (i, n) in nodes.iter().enumerate() {
            match scalar(n) {
                Some(s) => out.push(Spanned::new(s, n.span)),
                None => self.enter_item(i, n, |cx| cx.type_error(n, ty)),
            }
        }
        if out.len() == nodes.len() {
            Ok(FilterValue::Many(out))
        } else {
            Err(Failed::Reported)
        }
    }
}

/// The scalar in `node`, if it is one.
fn scalar(node: &Node) -> Option<Scalar> {
    Some(match &node.value {
        Value::Null => Scalar::Null,
        Value::Bool(b) => Scalar::Bool(*b),
        Value::Int(i) => Scalar::Int(*i),
        Value::Float(f) => Scalar::Float(*f),
        Value::Str(s) => Scalar::Str(s.clone()),
        Value::List(_) | Value::Map(_) => return None,
    })
}

/// "`a`, `b` and `c`".
fn key_list(shape: &Shape) -> String {
    let keys: Vec<String> = shape
        .fields
        .iter()
        .map(|f| format!("`{}`", f.key))
        .collect();
    match keys.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => keys.concat(),
    }
}

/// `audience.segments[0]` → `audience.segments`, to compare with shape paths.
fn strip_indices(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => in_index = true,
            ']' => in_index = false,
            _ if !in_index => out.push(c),
            _ => {}
        }
    }
    out
}

/// Parses a date (`2025-03-01`), a local date-time (`2025-03-01T09:00`, a
/// space works too) or an instant (with `Z`, an offset or a `[zone]`).
pub(crate) fn parse_when(s: &str) -> Result<When, jiff::Error> {
    When::parse(s)
}

/// A time zone name close to `name`: one whose city matches, else the
/// nearest by spelling.
fn suggest_zone(name: &str) -> Option<String> {
    let zones: Vec<String> = std::iter::once("recipient".to_owned())
        .chain(crate::tz::db().available().map(|z| z.as_str().to_owned()))
        .collect();
    let city = name.replace(' ', "_");
    let by_city = zones.iter().find(|z| {
        z.rsplit('/')
            .next()
            .is_some_and(|last| last.eq_ignore_ascii_case(&city))
    });
    by_city
        .cloned()
        .or_else(|| did_you_mean(name, zones.iter().map(String::as_str)).map(str::to_owned))
}

fn campaign(cx: &mut Cx<'_>, root: &Node) -> Option<CampaignModel> {
    static ROOT: Ty = Ty::Map(&shape::CAMPAIGN);
    let o = match cx.obj(root, &ROOT) {
        Ok(o) => o,
        Err(failed) => {
            cx.report(failed, root, &ROOT);
            return None;
        }
    };
    let id = cx.text(&o, "id");
    let name = cx.text(&o, "name");
    let owner = cx.text(&o, "owner");
    let category = cx.keyword(&o, "category");
    let jurisdictions = cx.list_field(&o, "jurisdictions", Cx::jurisdiction);
    let platform = cx.map(&o, "platform", |cx, o| {
        Some(Platform {
            name: cx.text(&o, "name"),
            online_platform: cx.flag(&o, "online_platform"),
        })
    });
    let message_type = cx.keyword(&o, "message_type");
    let channels = cx.list_field(&o, "channels", Cx::keyword_value::<Channel>);
    let purposes = cx.names(&o, "purposes");
    let lawful_basis = cx.keyword(&o, "lawful_basis");
    let legitimate_interest_assessment = cx.map(
        &o,
        "legitimate_interest_assessment",
        lawful::legitimate_interest_assessment,
    );
    let audience = cx.map(&o, "audience", audience);
    let consent = cx.map(&o, "consent", |cx, o| {
        Some(Consent {
            purposes: cx.names(&o, "purposes"),
            collected_at: cx.field(&o, "collected_at", Cx::when),
            method: cx.text(&o, "method"),
            written: cx.flag(&o, "written"),
            parental: cx.flag(&o, "parental"),
        })
    });
    let data = cx.map(&o, "data", |cx, o| {
        Some(Data {
            fields: cx.names(&o, "fields"),
        })
    });
    let schedule = cx.map(&o, "schedule", schedule);
    let message = cx.map(&o, "message", message);
    let personalization = cx.map(&o, "personalization", |cx, o| {
        let automated_decision = cx.map(&o, "automated_decision", |cx, o| {
            Some(AutomatedDecision {
                significant_effect: cx.flag(&o, "significant_effect"),
                human_review: cx.flag(&o, "human_review"),
            })
        });
        Some(Personalization {
            attributes: cx.names(&o, "attributes"),
            explanation: cx.text(&o, "explanation"),
            automated_decision,
        })
    });
    let sending = cx.map(&o, "sending", facts::sending);
    let ads = cx.map(&o, "ads", facts::ads);
    let waivers = cx.maps(&o, "waivers", |cx, o| {
        let rule = cx.text(&o, "rule");
        Some(Waiver {
            justification: cx.text(&o, "justification"),
            approver: cx.text(&o, "approver"),
            reference: cx.text(&o, "reference"),
            expires: cx.field(&o, "expires", Cx::when),
            rule: rule?,
        })
    });
    let tcf_vendor_id = cx.field(&o, "tcf_vendor_id", Cx::int);
    let counts_toward_caps = cx.flag(&o, "counts_toward_caps");
    if let Some(counts) = &counts_toward_caps {
        // Only a service message chooses; the others are fixed (see
        // `CampaignModel::counts_toward_caps`), and a setting that would be
        // ignored is refused rather than silently not applied.
        let kind = message_type.as_ref().map(|m| m.value);
        let refused = match (kind, counts.value) {
            (Some(MessageType::Transactional), true) => Some((
                "a transactional campaign never counts toward frequency caps",
                "remove `counts_toward_caps`: transactional sends are recorded but never counted",
            )),
            (Some(MessageType::Service), _) => None,
            (_, false) => Some((
                "a marketing campaign always counts toward frequency caps",
                "remove `counts_toward_caps: false`: a cap may be law (Florida counts every solicitation), so marketing sends are always counted; only `message_type: service` campaigns may opt out",
            )),
            _ => None,
        };
        if let Some((message, help)) = refused {
            let diag = Diag::error(codes::INVALID_VALUE, message.to_string())
                .with_label(cx.source, counts.span, "not allowed here")
                .with_help(help);
            cx.push(diag);
        }
    }
    if let Some(waivers) = &waivers {
        cx.unique_names("waiver for rule", waivers.value.iter().map(|w| &w.rule));
    }
    Some(CampaignModel {
        id: id?,
        name,
        owner,
        category,
        jurisdictions,
        platform,
        message_type,
        channels,
        purposes,
        lawful_basis,
        legitimate_interest_assessment,
        audience,
        consent,
        data,
        schedule,
        message,
        personalization,
        sending,
        ads,
        waivers,
        tcf_vendor_id,
        counts_toward_caps,
    })
}

fn audience(cx: &mut Cx<'_>, o: Obj<'_>) -> Option<Audience> {
    let segments = cx.maps(&o, "segments", segment);
    let exclusions = cx.maps(&o, "exclusions", segment);
    let age = cx.map(&o, "age", |cx, o| {
        let min = cx.field(&o, "min", Cx::int);
        let max = cx.field(&o, "max", Cx::int);
        if let (Some(lo), Some(hi)) = (&min, &max) {
            if lo.value > hi.value {
                let diag = Diag::error(
                    codes::INVALID_VALUE,
                    format!(
                        "the age range {} is empty: `min` {} is above `max` {}",
                        cx.within(),
                        lo.value,
                        hi.value
                    ),
                )
                .with_label(cx.source, lo.span, "min")
                .with_label(cx.source, hi.span, "max")
                .with_help("swap the two values");
                cx.push(diag);
            }
        }
        Some(AgeRange { min, max })
    });
    let suppressions = cx.names(&o, "suppressions");
    let derived_attributes = cx.maps(&o, "derived_attributes", |cx, o| {
        let derived_from = cx.names(&o, "derived_from");
        Some(DerivedAttribute {
            name: cx.text(&o, "name")?,
            derived_from,
        })
    });
    let model_features = cx.maps(&o, "model_features", |cx, o| {
        let inputs = cx.names(&o, "inputs");
        Some(ModelFeature {
            name: cx.text(&o, "name")?,
            inputs,
        })
    });
    let contact_source = cx.map(&o, "contact_source", lawful::contact_source);
    let all: Vec<&Spanned<Segment>> = items(&segments).chain(items(&exclusions)).collect();
    cx.unique_names("segment", all.iter().map(|s| &s.name));
    cx.lookalike_cycles(&all);
    Some(Audience {
        segments,
        exclusions,
        age,
        suppressions,
        derived_attributes,
        model_features,
        contact_source,
    })
}

fn segment(cx: &mut Cx<'_>, o: Obj<'_>) -> Option<Segment> {
    let name = cx.text(&o, "name");
    let filters = cx.maps(&o, "filters", filter);
    let lookalike_of = cx.text(&o, "lookalike_of");
    Some(Segment {
        name: name?,
        filters,
        lookalike_of,
    })
}

fn filter(cx: &mut Cx<'_>, o: Obj<'_>) -> Option<Filter> {
    let attribute = cx.text(&o, "attribute");
    let op = cx.keyword::<FilterOp>(&o, "op");
    let value = cx.field(&o, "value", Cx::filter_value);
    let has_value = o.entries.iter().any(|e| e.key == "value");
    if let Some(op) = &op {
        match (op.value, &value) {
            (FilterOp::Exists, Some(v))
                if !matches!(v.value, FilterValue::One(Scalar::Bool(_))) =>
            {
                cx.enter("value".to_owned(), v.span, |cx| {
                    cx.invalid_with_span(
                        v.span,
                        format!("{} must be `true` or `false` with `exists`", cx.subject()),
                        "expected true or false",
                    );
                });
            }
            (FilterOp::Exists, _) => {}
            (op, None) if !has_value => cx.missing_key(
                "value",
                Some(&format!(
                    "`{op}` needs a value to compare with; only `exists` has none"
                )),
            ),
            (FilterOp::In | FilterOp::NotIn, _) => {}
            (op, Some(v)) if op.is_text() => text_operands(cx, op, v),
            (op, Some(v)) if op.is_regex() => regex_operand(cx, op, v),
            (op, Some(v)) if op.is_range() => range_operand(cx, op, v),
            (op, Some(v)) if matches!(v.value, FilterValue::Many(_)) => {
                cx.enter("value".to_owned(), v.span, |cx| {
                    cx.invalid_with_span(
                        v.span,
                        format!(
                            "{} is a list, but `{op}` compares with one value",
                            cx.subject()
                        ),
                        "expected a single value",
                    );
                });
            }
            _ => {}
        }
    }
    Some(Filter {
        attribute: attribute?,
        op: op?,
        value,
    })
}

/// `contains`, `starts_with`, `ends_with` (and `not_…`): a text, or a list
/// of texts (any of them); each wrong item is reported where it is.
fn text_operands(cx: &mut Cx<'_>, op: FilterOp, v: &Spanned<FilterValue>) {
    let bad: Vec<Span> = match &v.value {
        FilterValue::One(Scalar::Str(_)) => Vec::new(),
        FilterValue::One(_) => vec![v.span],
        FilterValue::Many(list) if list.is_empty() => vec![v.span],
        FilterValue::Many(list) => list
            .iter()
            .filter(|i| !matches!(i.value, Scalar::Str(_)))
            .map(|i| i.span)
            .collect(),
    };
    for span in bad {
        cx.enter("value".to_owned(), v.span, |cx| {
            cx.invalid_with_span(
                span,
                format!(
                    "{} must be text (or a non-empty list of texts) with `{op}`",
                    cx.subject()
                ),
                "expected text in quotes",
            );
        });
    }
}

/// `matches` / `not_matches`: one regular expression, in Rust syntax, at
/// most [`MAX_FILTER_REGEX_BYTES`] long and compiling within
/// [`MAX_FILTER_REGEX_COMPILED`]; errors point at the value.
fn regex_operand(cx: &mut Cx<'_>, op: FilterOp, v: &Spanned<FilterValue>) {
    let problem = match &v.value {
        FilterValue::One(Scalar::Str(p)) if p.len() > MAX_FILTER_REGEX_BYTES => Some((
            format!(
                "the pattern is {} bytes; at most {MAX_FILTER_REGEX_BYTES} are allowed",
                p.len()
            ),
            "pattern too long",
        )),
        FilterValue::One(Scalar::Str(p)) => regex::RegexBuilder::new(p)
            .size_limit(MAX_FILTER_REGEX_COMPILED)
            .build()
            .err()
            .map(|e| (regex_error(&e), "not a valid regular expression")),
        _ => Some((
            format!("`{op}` takes one regular expression in quotes"),
            "expected a pattern in quotes",
        )),
    };
    if let Some((detail, label)) = problem {
        cx.enter("value".to_owned(), v.span, |cx| {
            cx.invalid_with_span(v.span, format!("{}: {detail}", cx.subject()), label);
        });
    }
}

/// The one line of a regex error that says what is wrong.
fn regex_error(e: &regex::Error) -> String {
    match e {
        regex::Error::CompiledTooBig(limit) => {
            format!("the pattern compiles to more than {limit} bytes")
        }
        other => {
            let text = other.to_string();
            text.lines()
                .find_map(|l| l.trim().strip_prefix("error:"))
                .map_or_else(
                    || text.lines().next().unwrap_or("").to_string(),
                    |l| l.trim().to_string(),
                )
        }
    }
}

/// `between` / `not_between`: `[low, high]`, two numbers or two dates
/// (`2026-01-01`), low not above high.
fn range_operand(cx: &mut Cx<'_>, op: FilterOp, v: &Spanned<FilterValue>) {
    let number = |s: &Scalar| match s {
        Scalar::Int(i) => Some(*i as f64),
        Scalar::Float(f) => Some(*f),
        _ => None,
    };
    let date = |s: &Scalar| match s {
        Scalar::Str(t) => t.parse::<jiff::civil::Date>().ok(),
        _ => None,
    };
    let problem = match &v.value {
        FilterValue::Many(list) if list.len() == 2 => {
            let (lo, hi) = (&list[0].value, &list[1].value);
            match (number(lo), number(hi), date(lo), date(hi)) {
                (Some(a), Some(b), _, _) if a <= b => None,
                (_, _, Some(a), Some(b)) if a <= b => None,
                (Some(_), Some(_), _, _) | (_, _, Some(_), Some(_)) => {
                    Some("the low bound is above the high bound")
                }
                _ => Some("the bounds must be two numbers or two dates (`2026-01-01`)"),
            }
        }
        _ => Some("expected `[low, high]`: a list of exactly two bounds"),
    };
    if let Some(problem) = problem {
        cx.enter("value".to_owned(), v.span, |cx| {
            cx.invalid_with_span(
                v.span,
                format!("{} is not a range for `{op}`: {problem}", cx.subject()),
                "expected [low, high]",
            );
        });
    }
}

fn schedule(cx: &mut Cx<'_>, o: Obj<'_>) -> Option<Schedule> {
    let timezone = cx.field(&o, "timezone", Cx::zone);
    let send_at = cx.list_field(&o, "send_at", Cx::local_datetime);
    let repeat = cx.map(&o, "repeat", |cx, o| {
        let every = cx.field(&o, "every", Cx::every);
        let count = cx.field(&o, "count", Cx::int);
        Some(Repeat {
            every: every?,
            // `int` checked the range 1..=MAX_SENDS, which fits in u32.
            count: Spanned::new(u32::try_from(count.as_ref()?.value).ok()?, count?.span),
        })
    });
    let trigger = cx.map(&o, "trigger", facts::trigger);
    let has_repeat = o.entries.iter().any(|e| e.key == "repeat");
    let has_send_at = o.entries.iter().any(|e| e.key == "send_at");
    if has_repeat && !has_send_at {
        cx.missing_key("send_at", Some("`repeat` repeats each `send_at`"));
    }
    let sends = match &send_at {
        Some(send_at) => cx.expand_sends(send_at, repeat.as_ref(), timezone.as_ref())?,
        None => Vec::new(),
    };
    Some(Schedule {
        timezone,
        send_at,
        repeat,
        trigger,
        sends,
    })
}

fn message(cx: &mut Cx<'_>, o: Obj<'_>) -> Option<Message> {
    Some(Message {
        subject: cx.text(&o, "subject"),
        from: cx.text(&o, "from"),
        postal_address: cx.text(&o, "postal_address"),
        ad_disclosure: cx.field(&o, "ad_disclosure", Cx::text_or_bool),
        unsubscribe: cx.map(&o, "unsubscribe", |cx, o| {
            Some(Unsubscribe {
                link: cx.text(&o, "link"),
                one_click: cx.flag(&o, "one_click"),
                mailto: cx.text(&o, "mailto"),
                processing_days: cx.field(&o, "processing_days", Cx::int),
            })
        }),
        authentication: cx.map(&o, "authentication", |cx, o| {
            Some(Authentication {
                spf: cx.flag(&o, "spf"),
                dkim: cx.flag(&o, "dkim"),
                dmarc: cx.flag(&o, "dmarc"),
            })
        }),
        sms: cx.map(&o, "sms", facts::sms),
    })
}

impl Cx<'_> {
    /// An `invalid_value` diagnostic on a span.
    fn invalid_with_span(&mut self, span: Span, message: String, label: &str) {
        let diag = Diag::error(codes::INVALID_VALUE, message).with_label(self.source, span, label);
        self.push(diag);
    }

    /// Reports names used twice (segments, waived rules).
    fn unique_names<'a>(&mut self, what: &str, names: impl Iterator<Item = &'a Spanned<String>>) {
        let mut seen: Vec<&Spanned<String>> = Vec::new();
        for name in names {
            if let Some(first) = seen.iter().find(|n| n.value == name.value) {
                let diag = Diag::error(
                    codes::DUPLICATE_NAME,
                    format!(
                        "{what} `{}` is declared twice {}",
                        name.value,
                        self.within()
                    ),
                )
                .with_label(self.source, name.span, "second one")
                .with_label(self.source, first.span, "first one")
                .with_help("names must be unique: rename or merge one of them");
                self.push(diag);
            } else {
                seen.push(name);
            }
        }
    }

    /// Reports each `lookalike_of` cycle once, at its first segment.
    fn lookalike_cycles(&mut self, segments: &[&Spanned<Segment>]) {
        let index_of = |name: &str| segments.iter().position(|s| s.name.value == name);
        for (start, segment) in segments.iter().enumerate() {
            let Some(first_seed) = &segment.lookalike_of else {
                continue;
            };
            let mut chain = vec![start];
            let mut next = index_of(&first_seed.value);
            while let Some(i) = next {
                if i == start {
                    // Report at the cycle's first segment only.
                    if chain.iter().all(|&j| j >= start) {
                        let names: Vec<String> = chain
                            .iter()
                            .chain([&start])
                            .map(|&j| format!("`{}`", segments[j].name.value))
                            .collect();
                        let diag = Diag::error(
                            codes::INVALID_VALUE,
                            format!("lookalike segments form a cycle: {}", names.join(" → ")),
                        )
                        .with_label(
                            self.source,
                            first_seed.span,
                            "seed leads back to this segment",
                        )
                        .with_help(
                            "a lookalike audience needs a seed that is not itself derived from it",
                        );
                        self.push(diag);
                    }
                    break;
                }
                if chain.contains(&i) {
                    break;
                }
                chain.push(i);
                next = segments[i]
                    .lookalike_of
                    .as_ref()
                    .and_then(|seed| index_of(&seed.value));
            }
        }
    }

    /// Expands `send_at` × `repeat` into sends, at most [`MAX_SENDS`].
    fn expand_sends(
        &mut self,
        send_at: &List<civil::DateTime>,
        repeat: Option<&Spanned<Repeat>>,
        timezone: Option<&Spanned<ScheduleZone>>,
    ) -> Option<Vec<Send>> {
        let count = repeat.map_or(1, |r| r.count.value);
        let total = send_at.value.len().saturating_mul(count as usize);
        if total > MAX_SENDS {
            let span = repeat.map_or(send_at.span, |r| r.count.span);
            self.invalid_with_span(
                span,
                format!("the schedule expands to {total} sends, more than the {MAX_SENDS} allowed"),
                "too many sends",
            );
            return None;
        }
        let zone = match timezone.map(|t| &t.value) {
            Some(ScheduleZone::Zone(tz)) => Some(tz),
            _ => None,
        };
        let mut sends = Vec::with_capacity(total);
        for start in &send_at.value {
            for occurrence in 0..count {
                let step = match repeat {
                    Some(r) => r.every.value.times(occurrence),
                    None => Some(jiff::Span::new()),
                };
                let send = step.and_then(|step| {
                    let zoned = match zone {
                        Some(tz) => Some(
                            start
                                .value
                                .to_zoned(tz.clone())
                                .ok()?
                                .checked_add(step)
                                .ok()?,
                        ),
                        None => None,
                    };
                    let at = match &zoned {
                        Some(z) => z.datetime(),
                        None => start.value.checked_add(step).ok()?,
                    };
                    Some(Send {
                        at,
                        zoned,
                        span: start.span,
                        occurrence,
                    })
                });
                match send {
                    Some(send) => sends.push(send),
                    None => {
                        self.invalid_with_span(
                            start.span,
                            format!(
                                "repeat {occurrence} of `{}` falls outside the supported dates",
                                start.value
                            ),
                            "repeats run past year 9999",
                        );
                        return None;
                    }
                }
            }
        }
        Some(sends)
    }
}
