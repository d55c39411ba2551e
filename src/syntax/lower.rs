//! Lowering: pest pairs → AST, plus the checks the grammar cannot express.

use pest::iterators::Pair;

use super::ast::*;
use super::Rule;
use crate::diag::{did_you_mean, Diag, Severity};
use crate::source::{Source, Span};

/// Lowers the `file` pair of a successful parse into an AST. Problems found
/// while lowering (bad durations, missing constraints, …) are returned as
/// diagnostics; the items they occur in are left out of the AST.
pub fn lower(source: &Source, file: Pair<'_, Rule>) -> (Option<PolicyFile>, Vec<Diag>) {
    let mut cx = Lowerer {
        source,
        diags: Vec::new(),
    };
    let mut header = None;
    let mut items = Vec::new();
    let mut skipped_rules = Vec::new();
    for pair in file.into_inner() {
        match pair.as_rule() {
            Rule::header => header = Some(cx.header(pair)),
            Rule::import => items.push(Item::Import(Import {
                span: span_of(&pair),
                path: cx.string(first_inner(pair, Rule::string)),
            })),
            Rule::set_decl => items.push(Item::Set(cx.set_decl(pair))),
            Rule::attribute_decl => items.push(Item::Attribute(cx.attribute_decl(pair))),
            Rule::values_decl => items.push(Item::Values(cx.values_decl(pair))),
            Rule::purpose_decl => {
                if let Some(p) = cx.purpose_decl(pair) {
                    items.push(Item::Purpose(p));
                }
            }
            Rule::table_decl => items.push(Item::Table(cx.table_decl(pair))),
            Rule::rule_decl => {
                let id = pair
                    .clone()
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::ident)
                    .map(|p| cx.ident(p));
                match cx.rule_decl(pair) {
                    Some(rule) => items.push(Item::Rule(Box::new(rule))),
                    None => skipped_rules.extend(id),
                }
            }
            _ => {}
        }
    }
    if header.is_none() && items.is_empty() && cx.diags.is_empty() {
        // Label the first line only: a long comment block would otherwise be
        // printed whole under a label that spans the file.
        let text = source
            .text
            .trim_start_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
        let start = source.text.len() - text.len();
        let end = start + text.lines().next().map_or(0, str::len);
        let label = if text.is_empty() {
            "this file is empty"
        } else {
            "this file holds only comments"
        };
        cx.diags.push(
            Diag::error("scruple::parse::empty", "policy file declares nothing")
                .with_label(source, Span::new(start, end), label)
                .with_help(
                    "start with a header such as `policy \"my-policy\" version \"1.0.0\"`, then add rules; or delete the file",
                ),
        );
        return (None, cx.diags);
    }
    let file = PolicyFile {
        source: source.clone(),
        header,
        items,
        skipped_rules,
    };
    (Some(file), cx.diags)
}

/// The span of a pair without trailing whitespace and comments.
///
/// pest skips implicit whitespace (and comments) before trying an optional or
/// repeated part, and keeps what it skipped in the pair even when that part is
/// absent: the pair of `when a == b` ends at the next statement. Only literal
/// punctuation (`]`, `}`, `)`) and trivia can follow the last inner pair
/// (itself trimmed), so the span is cut after the last punctuation found there.
pub(super) fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    // `next_back` is O(1) on pest's pairs; `last` would walk every child.
    let Some(last) = pair.clone().into_inner().next_back() else {
        return Span::new(s.start(), s.end());
    };
    let from = span_of(&last).end as usize;
    let tail = s.get_input().get(from..s.end()).unwrap_or("");
    let mut end = from;
    let mut chars = tail.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' | '\u{FEFF}' => {}
            '#' => while chars.next_if(|&(_, c)| c != '\n').is_some() {},
            '/' if chars.peek().is_some_and(|&(_, c)| c == '/') => {
                while chars.next_if(|&(_, c)| c != '\n').is_some() {}
            }
            _ => end = from + i + c.len_utf8(),
        }
    }
    Span::new(s.start(), end)
}

/// The first inner pair of a given rule; the grammar guarantees it exists, so
/// a missing one yields an empty placeholder rather than a panic.
fn first_inner(pair: Pair<'_, Rule>, rule: Rule) -> Pair<'_, Rule> {
    let fallback = pair.clone();
    pair.into_inner()
        .find(|p| p.as_rule() == rule)
        .unwrap_or(fallback)
}

struct Lowerer<'s> {
    source: &'s Source,
    diags: Vec<Diag>,
}

impl Lowerer<'_> {
    fn error(&mut self, code: &str, message: String, span: Span, label: &str, help: &str) {
        self.diags.push(
            Diag::error(code, message)
                .with_label(self.source, span, label)
                .with_help(help),
        );
    }

    fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: span_of(&pair),
        }
    }

    fn header(&mut self, pair: Pair<'_, Rule>) -> Header {
        let span = span_of(&pair);
        let mut header = Header {
            name: Str {
                value: String::new(),
                span,
            },
            version: None,
            owner: None,
            description: None,
            span,
        };
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::string => header.name = self.string(inner),
                Rule::header_field => {
                    let mut parts = inner.into_inner();
                    let (Some(key), Some(value)) = (parts.next(), parts.next()) else {
                        continue;
                    };
                    let key_span = span_of(&key);
                    let value = self.string(value);
                    let slot = match key.as_str() {
                        "version" => &mut header.version,
                        "owner" => &mut header.owner,
                        _ => &mut header.description,
                    };
                    if let Some(previous) = slot.replace(value) {
                        self.diags.push(
                            Diag::error(
                                "scruple::parse::duplicate_statement",
                                format!("the header gives `{}` twice", key.as_str()),
                            )
                            .with_label(self.source, key_span, "given again here")
                            .with_label(self.source, previous.span, "first given here")
                            .with_help("keep one of them"),
                        );
                    }
                }
                _ => {}
            }
        }
        header
    }

    /// Unescapes a `string` pair; bad escapes are reported and kept literally.
    fn string(&mut self, pair: Pair<'_, Rule>) -> Str {
        let span = span_of(&pair);
        let raw = pair.as_str();
        let inner = raw
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(raw);
        let mut value = String::with_capacity(inner.len());
        let mut chars = inner.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                value.push(c);
                continue;
            }
            let escape_start = span.start as usize + 1 + i;
            match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                Some((_, 'r')) => value.push('\r'),
                Some((_, '"')) => value.push('"'),
                Some((_, '\\')) => value.push('\\'),
                Some((_, 'u')) => {
                    let rest = &inner[i + 2..];
                    let parsed = rest
                        .strip_prefix('{')
                        .and_then(|r| r.split_once('}'))
                        .and_then(|(hex, _)| {
                            u32::from_str_radix(hex, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .map(|c| (c, hex.len() + 2))
                        });
                    match parsed {
                        Some((c, consumed)) => {
                            value.push(c);
                            for _ in 0..consumed {
                                chars.next();
                            }
                        }
                        None => self.error(
                            "scruple::parse::bad_escape",
                            "invalid unicode escape".into(),
                            Span::new(escape_start, escape_start + 2),
                            "expected `\\u{…}` with a hexadecimal code point",
                            "write a code point such as `\\u{e9}`, or type the character itself",
                        ),
                    }
                }
                Some((j, other)) => {
                    self.error(
                        "scruple::parse::bad_escape",
                        format!("unknown escape `\\{other}`"),
                        Span::new(escape_start, span.start as usize + 1 + j + other.len_utf8()),
                        "unknown escape",
                        "strings know `\\\"`, `\\\\`, `\\n`, `\\t`, `\\r` and `\\u{…}`; to match a backslash in a regex, write `\\\\`",
                    );
                    value.push(other);
                }
                None => value.push('\\'),
            }
        }
        Str { value, span }
    }

    fn set_expr(&mut self, pair: Pair<'_, Rule>) -> SetExpr {
        let span = span_of(&pair);
        let terms = pair
            .into_inner()
            .map(|term| match term.as_rule() {
                Rule::list => {
                    let list_span = span_of(&term);
                    SetTerm::List(
                        term.into_inner().map(|s| self.ident(s)).collect(),
                        list_span,
                    )
                }
                Rule::category_term | Rule::law_term => {
                    let is_category = term.as_rule() == Rule::category_term;
                    // The grammar guarantees the name after the keyword; a
                    // missing one lowers to an empty name that resolution
                    // reports as unknown rather than panicking.
                    let name = term.into_inner().nth(1).map_or_else(
                        || Ident {
                            name: String::new(),
                            span,
                        },
                        |n| self.ident(n),
                    );
                    if is_category {
                        SetTerm::Category(name)
                    } else {
                        SetTerm::Law(name)
                    }
                }
                _ => SetTerm::Ref(self.ident(term)),
            })
            .collect();
        SetExpr { terms, span }
    }

    fn set_decl(&mut self, pair: Pair<'_, Rule>) -> SetDecl {
        let span = span_of(&pair);
        let mut name = None;
        let mut description = None;
        let mut value = None;
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => name = Some(self.ident(inner)),
                Rule::string => description = Some(self.string(inner)),
                Rule::set_expr => value = Some(self.set_expr(inner)),
                _ => {}
            }
        }
        SetDecl {
            name: name.unwrap_or_else(|| placeholder(span)),
            description,
            value: value.unwrap_or(SetExpr {
                terms: Vec::new(),
                span,
            }),
            span,
        }
    }

    fn attribute_decl(&mut self, pair: Pair<'_, Rule>) -> AttributeDecl {
        let span = span_of(&pair);
        let mut decl = AttributeDecl {
            name: placeholder(span),
            description: None,
            proxy_for: Vec::new(),
            derived_from: Vec::new(),
            category: None,
            because: None,
            span,
        };
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => decl.name = self.ident(inner),
                Rule::string => decl.description = Some(self.string(inner)),
                Rule::meaning => decl.category = self.meaning(inner),
                Rule::because => decl.because = self.because(inner),
                Rule::lineage => {
                    let mut parts = inner.into_inner();
                    let is_proxy = parts.next().is_some_and(|k| k.as_str() == "proxy_for");
                    let names = parts.map(|p| self.ident(p));
                    if is_proxy {
                        decl.proxy_for.extend(names);
                    } else {
                        decl.derived_from.extend(names);
                    }
                }
                _ => {}
            }
        }
        decl
    }

    /// `category health.condition` → the id as written, with its span.
    fn meaning(&mut self, pair: Pair<'_, Rule>) -> Option<Ident> {
        let id = pair
            .into_inner()
            .find(|p| p.as_rule() == Rule::category_id)?;
        Some(Ident {
            name: id.as_str().to_string(),
            span: span_of(&id),
        })
    }

    /// `because "…"` → the reason.
    fn because(&mut self, pair: Pair<'_, Rule>) -> Option<Str> {
        let s = pair.into_inner().find(|p| p.as_rule() == Rule::string)?;
        Some(self.string(s))
    }

    fn values_decl(&mut self, pair: Pair<'_, Rule>) -> ValuesDecl {
        let span = span_of(&pair);
        let mut decl = ValuesDecl {
            values: Vec::new(),
            category: placeholder(span),
            because: None,
            span,
        };
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::value_list => {
                    for item in inner.into_inner() {
                        match item.as_rule() {
                            Rule::string => decl.values.push(self.string(item)),
                            Rule::symbol => decl.values.push(Str {
                                value: item.as_str().to_string(),
                                span: span_of(&item),
                            }),
                            _ => {}
                        }
                    }
                }
                Rule::meaning => {
                    if let Some(c) = self.meaning(inner) {
                        decl.category = c;
                    }
                }
                Rule::because => decl.because = self.because(inner),
                _ => {}
            }
        }
        decl
    }

    fn purpose_decl(&mut self, pair: Pair<'_, Rule>) -> Option<PurposeDecl> {
        let span = span_of(&pair);
        let mut parts = pair
            .into_inner()
            .filter(|p| p.as_rule() != Rule::kw_purpose);
        let name = self.ident(parts.next()?);
        let description = self.string(parts.next()?);
        let tcf = match parts.next() {
            Some(mapping) => Some(self.tcf_mapping(mapping)?),
            None => None,
        };
        Some(PurposeDecl {
            name,
            description,
            tcf,
            span,
        })
    }

    /// `tcf [..] special_features [..]`: purposes 1–11, special features 1–2
    /// (IAB TCF v2.2 Policies, Appendix A).
    fn tcf_mapping(&mut self, pair: Pair<'_, Rule>) -> Option<TcfMapping> {
        let span = span_of(&pair);
        let mut lists = pair.into_inner().filter(|p| p.as_rule() == Rule::id_list);
        let purposes = self.id_list(lists.next()?, "TCF purpose", 11)?;
        let special_features = match lists.next() {
            Some(l) => self.id_list(l, "TCF special feature", 2)?,
            None => Vec::new(),
        };
        Some(TcfMapping {
            purposes,
            special_features,
            span,
        })
    }

    /// `[1, 3, 4]`: whole numbers from 1 to `max`, each once.
    fn id_list(&mut self, pair: Pair<'_, Rule>, what: &str, max: u32) -> Option<Vec<Spanned<u32>>> {
        let mut out: Vec<Spanned<u32>> = Vec::new();
        let mut ok = true;
        for n in pair.into_inner() {
            let Some(id) = self.integer(&n, what) else {
                ok = false;
                continue;
            };
            if id.value == 0 || id.value > max {
                self.error(
                    "scruple::parse::tcf_id",
                    format!("there is no {what} {}", id.value),
                    id.span,
                    "out of range",
                    &format!("{what}s are numbered 1 to {max} (IAB TCF v2.2 Policies, Appendix A)"),
                );
                ok = false;
            } else if out.iter().any(|o| o.value == id.value) {
                self.error(
                    "scruple::parse::tcf_id",
                    format!("{what} {} is listed twice", id.value),
                    id.span,
                    "listed again here",
                    "list each one once",
                );
                ok = false;
            } else {
                out.push(id);
            }
        }
        ok.then_some(out)
    }

    fn scalar(&mut self, pair: Pair<'_, Rule>) -> Scalar {
        let span = span_of(&pair);
        match pair.as_rule() {
            Rule::number => match pair.as_str().parse::<f64>() {
                Ok(n) if n.is_finite() => Scalar::Number(n, span),
                _ => {
                    self.error(
                        "scruple::parse::bad_number",
                        format!("`{}` is not a usable number", pair.as_str()),
                        span,
                        "not a finite number",
                        "write a number such as `16` or `2.5`",
                    );
                    Scalar::Number(0.0, span)
                }
            },
            Rule::string => Scalar::Str(self.string(pair)),
            _ => Scalar::Symbol(self.ident(pair)),
        }
    }

    fn table_decl(&mut self, pair: Pair<'_, Rule>) -> TableDecl {
        let span = span_of(&pair);
        let mut decl = TableDecl {
            name: placeholder(span),
            description: None,
            default: None,
            entries: Vec::new(),
            span,
        };
        for inner in pair.into_inner() {
            match inner.as_rule() {
                Rule::ident => decl.name = self.ident(inner),
                Rule::string => decl.description = Some(self.string(inner)),
                Rule::table_default => {
                    if let Some(value) =
                        inner.into_inner().find(|p| p.as_rule() != Rule::kw_default)
                    {
                        decl.default = Some(self.scalar(value));
                    }
                }
                Rule::table_entry => {
                    let mut parts = inner.into_inner();
                    if let (Some(key), Some(value)) = (parts.next(), parts.next()) {
                        let key = self.ident(key);
                        if let Some((previous, _)) =
                            decl.entries.iter().find(|(k, _)| k.name == key.name)
                        {
                            self.diags.push(
                                Diag::error(
                                    "scruple::resolve::duplicate_name",
                                    format!(
                                        "table `{}` lists `{}` twice",
                                        decl.name.name, key.name
                                    ),
                                )
                                .with_label(self.source, key.span, "listed again here")
                                .with_label(self.source, previous.span, "first listed here")
                                .with_help("keep one entry per key"),
                            );
                            continue;
                        }
                        let value = self.scalar(value);
                        decl.entries.push((key, value));
                    }
                }
                _ => {}
            }
        }
        decl
    }

    fn integer(&mut self, pair: &Pair<'_, Rule>, what: &str) -> Option<Spanned<u32>> {
        let span = span_of(pair);
        match pair.as_str().parse::<u32>() {
            Ok(value) => Some(Spanned { value, span }),
            Err(_) => {
                self.error(
                    "scruple::parse::bad_number",
                    format!("{what} `{}` is too large", pair.as_str()),
                    span,
                    "too large",
                    "use a whole number below 4294967296",
                );
                None
            }
        }
    }

    /// `calendar day|week|month`: one period of the recipient's calendar.
    fn calendar_period(&mut self, pair: Pair<'_, Rule>) -> Option<Duration> {
        let span = span_of(&pair);
        let unit_pair = pair.into_inner().find(|p| p.as_rule() == Rule::unit)?;
        let unit = match unit_pair.as_str() {
            "day" => TimeUnit::Days,
            "week" => TimeUnit::Weeks,
            "month" => TimeUnit::Months,
            other => {
                let help = match did_you_mean(other, ["day", "week", "month"]) {
                    Some(near) => format!("did you mean `calendar {near}`? calendar caps count per calendar day, week (ISO, from Monday) or month"),
                    None => "calendar caps count per calendar day, week (ISO, from Monday) or month; for another length use a rolling window such as `per 24 hours`".into(),
                };
                self.error(
                    "scruple::parse::bad_duration",
                    format!("`calendar {other}` is not a calendar period"),
                    span_of(&unit_pair),
                    "not day, week or month",
                    &help,
                );
                return None;
            }
        };
        Some(Duration {
            amount: 1,
            unit,
            span,
        })
    }

    fn duration(&mut self, pair: Pair<'_, Rule>) -> Option<Duration> {
        let span = span_of(&pair);
        let mut parts = pair.into_inner();
        let amount_pair = parts.next()?;
        let unit_pair = parts.next()?;
        let amount = self.integer(&amount_pair, "duration")?.value;
        let unit_text = unit_pair.as_str();
        let unit = match unit_text {
            "minute" | "minutes" => TimeUnit::Minutes,
            "hour" | "hours" => TimeUnit::Hours,
            "day" | "days" => TimeUnit::Days,
            "week" | "weeks" => TimeUnit::Weeks,
            "month" | "months" => TimeUnit::Months,
            "year" | "years" => TimeUnit::Years,
            other => {
                const UNITS: [&str; 12] = [
                    "minute", "minutes", "hour", "hours", "day", "days", "week", "weeks", "month",
                    "months", "year", "years",
                ];
                let help = match did_you_mean(other, UNITS) {
                    Some(near) => format!("did you mean `{near}`? durations use minutes, hours, days, weeks, months or years"),
                    None => "durations use minutes, hours, days, weeks, months or years".into(),
                };
                self.error(
                    "scruple::parse::bad_duration",
                    format!("unknown time unit `{other}`"),
                    span_of(&unit_pair),
                    "not a time unit",
                    &help,
                );
                return None;
            }
        };
        if amount == 0 {
            self.error(
                "scruple::parse::bad_duration",
                "a duration must be at least 1".into(),
                span,
                "zero-length duration",
                "write a positive amount such as `7 days`",
            );
            return None;
        }
        Some(Duration { amount, unit, span })
    }

    fn time_of_day(&mut self, pair: Pair<'_, Rule>) -> Option<TimeOfDay> {
        let span = span_of(&pair);
        let (h, m) = pair.as_str().split_once(':')?;
        let hour: u8 = h.parse().ok()?;
        let minute: u8 = m.parse().ok()?;
        if hour > 23 || minute > 59 {
            self.error(
                "scruple::parse::bad_time",
                format!("`{}` is not a time of day", pair.as_str()),
                span,
                if hour > 23 {
                    "hours run from 00 to 23"
                } else {
                    "minutes run from 00 to 59"
                },
                "write a 24-hour time between 00:00 and 23:59, such as `21:00`",
            );
            return None;
        }
        Some(TimeOfDay { hour, minute, span })
    }

    fn path(&self, pair: Pair<'_, Rule>) -> Path {
        let span = span_of(&pair);
        Path {
            segments: pair.into_inner().map(|p| self.ident(p)).collect(),
            span,
        }
    }

    fn rule_decl(&mut self, pair: Pair<'_, Rule>) -> Option<RuleDecl> {
        let span = span_of(&pair);
        let errors_before = self.diags.len();
        let mut id = placeholder(span);
        let mut severity: Option<Spanned<Severity>> = None;
        let mut cites = Vec::new();
        let mut tags = Vec::new();
        let mut when: Option<Expr> = None;
        let mut requires = Vec::new();
        let mut defers_to = Vec::new();
        let mut message = None;
        let mut help = None;
        let mut description = None;
        let mut unwaivable = None;
        let mut constraints: Vec<Constraint> = Vec::new();
        // Where each single-valued statement was first seen, to report repeats.
        let mut seen: Vec<(&'static str, Span)> = Vec::new();

        for stmt in pair.into_inner() {
            let stmt_span = span_of(&stmt);
            let rule = stmt.as_rule();
            let single = match rule {
                Rule::severity_stmt => Some("severity"),
                Rule::when_stmt => Some("when"),
                Rule::message_stmt => Some("message"),
                Rule::help_stmt => Some("help"),
                Rule::description_stmt => Some("description"),
                Rule::unwaivable_stmt => Some("unwaivable"),
                _ => None,
            };
            if let Some(name) = single {
                if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
                    self.diags.push(
                        Diag::error(
                            "scruple::parse::duplicate_statement",
                            format!("rule `{}` has `{name}` twice", id.name),
                        )
                        .with_label(self.source, stmt_span, "given again here")
                        .with_label(self.source, *first, "first given here")
                        .with_help(if name == "when" {
                            "combine the conditions with `and` or `or` in one `when`"
                        } else {
                            "keep one of them"
                        }),
                    );
                    continue;
                }
                seen.push((name, stmt_span));
            }
            let mut inner = stmt
                .clone()
                .into_inner()
                .filter(|p| !is_keyword(p.as_rule()));
            match rule {
                Rule::ident => id = self.ident(stmt),
                Rule::severity_stmt => {
                    if let Some(level) = inner.next() {
                        let value = match level.as_str() {
                            "warning" => Severity::Warning,
                            "info" => Severity::Info,
                            _ => Severity::Error,
                        };
                        severity = Some(Spanned {
                            value,
                            span: span_of(&level),
                        });
                    }
                }
                Rule::cite_stmt => cites.extend(inner.map(|s| self.string(s))),
                Rule::tags_stmt => tags.extend(inner.map(|s| self.ident(s))),
                Rule::when_stmt => when = inner.next().and_then(|e| self.expr(e)),
                Rule::requires_stmt => requires.extend(inner.map(|s| self.ident(s))),
                Rule::defers_stmt => defers_to.extend(inner.map(|s| self.ident(s))),
                Rule::message_stmt => message = inner.next().map(|s| self.string(s)),
                Rule::help_stmt => help = inner.next().map(|s| self.string(s)),
                Rule::description_stmt => description = inner.next().map(|s| self.string(s)),
                Rule::unwaivable_stmt => unwaivable = Some(stmt_span),
                _ => {
                    if let Some(c) = self.constraint(stmt) {
                        constraints.push(c);
                    }
                }
            }
        }

        let mut constraints = constraints.into_iter();
        let constraint = match (constraints.next(), constraints.next()) {
            (Some(c), None) => c,
            (Some(first), Some(second)) => {
                self.diags.push(
                    Diag::error(
                        "scruple::parse::two_constraints",
                        format!("rule `{}` has more than one constraint", id.name),
                    )
                    .with_label(self.source, second.span(), "second constraint")
                    .with_label(self.source, first.span(), "first constraint")
                    .with_help("a rule checks one thing: split it into two rules, or use `ensure` with `and`"),
                );
                return None;
            }
            (None, _) => {
                if self.diags.len() == errors_before {
                    self.diags.push(
                        Diag::error(
                            "scruple::parse::missing_constraint",
                            format!("rule `{}` does not say what it checks", id.name),
                        )
                        .with_label(self.source, id.span, "this rule has no constraint")
                        .with_help("add one constraint: `forbid targeting on …`, `require consent for each purpose`, `cap 3 sends per 7 days per recipient`, `quiet hours from 21:00 to 08:00`, `minimum age 16`, `require message.postal_address` or `ensure …`"),
                    );
                }
                return None;
            }
        };
        if self.diags.len() > errors_before {
            return None;
        }
        Some(RuleDecl {
            id,
            severity,
            cites,
            tags,
            when,
            requires,
            defers_to,
            message,
            help,
            description,
            unwaivable,
            constraint,
            span,
        })
    }

    fn constraint(&mut self, pair: Pair<'_, Rule>) -> Option<Constraint> {
        let span = span_of(&pair);
        let rule = pair.as_rule();
        let mut inner: Vec<Pair<'_, Rule>> = pair
            .into_inner()
            .filter(|p| !is_keyword(p.as_rule()))
            .collect();
        let mut take = |r: Rule| {
            inner
                .iter()
                .position(|p| p.as_rule() == r)
                .map(|i| inner.remove(i))
        };
        Some(match rule {
            Rule::forbid_targeting => Constraint::ForbidTargeting {
                attributes: self.set_expr(take(Rule::set_expr)?),
                including_proxies: take(Rule::including_proxies).is_some(),
                span,
            },
            Rule::forbid_fields => Constraint::ForbidFields {
                fields: self.set_expr(take(Rule::set_expr)?),
                span,
            },
            Rule::allow_fields => Constraint::AllowOnlyFields {
                fields: self.set_expr(take(Rule::set_expr)?),
                purpose: take(Rule::ident).map(|p| self.ident(p)),
                span,
            },
            Rule::require_consent => {
                let scope = match take(Rule::each_purpose) {
                    Some(each) => ConsentScope::EachDeclared(span_of(&each)),
                    None => ConsentScope::Listed(self.set_expr(take(Rule::set_expr)?)),
                };
                let within = match take(Rule::duration) {
                    Some(d) => Some(self.duration(d)?),
                    None => None,
                };
                Constraint::RequireConsent {
                    scope,
                    written: take(Rule::consent_written).is_some(),
                    within,
                    span,
                }
            }
            Rule::require_tcf => {
                let legitimate_interest = match take(Rule::tcf_li) {
                    Some(li) => {
                        let list = li.into_inner().find(|p| p.as_rule() == Rule::id_list)?;
                        let ids = self.id_list(list, "TCF purpose", 11)?;
                        // TCF 2.2 removed legitimate interest for purposes
                        // 3-6; purpose 1 never had it.
                        for id in &ids {
                            if crate::signals::TCF_LI_FORBIDDEN & (1 << id.value) != 0 {
                                self.error(
                                    "scruple::parse::tcf_legitimate_interest",
                                    format!(
                                        "TCF purpose {} cannot rest on legitimate interest",
                                        id.value
                                    ),
                                    id.span,
                                    "consent only",
                                    "IAB TCF v2.2 Policies allow only consent for purpose 1 and, since v2.2, for purposes 3, 4, 5 and 6 (personalised advertising and content); list only purposes 2 and 7 to 11",
                                );
                                return None;
                            }
                        }
                        ids
                    }
                    None => Vec::new(),
                };
                Constraint::RequireTcf {
                    legitimate_interest,
                    if_signalled: take(Rule::tcf_signalled).is_some(),
                    span,
                }
            }
            Rule::frequency_cap => {
                let max = take(Rule::integer)?;
                let max = self.integer(&max, "cap")?;
                let (window, calendar) = match take(Rule::calendar_period) {
                    Some(period) => (self.calendar_period(period)?, true),
                    None => (self.duration(take(Rule::duration)?)?, false),
                };
                let channels = take(Rule::set_expr).map(|s| self.set_expr(s));
                Constraint::FrequencyCap {
                    max,
                    window,
                    calendar,
                    channels,
                    span,
                }
            }
            Rule::quiet_hours => {
                let from = self.time_of_day(take(Rule::time_of_day)?);
                let to = self.time_of_day(take(Rule::time_of_day)?);
                let (from, to) = (from?, to?);
                if from.minutes() == to.minutes() {
                    self.error(
                        "scruple::parse::bad_time",
                        "quiet hours start and end at the same time".into(),
                        span,
                        "empty quiet period",
                        "give a start and an end that differ, such as `from 21:00 to 08:00`",
                    );
                    return None;
                }
                Constraint::QuietHours { from, to, span }
            }
            Rule::minimum_age => {
                let limit = match take(Rule::integer) {
                    Some(n) => AgeLimit::Fixed(self.integer(&n, "age")?),
                    None => AgeLimit::Table(self.ident(take(Rule::ident)?)),
                };
                let unless = match take(Rule::age_unless) {
                    Some(clause) => Some(self.age_consent(clause)?),
                    None => None,
                };
                Constraint::MinimumAge {
                    limit,
                    unless,
                    span,
                }
            }
            Rule::require_field => Constraint::RequireField {
                path: self.path(take(Rule::path)?),
                span,
            },
            Rule::ensure => Constraint::Ensure {
                expr: self.expr(take(Rule::expr)?)?,
                span,
            },
            Rule::require_parity => {
                let attributes = self.set_expr(take(Rule::set_expr)?);
                let ratio_pair = take(Rule::number)?;
                let ratio_span = span_of(&ratio_pair);
                let ratio = match ratio_pair.as_str().parse::<f64>() {
                    Ok(r) if r > 0.0 && r <= 1.0 => r,
                    _ => {
                        self.error(
                            "scruple::parse::bad_ratio",
                            format!("parity ratio `{}` is not between 0 and 1", ratio_pair.as_str()),
                            ratio_span,
                            "not a ratio in (0, 1]",
                            "write the lowest acceptable ratio of a group's rate to the highest group's, such as `0.8` (the four-fifths rule)",
                        );
                        return None;
                    }
                };
                let offers = match take(Rule::parity_offers) {
                    Some(p) => {
                        let set = p.into_inner().find(|p| p.as_rule() == Rule::set_expr)?;
                        Some(self.set_expr(set))
                    }
                    None => None,
                };
                Constraint::RequireParity {
                    attributes,
                    ratio: Spanned {
                        value: ratio,
                        span: ratio_span,
                    },
                    offers,
                    span,
                }
            }
            Rule::limit_rate => {
                let metric = self.ident(take(Rule::ident)?);
                if !crate::syntax::ast::RATE_METRICS.contains(&metric.name.as_str()) {
                    let hint = crate::diag::did_you_mean(
                        &metric.name,
                        crate::syntax::ast::RATE_METRICS.iter().copied(),
                    )
                    .map(|m| format!("did you mean `{m}`? "))
                    .unwrap_or_default();
                    self.error(
                        "scruple::parse::unknown_metric",
                        format!("`{}` is not a metric `limit` knows", metric.name),
                        metric.span,
                        "unknown metric",
                        &format!(
                            "{hint}the metrics are {}",
                            crate::syntax::ast::RATE_METRICS.join(", ")
                        ),
                    );
                    return None;
                }
                let percent_pair = take(Rule::percent)?;
                let percent_span = span_of(&percent_pair);
                let percent = match percent_pair.as_str().trim_end_matches('%').parse::<f64>() {
                    Ok(p) if p > 0.0 && p <= 100.0 => p,
                    _ => {
                        self.error(
                            "scruple::parse::bad_ratio",
                            format!(
                                "rate limit `{}` is not between 0% and 100%",
                                percent_pair.as_str()
                            ),
                            percent_span,
                            "not a percentage in (0, 100]",
                            "write a percentage such as `0.1%`",
                        );
                        return None;
                    }
                };
                let channels = take(Rule::set_expr).map(|s| self.set_expr(s));
                Constraint::LimitRate {
                    metric,
                    percent: Spanned {
                        value: percent,
                        span: percent_span,
                    },
                    channels,
                    span,
                }
            }
            _ => return None,
        })
    }

    fn expr(&mut self, pair: Pair<'_, Rule>) -> Option<Expr> {
        let span = span_of(&pair);
        match pair.as_rule() {
            Rule::expr | Rule::and_expr => {
                let is_or = pair.as_rule() == Rule::expr;
                let mut parts = Vec::new();
                for p in pair.into_inner().filter(|p| !is_keyword(p.as_rule())) {
                    parts.push(self.expr(p)?);
                }
                if parts.len() == 1 {
                    return parts.pop();
                }
                Some(if is_or {
                    Expr::Or(parts, span)
                } else {
                    Expr::And(parts, span)
                })
            }
            Rule::not_expr => {
                let mut negations = 0usize;
                let mut body = None;
                for p in pair.into_inner() {
                    if p.as_rule() == Rule::negation {
                        negations += 1;
                    } else {
                        body = Some(self.expr(p)?);
                    }
                }
                let mut body = body?;
                // `not not x` is `x`; keep at most one negation.
                if negations % 2 == 1 {
                    body = Expr::Not(Box::new(body), span);
                }
                Some(body)
            }
            Rule::paren => self.expr(pair.into_inner().next()?),
            Rule::quantified => {
                let mut parts = pair.into_inner().filter(|p| !is_keyword(p.as_rule()));
                let all = parts.next()?.as_str() == "all";
                let var = self.ident(parts.next()?);
                let list = self.path(parts.next()?);
                let body = self.expr(parts.next()?)?;
                Some(Expr::Quantified {
                    all,
                    var,
                    list,
                    body: Box::new(body),
                    span,
                })
            }
            Rule::comparison => self.comparison(pair),
            _ => None,
        }
    }

    fn operand(&mut self, pair: Pair<'_, Rule>, right_side: bool) -> Operand {
        let span = span_of(&pair);
        match pair.as_rule() {
            Rule::string => Operand::Str(self.string(pair)),
            Rule::number => match self.scalar(pair) {
                Scalar::Number(n, s) => Operand::Number(n, s),
                _ => Operand::Number(0.0, span),
            },
            Rule::boolean => Operand::Bool(pair.as_str() == "true", span),
            Rule::list => Operand::List(pair.into_inner().map(|p| self.ident(p)).collect(), span),
            _ => {
                let path = self.path(pair);
                if right_side && path.segments.len() == 1 {
                    let mut segments = path.segments;
                    Operand::Symbol(segments.remove(0))
                } else {
                    Operand::Path(path)
                }
            }
        }
    }

    fn comparison(&mut self, pair: Pair<'_, Rule>) -> Option<Expr> {
        let span = span_of(&pair);
        let mut parts = pair.into_inner();
        let lhs = self.operand(parts.next()?, false);
        let Some(tail) = parts.next() else {
            return Some(Expr::Truthy(lhs));
        };
        let tail_rule = tail.as_rule();
        let mut inner = tail.into_inner();
        Some(match tail_rule {
            Rule::presence => {
                let word = inner.nth(1)?;
                Expr::Presence {
                    lhs,
                    present: word.as_str() == "present",
                    span,
                }
            }
            Rule::membership => {
                let mut negated = false;
                let mut set = None;
                for p in inner {
                    match p.as_rule() {
                        Rule::negation => negated = true,
                        Rule::set_expr => set = Some(self.set_expr(p)),
                        _ => {}
                    }
                }
                Expr::In {
                    lhs,
                    negated,
                    set: set?,
                    span,
                }
            }
            Rule::matching => {
                let pattern = self.string(inner.find(|p| p.as_rule() == Rule::string)?);
                // Syntax only: the pattern is compiled once, when resolved.
                if let Err(err) = regex_syntax::Parser::new().parse(&pattern.value) {
                    self.error(
                        "scruple::parse::bad_regex",
                        "this regular expression does not compile".into(),
                        pattern.span,
                        &first_line(&err.to_string()),
                        "patterns use Rust regex syntax; inside a policy string each regex backslash is written twice, as in `\\\\d` for a digit",
                    );
                    return None;
                }
                Expr::Matches { lhs, pattern, span }
            }
            Rule::compare => {
                let op_pair = inner.next()?;
                let op = match op_pair.as_str() {
                    "==" => CompareOp::Eq,
                    "!=" => CompareOp::Ne,
                    "<" => CompareOp::Lt,
                    "<=" => CompareOp::Le,
                    ">" => CompareOp::Gt,
                    ">=" => CompareOp::Ge,
                    s if s.starts_with("is") && s.ends_with("not") => CompareOp::Ne,
                    _ => CompareOp::Eq,
                };
                let rhs = self.operand(inner.next()?, true);
                Expr::Compare { lhs, op, rhs, span }
            }
            _ => return None,
        })
    }
}

fn first_line(text: &str) -> String {
    text.lines()
        .rev()
        .find(|l| l.trim_start().starts_with("error:"))
        .unwrap_or_else(|| text.lines().next().unwrap_or(""))
        .trim()
        .to_string()
}

fn placeholder(span: Span) -> Ident {
    Ident {
        name: String::new(),
        span,
    }
}

/// Keyword tokens carry no meaning once the shape is known.
impl Lowerer<'_> {
    /// `unless consent to PURPOSE by (self from N else parent | parent)`.
    fn age_consent(&mut self, pair: Pair<'_, Rule>) -> Option<AgeConsent> {
        let span = span_of(&pair);
        let mut purpose = None;
        let mut self_from = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::ident => purpose = Some(self.ident(p)),
                Rule::age_by_self => {
                    let n = p.into_inner().find(|q| q.as_rule() == Rule::integer)?;
                    self_from = Some(self.integer(&n, "age")?);
                }
                _ => {}
            }
        }
        Some(AgeConsent {
            purpose: purpose?,
            self_from,
            span,
        })
    }
}

fn is_keyword(rule: Rule) -> bool {
    format!("{rule:?}").starts_with("kw_")
}
