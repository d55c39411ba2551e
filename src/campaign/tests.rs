//! Tests of campaign loading: spans, every diagnostic code, odd inputs, and
//! the agreement between the validator, the JSON Schema and the docs.

use super::shape::{self, Shape, Ty};
use super::*;
use crate::diag::render_human;
use crate::source::SourceFile;

const DOCS: &str = include_str!("../../docs/campaign.md");

/// The complete example of `docs/campaign.md`.
fn docs_example() -> &'static str {
    let start = DOCS.find("```yaml\n").map(|i| i + "```yaml\n".len());
    let text = start.map(|s| &DOCS[s..]).unwrap_or("");
    &text[..text.find("```").unwrap_or(0)]
}

fn src(text: &str) -> Source {
    SourceFile::new("campaign.yaml", text)
}

fn load_ok(text: &str) -> Campaign {
    match load(&src(text)) {
        Ok(c) => c,
        Err(diags) => panic!("{}", render_human(&diags, false, 100)),
    }
}

fn load_err(text: &str) -> Vec<Diag> {
    match load(&src(text)) {
        Ok(_) => panic!("expected errors loading:\n{text}"),
        Err(diags) => diags,
    }
}

/// The codes of the diagnostics for `text`.
fn codes_of(text: &str) -> Vec<String> {
    load_err(text).into_iter().map(|d| d.code).collect()
}

/// The text under the primary label of the only diagnostic for `text`.
fn only_label(text: &str) -> (String, String) {
    let diags = load_err(text);
    assert_eq!(diags.len(), 1, "{}", render_human(&diags, false, 100));
    let label = &diags[0].labels[0];
    (
        diags[0].code.clone(),
        label.source.slice(label.span).to_owned(),
    )
}

fn slice(c: &Campaign, span: Span) -> &str {
    c.source.slice(span)
}

// ---------------------------------------------------------------- loading

#[test]
fn docs_example_loads_with_every_value() {
    let c = load_ok(docs_example());
    let m = &c.model;
    assert_eq!(m.id.value, "spring-sale-2026");
    assert_eq!(m.category.as_ref().map(|c| c.value), Some(Category::Retail));
    let channels: Vec<Channel> = m.channels().map(|(c, _)| c).collect();
    assert_eq!(channels, [Channel::Email, Channel::Sms]);
    assert!(m.uses_channel(Channel::Sms) && !m.uses_channel(Channel::Push));
    let codes: Vec<&str> = m.jurisdictions().map(|j| j.as_str()).collect();
    assert_eq!(codes, ["EU-FR", "EU-DE"]);
    assert!(m.jurisdictions().all(|j| j.is_within("EU")));
    assert_eq!(
        m.lawful_basis.as_ref().map(|b| b.value),
        Some(LawfulBasis::Consent)
    );
    assert!(m.has_suppression("gpc"));
    assert_eq!(m.consented_purposes().count(), 1);
    assert_eq!(m.data_fields().count(), 3);
    assert_eq!(m.personalization_attributes().count(), 1);
    let consent = m.consent.as_ref().and_then(|c| c.collected_at.as_ref());
    assert_eq!(
        consent.map(|w| w.value.date()),
        Some(jiff::civil::date(2025, 3, 1))
    );
    let ad = m.message.as_ref().and_then(|m| m.ad_disclosure.as_ref());
    assert!(ad.is_some_and(|a| a.is_disclosed()));
    assert!(m.waiver_for("some_rule_id").is_some());
    // One send_at repeated 5 times a day apart, in each recipient's time.
    let sends = m.sends();
    assert_eq!(sends.len(), 5);
    assert_eq!(sends[4].at, jiff::civil::datetime(2026, 12, 5, 9, 0, 0, 0));
    assert!(sends.iter().all(|s| s.zoned.is_none()));
    assert_eq!(slice(&c, sends[4].span), "2026-12-01T09:00");
    let ops: Vec<FilterOp> = m
        .segments()
        .flat_map(|s| items(&s.filters))
        .map(|f| f.op.value)
        .collect();
    assert_eq!(ops, [FilterOp::Gte, FilterOp::In, FilterOp::Gt]);
}

#[test]
fn docs_example_uses_every_key_of_the_schema() {
    // Records (shape, key) for each key present, and every (shape, key) of
    // the schema. Shapes are told apart by their noun: `segment` is used for
    // both targeted and excluded segments, and either may show a key.
    type Seen = std::collections::BTreeSet<(&'static str, &'static str)>;
    fn walk(shape: &'static Shape, node: &Node, seen: &mut Seen, all: &mut Seen) {
        for f in shape.fields {
            all.insert((shape.noun.one, f.key));
            let Some(value) = node.get(f.key) else {
                continue;
            };
            seen.insert((shape.noun.one, f.key));
            match (&f.ty, &value.value) {
                (Ty::Map(inner), _) => walk(inner, value, seen, all),
                (Ty::List(Ty::Map(inner)), Value::List(list)) => {
                    for item in list {
                        walk(inner, item, seen, all);
                    }
                }
                _ => {}
            }
        }
    }
    let c = load_ok(docs_example());
    let (mut seen, mut all) = (Seen::new(), Seen::new());
    walk(&shape::CAMPAIGN, &c.tree, &mut seen, &mut all);
    let missing: Vec<_> = all.difference(&seen).collect();
    assert!(missing.is_empty(), "docs example lacks {missing:?}");
}

#[test]
fn single_values_stand_for_lists_where_allowed() {
    let c = load_ok("id: x\nchannels: email\nschedule:\n  send_at: 2026-01-01 10:30\n");
    let channels: Vec<_> = c.model.channels().collect();
    assert_eq!(channels.len(), 1);
    assert_eq!(slice(&c, channels[0].1), "email");
    assert_eq!(c.model.sends().len(), 1);
    assert_eq!(codes_of("id: x\njurisdictions: GB\n"), [codes::TYPE_ERROR]);
}

#[test]
fn yaml_1_2_booleans_keep_norway() {
    let c = load_ok("id: x\njurisdictions: [NO, GB]\n");
    let codes: Vec<&str> = c.model.jurisdictions().map(|j| j.as_str()).collect();
    assert_eq!(codes, ["NO", "GB"]);
}

#[test]
fn operators_accept_symbols() {
    let c = load_ok(
        "id: x\naudience:\n  segments:\n    - name: s\n      filters:\n        \
         - { attribute: a, op: \">=\", value: 1 }\n        \
         - { attribute: b, op: \"!=\", value: 1 }\n        \
         - { attribute: c, op: <, value: 1 }\n        \
         - { attribute: d, op: exists }\n        \
         - { attribute: e, op: not_in, value: [1, two, 3.5, null] }\n",
    );
    let ops: Vec<FilterOp> = c
        .model
        .segments()
        .flat_map(|s| items(&s.filters))
        .map(|f| f.op.value)
        .collect();
    assert_eq!(
        ops,
        [
            FilterOp::Gte,
            FilterOp::Ne,
            FilterOp::Lt,
            FilterOp::Exists,
            FilterOp::NotIn
        ]
    );
}

#[test]
fn segment_builder_operators_load() {
    let c = load_ok(
        "id: x\naudience:\n  segments:\n    - name: s\n      filters:\n        \
         - { attribute: a, op: contains, value: [copd, \"sign language\"] }\n        \
         - { attribute: b, op: not_starts_with, value: \"/oncology/\" }\n        \
         - { attribute: c, op: ends_with, value: \".org\" }\n        \
         - { attribute: d, op: not_matches, value: \"(?i)^/rehab\" }\n        \
         - { attribute: e, op: between, value: [2026-01-01, 2026-12-31] }\n        \
         - { attribute: f, op: not_between, value: [1, 2.5] }\n",
    );
    let ops: Vec<FilterOp> = c
        .model
        .segments()
        .flat_map(|s| items(&s.filters))
        .map(|f| f.op.value)
        .collect();
    assert_eq!(
        ops,
        [
            FilterOp::Contains,
            FilterOp::NotStartsWith,
            FilterOp::EndsWith,
            FilterOp::NotMatches,
            FilterOp::Between,
            FilterOp::NotBetween
        ]
    );
}

#[test]
fn bad_operator_operands_point_at_the_value() {
    let head = "id: x\naudience:\n  segments:\n    - name: s\n      filters:\n        - ";
    for (filter, at) in [
        ("{ attribute: a, op: contains, value: 3 }", "3"),
        ("{ attribute: a, op: contains, value: [x, 4] }", "4"),
        ("{ attribute: a, op: contains, value: [] }", "[]"),
        (
            "{ attribute: a, op: matches, value: \"(unclosed\" }",
            "\"(unclosed\"",
        ),
        ("{ attribute: a, op: matches, value: [a] }", "[a]"),
        ("{ attribute: a, op: between, value: [9, 1] }", "[9, 1]"),
        ("{ attribute: a, op: between, value: [1] }", "[1]"),
        ("{ attribute: a, op: not_between, value: [x, 1] }", "[x, 1]"),
        ("{ attribute: a, op: between, value: 3 }", "3"),
    ] {
        let (code, label) = only_label(&format!("{head}{filter}\n"));
        assert_eq!(code, "scruple::campaign::invalid_value", "{filter}");
        assert_eq!(label, at, "{filter}");
    }
    // A pattern over the size bound is refused before compiling.
    let long = format!(
        "{head}{{ attribute: a, op: matches, value: \"{}\" }}\n",
        "a".repeat(2000)
    );
    assert_eq!(only_label(&long).0, "scruple::campaign::invalid_value");
}

#[test]
fn regex_operands_read_by_their_words() {
    assert_eq!(
        regex_words("(?i)^/(addiction|alcohol)-support/"),
        "/ addiction alcohol -support/"
    );
    assert_eq!(regex_words("cancer\\.org/.*"), "cancer.org/");
    assert_eq!(regex_words("\\bchemo(therapy)?\\b"), "chemo therapy");
    assert_eq!(regex_words("www.cancer.org"), "www.cancer.org");
    assert_eq!(regex_words(""), "");
}

// ------------------------------------------------------------------ spans

const SPANS: &str = "\
# a comment, then some UTF-8: é ✨
id: \"spring-✨\"
jurisdictions: [EU-FR, EU-DE]
audience:
  segments:
    - name: returning_customers
      filters:
        - attribute: purchase_count
          op: gte
          value: 2
  age: { min: 18, max: 65 }
message:
  subject: |
    Hello
    there

  from: x
";

#[test]
fn spans_land_on_the_right_bytes() {
    let c = load_ok(SPANS);
    let at = |path: &[&str]| c.span_of(path).map(|s| slice(&c, s)).unwrap_or("<none>");
    assert_eq!(at(&["id"]), "\"spring-✨\"");
    assert_eq!(slice(&c, c.model.id.span), "\"spring-✨\"");
    assert_eq!(at(&["jurisdictions"]), "[EU-FR, EU-DE]");
    assert_eq!(at(&["jurisdictions", "1"]), "EU-DE");
    assert_eq!(at(&["audience", "age"]), "{ min: 18, max: 65 }");
    assert_eq!(at(&["audience", "age", "max"]), "65");
    assert_eq!(
        at(&["audience", "segments", "0", "filters", "0", "op"]),
        "gte"
    );
    // Block scalars: the text without the trailing blank lines.
    assert_eq!(at(&["message", "subject"]), "Hello\n    there");
    // Block collections run from their first key to their last value.
    let segments = at(&["audience", "segments"]);
    assert!(segments.starts_with("- name: returning_customers"));
    assert!(segments.ends_with("value: 2"));
    let key = |path: &[&str]| c.key_span_of(path).map(|s| slice(&c, s));
    assert_eq!(key(&["audience", "segments"]), Some("segments"));
    assert_eq!(key(&["audience", "segments", "0"]), None);
    assert_eq!(key(&["nope"]), None);
    // Typed model spans agree with the tree.
    let filter = c
        .model
        .segments()
        .flat_map(|s| items(&s.filters))
        .next()
        .map(|f| slice(&c, f.attribute.span));
    assert_eq!(filter, Some("purchase_count"));
    let j: Vec<&str> = c.model.jurisdictions().map(|j| slice(&c, j.span)).collect();
    assert_eq!(j, ["EU-FR", "EU-DE"]);
}

#[test]
fn missing_paths_point_at_the_nearest_parent() {
    let c = load_ok(SPANS);
    let at = |path: &[&str]| c.span_of(path).map(|s| slice(&c, s));
    assert_eq!(at(&["message", "unsubscribe", "link"]), Some("message"));
    // Inside a block list item: its `-`.
    assert_eq!(
        at(&["audience", "segments", "0", "lookalike_of"]),
        Some("-")
    );
    assert_eq!(at(&["audience", "segments", "7"]), Some("segments"));
    // A missing top-level key points at the start of the document.
    let top = c.span_of(&["schedule"]);
    assert_eq!(top.map(|s| s.is_empty()), Some(true));
    assert_eq!(top.map(|s| c.source.line_col(s.start)), Some((2, 1)));
}

#[test]
fn spans_survive_crlf_and_a_byte_order_mark() {
    let text = "\u{feff}id: x\r\nname: \"é\"\r\nchannels:\r\n  - email\r\n  - sms\r\n";
    let c = load_ok(text);
    let at = |path: &[&str]| c.span_of(path).map(|s| slice(&c, s));
    assert_eq!(at(&["name"]), Some("\"é\""));
    assert_eq!(at(&["channels", "1"]), Some("sms"));
    assert_eq!(at(&["channels"]), Some("- email\r\n  - sms"));
    // Syntax errors only carry character offsets; check the conversion.
    let diags = load_err("\u{feff}id: é\r\nname: [a,\r\n");
    assert_eq!(diags[0].code, codes::SYNTAX);
    let label = &diags[0].labels[0];
    assert!(label
        .source
        .text
        .is_char_boundary(label.span.start as usize));
}

#[test]
fn aliases_point_at_their_use() {
    let c = load_ok("id: &i x\nname: *i\nchannels: &c [email, sms]\npurposes: [*i]\n");
    let at = |path: &[&str]| c.span_of(path).map(|s| slice(&c, s));
    assert_eq!(at(&["name"]), Some("*i"));
    assert_eq!(at(&["purposes", "0"]), Some("*i"));
    assert_eq!(c.model.name.as_ref().map(|n| n.value.as_str()), Some("x"));
}

#[test]
fn merge_keys_work() {
    let c = load_ok(
        "id: x\nmessage:\n  authentication: &auth { spf: true, dkim: true }\n  \
         unsubscribe: { link: u }\n",
    );
    assert!(c.model.message.is_some());
    let c = load_ok(
        "id: x\naudience:\n  segments:\n    - &base { name: a, filters: [{attribute: x, op: eq, value: 1}] }\n    \
         - <<: *base\n      name: b\n",
    );
    let names: Vec<&str> = c.model.segments().map(|s| s.name.value.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
}

// -------------------------------------------------------------- accessors

const LOOKALIKES: &str = "\
id: x
audience:
  segments:
    - name: lookalikes
      lookalike_of: vip
    - name: far
      lookalike_of: lookalikes
    - name: external
      lookalike_of: crm_upload
  exclusions:
    - name: vip
      filters:
        - { attribute: health, op: exists }
  derived_attributes:
    - { name: likely_parent, derived_from: [baby_score, age] }
    - { name: baby_score, derived_from: [purchases] }
  model_features:
    - { name: churn, inputs: [likely_parent] }
";

#[test]
fn lookalikes_resolve_to_their_seed_filters() {
    let c = load_ok(LOOKALIKES);
    let m = &c.model;
    let targeted = m.targeted_attributes();
    let explained: Vec<String> = targeted.iter().map(|t| t.explain()).collect();
    assert_eq!(
        explained,
        [
            "segment `lookalikes` is a lookalike of `vip`, which filters on `health`",
            "segment `far` is a lookalike of `lookalikes`, a lookalike of `vip`, which filters on `health`",
            "segment `vip` filters on `health`",
        ]
    );
    assert!(targeted[0].via.len() == 1 && !targeted[0].excluded);
    assert!(targeted[2].excluded);
    assert_eq!(slice(&c, targeted[1].span), "health");
    let external = m.segment("external").map(|s| m.lookalike_chain(s));
    assert_eq!(
        external.and_then(|ch| ch.unresolved.map(|u| u.value.clone())),
        Some("crm_upload".to_owned())
    );
}

#[test]
fn upstream_follows_lineage() {
    let c = load_ok(LOOKALIKES);
    let up: Vec<(&str, Vec<&str>)> = c
        .model
        .upstream("churn")
        .into_iter()
        .map(|u| (u.name, u.path))
        .collect();
    assert_eq!(
        up,
        [
            ("likely_parent", vec!["churn"]),
            ("baby_score", vec!["churn", "likely_parent"]),
            ("age", vec!["churn", "likely_parent"]),
            ("purchases", vec!["churn", "likely_parent", "baby_score"]),
        ]
    );
    assert!(c.model.upstream("purchases").is_empty());
}

#[test]
fn zoned_schedules_keep_local_time_across_dst() {
    let c = load_ok(
        "id: x\nschedule:\n  timezone: Europe/Paris\n  send_at: [2026-03-28T09:00, 2026-03-28T09:00]\n  \
         repeat: { every: 1 day, count: 2 }\n",
    );
    let sends = c.model.sends();
    assert_eq!(sends.len(), 4);
    let z = sends[1].zoned.as_ref().map(|z| z.to_string());
    assert_eq!(
        z.as_deref(),
        Some("2026-03-29T09:00:00+02:00[Europe/Paris]")
    );
    let c = load_ok(
        "id: x\nschedule:\n  timezone: Europe/Paris\n  send_at: 2026-03-29T01:30\n  \
         repeat: { every: 1 hour, count: 2 }\n",
    );
    // 01:30 + 1 hour crosses the 02:00 → 03:00 jump.
    assert_eq!(
        c.model.sends()[1].at,
        jiff::civil::datetime(2026, 3, 29, 3, 30, 0, 0)
    );
}

// -------------------------------------------------------------- diagnostics

#[test]
fn every_code_is_produced() {
    let cases: &[(&str, &str, &str)] = &[
        ("id: x\nname: [a\n", codes::SYNTAX, "["),
        ("id: x\n---\nid: y\n", codes::SYNTAX, ""),
        ("", codes::EMPTY, ""),
        ("# nothing\n", codes::EMPTY, ""),
        ("id: x\nid: y\n", codes::DUPLICATE_KEY, "id"),
        ("id: x\nnmae: y\n", codes::UNKNOWN_KEY, "nmae"),
        ("name: y\n", codes::MISSING_KEY, ""),
        ("id: x\nchannels: 5\n", codes::TYPE_ERROR, "5"),
        ("id: x\nchannels: [emial]\n", codes::UNKNOWN_VALUE, "emial"),
        (
            "id: x\njurisdictions: [eu-fr]\n",
            codes::INVALID_VALUE,
            "eu-fr",
        ),
        (
            "id: x\naudience:\n  segments: [{name: a}]\n  exclusions: [{name: a}]\n",
            codes::DUPLICATE_NAME,
            "a",
        ),
    ];
    for (text, code, label) in cases {
        let diags = load_err(text);
        assert_eq!(
            diags.len(),
            1,
            "{text}: {}",
            render_human(&diags, false, 100)
        );
        assert_eq!(diags[0].code, *code, "{text}");
        let labelled = diags[0]
            .labels
            .first()
            .map(|l| l.source.slice(l.span))
            .unwrap_or("");
        assert_eq!(labelled, *label, "{text}");
    }
}

#[test]
fn type_errors_say_what_was_expected() {
    let diags = load_err("id: x\nchannels: 5\n");
    assert_eq!(
        diags[0].message,
        "expected a channel name or a list of channel names for `channels`, found a number"
    );
    let diags = load_err("id: x\npurposes: 5\n");
    assert_eq!(
        diags[0].message,
        "expected a list of purpose names for `purposes`, found a number"
    );
    assert_eq!(
        diags[0].help.as_deref(),
        Some("write a list, even of one item: `[5]`")
    );
    let diags = load_err("id: 2026\n");
    assert_eq!(
        diags[0].help.as_deref(),
        Some("quote it to make it a string: `\"2026\"`")
    );
    // An empty value is labelled at its key.
    assert_eq!(
        only_label("id: x\nname:\n"),
        (codes::TYPE_ERROR.to_owned(), "name".to_owned())
    );
    assert_eq!(only_label("just text\n").0, codes::TYPE_ERROR);
}

#[test]
fn unknown_keys_suggest_a_fix() {
    let help = |text: &str| load_err(text)[0].help.clone().unwrap_or_default();
    assert_eq!(
        help("id: x\nchanels: [email]\n"),
        "did you mean `channels`?"
    );
    assert_eq!(
        help("id: x\nsegments: []\n"),
        "`segments` belongs in `audience`"
    );
    assert_eq!(
        help("id: x\nplatform: { colour: red }\n"),
        "the keys allowed here are `name` and `online_platform`"
    );
    let diags = load_err("id: x\naudience:\n  segments:\n    - name: a\n      filter: []\n");
    assert_eq!(
        diags[0].message,
        "unknown key `filter` in `audience.segments[0]`"
    );
    assert_eq!(diags[0].help.as_deref(), Some("did you mean `filters`?"));
}

#[test]
fn unknown_values_suggest_a_fix() {
    let diags = load_err("id: x\ncategory: Retail\nlawful_basis: concent\n");
    assert_eq!(diags.len(), 2);
    assert_eq!(diags[0].help.as_deref(), Some("did you mean `retail`?"));
    assert_eq!(diags[1].help.as_deref(), Some("did you mean `consent`?"));
    assert_eq!(
        diags[1].message,
        "`concent` is not a lawful basis in `lawful_basis`"
    );
    let diags = load_err("id: x\nschedule:\n  timezone: Europe/Pariss\n");
    assert_eq!(diags[0].code, codes::UNKNOWN_VALUE);
    assert_eq!(
        diags[0].help.as_deref(),
        Some("did you mean `Europe/Paris`?")
    );
    let diags = load_err("id: x\nschedule:\n  timezone: tokyo\n");
    assert_eq!(diags[0].help.as_deref(), Some("did you mean `Asia/Tokyo`?"));
    assert_eq!(
        codes_of("id: x\nschedule:\n  timezone: Etc/Unknown\n"),
        [codes::UNKNOWN_VALUE]
    );
}

#[test]
fn missing_keys_point_at_the_parent() {
    let text =
        "id: x\naudience:\n  segments:\n    - filters: []\nschedule:\n  repeat: { every: 1 day }\n";
    let diags = load_err(text);
    let got: Vec<(&str, &str, &str)> = diags
        .iter()
        .map(|d| {
            let l = &d.labels[0];
            (d.code.as_str(), d.message.as_str(), l.source.slice(l.span))
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                codes::MISSING_KEY,
                "missing required key `name` in `audience.segments[0]`",
                "-"
            ),
            (
                codes::MISSING_KEY,
                "missing required key `send_at` in `schedule`",
                "schedule"
            ),
            (
                codes::MISSING_KEY,
                "missing required key `count` in `schedule.repeat`",
                "repeat"
            ),
        ]
    );
    let (code, label) = only_label(
        "id: x\naudience:\n  segments:\n    - name: a\n      filters: [{ attribute: a, op: eq }]\n",
    );
    assert_eq!((code.as_str(), label.as_str()), (codes::MISSING_KEY, "{"));
}

#[test]
fn invalid_values_are_reported() {
    let cases: &[(&str, &str)] = &[
        ("consent: { collected_at: 2026-02-30 }", "2026-02-30"),
        ("consent: { collected_at: soon }", "soon"),
        ("waivers: [{ rule: r, expires: 31/12/2026 }]", "31/12/2026"),
        ("schedule: { send_at: 2026-12-01 }", "2026-12-01"),
        ("schedule: { send_at: 2026-12-01T09:00Z }", "2026-12-01T09:00Z"),
        ("schedule: { send_at: x, repeat: { every: 1 fortnight, count: 2 } }", "x"),
        ("audience: { age: { min: 200 } }", "200"),
        ("audience: { age: { min: 40, max: 30 } }", "40"),
        ("audience: { segments: [{ name: \" \" }] }", "\" \""),
        ("jurisdictions: [EUROPE]", "EUROPE"),
        (
            "audience: { segments: [{ name: a, filters: [{ attribute: x, op: exists, value: 1 }] }] }",
            "1",
        ),
        (
            "audience: { segments: [{ name: a, filters: [{ attribute: x, op: eq, value: [1] }] }] }",
            "[1]",
        ),
        (
            "schedule: { send_at: [2026-01-01T00:00, 2026-01-02T00:00], repeat: { every: 1 day, count: 6000 } }",
            "6000",
        ),
        ("schedule: { send_at: 9999-12-30T00:00, repeat: { every: 1 week, count: 2 } }", "9999-12-30T00:00"),
    ];
    for (body, label) in cases {
        let text = format!("id: x\n{body}\n");
        let diags = load_err(&text);
        let first = diags.iter().find(|d| d.code == codes::INVALID_VALUE);
        let got = first.map(|d| d.labels[0].source.slice(d.labels[0].span));
        assert_eq!(
            got,
            Some(*label),
            "{text}{}",
            render_human(&diags, false, 100)
        );
    }
    // The bad interval is reported too, next to the bad date-time.
    assert_eq!(
        codes_of("id: x\nschedule: { send_at: x, repeat: { every: 1 fortnight, count: 2 } }\n"),
        [codes::INVALID_VALUE, codes::INVALID_VALUE]
    );
}

#[test]
fn syntax_errors_point_at_the_cause() {
    // An unclosed bracket is noticed only at the next key.
    let diags =
        load_err("id: x\nname: \"a [b\" # [c\nchannels: [email, sms\naudience:\n  age: {}\n");
    let labels: Vec<&str> = diags[0]
        .labels
        .iter()
        .map(|l| l.source.slice(l.span))
        .collect();
    assert_eq!(labels, ["[", ":"]);
    let first = &diags[0].labels[0];
    assert_eq!(first.source.line_col(first.span.start), (3, 11));
    // A bracket closed later is not blamed.
    let diags = load_err("id: x\naudience: { segments: [{ name: a, filters: [{ attribute: x, op: >=, value: 1 }] }] }\n");
    assert_eq!(diags[0].labels.len(), 1);
    assert_eq!(
        diags[0].help.as_deref(),
        Some("a value starting with `>` must be quoted: `\">=\"`")
    );
    // Tabs are labelled where they are.
    let (code, label) = only_label("id: x\n\tname: y\n");
    assert_eq!((code.as_str(), label.as_str()), (codes::SYNTAX, "\t"));
}

#[test]
fn yaml_indicators_in_values_get_a_quoting_hint() {
    let filter = |op: &str| {
        let text = format!(
            "id: x\naudience:\n  segments:\n    - name: a\n      filters:\n        - attribute: x\n          op: {op}\n          value: 1\n"
        );
        load_err(&text)[0].help.clone().unwrap_or_default()
    };
    assert_eq!(
        filter("!="),
        "`!=` has a meaning in YAML; quote it: `\"!=\"`"
    );
    assert_eq!(filter(">"), "`>` has a meaning in YAML; quote it: `\">\"`");
}

#[test]
fn lookalike_cycles_are_reported_once() {
    let diags = load_err(
        "id: x\naudience:\n  segments:\n    - { name: a, lookalike_of: b }\n    \
         - { name: b, lookalike_of: a }\n    - { name: c, lookalike_of: a }\n",
    );
    assert_eq!(diags.len(), 1);
    assert_eq!(
        diags[0].message,
        "lookalike segments form a cycle: `a` → `b` → `a`"
    );
    assert_eq!(
        codes_of("id: x\naudience: { segments: [{ name: a, lookalike_of: a }] }\n").len(),
        1
    );
}

#[test]
fn many_problems_are_reported_in_one_run() {
    let diags = load_err(
        "nmae: x\nchannels: [email, fax]\naudience:\n  age: { min: old }\n  segments: 3\nid: x\nid: y\n",
    );
    let got: Vec<&str> = diags.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(
        got,
        [
            codes::UNKNOWN_KEY,
            codes::UNKNOWN_VALUE,
            codes::TYPE_ERROR,
            codes::TYPE_ERROR,
            codes::DUPLICATE_KEY,
        ]
    );
}

// ------------------------------------------------------------ odd inputs

/// Loads `text` and checks every span in the result is inside the text and
/// on character boundaries.
fn survives(text: &str) {
    let source = src(text);
    let ok = |span: Span| {
        (span.start <= span.end)
            && (span.end as usize) <= text.len()
            && text.is_char_boundary(span.start as usize)
            && text.is_char_boundary(span.end as usize)
    };
    match load(&source) {
        Ok(c) => {
            for (path, node) in c.tree.walk() {
                assert!(ok(node.span), "{path:?} {:?} in {text:?}", node.span);
            }
        }
        Err(diags) => {
            assert!(!diags.is_empty());
            for d in &diags {
                for l in &d.labels {
                    assert!(ok(l.span), "{} {:?} in {text:?}", d.code, l.span);
                }
            }
            // Rendering must not panic either.
            let _ = render_human(&diags, false, 80);
        }
    }
}

#[test]
fn odd_inputs_do_not_panic() {
    let deep_block: String = (0..200)
        .map(|i| format!("{}a:\n", "  ".repeat(i)))
        .collect();
    let inputs = [
        "\0\u{1}\u{2}".to_owned(),
        "\u{feff}".to_owned(),
        "\t".to_owned(),
        "id:\tx\n".to_owned(),
        "id: x\n\tname: y\n".to_owned(),
        "- a\n- b\n".to_owned(),
        "~".to_owned(),
        "id: x\n...\n".to_owned(),
        "%YAML 1.2\n---\nid: x\n".to_owned(),
        "id: !!int x\n".to_owned(),
        "id: !custom x\nname: !!binary aGVsbG8=\n".to_owned(),
        "id: x\nname: *nope\n".to_owned(),
        "a: &a [*a]\n".to_owned(),
        "? [a, b]\n: c\nid: x\n".to_owned(),
        "? {a: b}\n: c\n".to_owned(),
        "1: 2\ntrue: 3\nnull: 4\n~: 5\n".to_owned(),
        "id: x\naudience: { age: { min: 99999999999999999999999999, max: -99999999999999999999 } }\n"
            .to_owned(),
        "id: x\naudience: { age: { min: .inf, max: .nan } }\n".to_owned(),
        "id: x\nschedule: { repeat: { every: 99999999999999999999 days, count: 10000 }, send_at: 2026-01-01T00:00 }\n"
            .to_owned(),
        "id: x\nschedule: { repeat: { every: 4294967295 weeks, count: 10000 }, send_at: 2026-01-01T00:00 }\n"
            .to_owned(),
        "id: x\naudience: { segments: [{ name: a, filters: [{ attribute: x, op: !=, value: 1 }] }] }\n"
            .to_owned(),
        format!("id: x\nname: {}\n", "[".repeat(100_000)),
        format!("id: x\nname: {}{}\n", "[".repeat(40), "]".repeat(40)),
        format!("id: x\nname: {}{}\n", "{a: ".repeat(40), "}".repeat(40)),
        deep_block,
        format!("id: x\nname: \"{}\"\n", "é".repeat(10_000)),
        "id: x\r\nid: y\r\n".to_owned(),
        "id: \"unterminated\n".to_owned(),
        "id: x\n  name: y\n".to_owned(),
        "id: x\n---\n---\n".to_owned(),
        "---\n".to_owned(),
        "\"just a string\"".to_owned(),
        "[1, 2, 3]".to_owned(),
        "id: x\nchannels: [email, [sms], {a: b}, ~, 1]\n".to_owned(),
        "id: x\naudience:\n  segments:\n    -\n    - ~\n    - []\n".to_owned(),
    ];
    for text in &inputs {
        survives(text);
    }
}

#[test]
fn alias_bombs_are_refused() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = format!("*a{}", i - 1);
        let list = [prev.as_str(); 10].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{list}]\n"));
    }
    assert_eq!(codes_of(&text), [codes::SYNTAX]);
}

#[test]
fn nesting_just_under_the_limit_fits_a_small_stack() {
    let text = format!("id: x\nname: {}{}\n", "[".repeat(30), "]".repeat(30));
    let handle = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || codes_of(&text));
    let codes = handle.ok().and_then(|h| h.join().ok());
    assert_eq!(codes, Some(vec![codes::TYPE_ERROR.to_owned()]));
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_yaml_does_not_panic() {
    const PIECES: &[&str] = &[
        "id",
        "name",
        ":",
        " ",
        "  ",
        "\n",
        "\r\n",
        "\t",
        "-",
        "[",
        "]",
        "{",
        "}",
        ",",
        "#",
        "&a",
        "*a",
        "!",
        "|",
        ">",
        "'",
        "\"",
        "%",
        "@",
        "`",
        "?",
        "<<",
        "é",
        "✨",
        "1",
        "-1",
        "1e999",
        "true",
        "null",
        "~",
        "audience",
        "segments",
        "filters",
        "op",
        "value",
        "channels",
        "email",
        "schedule",
        "send_at",
        "2026-01-01T00:00",
        "repeat",
        "every",
        "1 day",
        "count",
        "---",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..3000 {
        let len = rng.below(60);
        let text: String = (0..len).map(|_| PIECES[rng.below(PIECES.len())]).collect();
        survives(&text);
    }
}

#[test]
fn mutated_example_does_not_panic() {
    let example = docs_example();
    let chars: Vec<char> = example.chars().collect();
    let mut rng = Rng(42);
    for _ in 0..400 {
        let mut mutated = chars.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(mutated.len());
            match rng.below(3) {
                0 => {
                    mutated.remove(at);
                }
                1 => mutated.insert(at, [' ', '\n', ':', '-', '[', 'x', '\t'][rng.below(7)]),
                _ => {
                    let other = rng.below(mutated.len());
                    mutated.swap(at, other);
                }
            }
        }
        survives(&mutated.into_iter().collect::<String>());
    }
}

// ------------------------------------------------------------- the schema

#[test]
fn json_schema_matches_the_validator() {
    let schema: serde_json::Value = match serde_json::from_str(CAMPAIGN_SCHEMA) {
        Ok(v) => v,
        Err(e) => panic!("schema is not JSON: {e}"),
    };
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let root = Ty::Map(&shape::CAMPAIGN);
    check_schema(&schema, &root, &schema, "campaign");
}

/// A tree as JSON, to validate against the published schema.
fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.value {
        Value::Null => J::Null,
        Value::Bool(b) => J::from(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::Str(s) => J::from(s.as_str()),
        Value::List(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|e| (e.key.clone(), to_json(&e.value)))
                .collect(),
        ),
    }
}

#[test]
fn json_schema_and_loader_agree() {
    let schema: serde_json::Value = serde_json::from_str(CAMPAIGN_SCHEMA).unwrap_or_default();
    let validator = match jsonschema::validator_for(&schema) {
        Ok(v) => v,
        Err(e) => panic!("the schema does not compile: {e}"),
    };
    let schema_accepts = |text: &str| {
        let mut diags = Vec::new();
        let tree = super::yaml::parse(&src(text), &mut diags);
        tree.is_some_and(|t| validator.is_valid(&to_json(&t)))
    };
    let both_accept = [
        docs_example(),
        "id: x\nchannels: email\nschedule: { send_at: 2026-01-01T09:00 }\n",
        "id: x\naudience: { segments: [{ name: a, filters: [{ attribute: b, op: exists }] }] }\n",
        "id: x\naudience: { segments: [{ name: a, filters: [{ attribute: b, op: in, value: [1, x] }] }] }\n",
        "id: x\naudience: { segments: [{ name: a, filters: [{ attribute: b, op: \">=\", value: 3 }] }] }\n",
        "id: x\nmessage: { ad_disclosure: false }\n",
        "id: x\nsending: { spam_rate: { percent: 0.3, period: 1 day } }\n",
        "id: x\nsending: { spam_rate: { percent: 1, period: 30 days } }\n",
        "id: x\nschedule: { trigger: { event: birthday, window: { from: \"22:00\", to: \"06:30\" } } }\n",
        "id: x\nads: { placement: contextual, platform: google, special_ad_category: housing }\n",
    ];
    for text in both_accept {
        assert!(load(&src(text)).is_ok(), "loader rejects {text}");
        assert!(schema_accepts(text), "schema rejects {text}");
    }
    let both_reject = [
        "name: x\n",
        "id: \" \"\n",
        "id: x\nnmae: y\n",
        "id: 5\n",
        "id: x\nchannels: [fax]\n",
        "id: x\nchannels: 5\n",
        "id: x\njurisdictions: [eu-fr]\n",
        "id: x\ncategory: Retail\n",
        "id: x\naudience: { age: { min: 151 } }\n",
        "id: x\naudience: { age: { min: 1.5 } }\n",
        "id: x\naudience: { segments: [{ filters: [] }] }\n",
        "id: x\naudience: { segments: [{ name: a, filters: [{ attribute: b, op: eq }] }] }\n",
        "id: x\naudience: { segments: [{ name: a, filters: [{ attribute: b, op: eq, value: [1] }] }] }\n",
        "id: x\naudience: { segments: [{ name: a, filters: [{ attribute: b, op: exists, value: 1 }] }] }\n",
        "id: x\naudience: { segments: [{ name: a, filters: [{ attribute: b, op: in, value: {a: 1} }] }] }\n",
        "id: x\nschedule: { repeat: { every: 1 day, count: 2 } }\n",
        "id: x\nschedule: { send_at: 2026-01-01T09:00, repeat: { every: 1 fortnight, count: 2 } }\n",
        "id: x\nschedule: { send_at: 2026-01-01T09:00, repeat: { every: 1 day, count: 0 } }\n",
        "id: x\nschedule: { send_at: 2026-01-01T09:00, repeat: { every: 1 day } }\n",
        "id: x\nschedule: { send_at: 2026-01-01T09:00Z }\n",
        "id: x\nmessage: { ad_disclosure: 1 }\n",
        "id: x\nwaivers: [{ justification: j }]\n",
        "id: x\nsending: { spam_rate: { percent: 101, period: 1 day } }\n",
        "id: x\nsending: { spam_rate: { percent: \"0.1%\", period: 1 day } }\n",
        "id: x\nsending: { spam_rate: { percent: 0.1 } }\n",
        "id: x\nsending: { max_daily_volume: -1 }\n",
        "id: x\nschedule: { trigger: { delay: 1 hour } }\n",
        "id: x\nschedule: { trigger: { event: signup } }\n",
        "id: x\nschedule: { trigger: { event: welcome, window: { from: \"24:00\", to: \"08:00\" } } }\n",
        "id: x\nschedule: { trigger: { event: welcome, window: { from: \"9:00\", to: \"20:00\" } } }\n",
        "id: x\nads: { placement: behavioural }\n",
        "id: x\nmessage: { sms: { stop: true } }\n",
        "id: x\nconsent: { written: yes }\n",
    ];
    for text in both_reject {
        assert!(load(&src(text)).is_err(), "loader accepts {text}");
        assert!(!schema_accepts(text), "schema accepts {text}");
    }
    // What JSON Schema cannot say: calendars, the time zone database, and
    // relations between values. Only the loader rejects these.
    let loader_only = [
        "id: x\nconsent: { collected_at: 2026-02-30 }\n",
        "id: x\nschedule: { timezone: Europe/Pariss }\n",
        "id: x\naudience: { age: { min: 40, max: 30 } }\n",
        "id: x\naudience: { segments: [{ name: a }], exclusions: [{ name: a }] }\n",
        "id: x\naudience: { segments: [{ name: a, lookalike_of: a }] }\n",
        "id: x\nwaivers: [{ rule: r }, { rule: r }]\n",
        "id: x\nschedule: { send_at: [2026-01-01T09:00, 2026-01-02T09:00], repeat: { every: 1 day, count: 6000 } }\n",
    ];
    for text in loader_only {
        assert!(load(&src(text)).is_err(), "loader accepts {text}");
        assert!(schema_accepts(text), "schema rejects {text}");
    }
}

/// Follows `$ref`s into `$defs`.
fn resolve<'a>(root: &'a serde_json::Value, node: &'a serde_json::Value) -> &'a serde_json::Value {
    match node.get("$ref").and_then(|r| r.as_str()) {
        Some(r) => {
            let name = r.strip_prefix("#/$defs/").unwrap_or(r);
            resolve(root, &root["$defs"][name])
        }
        None => node,
    }
}

fn check_schema(root: &serde_json::Value, ty: &Ty, node: &serde_json::Value, path: &str) {
    use serde_json::json;
    let node = resolve(root, node);
    let strings = |v: &serde_json::Value| -> Vec<String> {
        let mut out: Vec<String> = v
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    };
    match ty {
        Ty::Map(shape) => {
            assert_eq!(node["type"], "object", "{path}");
            assert_eq!(node["additionalProperties"], false, "{path}");
            let props = node["properties"].as_object();
            let mut keys: Vec<&str> = props
                .map(|p| p.keys().map(String::as_str).collect())
                .unwrap_or_default();
            keys.sort();
            let mut expected: Vec<&str> = shape.fields.iter().map(|f| f.key).collect();
            expected.sort();
            assert_eq!(keys, expected, "keys of {path}");
            let mut required: Vec<&str> = shape
                .fields
                .iter()
                .filter(|f| f.required)
                .map(|f| f.key)
                .collect();
            required.sort();
            assert_eq!(
                strings(&node["required"]),
                required,
                "required keys of {path}"
            );
            for f in shape.fields {
                check_schema(
                    root,
                    &f.ty,
                    &node["properties"][f.key],
                    &format!("{path}.{}", f.key),
                );
            }
        }
        Ty::List(item) => {
            assert_eq!(node["type"], "array", "{path}");
            check_schema(root, item, &node["items"], &format!("{path}[]"));
        }
        Ty::OneOrList(item) => {
            let any = &node["anyOf"];
            assert_eq!(any.as_array().map(Vec::len), Some(2), "{path}");
            check_schema(root, item, &any[0], path);
            check_schema(root, &Ty::List(item), &any[1], path);
        }
        Ty::Keyword(k) => {
            assert_eq!(node["type"], "string", "{path}");
            let mut words: Vec<String> = k
                .names
                .iter()
                .chain(k.aliases)
                .map(|s| s.to_string())
                .collect();
            words.sort();
            assert_eq!(strings(&node["enum"]), words, "values of {path}");
        }
        Ty::Name(_) => {
            assert_eq!(node["type"], "string", "{path}");
            assert_eq!(node["pattern"], "\\S", "{path}");
        }
        Ty::Int { min, max } => {
            assert_eq!(node["type"], "integer", "{path}");
            assert_eq!(
                (&node["minimum"], &node["maximum"]),
                (&json!(min), &json!(max)),
                "{path}"
            );
        }
        Ty::Jurisdiction => assert_eq!(node["pattern"], shape::JURISDICTION_PATTERN, "{path}"),
        Ty::Every => assert_eq!(node["pattern"], shape::EVERY_PATTERN, "{path}"),
        Ty::Bool => assert_eq!(node["type"], "boolean", "{path}"),
        Ty::Text | Ty::When | Ty::LocalDateTime | Ty::Zone => {
            assert_eq!(node["type"], "string", "{path}");
            assert!(node.get("enum").is_none(), "{path}");
        }
        Ty::TextOrBool => assert_eq!(node["type"], json!(["string", "boolean"]), "{path}"),
        Ty::Percent => {
            assert_eq!(node["type"], "number", "{path}");
            assert_eq!(
                (&node["minimum"], &node["maximum"]),
                (&json!(0), &json!(100)),
                "{path}"
            );
        }
        Ty::TimeOfDay => assert_eq!(node["pattern"], shape::TIME_OF_DAY_PATTERN, "{path}"),
        Ty::FilterValue => {
            let any = &node["anyOf"];
            let scalar = json!(["null", "boolean", "number", "string"]);
            assert_eq!(resolve(root, &any[0])["type"], scalar, "{path}");
            assert_eq!(any[1]["type"], "array", "{path}");
            assert_eq!(resolve(root, &any[1]["items"])["type"], scalar, "{path}");
        }
    }
}

// -------------------------------------------------------------- fixtures

/// Renders the diagnostics for a fixture of `tests/fixtures/campaigns`.
fn render_fixture(name: &str, text: &str) -> String {
    let source = SourceFile::new(format!("tests/fixtures/campaigns/{name}"), text);
    match load(&source) {
        Ok(_) => panic!("{name} loaded without errors"),
        Err(diags) => render_human(&diags, false, 100),
    }
}

macro_rules! fixture_snapshot {
    ($test:ident, $file:literal) => {
        #[test]
        fn $test() {
            let text = include_str!(concat!("../../tests/fixtures/campaigns/", $file));
            insta::assert_snapshot!(render_fixture($file, text));
        }
    };
}

fixture_snapshot!(fixture_malformed_yaml, "malformed_yaml.yaml");
fixture_snapshot!(fixture_wrong_types, "wrong_types.yaml");
fixture_snapshot!(fixture_unknown_keys, "unknown_keys.yaml");
fixture_snapshot!(fixture_bad_timezone, "bad_timezone.yaml");
fixture_snapshot!(fixture_duplicate_key, "duplicate_key.yaml");
fixture_snapshot!(fixture_empty, "empty.yaml");
