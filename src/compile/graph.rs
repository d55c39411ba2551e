//! The policy dependency graph and its renderings (DOT, Mermaid, JSON).
//!
//! Nodes are policy files, sets, attributes, purposes, tables and rules;
//! edges say who imports, uses, requires, stands in for or is derived from
//! whom. Every edge keeps the span where the dependency is written, so a
//! cycle can be reported on each of its edges.

use std::fmt::Write as _;

use petgraph::graph::DiGraph;
use petgraph::visit::EdgeRef;

use crate::source::Span;

/// What a node stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// A policy file.
    File,
    /// A named set.
    Set,
    /// An attribute with lineage.
    Attribute,
    /// A purpose.
    Purpose,
    /// A table.
    Table,
    /// A rule.
    Rule,
    /// A data category a dictionary entry declares (`health.condition`, or
    /// `none`).
    Category,
    /// A value declared by a `values` entry of the data dictionary.
    Value,
}

impl NodeKind {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::File => "file",
            NodeKind::Set => "set",
            NodeKind::Attribute => "attribute",
            NodeKind::Purpose => "purpose",
            NodeKind::Table => "table",
            NodeKind::Rule => "rule",
            NodeKind::Category => "category",
            NodeKind::Value => "value",
        }
    }
}

/// A node of the graph.
#[derive(Clone, Debug, serde::Serialize)]
pub struct GraphNode {
    /// Kind.
    pub kind: NodeKind,
    /// Name (logical path for files).
    pub name: String,
    /// Declaring file (index into `Policy::files`), if declared.
    pub file: Option<usize>,
}

/// What an edge means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// File imports file.
    Imports,
    /// Rule or set uses a set, purpose or table.
    Uses,
    /// Rule requires rule (a prerequisite).
    Requires,
    /// Rule defers to a more specific rule (`defers to`).
    DefersTo,
    /// Attribute is a proxy for attribute.
    ProxyFor,
    /// Attribute is derived from attribute.
    DerivedFrom,
    /// Attribute or value means a data category (the data dictionary).
    Means,
}

impl EdgeKind {
    /// Label used in renderings.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::Imports => "imports",
            EdgeKind::Uses => "uses",
            EdgeKind::Requires => "requires",
            EdgeKind::DefersTo => "defers to",
            EdgeKind::ProxyFor => "proxy for",
            EdgeKind::DerivedFrom => "derived from",
            EdgeKind::Means => "means",
        }
    }
}

/// An edge, with where it is written.
#[derive(Clone, Debug)]
pub struct GraphEdge {
    /// Kind.
    pub kind: EdgeKind,
    /// File the dependency is written in.
    pub file: usize,
    /// Span of the reference.
    pub span: Span,
}

/// The dependency graph of a policy.
pub type PolicyGraph = DiGraph<GraphNode, GraphEdge>;

fn node_id(node: &GraphNode) -> String {
    let clean: String = node
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{}_{clean}", node.kind.as_str())
}

/// Graphviz DOT.
pub fn to_dot(graph: &PolicyGraph) -> String {
    let mut out =
        String::from("digraph scruple {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
    for node in graph.node_weights() {
        let shape = match node.kind {
            NodeKind::File => "folder",
            NodeKind::Set => "ellipse",
            NodeKind::Attribute => "note",
            NodeKind::Purpose => "hexagon",
            NodeKind::Table => "box3d",
            NodeKind::Rule => "box",
            NodeKind::Category => "tab",
            NodeKind::Value => "plaintext",
        };
        let _ = writeln!(
            out,
            "  {} [label=\"{}\\n{}\", shape={shape}];",
            node_id(node),
            node.kind.as_str(),
            node.name.replace('"', "\\\"")
        );
    }
    for edge in graph.edge_references() {
        let style = match edge.weight().kind {
            EdgeKind::Requires => ", style=bold",
            EdgeKind::DefersTo => ", style=bold, color=gray40",
            EdgeKind::Imports => ", style=dashed",
            EdgeKind::ProxyFor | EdgeKind::DerivedFrom => ", style=dotted",
            EdgeKind::Means => ", style=dashed, color=gray40",
            EdgeKind::Uses => "",
        };
        let _ = writeln!(
            out,
            "  {} -> {} [label=\"{}\"{style}];",
            node_id(&graph[edge.source()]),
            node_id(&graph[edge.target()]),
            edge.weight().kind.as_str()
        );
    }
    out.push_str("}\n");
    out
}

/// Mermaid flowchart.
pub fn to_mermaid(graph: &PolicyGraph) -> String {
    let mut out = String::from("flowchart LR\n");
    for node in graph.node_weights() {
        let label = format!("{} {}", node.kind.as_str(), node.name).replace('"', "'");
        let (open, close) = match node.kind {
            NodeKind::File => ("[/", "/]"),
            NodeKind::Set => ("([", "])"),
            NodeKind::Attribute => ("[[", "]]"),
            NodeKind::Purpose => ("{{", "}}"),
            NodeKind::Table => ("[(", ")]"),
            NodeKind::Rule => ("[", "]"),
            NodeKind::Category => ("[\\", "\\]"),
            NodeKind::Value => (">", "]"),
        };
        let _ = writeln!(out, "  {}{open}\"{label}\"{close}", node_id(node));
    }
    for edge in graph.edge_references() {
        let arrow = match edge.weight().kind {
            EdgeKind::Imports | EdgeKind::ProxyFor | EdgeKind::DerivedFrom | EdgeKind::Means => {
                "-.->"
            }
            EdgeKind::Requires => "==>",
            EdgeKind::DefersTo => "-.->",
            EdgeKind::Uses => "-->",
        };
        let _ = writeln!(
            out,
            "  {} {arrow}|{}| {}",
            node_id(&graph[edge.source()]),
            edge.weight().kind.as_str(),
            node_id(&graph[edge.target()])
        );
    }
    out
}

/// JSON: `{"nodes": [...], "edges": [{"from", "to", "kind"}]}`, nodes by index.
pub fn to_json(graph: &PolicyGraph) -> serde_json::Value {
    let nodes: Vec<serde_json::Value> = graph
        .node_indices()
        .map(|i| {
            let n = &graph[i];
            serde_json::json!({"id": i.index(), "kind": n.kind, "name": n.name})
        })
        .collect();
    let edges: Vec<serde_json::Value> = graph
        .edge_references()
        .map(|e| {
            serde_json::json!({
                "from": e.source().index(),
                "to": e.target().index(),
                "kind": e.weight().kind,
            })
        })
        .collect();
    serde_json::json!({"version": 1, "nodes": nodes, "edges": edges})
}
