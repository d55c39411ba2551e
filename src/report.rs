//! Plain-text listings of a compiled policy (`scruple rules`).

use std::fmt::Write as _;

use crate::compile::Policy;

/// One line per rule: id, severity, kind, pack and citations, aligned.
pub fn rules_table(policy: &Policy) -> String {
    let id_width = policy
        .rules
        .iter()
        .map(|r| r.id.len())
        .max()
        .unwrap_or(2)
        .max(2);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<id_width$}  {:<8}  {:<18}  {:<22}  CITATIONS",
        "ID", "SEVERITY", "KIND", "PACK"
    );
    for rule in &policy.rules {
        let cites: Vec<&str> = rule.cites().collect();
        let _ = writeln!(
            out,
            "{:<id_width$}  {:<8}  {:<18}  {:<22}  {}",
            rule.id,
            rule.severity.as_str(),
            rule.kind(),
            rule.pack,
            cites.join("; ")
        );
    }
    out
}
