//! The taxonomy classifier, measured on a labelled list of real attribute
//! names, values, URLs and audience names (tests/fixtures/taxonomy/), and
//! checked item by item on the cases of issue 11 and their benign twins.
//!
//! `cargo test --test taxonomy -- --nocapture` prints the figures.

use std::collections::BTreeMap;

use scruple::taxonomy::{classify, law_view, CategoryId, Ignored, Kind, Law, CATEGORIES};

/// Recall of sensitive items the list must reach.
const MIN_RECALL: f64 = 0.97;
/// Precision of sensitive predictions the list must reach.
const MIN_PRECISION: f64 = 0.95;

struct Item {
    text: String,
    kind: Kind,
    label: Option<CategoryId>,
    file: &'static str,
    line: usize,
}

fn load(file: &'static str) -> Vec<Item> {
    let path = format!(
        "{}/tests/fixtures/taxonomy/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut items = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(
            cols.len(),
            4,
            "{file}:{}: want 4 tab-separated columns",
            n + 1
        );
        let kind = match cols[1] {
            "AttributeName" => Kind::AttributeName,
            "Value" => Kind::Value,
            "Url" => Kind::Url,
            "AudienceName" => Kind::AudienceName,
            other => panic!("{file}:{}: unknown kind {other}", n + 1),
        };
        let label = match cols[2] {
            "none" => None,
            id => Some(
                CategoryId::parse(id)
                    .unwrap_or_else(|| panic!("{file}:{}: unknown label {id}", n + 1)),
            ),
        };
        assert!(
            !cols[3].trim().is_empty(),
            "{file}:{}: every item names its source",
            n + 1
        );
        items.push(Item {
            text: cols[0].to_string(),
            kind,
            label,
            file,
            line: n + 1,
        });
    }
    items
}

#[derive(Default)]
struct Tally {
    tp: usize,
    fp: usize,
    fn_: usize,
    tn: usize,
}

impl Tally {
    fn add(&mut self, truth: bool, predicted: bool) {
        match (truth, predicted) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (true, false) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }
    fn precision(&self) -> f64 {
        self.tp as f64 / ((self.tp + self.fp) as f64).max(1.0)
    }
    fn recall(&self) -> f64 {
        self.tp as f64 / ((self.tp + self.fn_) as f64).max(1.0)
    }
}

#[test]
fn labelled_list_meets_precision_and_recall() {
    let names = load("names.tsv");
    let values = load("values.tsv");
    assert!(
        names.len() >= 600,
        "at least 600 attribute names, have {}",
        names.len()
    );
    assert!(
        values.len() >= 600,
        "at least 600 values, have {}",
        values.len()
    );

    let mut overall = Tally::default();
    let mut by_file: BTreeMap<&str, Tally> = BTreeMap::new();
    // Per labelled category: items, how many were read as sensitive, how many
    // got exactly this category, and false positives into it.
    let mut per_cat: BTreeMap<&str, (usize, usize, usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    for item in names.iter().chain(&values) {
        let c = classify(&item.text, item.kind);
        let truth = item.label.is_some_and(CategoryId::is_sensitive);
        let predicted = c.is_sensitive();
        overall.add(truth, predicted);
        by_file.entry(item.file).or_default().add(truth, predicted);
        if let Some(l) = item.label.filter(|l| l.is_sensitive()) {
            let e = per_cat.entry(l.as_str()).or_default();
            e.0 += 1;
            e.1 += usize::from(predicted);
            e.2 += usize::from(c.category == Some(l));
        }
        if predicted && !truth {
            if let Some(p) = c.category {
                per_cat.entry(p.as_str()).or_default().3 += 1;
            }
        }
        if truth != predicted {
            misses.push(format!(
                "  {} {}:{} {:?} `{}` labelled {} → {}",
                if truth { "FN" } else { "FP" },
                item.file,
                item.line,
                item.kind,
                item.text,
                item.label.map_or("none", CategoryId::as_str),
                c
            ));
        }
    }

    println!(
        "taxonomy classifier on {} names + {} values",
        names.len(),
        values.len()
    );
    for (file, t) in &by_file {
        println!(
            "  {file:12} precision {:.3} recall {:.3} (tp {} fp {} fn {} tn {})",
            t.precision(),
            t.recall(),
            t.tp,
            t.fp,
            t.fn_,
            t.tn
        );
    }
    println!(
        "per sensitive category: items, read as sensitive, exact category, false positives into it"
    );
    for (cat, (n, sens, exact, fp)) in &per_cat {
        println!(
            "  {cat:28} {n:4}  recall {:.3}  exact {:.3}  fp {fp}",
            *sens as f64 / (*n as f64).max(1.0),
            *exact as f64 / (*n as f64).max(1.0)
        );
    }
    println!("misclassified:\n{}", misses.join("\n"));
    println!(
        "OVERALL precision {:.3} recall {:.3} (tp {} fp {} fn {} tn {})",
        overall.precision(),
        overall.recall(),
        overall.tp,
        overall.fp,
        overall.fn_,
        overall.tn
    );
    assert!(
        overall.recall() >= MIN_RECALL,
        "recall {:.3} < {MIN_RECALL}",
        overall.recall()
    );
    assert!(
        overall.precision() >= MIN_PRECISION,
        "precision {:.3} < {MIN_PRECISION}",
        overall.precision()
    );
}

fn cat(text: &str, kind: Kind) -> Option<&'static str> {
    classify(text, kind).category.map(CategoryId::as_str)
}

fn sensitive(text: &str, kind: Kind) -> bool {
    classify(text, kind).is_sensitive()
}

// ---------------------------------------------------------------- issue 11, first list

#[test]
fn chronic_conditions_and_its_values_are_health() {
    assert_eq!(
        cat("chronic_conditions", Kind::AttributeName),
        Some("health.condition")
    );
    assert_eq!(cat("asthma", Kind::Value), Some("health.condition"));
    assert_eq!(cat("copd", Kind::Value), Some("health.condition"));
    assert_eq!(cat("medical_history", Kind::AttributeName), Some("health"));
    // Twins: a product's condition, terms and conditions, a lone `conditions`.
    assert!(!sensitive("product_condition", Kind::AttributeName));
    assert!(!sensitive(
        "terms_and_conditions_accepted",
        Kind::AttributeName
    ));
    assert!(!sensitive("conditions", Kind::Value));
    assert!(!sensitive("air conditioning", Kind::Value));
}

#[test]
fn oncology_and_addiction_support_urls_are_health() {
    assert_eq!(
        cat(
            "https://www.cancer.org/cancer/types/lung-cancer.html",
            Kind::Url
        ),
        Some("health.condition")
    );
    assert_eq!(
        cat("https://www.mskcc.org/cancer-care/oncology", Kind::Url),
        Some("health.condition")
    );
    assert_eq!(
        cat("https://www.aa.org/find-aa-meeting", Kind::Url),
        Some("health.substance_use")
    );
    assert_eq!(
        cat(
            "https://www.samhsa.gov/find-help/national-helpline",
            Kind::Url
        ),
        Some("health.substance_use")
    );
    // Twins: a running shop, a race-day blog post, a cache header page.
    assert!(!sensitive(
        "https://www.shop.example/collections/running-shoes",
        Kind::Url
    ));
    assert!(!sensitive(
        "https://www.shop.example/blog/race-day-checklist",
        Kind::Url
    ));
    assert!(!sensitive(
        "https://developer.mozilla.org/docs/Web/HTTP/Headers/Cache-Control#max-age",
        Kind::Url
    ));
}

#[test]
fn sign_language_and_wheelchair_basketball_are_disability() {
    assert_eq!(cat("sign_language", Kind::Value), Some("disability"));
    assert_eq!(
        cat("wheelchair_basketball", Kind::Value),
        Some("disability")
    );
    assert_eq!(cat("langue des signes", Kind::Value), Some("disability"));
    assert_eq!(cat("Gebärdensprache", Kind::Value), Some("disability"));
    // Twins: basketball, signing up, a language preference.
    assert_eq!(cat("basketball", Kind::Value), Some("declared_interest"));
    assert!(!sensitive("sign_up", Kind::Value));
    assert!(!sensitive("preferred_language", Kind::AttributeName));
}

#[test]
fn arabic_language_news_is_national_origin() {
    assert_eq!(
        cat("arabic-language news", Kind::Value),
        Some("national_origin")
    );
    assert!(!sensitive("world news", Kind::Value));
    assert!(!sensitive("language_learning", Kind::Value));
}

#[test]
fn household_children_count_is_familial_status() {
    assert_eq!(
        cat("household.children_count", Kind::AttributeName),
        Some("familial_status")
    );
    assert_eq!(
        cat("nombre_enfants", Kind::AttributeName),
        Some("familial_status")
    );
    assert_eq!(
        cat("AnzahlKinder", Kind::AttributeName),
        Some("familial_status")
    );
    assert_eq!(
        cat("numero_de_hijos", Kind::AttributeName),
        Some("familial_status")
    );
    // Twins: household size and a product's child SKU.
    assert_eq!(
        cat("household.size", Kind::AttributeName),
        Some("household")
    );
    assert!(!sensitive("child_sku", Kind::AttributeName));
    assert!(!sensitive("parent_category_id", Kind::AttributeName));
}

#[test]
fn debt_stressed_renters_is_financial_hardship() {
    assert_eq!(
        cat("Debt-stressed renters", Kind::AudienceName),
        Some("financial.hardship")
    );
    assert!(!sensitive(
        "Loyal renters who shop weekly",
        Kind::AudienceName
    ));
    assert!(!sensitive("payday_sale_opt_in", Kind::AttributeName));
}

// ---------------------------------------------------------------- look-alikes

#[test]
fn age_look_alikes_are_not_age() {
    for name in [
        "age_verified",
        "page_age",
        "account_age_days",
        "age_verification_status",
        "cookie_age",
    ] {
        let c = classify(name, Kind::AttributeName);
        assert_eq!(c.category, None, "{name}: {c}");
        assert!(
            c.evidence
                .matches
                .iter()
                .any(|m| m.ignored == Ignored::Negative),
            "{name}: {c}"
        );
    }
    assert_eq!(cat("age", Kind::AttributeName), Some("age"));
    assert_eq!(cat("date_of_birth", Kind::AttributeName), Some("age"));
    assert_eq!(cat("25-34", Kind::Value), Some("age"));
    assert_eq!(cat("65+", Kind::Value), Some("age"));
    assert!(!sensitive("$50000 - $74999", Kind::Value));
}

#[test]
fn decided_look_alikes() {
    // A customer-success health score is not a person's health.
    assert!(!sensitive("health_score", Kind::AttributeName));
    assert!(!sensitive("customer_health_score", Kind::AttributeName));
    // A religious-holiday promotion is seasonal retail; the holiday alone is not.
    assert!(!sensitive("religious_holiday_sale", Kind::AttributeName));
    assert!(!sensitive("Ramadan sale visitors", Kind::AudienceName));
    assert_eq!(
        cat("Ramadan shoppers", Kind::AudienceName),
        Some("religion")
    );
    // A pharmacy SKU used to select people is health data.
    assert_eq!(
        cat("insulin_pen_sku", Kind::AttributeName),
        Some("health.treatment")
    );
}

#[test]
fn evidence_says_why() {
    let c = classify("copd", Kind::Value);
    let shown = c.to_string();
    assert!(
        shown.contains("health.condition") && shown.contains("chronic lung disease"),
        "{shown}"
    );
    let c = classify("age_verified", Kind::AttributeName);
    assert!(c.to_string().contains("look-alike"), "{c}");
    let c = classify("Lungenkrebs", Kind::Value);
    assert_eq!(
        c.category.map(CategoryId::as_str),
        Some("health.condition"),
        "{c}"
    );
}

#[test]
fn total_on_any_input() {
    let huge = "asthma ".repeat(100_000);
    let inputs = [
        "",
        " ",
        "🙂🙂🙂",
        "\u{0}\u{FFFD}\u{202E}",
        "%%%",
        "http://",
        "https://@:/?&=#",
        huge.as_str(),
        "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z",
        "ǅǈǋ ŉ ﬀ İstanbul",
    ];
    for text in inputs {
        for kind in [
            Kind::AttributeName,
            Kind::Value,
            Kind::Url,
            Kind::AudienceName,
        ] {
            let _ = classify(text, kind).to_string();
        }
    }
    assert!(classify(&huge, Kind::Value).evidence.truncated);
}

// ---------------------------------------------------------------- taxonomy and laws

#[test]
fn vocabulary_reads_cleanly() {
    let index = &*scruple::taxonomy::vocab::INDEX;
    assert!(index.errors.is_empty(), "{:?}", index.errors);
    assert!(index.entries.len() > 1000);
}

#[test]
fn law_views_map_only_what_the_law_covers() {
    let view = |name: &str| -> Vec<&str> {
        law_view(name)
            .unwrap_or_default()
            .into_iter()
            .map(CategoryId::as_str)
            .collect()
    };
    let art9 = view("gdpr_art9");
    for id in [
        "health",
        "health.condition",
        "disability",
        "genetic",
        "biometric",
        "sex_life",
        "sexual_orientation",
        "ethnicity",
        "religion",
        "political_opinion",
        "trade_union",
    ] {
        assert!(art9.contains(&id), "gdpr_art9 lacks {id}");
    }
    for id in [
        "age",
        "familial_status",
        "marital_status",
        "gender",
        "criminal",
        "national_origin",
    ] {
        assert!(!art9.contains(&id), "gdpr_art9 must not contain {id}");
    }
    assert_eq!(view("gdpr_art10"), ["criminal"]);
    let fha = view("fha");
    assert!(
        fha.contains(&"familial_status") && fha.contains(&"disability") && !fha.contains(&"age")
    );
    let ecoa = view("ecoa");
    assert!(
        ecoa.contains(&"age")
            && ecoa.contains(&"marital_status")
            && ecoa.contains(&"financial.public_assistance")
    );
    assert!(
        view("dsa_art26") == art9,
        "DSA Art. 26(3) works through GDPR Art. 9"
    );
    assert!(view("cpra_sensitive").contains(&"precise_geolocation"));
    assert!(view("meta_special_ad").contains(&"location.postal"));
    assert!(law_view("no_such_law").is_none());
    for law in Law::ALL {
        assert!(
            !law_view(law.view_name()).unwrap_or_default().is_empty(),
            "{law} protects nothing"
        );
    }
}

#[test]
fn categories_are_well_formed() {
    for c in CATEGORIES {
        if let Some(parent) = c.parent_id() {
            assert!(
                CATEGORIES.iter().any(|p| p.id == parent),
                "{} has no parent",
                c.id
            );
        }
        assert!(!c.title.is_empty() && !c.description.is_empty(), "{}", c.id);
        if c.sensitive {
            assert!(!c.laws().is_empty(), "sensitive {} has no law", c.id);
        }
    }
    assert_eq!(
        CategoryId::parse("children").map(CategoryId::as_str),
        Some("age.minor")
    );
}

/// The examples shown in docs/taxonomy.md, so the page stays true.
#[test]
fn documented_examples() {
    let shown = |t: &str, k: Kind| classify(t, k).to_string();
    assert_eq!(
        shown("copd", Kind::Value),
        "health.condition (word `copd`: chronic lung disease)"
    );
    assert_eq!(
        shown("medical_history", Kind::AttributeName),
        "health (phrase `medical history`: medical history)"
    );
    assert_eq!(
        shown("age_verified", Kind::AttributeName),
        "unclassified (`age verified` is a look-alike: an age check, not a person's age)"
    );
    assert_eq!(
        shown("Lungenkrebs", Kind::Value),
        "health.condition (compound with `krebs`: cancer (de, compound))"
    );
    assert_eq!(
        shown("conditions", Kind::Value),
        "unclassified (word `conditions` [weak cue, not enough alone])"
    );
}
