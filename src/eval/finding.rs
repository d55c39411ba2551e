//! Findings: what evaluation reports, independent of how it is rendered.

use crate::campaign::Campaign;
use crate::compile::CompiledRule;
use crate::diag::{Diag, Severity};
use crate::source::{Source, Span};

/// Values a rule message may interpolate (`{attribute}`, `{purpose}`, …).
pub type Vars = Vec<(&'static str, String)>;

/// One place where a rule kind found the campaign at fault.
#[derive(Clone, Debug)]
pub struct Violation {
    /// The campaign span at fault.
    pub span: Span,
    /// Label shown on that span.
    pub label: String,
    /// Message used when the rule has no `message` of its own.
    pub default_message: String,
    /// Values for the rule's message placeholders.
    pub vars: Vars,
    /// Extra explanation (derivation chains, the sends that add up, …).
    pub notes: Vec<String>,
}

impl Violation {
    /// A violation at `span` with a label and a default message.
    pub fn new(
        span: Span,
        label: impl Into<String>,
        default_message: impl Into<String>,
    ) -> Violation {
        Violation {
            span,
            label: label.into(),
            default_message: default_message.into(),
            vars: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Adds a placeholder value.
    pub fn var(mut self, name: &'static str, value: impl Into<String>) -> Violation {
        self.vars.push((name, value.into()));
        self
    }

    /// Adds a note.
    pub fn note(mut self, note: impl Into<String>) -> Violation {
        self.notes.push(note.into());
        self
    }
}

/// Who accepted a violation, why, and until when.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct WaiverInfo {
    /// Who approved the exception.
    pub approver: String,
    /// Why it is acceptable.
    pub justification: String,
    /// Ticket or reference.
    pub reference: String,
    /// Last day the waiver holds (ISO date).
    pub expires: String,
}

/// Whether a finding is a violation, waived, or a skipped rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// The rule fired.
    Violation,
    /// The rule fired, and a valid waiver accepts it.
    Waived(WaiverInfo),
    /// The rule did not run because a prerequisite failed.
    Skipped {
        /// The prerequisite that failed.
        because: String,
    },
    /// The rule did not run because a more specific rule it defers to
    /// (`defers to`) applies to the campaign (lex specialis).
    Deferred {
        /// The rule that decides instead.
        to: String,
        /// The campaign's jurisdictions, for the message.
        jurisdictions: Vec<String>,
    },
}

/// A rule outcome worth reporting.
#[derive(Clone, Debug)]
pub struct Finding {
    /// Rule id.
    pub rule: String,
    /// Rule kind (`forbid_targeting`, …).
    pub kind: &'static str,
    /// Severity (skipped findings are reported at info level).
    pub severity: Severity,
    /// Violation or skipped.
    pub status: Status,
    /// The message, placeholders filled.
    pub message: String,
    /// The campaign file.
    pub campaign: Source,
    /// The span in the campaign.
    pub span: Span,
    /// The label on that span.
    pub label: String,
    /// The policy file defining the rule.
    pub rule_source: Source,
    /// The rule id's span in the policy.
    pub rule_span: Span,
    /// Citations.
    pub citations: Vec<String>,
    /// How to fix it.
    pub help: Option<String>,
    /// Extra lines.
    pub notes: Vec<String>,
}

impl Finding {
    /// A finding for a violation of `rule`.
    pub fn violation(rule: &CompiledRule, campaign: &Campaign, v: Violation) -> Finding {
        let message = match &rule.decl.message {
            Some(template) => fill(&template.value, &v.vars),
            None => v.default_message.clone(),
        };
        Finding {
            rule: rule.id.clone(),
            kind: rule.kind(),
            severity: rule.severity,
            status: Status::Violation,
            message,
            campaign: campaign.source.clone(),
            span: v.span,
            label: v.label,
            rule_source: rule.source.clone(),
            rule_span: rule.decl.id.span,
            citations: rule.cites().map(str::to_string).collect(),
            help: rule.decl.help.as_ref().map(|h| fill(&h.value, &v.vars)),
            notes: v.notes,
        }
    }

    /// A finding saying `rule` deferred to `to`, which applies to the
    /// campaign: "baseline_x deferred to gdpr_y for EU-FR".
    pub fn deferred(rule: &CompiledRule, campaign: &Campaign, to: &CompiledRule) -> Finding {
        let jurisdictions: Vec<String> = campaign
            .model
            .jurisdictions()
            .map(|j| j.value.to_string())
            .collect();
        let place = if jurisdictions.is_empty() {
            String::new()
        } else {
            format!(" for {}", jurisdictions.join(", "))
        };
        Finding {
            rule: rule.id.clone(),
            kind: rule.kind(),
            severity: Severity::Info,
            status: Status::Deferred {
                to: to.id.clone(),
                jurisdictions,
            },
            message: format!("`{}` deferred to `{}`{place}", rule.id, to.id),
            campaign: campaign.source.clone(),
            span: campaign.model.id.span,
            label: "decided by the more specific rule".into(),
            rule_source: rule.source.clone(),
            rule_span: rule.decl.id.span,
            citations: rule.cites().map(str::to_string).collect(),
            help: Some(format!(
                "`{}` applies to this campaign and decides the question; see its finding, if any",
                to.id
            )),
            notes: Vec::new(),
        }
    }

    /// A finding saying `rule` was skipped because `prereq` failed.
    pub fn skipped(rule: &CompiledRule, campaign: &Campaign, prereq: &CompiledRule) -> Finding {
        let span = campaign.model.id.span;
        Finding {
            rule: rule.id.clone(),
            kind: rule.kind(),
            severity: Severity::Info,
            status: Status::Skipped {
                because: prereq.id.clone(),
            },
            message: format!(
                "rule `{}` was skipped: its prerequisite `{}` failed",
                rule.id, prereq.id
            ),
            campaign: campaign.source.clone(),
            span,
            label: "not checked for this campaign".into(),
            rule_source: rule.source.clone(),
            rule_span: rule.decl.id.span,
            citations: rule.cites().map(str::to_string).collect(),
            help: Some(format!(
                "fix `{}` first; this rule runs once it passes",
                prereq.id
            )),
            notes: Vec::new(),
        }
    }

    /// True for a violation at error level (or warning level when
    /// `deny_warnings`).
    pub fn fails(&self, deny_warnings: bool) -> bool {
        self.status == Status::Violation
            && (self.severity == Severity::Error
                || (deny_warnings && self.severity == Severity::Warning))
    }

    /// The finding as a diagnostic: primary label on the campaign, secondary
    /// "rule defined here" on the policy, citations and notes after the help.
    pub fn to_diag(&self) -> Diag {
        let (severity, message) = match &self.status {
            Status::Waived(_) => (Severity::Info, format!("waived: {}", self.message)),
            _ => (self.severity, self.message.clone()),
        };
        let mut diag = Diag {
            severity,
            ..Diag::error(self.rule.clone(), message)
        }
        .with_label(&self.campaign, self.span, self.label.clone())
        .with_label(&self.rule_source, self.rule_span, "rule defined here")
        .with_help_opt(self.help.clone());
        for note in &self.notes {
            diag = diag.with_note(note.clone());
        }
        if !self.citations.is_empty() {
            diag = diag.with_note(format!("cite: {}", self.citations.join("; ")));
        }
        if let Status::Waived(w) = &self.status {
            diag = diag.with_note(format!(
                "waived by {} until {} ({}): {}",
                w.approver, w.expires, w.reference, w.justification
            ));
        }
        diag
    }
}

/// Everything found in one campaign.
#[derive(Clone, Debug)]
pub struct CampaignReport {
    /// The campaign file.
    pub campaign: Source,
    /// The campaign id.
    pub id: String,
    /// Rule findings, in evaluation order.
    pub findings: Vec<Finding>,
    /// Other diagnostics (unknown purposes, …).
    pub diagnostics: Vec<Diag>,
    /// How each rule of the policy turned out, indexed like `Policy::rules`.
    pub outcomes: Vec<RuleOutcome>,
    /// How the campaign's targeting inputs were understood.
    pub targeting: crate::eval::census::TargetingCensus,
}

/// How one rule turned out for one campaign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleOutcome {
    /// Disabled in scruple.toml: not run.
    Disabled,
    /// Its `when` does not hold for the campaign: not run.
    NotApplicable,
    /// Not run because a prerequisite was violated or skipped.
    Skipped,
    /// Not run because a rule it defers to applies (`defers to`).
    Deferred,
    /// Ran and found nothing.
    Passed,
    /// Fired, and a valid waiver accepts its violations.
    Waived,
    /// Fired, and no valid waiver covers it.
    Violated,
}

impl RuleOutcome {
    /// True when rules requiring this one are skipped (a waived violation
    /// is accepted, so it does not block them).
    pub fn blocks_dependents(self) -> bool {
        matches!(self, RuleOutcome::Skipped | RuleOutcome::Violated)
    }
}

impl CampaignReport {
    /// True when the campaign passes (no failing findings or error diagnostics).
    pub fn passes(&self, deny_warnings: bool) -> bool {
        !self.findings.iter().any(|f| f.fails(deny_warnings))
            && !self
                .diagnostics
                .iter()
                .any(|d| d.is_error() || (deny_warnings && d.severity == Severity::Warning))
    }
}

/// Fills `{name}` placeholders; unknown ones are left as written.
pub fn fill(template: &str, vars: &Vars) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match vars.iter().find(|(k, _)| *k == name) {
                    Some((_, value)) => out.push_str(value),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_known_placeholders_only() {
        let vars: Vars = vec![("attribute", "health".into())];
        assert_eq!(
            fill("on `{attribute}` ({other})", &vars),
            "on `health` ({other})"
        );
        assert_eq!(fill("open { brace", &vars), "open { brace");
    }
}
