//! Deterministic recipients: the same seed gives the same 100,000 cases in
//! every process, so engines run in separate processes still decide the very
//! same inputs.
//!
//! Each case is drawn with a known outcome: half are allowed; the denied half
//! is spread over the three reasons (sensitive targeting, missing or
//! withdrawn consent, frequency cap), 30 % each alone and 10 % with two or
//! three reasons at once. The expected decision is kept with the case and
//! every engine is checked against it as well as against each other.

/// The send time of the campaign (2026-12-01T10:00:00Z).
pub const AT: i64 = 1_796_119_200;

/// The campaign's purposes (also in `policies/campaign.yaml` and given to
/// Rego as `data.campaign.purposes`, to Cedar as the campaign entity's
/// `purposes`).
pub const CAMPAIGN_PURPOSES: [&str; 2] = ["email_marketing", "profiling"];

/// The sensitive attribute names (the same list is in each policy file).
pub const SENSITIVE: [&str; 12] = [
    "health",
    "religion",
    "ethnicity",
    "racial_or_ethnic_origin",
    "sexual_orientation",
    "sex_life",
    "political_opinions",
    "philosophical_beliefs",
    "trade_union_membership",
    "genetic_data",
    "biometric_data",
    "criminal_record",
];

/// Ordinary targeting attributes (some are proxies in other policies, such as
/// `zip_code`, but not sensitive here).
const BENIGN: [&str; 10] = [
    "purchase_count",
    "interested_in_running",
    "loyalty_tier",
    "last_order_days",
    "city",
    "newsletter_clicks",
    "zip_code",
    "preferred_language",
    "basket_value",
    "app_user",
];

/// Purposes a recipient may have consented to besides the campaign's.
const OTHER_PURPOSES: [&str; 2] = ["sms_marketing", "analytics"];

/// A targeting attribute value (only the names matter to the checks).
#[derive(Clone, Debug)]
pub enum AttrValue {
    Int(i64),
    Bool(bool),
    Text(&'static str),
}

/// One consent record.
#[derive(Clone, Debug)]
pub struct Consent {
    pub purpose: &'static str,
    /// Grant time, seconds since the epoch (always before [`AT`]).
    pub granted_at: i64,
    /// Withdrawal time, if withdrawn (always before [`AT`]).
    pub withdrawn_at: Option<i64>,
}

/// Why a case is meant to be denied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expect {
    pub sensitive: bool,
    pub consent: bool,
    pub cap: bool,
}

impl Expect {
    pub fn allowed(self) -> bool {
        !(self.sensitive || self.consent || self.cap)
    }

    pub fn describe(self) -> String {
        if self.allowed() {
            return "allow".into();
        }
        let mut why = Vec::new();
        if self.sensitive {
            why.push("sensitive");
        }
        if self.consent {
            why.push("consent");
        }
        if self.cap {
            why.push("cap");
        }
        format!("deny ({})", why.join("+"))
    }
}

/// One recipient and the context of its decision.
#[derive(Clone, Debug)]
pub struct Case {
    /// Recipient number; the id is `r{number}`.
    pub number: usize,
    pub attributes: Vec<(&'static str, AttrValue)>,
    pub consents: Vec<Consent>,
    /// Email sends to this recipient in the 7 days before [`AT`].
    pub email_sends_7d: u32,
    pub expect: Expect,
}

impl Case {
    pub fn id(&self) -> String {
        format!("r{}", self.number)
    }

    /// The record as one JSON line in scruple's recipient format
    /// (docs/recipients.md): consents with RFC 3339 times, targeting
    /// attributes under `attributes`.
    pub fn scruple_json_line(&self) -> String {
        let mut consents = serde_json::Map::new();
        for c in &self.consents {
            let mut record = serde_json::Map::new();
            record.insert("granted_at".into(), rfc3339(c.granted_at).into());
            if let Some(w) = c.withdrawn_at {
                record.insert("withdrawn_at".into(), rfc3339(w).into());
            }
            record.insert("source".into(), "double_opt_in".into());
            consents.insert(c.purpose.into(), record.into());
        }
        let line = serde_json::json!({
            "id": self.id(),
            "consents": consents,
            "attributes": self.attributes_json(),
        });
        line.to_string()
    }

    /// `{name: value}` of the targeting attributes.
    pub fn attributes_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for (name, value) in &self.attributes {
            let v = match value {
                AttrValue::Int(n) => serde_json::Value::from(*n),
                AttrValue::Bool(b) => serde_json::Value::from(*b),
                AttrValue::Text(t) => serde_json::Value::from(*t),
            };
            map.insert((*name).into(), v);
        }
        map.into()
    }

    /// Consent is valid for `purpose` at [`AT`]: granted before, not withdrawn.
    #[cfg(test)]
    pub fn consent_valid(&self, purpose: &str) -> bool {
        self.consents.iter().any(|c| {
            c.purpose == purpose && c.granted_at <= AT && c.withdrawn_at.is_none_or(|w| w > AT)
        })
    }
}

/// `2026-05-01T09:00:00Z` from seconds since the epoch.
pub fn rfc3339(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.to_string())
        .unwrap_or_else(|e| panic!("time {seconds}: {e}"))
}

/// SplitMix64: small, fast, and the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// True with probability `percent` / 100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

const DAY: i64 = 86_400;

/// `n` cases from `seed`.
pub fn generate(n: usize, seed: u64) -> Vec<Case> {
    let mut rng = Rng::new(seed);
    (0..n).map(|number| case(&mut rng, number)).collect()
}

fn case(rng: &mut Rng, number: usize) -> Case {
    // Outcome first: 50 % allow; of the denials, 30 % per single reason and
    // 10 % with several (two reasons, or all three).
    let expect = if rng.percent(50) {
        Expect::default()
    } else {
        match rng.below(100) {
            0..=29 => Expect {
                sensitive: true,
                ..Expect::default()
            },
            30..=59 => Expect {
                consent: true,
                ..Expect::default()
            },
            60..=89 => Expect {
                cap: true,
                ..Expect::default()
            },
            _ => match rng.below(4) {
                0 => Expect {
                    sensitive: true,
                    consent: true,
                    cap: false,
                },
                1 => Expect {
                    sensitive: true,
                    consent: false,
                    cap: true,
                },
                2 => Expect {
                    sensitive: false,
                    consent: true,
                    cap: true,
                },
                _ => Expect {
                    sensitive: true,
                    consent: true,
                    cap: true,
                },
            },
        }
    };

    // Targeting attributes: 1 to 4 ordinary ones (distinct), plus 1 or 2
    // sensitive ones at random places when the case is meant to hit that.
    let mut attributes: Vec<(&'static str, AttrValue)> = Vec::new();
    let benign = 1 + rng.below(4) as usize;
    while attributes.len() < benign {
        let name = rng.pick(&BENIGN);
        if attributes.iter().all(|(n, _)| *n != name) {
            attributes.push((name, benign_value(rng, name)));
        }
    }
    if expect.sensitive {
        let count = 1 + rng.below(2) as usize;
        let mut added = 0;
        while added < count {
            let name = rng.pick(&SENSITIVE);
            if attributes.iter().all(|(n, _)| *n != name) {
                let at = rng.below(attributes.len() as u64 + 1) as usize;
                let value = if rng.percent(50) {
                    AttrValue::Bool(true)
                } else {
                    AttrValue::Text("inferred")
                };
                attributes.insert(at, (name, value));
                added += 1;
            }
        }
    }

    // Consents: both campaign purposes validly granted, unless the case is
    // meant to fail consent: then one or both are missing or withdrawn.
    let mut consents = Vec::new();
    let failing: [bool; 2] = if expect.consent {
        match rng.below(3) {
            0 => [true, false],
            1 => [false, true],
            _ => [true, true],
        }
    } else {
        [false, false]
    };
    for (purpose, fails) in CAMPAIGN_PURPOSES.iter().zip(failing) {
        let granted_at = AT - (1 + rng.below(600) as i64) * DAY - rng.below(DAY as u64) as i64;
        if !fails {
            consents.push(Consent {
                purpose,
                granted_at,
                withdrawn_at: None,
            });
        } else if rng.percent(50) {
            // Withdrawn between the grant and the send.
            let span = (AT - granted_at).max(2);
            let withdrawn = granted_at + 1 + rng.below(span as u64 - 1) as i64;
            consents.push(Consent {
                purpose,
                granted_at,
                withdrawn_at: Some(withdrawn),
            });
        }
        // else: no record at all for this purpose.
    }
    // Other purposes, sometimes withdrawn: they must not matter.
    for purpose in OTHER_PURPOSES {
        if rng.percent(30) {
            let granted_at = AT - (1 + rng.below(900) as i64) * DAY;
            let withdrawn_at = rng.percent(30).then_some(AT - DAY);
            consents.push(Consent {
                purpose,
                granted_at,
                withdrawn_at,
            });
        }
    }
    // Shuffle the order of the consent records (Fisher-Yates).
    for i in (1..consents.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        consents.swap(i, j);
    }

    let email_sends_7d = if expect.cap {
        3 + rng.below(4) as u32
    } else {
        rng.below(3) as u32
    };

    Case {
        number,
        attributes,
        consents,
        email_sends_7d,
        expect,
    }
}

fn benign_value(rng: &mut Rng, name: &str) -> AttrValue {
    match name {
        "interested_in_running" | "app_user" => AttrValue::Bool(rng.percent(50)),
        "city" => AttrValue::Text(rng.pick(&["Paris", "Lyon", "Lille", "Nantes"])),
        "loyalty_tier" => AttrValue::Text(rng.pick(&["bronze", "silver", "gold"])),
        "zip_code" => AttrValue::Text(rng.pick(&["75001", "69002", "59000"])),
        "preferred_language" => AttrValue::Text(rng.pick(&["fr", "en", "de"])),
        _ => AttrValue::Int(rng.below(500) as i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_and_ground_truth() {
        let cases = generate(100_000, 42);
        let allowed = cases.iter().filter(|c| c.expect.allowed()).count();
        assert!((45_000..55_000).contains(&allowed), "{allowed}");
        for c in &cases {
            let sensitive = c.attributes.iter().any(|(n, _)| SENSITIVE.contains(n));
            let consent = !CAMPAIGN_PURPOSES.iter().all(|p| c.consent_valid(p));
            let cap = c.email_sends_7d >= 3;
            assert_eq!(
                (sensitive, consent, cap),
                (c.expect.sensitive, c.expect.consent, c.expect.cap),
                "{c:?}"
            );
        }
    }
}
