//! The policy AST: what a `.scruple` file says, with a byte span on every node.
//!
//! Built only by [`super::lower`]; nothing after parsing ever sees pest types.

use crate::diag::Severity;
use crate::source::{Source, Span};

/// A name as written, with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it stands.
    pub span: Span,
}

/// A string literal, unescaped.
#[derive(Clone, Debug, PartialEq)]
pub struct Str {
    /// The value after escapes are applied.
    pub value: String,
    /// The span of the literal including its quotes.
    pub span: Span,
}

/// One parsed policy file.
#[derive(Clone, Debug)]
pub struct PolicyFile {
    /// The text it came from.
    pub source: Source,
    /// `policy "name" version … owner …`, if present.
    pub header: Option<Header>,
    /// Declarations in source order.
    pub items: Vec<Item>,
    /// Ids of rules left out of `items` because lowering reported an error in
    /// them; later stages treat these ids as declared, so a `requires` naming
    /// one does not add an "unknown rule" error to the one already reported.
    pub skipped_rules: Vec<Ident>,
}

/// The `policy` header.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// Policy name.
    pub name: Str,
    /// `version "…"`.
    pub version: Option<Str>,
    /// `owner "…"`.
    pub owner: Option<Str>,
    /// `description "…"`.
    pub description: Option<Str>,
    /// The whole header.
    pub span: Span,
}

/// A top-level declaration.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `import "path"`.
    Import(Import),
    /// `set name = …`.
    Set(SetDecl),
    /// `attribute name proxy_for … derived_from …`.
    Attribute(AttributeDecl),
    /// `values [a, "b c"] category health because "…"`.
    Values(ValuesDecl),
    /// `purpose name "description"`.
    Purpose(PurposeDecl),
    /// `table name default … { … }`.
    Table(TableDecl),
    /// `rule id { … }`.
    Rule(Box<RuleDecl>),
}

/// `import "relative/path.scruple"`.
#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    /// The path as written.
    pub path: Str,
    /// The whole statement.
    pub span: Span,
}

/// `set name "description" = a + [b, c]`.
#[derive(Clone, Debug, PartialEq)]
pub struct SetDecl {
    /// The set's name.
    pub name: Ident,
    /// Optional description.
    pub description: Option<Str>,
    /// What it is made of.
    pub value: SetExpr,
    /// The whole declaration.
    pub span: Span,
}

/// A union of set references and literal lists: `sensitive + [criminal_record]`.
#[derive(Clone, Debug, PartialEq)]
pub struct SetExpr {
    /// The terms, in order.
    pub terms: Vec<SetTerm>,
    /// The whole expression.
    pub span: Span,
}

/// One operand of a set union.
#[derive(Clone, Debug, PartialEq)]
pub enum SetTerm {
    /// A reference to a named set.
    Ref(Ident),
    /// A literal list of symbols.
    List(Vec<Ident>, Span),
    /// `category health.condition`: a category of the data taxonomy
    /// (`crate::taxonomy`), matched by meaning in `forbid targeting`.
    Category(Ident),
    /// `law gdpr_art9`: every category of the taxonomy that law protects.
    Law(Ident),
}

/// `attribute zip_code "Postal code" proxy_for ethnicity derived_from address`.
#[derive(Clone, Debug, PartialEq)]
pub struct AttributeDecl {
    /// The attribute.
    pub name: Ident,
    /// Optional description.
    pub description: Option<Str>,
    /// Attributes this one stands in for.
    pub proxy_for: Vec<Ident>,
    /// Attributes this one is computed from.
    pub derived_from: Vec<Ident>,
    /// `category health.condition` or `category none`: what the attribute
    /// means, for the data dictionary (overrides the classifier).
    pub category: Option<Ident>,
    /// `because "…"`: why the declaration says what it says.
    pub because: Option<Str>,
    /// The whole declaration.
    pub span: Span,
}

/// `values [asthma, copd] category health.condition because "…"`: what
/// these values mean wherever a campaign writes them (data dictionary).
#[derive(Clone, Debug, PartialEq)]
pub struct ValuesDecl {
    /// The values as written (symbols become strings).
    pub values: Vec<Str>,
    /// A taxonomy category id, or `none`.
    pub category: Ident,
    /// Why.
    pub because: Option<Str>,
    /// The whole declaration.
    pub span: Span,
}

/// `purpose email_marketing "Promotional email"`.
#[derive(Clone, Debug, PartialEq)]
pub struct PurposeDecl {
    /// The purpose's name.
    pub name: Ident,
    /// What it means, in words.
    pub description: Str,
    /// `tcf [..] special_features [..]`: what the purpose needs in a TC string.
    pub tcf: Option<TcfMapping>,
    /// The whole declaration.
    pub span: Span,
}

/// `tcf [1, 3, 4] special_features [1]` after a purpose's description.
#[derive(Clone, Debug, PartialEq)]
pub struct TcfMapping {
    /// IAB TCF purposes (1–11).
    pub purposes: Vec<Spanned<u32>>,
    /// IAB TCF special features (1–2).
    pub special_features: Vec<Spanned<u32>>,
    /// The whole mapping.
    pub span: Span,
}

/// A table value.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    /// A number.
    Number(f64, Span),
    /// A string literal.
    Str(Str),
    /// A bare symbol.
    Symbol(Ident),
}

impl Scalar {
    /// Where the value stands.
    pub fn span(&self) -> Span {
        match self {
            Scalar::Number(_, span) => *span,
            Scalar::Str(s) => s.span,
            Scalar::Symbol(i) => i.span,
        }
    }
}

/// `table name "description" default 16 { EU-AT = 14 }`.
#[derive(Clone, Debug, PartialEq)]
pub struct TableDecl {
    /// The table's name.
    pub name: Ident,
    /// Optional description.
    pub description: Option<Str>,
    /// Value for keys that are not listed (after hierarchical fallback).
    pub default: Option<Scalar>,
    /// Entries in source order.
    pub entries: Vec<(Ident, Scalar)>,
    /// The whole declaration.
    pub span: Span,
}

/// A value with the span it was written at.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

/// `rule id { … }`.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleDecl {
    /// The rule id.
    pub id: Ident,
    /// `severity …` (default: error).
    pub severity: Option<Spanned<Severity>>,
    /// `cite "…", "…"`.
    pub cites: Vec<Str>,
    /// `tags a, b`.
    pub tags: Vec<Ident>,
    /// `when …`: the rule applies only where this holds.
    pub when: Option<Expr>,
    /// `requires a, b`: prerequisite rules.
    pub requires: Vec<Ident>,
    /// `defers to a, b`: more specific rules that decide the question where
    /// they apply; this rule is then not evaluated (lex specialis).
    pub defers_to: Vec<Ident>,
    /// `message "…"`.
    pub message: Option<Str>,
    /// `help "…"`.
    pub help: Option<Str>,
    /// `description "…"`, shown by `scruple explain`.
    pub description: Option<Str>,
    /// `unwaivable`: waivers may not suppress this rule.
    pub unwaivable: Option<Span>,
    /// What the rule checks.
    pub constraint: Constraint,
    /// The whole rule.
    pub span: Span,
}

/// A time span such as `7 days`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Duration {
    /// How many units.
    pub amount: u32,
    /// Which unit.
    pub unit: TimeUnit,
    /// Where it was written.
    pub span: Span,
}

/// Units a duration may be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    /// Minutes.
    Minutes,
    /// Hours.
    Hours,
    /// Days.
    Days,
    /// Weeks.
    Weeks,
    /// Calendar months.
    Months,
    /// Calendar years.
    Years,
}

impl TimeUnit {
    /// Canonical plural name.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeUnit::Minutes => "minutes",
            TimeUnit::Hours => "hours",
            TimeUnit::Days => "days",
            TimeUnit::Weeks => "weeks",
            TimeUnit::Months => "months",
            TimeUnit::Years => "years",
        }
    }
}

impl std::fmt::Display for Duration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = self.unit.as_str();
        if self.amount == 1 {
            write!(f, "1 {}", &unit[..unit.len() - 1])
        } else {
            write!(f, "{} {unit}", self.amount)
        }
    }
}

/// A local time of day such as `21:00`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeOfDay {
    /// Hour, 0–23.
    pub hour: u8,
    /// Minute, 0–59.
    pub minute: u8,
    /// Where it was written.
    pub span: Span,
}

impl TimeOfDay {
    /// Minutes since midnight.
    pub fn minutes(self) -> u32 {
        u32::from(self.hour) * 60 + u32::from(self.minute)
    }
}

impl std::fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

/// Which purposes a consent constraint covers.
#[derive(Clone, Debug, PartialEq)]
pub enum ConsentScope {
    /// `each purpose` the campaign declares.
    EachDeclared(Span),
    /// The listed purposes (when the campaign declares them).
    Listed(SetExpr),
}

/// Where a minimum age comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum AgeLimit {
    /// A fixed age.
    Fixed(Spanned<u32>),
    /// A table keyed by jurisdiction.
    Table(Ident),
}

/// `unless consent to PURPOSE by (self from N else parent | parent)`: who
/// may consent for a recipient below a minimum age.
#[derive(Clone, Debug, PartialEq)]
pub struct AgeConsent {
    /// The purpose the consent must be to.
    pub purpose: Ident,
    /// From this age the person consents themselves; below it (or at every
    /// age, when `None`) a parent does.
    pub self_from: Option<Spanned<u32>>,
    /// The whole clause.
    pub span: Span,
}

/// The one thing a rule checks.
#[derive(Clone, Debug, PartialEq)]
pub enum Constraint {
    /// `forbid targeting on SET [including proxies]`.
    ForbidTargeting {
        /// Forbidden attributes.
        attributes: SetExpr,
        /// Also forbid attributes declared as proxies of these.
        including_proxies: bool,
        /// The whole constraint.
        span: Span,
    },
    /// `forbid fields SET`.
    ForbidFields {
        /// Fields the campaign may not read.
        fields: SetExpr,
        /// The whole constraint.
        span: Span,
    },
    /// `allow only fields SET [for PURPOSE]`.
    AllowOnlyFields {
        /// The permitted fields.
        fields: SetExpr,
        /// Only when the campaign declares this purpose.
        purpose: Option<Ident>,
        /// The whole constraint.
        span: Span,
    },
    /// `require [written] consent for (each purpose | SET) [within DURATION]`.
    RequireConsent {
        /// Which purposes.
        scope: ConsentScope,
        /// `written`: the consent must be a signed written agreement.
        written: bool,
        /// Maximum age of the consent.
        within: Option<Duration>,
        /// The whole constraint.
        span: Span,
    },
    /// `require tcf consent for each purpose [or legitimate interest for [..]] [if signalled]`.
    RequireTcf {
        /// TCF purposes for which legitimate interest may stand in for consent.
        legitimate_interest: Vec<Spanned<u32>>,
        /// Only recipients whose record carries a TC string are checked.
        if_signalled: bool,
        /// The whole constraint.
        span: Span,
    },
    /// `cap N sends per DURATION per recipient [on SET]`, or `per calendar
    /// day|week|month`.
    FrequencyCap {
        /// Maximum sends in any window.
        max: Spanned<u32>,
        /// The window (for a calendar period: one day, week or month).
        window: Duration,
        /// The window is the recipient's calendar period holding the send
        /// (`per calendar day`), not a rolling one.
        calendar: bool,
        /// Channels counted (default: each channel separately).
        channels: Option<SetExpr>,
        /// The whole constraint.
        span: Span,
    },
    /// `quiet hours from HH:MM to HH:MM`.
    QuietHours {
        /// Start of the quiet period (local time).
        from: TimeOfDay,
        /// End of the quiet period (local time).
        to: TimeOfDay,
        /// The whole constraint.
        span: Span,
    },
    /// `minimum age N|TABLE [unless consent to PURPOSE by …]`.
    MinimumAge {
        /// The limit.
        limit: AgeLimit,
        /// Who may consent for a recipient below it, if anyone.
        unless: Option<AgeConsent>,
        /// The whole constraint.
        span: Span,
    },
    /// `require PATH`.
    RequireField {
        /// The campaign field that must be present and non-empty.
        path: Path,
        /// The whole constraint.
        span: Span,
    },
    /// `ensure EXPR`.
    Ensure {
        /// What must hold.
        expr: Expr,
        /// The whole constraint.
        span: Span,
    },
    /// `require parity on SET at least RATIO [for offers in SET]`: judged by
    /// `scruple audit` on what was sent.
    RequireParity {
        /// Protected attributes compared.
        attributes: SetExpr,
        /// Lowest acceptable adverse-impact ratio (0.8: four-fifths).
        ratio: Spanned<f64>,
        /// Only campaigns whose offer category is one of these.
        offers: Option<SetExpr>,
        /// The whole constraint.
        span: Span,
    },
    /// `limit METRIC below PERCENT% [on SET]`: judged by `scruple audit`.
    LimitRate {
        /// `unsubscribe_rate` or `complaint_rate`.
        metric: Ident,
        /// The limit, in percent as written (`0.5` for `0.5%`).
        percent: Spanned<f64>,
        /// Channels it applies to (default: every channel).
        channels: Option<SetExpr>,
        /// The whole constraint.
        span: Span,
    },
}

/// The metrics `limit … below …` may bound.
pub const RATE_METRICS: &[&str] = &["unsubscribe_rate", "complaint_rate"];

impl Constraint {
    /// The whole constraint's span.
    pub fn span(&self) -> Span {
        match self {
            Constraint::ForbidTargeting { span, .. }
            | Constraint::ForbidFields { span, .. }
            | Constraint::AllowOnlyFields { span, .. }
            | Constraint::RequireConsent { span, .. }
            | Constraint::RequireTcf { span, .. }
            | Constraint::FrequencyCap { span, .. }
            | Constraint::QuietHours { span, .. }
            | Constraint::MinimumAge { span, .. }
            | Constraint::RequireField { span, .. }
            | Constraint::Ensure { span, .. }
            | Constraint::RequireParity { span, .. }
            | Constraint::LimitRate { span, .. } => *span,
        }
    }

    /// The rule kind's name, as used in docs and JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Constraint::ForbidTargeting { .. } => "forbid_targeting",
            Constraint::ForbidFields { .. } => "forbid_fields",
            Constraint::AllowOnlyFields { .. } => "allow_only_fields",
            Constraint::RequireConsent { .. } => "require_consent",
            Constraint::RequireTcf { .. } => "require_tcf",
            Constraint::FrequencyCap { .. } => "frequency_cap",
            Constraint::QuietHours { .. } => "quiet_hours",
            Constraint::MinimumAge { .. } => "minimum_age",
            Constraint::RequireField { .. } => "require_field",
            Constraint::Ensure { .. } => "ensure",
            Constraint::RequireParity { .. } => "require_parity",
            Constraint::LimitRate { .. } => "limit_rate",
        }
    }
}

/// A dotted campaign path such as `message.unsubscribe.one_click`.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    /// The segments.
    pub segments: Vec<Ident>,
    /// The whole path.
    pub span: Span,
}

impl Path {
    /// The path as written, dotted.
    pub fn dotted(&self) -> String {
        let names: Vec<&str> = self.segments.iter().map(|s| s.name.as_str()).collect();
        names.join(".")
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    /// `==` or `is`.
    Eq,
    /// `!=` or `is not`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

impl CompareOp {
    /// The operator as written canonically.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

/// An operand of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// A campaign path (left side, or dotted on the right).
    Path(Path),
    /// A bare symbol on the right side (`channel is email`).
    Symbol(Ident),
    /// A string literal.
    Str(Str),
    /// A number.
    Number(f64, Span),
    /// `true` or `false`.
    Bool(bool, Span),
    /// A literal list of symbols.
    List(Vec<Ident>, Span),
}

impl Operand {
    /// Where the operand stands.
    pub fn span(&self) -> Span {
        match self {
            Operand::Path(p) => p.span,
            Operand::Symbol(i) => i.span,
            Operand::Str(s) => s.span,
            Operand::Number(_, span) | Operand::Bool(_, span) | Operand::List(_, span) => *span,
        }
    }
}

/// A boolean expression over campaign fields.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `a or b or …`.
    Or(Vec<Expr>, Span),
    /// `a and b and …`.
    And(Vec<Expr>, Span),
    /// `not a`.
    Not(Box<Expr>, Span),
    /// `a == b`, `a < b`, `a is b`, ….
    Compare {
        /// Left side.
        lhs: Operand,
        /// Operator.
        op: CompareOp,
        /// Right side.
        rhs: Operand,
        /// The whole comparison.
        span: Span,
    },
    /// `a in SET` / `a not in SET`.
    In {
        /// The value tested.
        lhs: Operand,
        /// True for `not in`.
        negated: bool,
        /// The set.
        set: SetExpr,
        /// The whole test.
        span: Span,
    },
    /// `a matches "regex"`.
    Matches {
        /// The value tested.
        lhs: Operand,
        /// The pattern (checked to compile when lowering).
        pattern: Str,
        /// The whole test.
        span: Span,
    },
    /// `path is present` / `path is absent`.
    Presence {
        /// The value tested.
        lhs: Operand,
        /// True for `is present`.
        present: bool,
        /// The whole test.
        span: Span,
    },
    /// A bare operand: true when present and not false, zero or empty.
    Truthy(Operand),
    /// `any x in path satisfies …` / `all x in path satisfies …`.
    Quantified {
        /// True for `all`, false for `any`.
        all: bool,
        /// The bound name.
        var: Ident,
        /// The list iterated over.
        list: Path,
        /// The condition per element.
        body: Box<Expr>,
        /// The whole expression.
        span: Span,
    },
}

impl Expr {
    /// Where the expression stands.
    pub fn span(&self) -> Span {
        match self {
            Expr::Or(_, span) | Expr::And(_, span) | Expr::Not(_, span) => *span,
            Expr::Compare { span, .. }
            | Expr::In { span, .. }
            | Expr::Matches { span, .. }
            | Expr::Presence { span, .. }
            | Expr::Quantified { span, .. } => *span,
            Expr::Truthy(operand) => operand.span(),
        }
    }
}
