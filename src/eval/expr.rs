//! Evaluating resolved conditions against a campaign's value tree.
//!
//! A path maps over lists: `audience.segments.name` yields every segment's
//! name, and a list at the end yields its items. A comparison holds when any
//! value on its left satisfies it, which makes `channel is email` read as
//! "the campaign uses email". A missing field yields no values, so every
//! comparison with it is false (and `is absent` true).

use crate::campaign::tree::{Node, Value};
use crate::compile::cond::{set_contains, Cond, FieldPath, Term};
use crate::syntax::ast::CompareOp;

/// Quantifier variables in scope: (name, bound node).
type Scope<'a> = Vec<(&'a str, &'a Node)>;

/// True if `cond` holds for the campaign whose tree is `root`.
pub fn holds(cond: &Cond, root: &Node) -> bool {
    let mut scope = Vec::new();
    eval(cond, root, &mut scope)
}

fn eval<'a>(cond: &'a Cond, root: &'a Node, scope: &mut Scope<'a>) -> bool {
    match cond {
        Cond::Or(parts) => parts.iter().any(|c| eval(c, root, scope)),
        Cond::And(parts) => parts.iter().all(|c| eval(c, root, scope)),
        Cond::Not(inner) => !eval(inner, root, scope),
        Cond::Compare { lhs, op, rhs } => {
            let left = values(lhs, root, scope);
            let right = values(rhs, root, scope);
            left.iter()
                .any(|l| right.iter().any(|r| compare(l, *op, r)))
        }
        Cond::In { lhs, negated, set } => {
            let found = values(lhs, root, scope)
                .iter()
                .any(|v| v.as_text().is_some_and(|t| set_contains(set, &t)));
            found != *negated
        }
        Cond::Matches { lhs, regex } => values(lhs, root, scope)
            .iter()
            .any(|v| v.as_text().is_some_and(|t| regex.is_match(&t))),
        Cond::Presence { lhs, present } => {
            let exists = values(lhs, root, scope)
                .iter()
                .any(|v| !matches!(v, Val::Null));
            exists == *present
        }
        Cond::Truthy(term) => values(term, root, scope).iter().any(Val::truthy),
        Cond::Quantified {
            all,
            var,
            list,
            body,
        } => {
            let items = elements(list, root, scope);
            let test = |item: &'a Node, scope: &mut Scope<'a>| {
                scope.push((var.as_str(), item));
                let result = eval(body, root, scope);
                scope.pop();
                result
            };
            if *all {
                items.into_iter().all(|i| test(i, scope))
            } else {
                items.into_iter().any(|i| test(i, scope))
            }
        }
    }
}

/// The elements a quantifier ranges over: the elements of the lists the path
/// reaches (a scalar or map at the end counts as a single element).
fn elements<'a>(list: &FieldPath, root: &'a Node, scope: &Scope<'a>) -> Vec<&'a Node> {
    resolve(list, root, scope)
        .into_iter()
        .flat_map(|node| match &node.value {
            Value::List(elements) => elements.iter().collect::<Vec<_>>(),
            _ => vec![node],
        })
        .collect()
}

/// A value to compare: a campaign node's scalar, or a policy constant.
#[derive(Clone, Debug, PartialEq)]
enum Val<'a> {
    Null,
    Bool(bool),
    Number(f64),
    Text(std::borrow::Cow<'a, str>),
}

impl Val<'_> {
    fn as_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        match self {
            Val::Text(t) => Some(std::borrow::Cow::Borrowed(t.as_ref())),
            Val::Number(n) => Some(std::borrow::Cow::Owned(format_number(*n))),
            Val::Bool(b) => Some(std::borrow::Cow::Owned(b.to_string())),
            Val::Null => None,
        }
    }

    fn truthy(&self) -> bool {
        match self {
            Val::Null => false,
            Val::Bool(b) => *b,
            Val::Number(n) => *n != 0.0,
            Val::Text(t) => !t.trim().is_empty(),
        }
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

fn values<'a>(term: &'a Term, root: &'a Node, scope: &Scope<'a>) -> Vec<Val<'a>> {
    match term {
        Term::Path(path) => resolve(path, root, scope)
            .into_iter()
            .flat_map(|node| match &node.value {
                Value::List(items) => items.iter().map(node_val).collect::<Vec<_>>(),
                _ => vec![node_val(node)],
            })
            .collect(),
        Term::Symbol(s) | Term::Str(s) => vec![Val::Text(std::borrow::Cow::Borrowed(s))],
        Term::Number(n) => vec![Val::Number(*n)],
        Term::Bool(b) => vec![Val::Bool(*b)],
        Term::List(items) => items
            .iter()
            .map(|s| Val::Text(std::borrow::Cow::Borrowed(s.as_str())))
            .collect(),
    }
}

fn node_val(node: &Node) -> Val<'_> {
    match &node.value {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Int(i) => Val::Number(*i as f64),
        Value::Float(f) => Val::Number(*f),
        Value::Str(s) => Val::Text(std::borrow::Cow::Borrowed(s)),
        // A non-empty list or map counts as a present, truthy value.
        Value::List(items) if items.is_empty() => Val::Null,
        Value::Map(entries) if entries.is_empty() => Val::Null,
        Value::List(_) | Value::Map(_) => Val::Bool(true),
    }
}

/// The nodes a path reaches, mapping over lists on the way.
pub fn resolve<'a>(path: &FieldPath, root: &'a Node, scope: &Scope<'a>) -> Vec<&'a Node> {
    let mut segments = path.segments.iter();
    let mut current: Vec<&'a Node> = match path.segments.first() {
        Some(first) => match scope.iter().rev().find(|(name, _)| name == first) {
            Some((_, bound)) => {
                segments.next();
                vec![*bound]
            }
            None => vec![root],
        },
        None => vec![root],
    };
    for segment in segments {
        let mut next = Vec::new();
        for node in current {
            match &node.value {
                Value::Map(_) => next.extend(node.get(segment)),
                Value::List(items) => next.extend(items.iter().filter_map(|i| i.get(segment))),
                _ => {}
            }
        }
        current = next;
    }
    current
}

fn compare(left: &Val<'_>, op: CompareOp, right: &Val<'_>) -> bool {
    use std::cmp::Ordering;
    let ordering = match (left, right) {
        (Val::Number(a), Val::Number(b)) => a.partial_cmp(b),
        (Val::Bool(a), Val::Bool(b)) => Some(a.cmp(b)),
        (Val::Text(a), Val::Text(b)) => Some(a.as_ref().cmp(b.as_ref())),
        // `value: "18"` compared with 18: compare as numbers when the text is one.
        (Val::Text(a), Val::Number(b)) => {
            a.trim().parse::<f64>().ok().and_then(|a| a.partial_cmp(b))
        }
        (Val::Number(a), Val::Text(b)) => {
            b.trim().parse::<f64>().ok().and_then(|b| a.partial_cmp(&b))
        }
        (Val::Null, Val::Null) => Some(Ordering::Equal),
        _ => None,
    };
    match (op, ordering) {
        (CompareOp::Eq, Some(o)) => o == Ordering::Equal,
        (CompareOp::Ne, Some(o)) => o != Ordering::Equal,
        (CompareOp::Ne, None) => true,
        (CompareOp::Lt, Some(o)) => o == Ordering::Less,
        (CompareOp::Le, Some(o)) => o != Ordering::Greater,
        (CompareOp::Gt, Some(o)) => o == Ordering::Greater,
        (CompareOp::Ge, Some(o)) => o != Ordering::Less,
        _ => false,
    }
}

/// The part of a failed condition to blame: the first conjunct of an `and`
/// that does not hold (recursively), or the first alternative of a negated
/// `or` that does hold; any other condition is its own culprit. So a failed
/// `a is present and b is present` is blamed on `b` when only `b` is missing.
pub fn culprit<'c>(cond: &'c Cond, root: &Node) -> &'c Cond {
    match cond {
        Cond::And(parts) => parts
            .iter()
            .find(|c| !holds(c, root))
            .map_or(cond, |c| culprit(c, root)),
        Cond::Not(inner) => match inner.as_ref() {
            Cond::Or(parts) => parts.iter().find(|c| holds(c, root)).unwrap_or(cond),
            _ => cond,
        },
        _ => cond,
    }
}

/// The first campaign node read by the culprit of a failed condition (see
/// [`culprit`]) that exists, for labelling a failed `ensure`. When the
/// culprit is a quantifier decided by one element (`not (any s in L
/// satisfies B)`, `all s in L satisfies B`), that element's field is the
/// witness, shown as `L[i].field`.
pub fn witness<'a>(cond: &'a Cond, root: &'a Node) -> Option<(&'a Node, FieldPath)> {
    let culprit = culprit(cond, root);
    if let Some(found) = element_witness(culprit, root) {
        return Some(found);
    }
    let mut paths = Vec::new();
    culprit.paths(&mut paths);
    let scope = Vec::new();
    paths
        .into_iter()
        .find_map(|p| resolve(&p, root, &scope).first().map(|n| (*n, p.clone())))
}

/// The element deciding a failed `not (any …)` or `all …`, and the first
/// field of it the body reads (or the element itself).
fn element_witness<'a>(cond: &'a Cond, root: &'a Node) -> Option<(&'a Node, FieldPath)> {
    let (list, var, body, decides) = match cond {
        Cond::Not(inner) => match inner.as_ref() {
            Cond::Quantified {
                all: false,
                var,
                list,
                body,
            } => (list, var, body, true),
            _ => return None,
        },
        Cond::Quantified {
            all: true,
            var,
            list,
            body,
        } => (list, var, body, false),
        _ => return None,
    };
    let empty = Vec::new();
    let items = elements(list, root, &empty);
    let (index, item) = items.iter().enumerate().find(|(_, item)| {
        let mut scope = vec![(var.as_str(), **item)];
        eval(body, root, &mut scope) == decides
    })?;
    // `L[i]`, when the path reaches a single list.
    let mut shown = list.segments.clone();
    let single_list =
        matches!(resolve(list, root, &empty).as_slice(), [n] if matches!(n.value, Value::List(_)));
    if let (true, Some(last)) = (single_list, shown.last_mut()) {
        last.push_str(&format!("[{index}]"));
    }
    let scope = vec![(var.as_str(), *item)];
    let mut paths = Vec::new();
    body.paths(&mut paths);
    let field = paths.iter().find_map(|p| {
        let node = resolve(p, root, &scope).into_iter().next()?;
        let rest = match p.segments.first() {
            Some(first) if first == var => &p.segments[1..],
            _ => return None,
        };
        Some((node, rest.to_vec()))
    });
    Some(match field {
        Some((node, rest)) => {
            shown.extend(rest);
            (node, FieldPath { segments: shown })
        }
        None => (*item, FieldPath { segments: shown }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign;
    use crate::compile::cond::SymbolSet;
    use crate::source::SourceFile;
    use std::sync::Arc;

    fn tree(yaml: &str) -> Node {
        let source = SourceFile::new("t.yaml", format!("id: t\n{yaml}"));
        match campaign::load(&source) {
            Ok(c) => c.tree,
            Err(d) => panic!("{d:?}"),
        }
    }

    fn path(p: &str) -> FieldPath {
        FieldPath::new(p.split('.').map(str::to_string))
    }

    fn present(p: &str) -> Cond {
        Cond::Presence {
            lhs: Term::Path(path(p)),
            present: true,
        }
    }

    fn quantified(all: bool, body: Cond) -> Cond {
        Cond::Quantified {
            all,
            var: "s".into(),
            list: path("audience.segments"),
            body: Box::new(body),
        }
    }

    #[test]
    fn all_and_any_range_over_list_elements() {
        let t =
            tree("audience:\n  segments:\n    - name: a\n    - name: b\n      lookalike_of: a\n");
        assert!(holds(&quantified(false, present("s.lookalike_of")), &t));
        assert!(!holds(&quantified(true, present("s.lookalike_of")), &t));
        assert!(holds(&quantified(true, present("s.name")), &t));
    }

    #[test]
    fn list_on_the_left_matches_any_element() {
        let t = tree("channels: [sms, email]\njurisdictions: [EU-FR]\n");
        let is_email = Cond::Compare {
            lhs: Term::Path(path("channel")),
            op: CompareOp::Eq,
            rhs: Term::Symbol("email".into()),
        };
        assert!(holds(&is_email, &t));
        let eu: SymbolSet = ["EU".to_string()].into_iter().collect();
        let in_eu = Cond::In {
            lhs: Term::Path(path("jurisdiction")),
            negated: false,
            set: Arc::new(eu),
        };
        assert!(holds(&in_eu, &t));
    }

    #[test]
    fn missing_fields_compare_false_and_are_absent() {
        let t = tree("category: retail\n");
        let lt = Cond::Compare {
            lhs: Term::Path(path("audience.age.min")),
            op: CompareOp::Lt,
            rhs: Term::Number(18.0),
        };
        assert!(!holds(&lt, &t));
        assert!(holds(
            &Cond::Presence {
                lhs: Term::Path(path("audience.age.min")),
                present: false
            },
            &t
        ));
    }

    #[test]
    fn witness_blames_the_failing_part() {
        let t = tree("audience:\n  age: { min: 18, max: 35 }\n");
        let bound = |field: &str, op, limit| {
            Cond::Or(vec![
                Cond::Presence {
                    lhs: Term::Path(path(field)),
                    present: false,
                },
                Cond::Compare {
                    lhs: Term::Path(path(field)),
                    op,
                    rhs: Term::Number(limit),
                },
            ])
        };
        let range = Cond::And(vec![
            bound("audience.age.min", CompareOp::Le, 18.0),
            bound("audience.age.max", CompareOp::Ge, 65.0),
        ]);
        assert!(!holds(&range, &t));
        let (node, p) = witness(&range, &t).expect("a witness");
        assert_eq!(p.dotted(), "audience.age.max");
        assert_eq!(node.as_i64(), Some(35));
    }

    #[test]
    fn witness_of_a_quantifier_is_the_deciding_element() {
        let t =
            tree("audience:\n  segments:\n    - name: a\n    - name: b\n      lookalike_of: a\n");
        let none = Cond::Not(Box::new(quantified(false, present("s.lookalike_of"))));
        assert!(!holds(&none, &t));
        let (node, p) = witness(&none, &t).expect("a witness");
        assert_eq!(p.dotted(), "audience.segments[1].lookalike_of");
        assert_eq!(node.as_str(), Some("a"));
        let every = quantified(true, present("s.lookalike_of"));
        let (_, p) = witness(&every, &t).expect("a witness");
        assert_eq!(p.dotted(), "audience.segments[0]");
    }
}
