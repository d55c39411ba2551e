//! The categories of data a campaign can select people on, and the laws and
//! platform rules that protect each one.
//!
//! Ids are dotted and hierarchical: `health.condition` is a kind of `health`,
//! and inherits the laws of its ancestors, so a policy that forbids `health`
//! forbids every `health.*` category too.
//!
//! A law is mapped to a category only when its text (or the platform's
//! published rule) covers that category itself: familial status is in the Fair
//! Housing Act but not in GDPR Art. 9(1); age is in the ADEA and ECOA but not
//! in GDPR Art. 9(1). Where the mapping needs an argument (gender identity,
//! familial status under Regulation B) the category's `note` says why.

use std::fmt;

/// A law, regulation or platform rule that restricts processing of, or
/// targeting on, some categories of data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Law {
    /// GDPR Art. 9(1): special categories of personal data.
    GdprArt9,
    /// GDPR Art. 10: criminal convictions and offences.
    GdprArt10,
    /// CPRA: "sensitive personal information", Cal. Civ. Code 1798.140(ae).
    CpraSensitive,
    /// DSA Art. 26(3): no ads on online platforms based on profiling with
    /// GDPR Art. 9(1) special categories.
    DsaArt26,
    /// DSA Art. 28(2): no profiling-based ads to minors on online platforms.
    DsaArt28,
    /// Fair Housing Act, 42 U.S.C. 3604.
    Fha,
    /// Equal Credit Opportunity Act and Regulation B.
    Ecoa,
    /// Title VII of the Civil Rights Act, 42 U.S.C. 2000e-2.
    TitleVii,
    /// Age Discrimination in Employment Act, 29 U.S.C. 623.
    Adea,
    /// Fair Credit Reporting Act, 15 U.S.C. 1681b: consumer reports only for
    /// a permissible purpose (firm offers of credit, not general marketing).
    Fcra,
    /// Children's Online Privacy Protection Act, 15 U.S.C. 6501-6506.
    Coppa,
    /// Meta's rules for housing, employment and credit ads ("special ad
    /// categories") and its 2021 removal of sensitive detailed-targeting
    /// topics.
    MetaSpecialAd,
    /// Google's personalized advertising policy: sensitive interest
    /// categories (personal hardships, identity and belief, sexual interests)
    /// and no personalized ads to users under 18.
    GooglePersonalizedAds,
}

impl Law {
    /// Every law, in a stable order.
    pub const ALL: [Law; 13] = [
        Law::GdprArt9,
        Law::GdprArt10,
        Law::CpraSensitive,
        Law::DsaArt26,
        Law::DsaArt28,
        Law::Fha,
        Law::Ecoa,
        Law::TitleVii,
        Law::Adea,
        Law::Fcra,
        Law::Coppa,
        Law::MetaSpecialAd,
        Law::GooglePersonalizedAds,
    ];

    /// The citation shown to users, e.g. `GDPR Art. 9(1)`.
    pub fn citation(self) -> &'static str {
        match self {
            Law::GdprArt9 => "GDPR Art. 9(1)",
            Law::GdprArt10 => "GDPR Art. 10",
            Law::CpraSensitive => "Cal. Civ. Code 1798.140(ae)",
            Law::DsaArt26 => "DSA Art. 26(3)",
            Law::DsaArt28 => "DSA Art. 28(2)",
            Law::Fha => "42 U.S.C. 3604 (Fair Housing Act)",
            Law::Ecoa => "15 U.S.C. 1691 (ECOA) / 12 CFR 1002 (Reg. B)",
            Law::TitleVii => "42 U.S.C. 2000e-2 (Title VII)",
            Law::Adea => "29 U.S.C. 623 (ADEA)",
            Law::Fcra => "15 U.S.C. 1681b (FCRA)",
            Law::Coppa => "15 U.S.C. 6502 (COPPA)",
            Law::MetaSpecialAd => "Meta special ad categories",
            Law::GooglePersonalizedAds => "Google personalized advertising policy",
        }
    }

    /// The name of this law's view, as a policy would say it
    /// (`forbid targeting on law gdpr_art9`, once the DSL is wired).
    pub fn view_name(self) -> &'static str {
        match self {
            Law::GdprArt9 => "gdpr_art9",
            Law::GdprArt10 => "gdpr_art10",
            Law::CpraSensitive => "cpra_sensitive",
            Law::DsaArt26 => "dsa_art26",
            Law::DsaArt28 => "dsa_art28",
            Law::Fha => "fha",
            Law::Ecoa => "ecoa",
            Law::TitleVii => "title_vii",
            Law::Adea => "adea",
            Law::Fcra => "fcra",
            Law::Coppa => "coppa",
            Law::MetaSpecialAd => "meta_special_ad",
            Law::GooglePersonalizedAds => "google_personalized_ads",
        }
    }

    /// The law whose view is called `name`.
    pub fn from_view_name(name: &str) -> Option<Law> {
        Law::ALL.into_iter().find(|l| l.view_name() == name)
    }
}

impl fmt::Display for Law {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.citation())
    }
}

/// One category of the taxonomy.
#[derive(Debug)]
pub struct Category {
    /// Dotted id, e.g. `health.condition`.
    pub id: &'static str,
    /// Short human title.
    pub title: &'static str,
    /// What belongs here.
    pub description: &'static str,
    /// Whether the data is itself special, protected or sensitive (the
    /// measurement's "sensitive" class). A non-sensitive category can still
    /// be restricted by a platform rule (postal codes under Meta's special
    /// ad categories), which `laws` says.
    pub sensitive: bool,
    /// The laws that name this category itself; see [`Category::laws`] for
    /// the inherited set.
    pub own_laws: &'static [Law],
    /// Why a mapping that needs an argument was made (empty when none).
    pub note: &'static str,
}

impl Category {
    /// The parent category's id (`health` for `health.condition`).
    pub fn parent_id(&self) -> Option<&'static str> {
        self.id.rsplit_once('.').map(|(p, _)| p)
    }

    /// The laws that protect this category: its own and its ancestors'.
    pub fn laws(&self) -> Vec<Law> {
        let mut out: Vec<Law> = self.own_laws.to_vec();
        let mut id = self.id;
        while let Some((parent, _)) = id.rsplit_once('.') {
            if let Some(c) = category(parent) {
                out.extend_from_slice(c.own_laws);
            }
            id = parent;
        }
        out.sort();
        out.dedup();
        out
    }

    /// Whether this category is `ancestor` or below it.
    pub fn is_within(&self, ancestor: &str) -> bool {
        self.id == ancestor
            || (self.id.len() > ancestor.len()
                && self.id.starts_with(ancestor)
                && self.id.as_bytes()[ancestor.len()] == b'.')
    }
}

/// A category id known to be in the taxonomy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CategoryId(&'static str);

impl CategoryId {
    /// The dotted id.
    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// The category itself.
    pub fn category(self) -> &'static Category {
        // Ids are only made from entries of CATEGORIES, so the lookup
        // succeeds; the fallback keeps this total without a panic.
        category(self.0).unwrap_or(&CATEGORIES[0])
    }

    /// Shorthand for `self.category().sensitive`.
    pub fn is_sensitive(self) -> bool {
        self.category().sensitive
    }

    /// Looks an id up, resolving aliases (`children` → `age.minor`).
    pub fn parse(id: &str) -> Option<CategoryId> {
        let id = ALIASES
            .iter()
            .find(|(alias, _)| *alias == id)
            .map_or(id, |(_, target)| target);
        category(id).map(|c| CategoryId(c.id))
    }
}

impl fmt::Display for CategoryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Other names users reach for, and the category they mean.
pub const ALIASES: &[(&str, &str)] = &[
    ("children", "age.minor"),
    ("minor", "age.minor"),
    ("race", "ethnicity"),
    ("sexual_life", "sex_life"),
    ("political_opinions", "political_opinion"),
    ("trade_union_membership", "trade_union"),
    ("criminal_offence", "criminal"),
    ("citizenship", "immigration_status"),
    ("health_data", "health"),
    ("handicap", "disability"),
];

/// The category with exactly this id (no aliases).
pub fn category(id: &str) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.id == id)
}

/// All ids of categories within `ancestor` (itself included).
pub fn descendants(ancestor: &str) -> Vec<CategoryId> {
    CATEGORIES
        .iter()
        .filter(|c| c.is_within(ancestor))
        .map(|c| CategoryId(c.id))
        .collect()
}

/// The view of one law: every category it protects, with their
/// descendants. `None` when no law has that view name.
pub fn law_view(name: &str) -> Option<Vec<CategoryId>> {
    let law = Law::from_view_name(name)?;
    Some(
        CATEGORIES
            .iter()
            .filter(|c| c.laws().contains(&law))
            .map(|c| CategoryId(c.id))
            .collect(),
    )
}

use Law::*;

const ART9: &[Law] = &[GdprArt9, DsaArt26, CpraSensitive, GooglePersonalizedAds];

/// The taxonomy. Parents come before their children.
pub static CATEGORIES: &[Category] = &[
    // ------------------------------------------------------------ health
    Category {
        id: "health",
        title: "Health",
        description: "Data concerning physical or mental health, including care received, medication and health services used.",
        sensitive: true,
        own_laws: ART9,
        note: "Meta removed health-cause detailed-targeting topics in 2021; kept out of its list here because that removal is not a special-ad-category rule.",
    },
    Category {
        id: "health.condition",
        title: "Health conditions",
        description: "Diseases, diagnoses, symptoms and chronic conditions (asthma, COPD, diabetes, cancer).",
        sensitive: true,
        own_laws: &[],
        note: "",
    },
    Category {
        id: "health.treatment",
        title: "Treatment and medication",
        description: "Prescriptions, medicines, therapies, medical devices and the pharmacies, clinics and specialists that deliver them.",
        sensitive: true,
        own_laws: &[],
        note: "A pharmacy purchase used to select people is health data (insulin pens reveal diabetes).",
    },
    Category {
        id: "health.mental",
        title: "Mental health",
        description: "Psychological conditions, counselling and psychiatric care.",
        sensitive: true,
        own_laws: &[],
        note: "",
    },
    Category {
        id: "health.reproductive",
        title: "Reproductive and sexual health",
        description: "Pregnancy, fertility, contraception, abortion, menopause, sexually transmitted infections.",
        sensitive: true,
        own_laws: &[TitleVii],
        note: "Title VII covers pregnancy as sex discrimination (Pregnancy Discrimination Act, 42 U.S.C. 2000e(k)).",
    },
    Category {
        id: "health.substance_use",
        title: "Substance use",
        description: "Addiction, recovery, rehabilitation and substance-use treatment.",
        sensitive: true,
        own_laws: &[],
        note: "",
    },
    Category {
        id: "disability",
        title: "Disability",
        description: "Physical, sensory or cognitive impairment and the aids, sports and languages that reveal it (wheelchairs, sign language).",
        sensitive: true,
        own_laws: &[GdprArt9, DsaArt26, CpraSensitive, Fha, MetaSpecialAd, GooglePersonalizedAds],
        note: "Disability is health data under GDPR Art. 9(1); the FHA says \"handicap\"; Title VII does not cover it (the ADA does).",
    },
    Category {
        id: "genetic",
        title: "Genetic data",
        description: "DNA, genotype, ancestry test results and inherited characteristics.",
        sensitive: true,
        own_laws: &[GdprArt9, DsaArt26, CpraSensitive],
        note: "",
    },
    Category {
        id: "biometric",
        title: "Biometric data",
        description: "Fingerprints, face geometry, iris, voiceprints and other data used to identify a person uniquely.",
        sensitive: true,
        own_laws: &[GdprArt9, DsaArt26, CpraSensitive],
        note: "",
    },
    // ------------------------------------------------------------ identity and belief
    Category {
        id: "sex_life",
        title: "Sex life",
        description: "Sexual activity, preferences and interests.",
        sensitive: true,
        own_laws: &[GdprArt9, DsaArt26, CpraSensitive, GooglePersonalizedAds],
        note: "",
    },
    Category {
        id: "sexual_orientation",
        title: "Sexual orientation",
        description: "Being gay, lesbian, bisexual, heterosexual; LGBTQ community and culture as a targeting interest.",
        sensitive: true,
        own_laws: &[GdprArt9, DsaArt26, CpraSensitive, TitleVii, MetaSpecialAd, GooglePersonalizedAds],
        note: "Title VII: Bostock v. Clayton County, 590 U.S. 644 (2020).",
    },
    Category {
        id: "gender_identity",
        title: "Gender identity",
        description: "Transgender, non-binary and gender-identity status.",
        sensitive: true,
        own_laws: &[TitleVii, MetaSpecialAd, GooglePersonalizedAds],
        note: "Not named in GDPR Art. 9(1); often health or sex-life data in practice, which a data dictionary can declare. Title VII: Bostock (2020).",
    },
    Category {
        id: "ethnicity",
        title: "Racial or ethnic origin",
        description: "Race, colour, ethnic origin, and interests that stand in for them.",
        sensitive: true,
        own_laws: &[GdprArt9, DsaArt26, CpraSensitive, Fha, Ecoa, TitleVii, MetaSpecialAd, GooglePersonalizedAds],
        note: "",
    },
    Category {
        id: "national_origin",
        title: "National origin",
        description: "Country of birth or ancestry, and language-community interests that stand in for it (Arabic-language news).",
        sensitive: true,
        own_laws: &[Fha, Ecoa, TitleVii, MetaSpecialAd],
        note: "Not itself GDPR Art. 9(1) (nationality is not ethnic origin), but often a proxy for it; declare the proxy in the data dictionary when used so.",
    },
    Category {
        id: "immigration_status",
        title: "Citizenship and immigration status",
        description: "Citizenship, residence permits, visas, refugee or asylum status.",
        sensitive: true,
        own_laws: &[CpraSensitive],
        note: "CPRA (ae)(1)(D) since AB 947 (2023). ECOA does not protect it; Title VII only through national origin.",
    },
    Category {
        id: "religion",
        title: "Religious or philosophical beliefs",
        description: "Faith, denomination, religious practice and holidays observed, atheism and philosophical beliefs.",
        sensitive: true,
        own_laws: &[GdprArt9, DsaArt26, CpraSensitive, Fha, Ecoa, TitleVii, MetaSpecialAd, GooglePersonalizedAds],
        note: "",
    },
    Category {
        id: "political_opinion",
        title: "Political opinions",
        description: "Party affiliation, ideology, political causes and figures followed.",
        sensitive: true,
        own_laws: &[GdprArt9, DsaArt26, GooglePersonalizedAds],
        note: "Not in the CPRA list.",
    },
    Category {
        id: "trade_union",
        title: "Trade union membership",
        description: "Membership of or interest in a trade union.",
        sensitive: true,
        own_laws: &[GdprArt9, DsaArt26, CpraSensitive, GooglePersonalizedAds],
        note: "",
    },
    Category {
        id: "criminal",
        title: "Criminal convictions and offences",
        description: "Arrests, convictions, offences, probation and incarceration.",
        sensitive: true,
        own_laws: &[GdprArt10],
        note: "",
    },
    // ------------------------------------------------------------ protected classes
    Category {
        id: "familial_status",
        title: "Familial status",
        description: "Whether a household has children under 18, is expecting, or is a single parent.",
        sensitive: true,
        own_laws: &[Fha, Ecoa, MetaSpecialAd],
        note: "FHA 42 U.S.C. 3602(k). Regulation B forbids assumptions about childbearing and child-rearing (12 CFR 1002.6(b)(3)). Not GDPR Art. 9.",
    },
    Category {
        id: "marital_status",
        title: "Marital status",
        description: "Married, single, divorced, widowed, in a civil union.",
        sensitive: true,
        own_laws: &[Ecoa, MetaSpecialAd],
        note: "ECOA 15 U.S.C. 1691(a)(1). Not GDPR Art. 9, not the FHA.",
    },
    Category {
        id: "age",
        title: "Age",
        description: "Age, date or year of birth, age ranges and generations.",
        sensitive: true,
        own_laws: &[Ecoa, Adea, MetaSpecialAd],
        note: "Not GDPR Art. 9. ADEA protects workers 40 and over; ECOA protects any applicant with capacity to contract.",
    },
    Category {
        id: "age.minor",
        title: "Children and minors",
        description: "Data about or identifying people under 18 (under 13 for COPPA).",
        sensitive: true,
        own_laws: &[DsaArt28, Coppa, GooglePersonalizedAds],
        note: "",
    },
    Category {
        id: "gender",
        title: "Sex and gender",
        description: "Sex, gender, honorifics that state it.",
        sensitive: true,
        own_laws: &[Fha, Ecoa, TitleVii, MetaSpecialAd],
        note: "Not GDPR Art. 9.",
    },
    // ------------------------------------------------------------ financial
    Category {
        id: "financial",
        title: "Financial situation",
        description: "A person's finances. Only the children below are sensitive.",
        sensitive: false,
        own_laws: &[],
        note: "",
    },
    Category {
        id: "financial.hardship",
        title: "Financial hardship",
        description: "Debt, arrears, bankruptcy, payday loans, eviction, foreclosure, financial distress.",
        sensitive: true,
        own_laws: &[GooglePersonalizedAds],
        note: "Google: \"negative financial status\". Meta has flagged audience names that suggest financial status.",
    },
    Category {
        id: "financial.credit",
        title: "Creditworthiness",
        description: "Credit scores, credit reports, credit limits and ratings.",
        sensitive: true,
        own_laws: &[Fcra],
        note: "Consumer-report data may be used only for a permissible purpose (15 U.S.C. 1681b).",
    },
    Category {
        id: "financial.account",
        title: "Financial account",
        description: "Bank account, card and financial account numbers and credentials.",
        sensitive: true,
        own_laws: &[CpraSensitive],
        note: "CPRA (ae)(1)(B).",
    },
    Category {
        id: "financial.public_assistance",
        title: "Public assistance",
        description: "Receipt of welfare, food stamps, housing vouchers and other public-assistance income.",
        sensitive: true,
        own_laws: &[Ecoa],
        note: "ECOA 15 U.S.C. 1691(a)(2).",
    },
    Category {
        id: "financial.income",
        title: "Income and wealth",
        description: "Income bands, net worth, affluence.",
        sensitive: false,
        own_laws: &[],
        note: "",
    },
    // ------------------------------------------------------------ identifiers and location
    Category {
        id: "precise_geolocation",
        title: "Precise geolocation",
        description: "GPS coordinates, location history, anything locating a person within about 1,850 feet.",
        sensitive: true,
        own_laws: &[CpraSensitive],
        note: "CPRA (ae)(1)(C) and 1798.140(w).",
    },
    Category {
        id: "government_id",
        title: "Government identifiers",
        description: "Social security, passport, driver's licence, national id and tax numbers.",
        sensitive: true,
        own_laws: &[CpraSensitive],
        note: "CPRA (ae)(1)(A).",
    },
    Category {
        id: "communications",
        title: "Contents of communications",
        description: "Contents of mail, email and text messages not addressed to the business.",
        sensitive: true,
        own_laws: &[CpraSensitive],
        note: "CPRA (ae)(1)(E).",
    },
    // ------------------------------------------------------------ non-sensitive
    Category {
        id: "location",
        title: "Location",
        description: "Where a person lives or is, at the level of a country, region or city.",
        sensitive: false,
        own_laws: &[],
        note: "",
    },
    Category {
        id: "location.coarse",
        title: "Coarse location",
        description: "Country, region, state, city, metro area, time zone.",
        sensitive: false,
        own_laws: &[],
        note: "",
    },
    Category {
        id: "location.postal",
        title: "Postal address and code",
        description: "Street address, ZIP and postal codes, census tracts.",
        sensitive: false,
        own_laws: &[MetaSpecialAd],
        note: "Not sensitive in itself, but a known proxy for ethnicity (redlining); Meta's special ad categories forbid ZIP-code targeting.",
    },
    Category {
        id: "contact",
        title: "Contact details",
        description: "Name, email, phone, social handles.",
        sensitive: false,
        own_laws: &[],
        note: "",
    },
    Category {
        id: "account",
        title: "Account and identifiers",
        description: "Customer and account ids, sign-up and login dates, account age, tenure, verification flags.",
        sensitive: false,
        own_laws: &[],
        note: "",
    },
    Category {
        id: "device",
        title: "Device and technical",
        description: "Device, browser, operating system, app version, cookies and advertising ids.",
        sensitive: false,
        own_laws: &[],
        note: "",
    },
    Category {
        id: "purchase",
        title: "Purchases",
        description: "Orders, products and categories bought, spend, cart and checkout behaviour.",
        sensitive: false,
        own_laws: &[],
        note: "A purchase that reveals a sensitive category (insulin, a pregnancy test) is classified as that category.",
    },
    Category {
        id: "engagement",
        title: "Engagement",
        description: "Opens, clicks, visits, sessions, loyalty tier, recency and frequency.",
        sensitive: false,
        own_laws: &[],
        note: "",
    },
    Category {
        id: "declared_interest",
        title: "Declared and inferred interests",
        description: "Hobbies, sports, media, travel and lifestyle interests that reveal no sensitive category.",
        sensitive: false,
        own_laws: &[],
        note: "",
    },
    Category {
        id: "consent",
        title: "Consent and preferences",
        description: "Marketing opt-ins, channel and frequency preferences, privacy choices.",
        sensitive: false,
        own_laws: &[],
        note: "",
    },
    Category {
        id: "professional",
        title: "Education and occupation",
        description: "Job title, employer, industry, seniority, education level.",
        sensitive: false,
        own_laws: &[],
        note: "",
    },
    Category {
        id: "household",
        title: "Household and home",
        description: "Home ownership, dwelling type, household size, length of residence.",
        sensitive: false,
        own_laws: &[],
        note: "The presence or number of children is familial_status, not household.",
    },
    Category {
        id: "language",
        title: "Language preference",
        description: "Preferred language and locale for communications.",
        sensitive: false,
        own_laws: &[],
        note: "A proxy for national origin when used to select people; declare it so in the data dictionary where it is.",
    },
];
