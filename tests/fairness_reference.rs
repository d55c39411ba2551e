//! The audit's numbers against reference tools: fairlearn 0.15.0
//! (`demographic_parity_ratio`, `demographic_parity_difference`,
//! `equal_opportunity_difference`) and scipy (`fisher_exact`, the normal
//! distribution for the z-test), computed once by
//! tests/fixtures/fairness/make_fixtures.py on 24 generated datasets and
//! committed as reference.json. Python is not needed here.

use std::fs::File;
use std::io::BufReader;

use scruple::audit::input::{read_attributes, read_outcomes, Format};
use scruple::audit::{Audit, Stage, Status, Thresholds};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/fairness");

fn open(name: &str) -> BufReader<File> {
    BufReader::new(File::open(format!("{DIR}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}")))
}

fn close(what: &str, campaign: &str, ours: Option<f64>, theirs: f64, tol: f64) {
    let ours = ours.unwrap_or_else(|| panic!("{campaign}: no {what}"));
    assert!(
        (ours - theirs).abs() <= tol,
        "{campaign}: {what} {ours} vs reference {theirs}"
    );
}

#[test]
fn audit_agrees_with_fairlearn_and_scipy() {
    let reference: serde_json::Value =
        serde_json::from_reader(open("reference.json")).unwrap_or_else(|e| panic!("{e}"));
    let thresholds = Thresholds {
        // Every group compared: the reference tools have no minimum size.
        min_group: 1,
        ..Thresholds::default()
    };
    let mut audit = Audit::new(thresholds, false);
    read_attributes(
        open("attributes.csv"),
        Format::Csv,
        "attributes.csv",
        |line, id, values| audit.add_attributes("attributes.csv", line, id, values),
    )
    .unwrap_or_else(|d| panic!("{}", d.message));
    read_outcomes(open("outcomes.csv"), Format::Csv, "outcomes.csv", |o| {
        audit.add_outcome(o)
    })
    .unwrap_or_else(|d| panic!("{}", d.message));
    let result = audit.finish();
    let expected = reference["campaigns"]
        .as_object()
        .unwrap_or_else(|| panic!("no campaigns"));
    assert!(expected.len() >= 20);
    assert_eq!(result.campaigns.len(), expected.len());
    for campaign in &result.campaigns {
        let id = campaign.campaign.as_str();
        let want = &expected[id];
        let attribute = &campaign.attributes[0];
        for group in &attribute.groups {
            let g = &want["groups"][&group.group];
            let offer = group.stages.iter().find(|s| s.stage == Stage::OfferMade);
            assert_eq!(
                offer.map(|s| (s.k, s.n)),
                Some((g["k"].as_u64().unwrap_or(0), g["n"].as_u64().unwrap_or(0))),
                "{id}"
            );
        }
        let cmp = attribute
            .comparisons
            .iter()
            .find(|c| c.stage == Stage::OfferMade)
            .unwrap_or_else(|| panic!("{id}: no offer_made comparison"));
        assert_ne!(cmp.status, Status::InsufficientData, "{id}");
        let num = |k: &str| want[k].as_f64().unwrap_or(f64::NAN);
        close(
            "demographic_parity_ratio",
            id,
            cmp.ratio,
            num("demographic_parity_ratio"),
            1e-9,
        );
        close(
            "demographic_parity_difference",
            id,
            cmp.parity_difference,
            num("demographic_parity_difference"),
            1e-9,
        );
        let eo = attribute
            .equal_opportunity
            .as_ref()
            .and_then(|e| e.difference);
        close(
            "equal_opportunity_difference",
            id,
            eo,
            num("equal_opportunity_difference"),
            1e-9,
        );
        assert_eq!(cmp.lowest.as_deref(), want["lowest"].as_str(), "{id}");
        assert_eq!(cmp.highest.as_deref(), want["highest"].as_str(), "{id}");
        close("fisher_p", id, cmp.fisher_p, num("fisher_p"), 1e-6);
        // Relative agreement too, so tiny p-values are checked, not just
        // "both near zero".
        let p = num("fisher_p");
        close(
            "fisher_p (relative)",
            id,
            cmp.fisher_p.map(|x| x / p),
            1.0,
            1e-6,
        );
        close("z", id, cmp.z, num("z"), 1e-9);
        close("z_p", id, cmp.z_p, num("z_p"), 1e-6);
    }
}
