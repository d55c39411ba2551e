//! scruple: a policy-as-code engine for ethical personalization.
//!
//! Data flows one way: source text → pest pairs ([`syntax`]) → AST with spans
//! → compiled policy ([`compile`]) → evaluation → findings → renderers.

pub mod audit;
pub mod campaign;
pub mod check;
pub mod compile;
pub mod config;
pub mod diag;
pub mod diff;
pub mod eval;
pub mod fmt;
#[doc(hidden)]
pub mod fuzzing;
pub mod gate;
pub mod geo;
pub mod ledger;
pub mod policytest;
pub mod render;
pub mod report;
pub mod serve;
pub mod signals;
pub mod source;
pub mod syntax;
pub mod taxonomy;
pub mod tz;

use std::path::PathBuf;

/// Like [`policy_inputs`], falling back to the project configuration's
/// `[policy]` section when no path or pack is given on the command line.
pub fn policy_inputs_with(
    paths: &[PathBuf],
    packs: &[String],
    config: Option<&config::Config>,
) -> compile::Inputs {
    match config {
        Some(c)
            if paths.is_empty()
                && packs.is_empty()
                && !(c.packs.is_empty() && c.policy_paths.is_empty()) =>
        {
            let mut inputs = compile::Inputs::default();
            for path in &c.policy_paths {
                inputs.add_path(path);
            }
            if !c.packs.is_empty() {
                inputs.add_builtin(&c.packs);
            }
            inputs
        }
        _ => policy_inputs(paths, packs),
    }
}

/// The policy inputs a command uses: the given paths; else `./policies` when
/// it exists; else the built-in packs. `packs` picks shipped packs by name.
pub fn policy_inputs(paths: &[PathBuf], packs: &[String]) -> compile::Inputs {
    let mut inputs = compile::Inputs::default();
    for path in paths {
        inputs.add_path(path);
    }
    if !packs.is_empty() {
        inputs.add_builtin(packs);
    } else if paths.is_empty() {
        let local = std::path::Path::new("policies");
        if local.is_dir() {
            inputs.add_path(local);
        } else {
            inputs.add_builtin(&[]);
        }
    }
    inputs
}
