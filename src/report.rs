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

/// For a `forbid targeting` rule with taxonomy terms: the categories it
/// judges by meaning, and the data dictionary entries that decide for it
/// (declared into a forbidden category, or cleared from one with a reason).
fn by_meaning(policy: &Policy, rule: &crate::compile::CompiledRule, out: &mut String) {
    use crate::compile::cond::set_categories;
    use crate::compile::dictionary::value_kind;
    use crate::taxonomy::{classify, Kind};
    let crate::compile::Check::ForbidTargeting { attributes, .. } = &rule.check else {
        return;
    };
    let forbidden = set_categories(attributes);
    if forbidden.is_empty() {
        return;
    }
    let within =
        |c: crate::taxonomy::CategoryId| forbidden.iter().any(|f| c.category().is_within(f));
    // The top of each forbidden subtree is enough to say what is covered.
    let roots: Vec<&str> = forbidden
        .iter()
        .copied()
        .filter(|c| {
            crate::taxonomy::category(c)
                .and_then(|cat| cat.parent_id())
                .is_none_or(|p| !forbidden.contains(&p))
        })
        .collect();
    let _ = writeln!(
        out,
        "\nby meaning: names, filter values, URLs and audience names read as {} data (or below; docs/taxonomy.md)",
        roots.join(", ")
    );
    let mut entries = Vec::new();
    let dictionary = &policy.dictionary;
    let all = dictionary
        .attributes
        .values()
        .map(|m| (m, Kind::AttributeName))
        .chain(
            dictionary
                .values
                .values()
                .map(|m| (m, value_kind(&m.written))),
        );
    for (meaning, kind) in all {
        let decides = match meaning.category {
            Some(c) => within(c),
            None => classify(&meaning.written, kind)
                .category
                .is_some_and(within),
        };
        if !decides {
            continue;
        }
        let what = meaning.category.map_or("none", |c| c.as_str());
        let why = meaning
            .reason
            .as_ref()
            .map(|r| format!(" because {r:?}"))
            .unwrap_or_default();
        let at = policy.files.get(meaning.file).map(|f| {
            let (line, _) = f.source.line_col(meaning.span.start);
            format!(" ({}:{line})", f.source.name)
        });
        entries.push(format!(
            "  - `{}`: {what}{why}{}",
            meaning.written,
            at.unwrap_or_default()
        ));
    }
    if !entries.is_empty() {
        let _ = writeln!(out, "data dictionary entries that decide for this rule:");
        for e in entries {
            let _ = writeln!(out, "{e}");
        }
    }
}

/// `scruple explain RULE`: documentation, source, citations, prerequisites
/// and the sets and tables the rule uses.
pub fn explain(policy: &Policy, id: &str) -> Result<String, Box<crate::diag::Diag>> {
    let Some(rule) = policy.rule(id) else {
        let ids = policy.rules.iter().map(|r| r.id.as_str());
        let help = match crate::diag::did_you_mean(id, ids) {
            Some(near) => format!("did you mean `{near}`? `scruple rules` lists every rule"),
            None => "`scruple rules` lists every rule".to_string(),
        };
        return Err(Box::new(
            crate::diag::Diag::error(
                "scruple::explain::unknown_rule",
                format!("no rule is called `{id}`"),
            )
            .with_help(help),
        ));
    };
    let mut out = String::new();
    let _ = writeln!(out, "{} ({}, {})", rule.id, rule.severity, rule.kind());
    let _ = writeln!(out, "pack: {}", rule.pack);
    if rule.check.is_audit() {
        let _ = writeln!(
            out,
            "judged by: `scruple audit`, on what was sent (`check` and `gate` do not evaluate it; docs/audit.md)"
        );
    }
    if let Some(d) = &rule.decl.description {
        let _ = writeln!(out, "\n{}", d.value);
    }
    if let Some(m) = &rule.decl.message {
        let _ = writeln!(out, "\nmessage: {}", m.value);
    }
    if let Some(h) = &rule.decl.help {
        let _ = writeln!(out, "help: {}", h.value);
    }
    let cites: Vec<&str> = rule.cites().collect();
    if !cites.is_empty() {
        let _ = writeln!(out, "\ncitations:");
        for c in cites {
            let _ = writeln!(out, "  - {c}");
        }
    }
    if !rule.decl.tags.is_empty() {
        let tags: Vec<&str> = rule.decl.tags.iter().map(|t| t.name.as_str()).collect();
        let _ = writeln!(out, "tags: {}", tags.join(", "));
    }
    if rule.decl.unwaivable.is_some() {
        let _ = writeln!(out, "unwaivable: waivers cannot suppress this rule");
    }
    // Prerequisite chain, nearest first.
    let mut chain = Vec::new();
    let mut frontier: Vec<usize> = rule.requires.clone();
    while let Some(i) = frontier.pop() {
        if let Some(r) = policy.rules.get(i) {
            if !chain.contains(&r.id) {
                chain.push(r.id.clone());
                frontier.extend(r.requires.iter().copied());
            }
        }
    }
    if chain.is_empty() {
        let _ = writeln!(out, "\nprerequisites: none");
    } else {
        let _ = writeln!(
            out,
            "\nprerequisites: {} (if one fails, this rule is skipped)",
            chain.join(" → ")
        );
    }
    let dependents: Vec<&str> = policy
        .rules
        .iter()
        .filter(|r| {
            r.requires
                .iter()
                .any(|&i| policy.rules.get(i).is_some_and(|p| p.id == rule.id))
        })
        .map(|r| r.id.as_str())
        .collect();
    if !dependents.is_empty() {
        let _ = writeln!(out, "required by: {}", dependents.join(", "));
    }
    // Precedence (lex specialis), both ways.
    let defers: Vec<&str> = rule
        .defers_to
        .iter()
        .filter_map(|&i| policy.rules.get(i))
        .map(|r| r.id.as_str())
        .collect();
    if !defers.is_empty() {
        let _ = writeln!(
            out,
            "defers to: {} (where one applies, this rule is not evaluated)",
            defers.join(", ")
        );
    }
    let deferring: Vec<&str> = policy
        .rules
        .iter()
        .filter(|r| {
            r.defers_to
                .iter()
                .any(|&i| policy.rules.get(i).is_some_and(|p| p.id == rule.id))
        })
        .map(|r| r.id.as_str())
        .collect();
    if !deferring.is_empty() {
        let _ = writeln!(
            out,
            "takes precedence over: {} (they defer to this rule where it applies)",
            deferring.join(", ")
        );
    }
    by_meaning(policy, rule, &mut out);
    let (line, _) = rule.source.line_col(rule.decl.span.start);
    let _ = writeln!(out, "\ndefined in {}:{line}:\n", rule.source.name);
    for text_line in rule.source.slice(rule.decl.span).lines() {
        let _ = writeln!(out, "    {text_line}");
    }
    Ok(out)
}
