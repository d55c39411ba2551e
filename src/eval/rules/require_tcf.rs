//! `require tcf consent for each purpose [or legitimate interest for [..]] [if signalled]`:
//! what a recipient's IAB TCF v2 TC string must say before a campaign
//! reaches them.
//!
//! **Checks**: on the campaign (`check`, `scruple test`), that every
//! declared purpose whose TCF purposes the rule allows only on consent
//! (mapped TCF purposes not all listed under legitimate interest) is among
//! the purposes the campaign records consent for (`consent.purposes`): the
//! gate will demand consent in each TC string, so the campaign must be
//! running on consent for it. Per recipient (`scruple gate`): for each
//! campaign purpose whose policy declaration maps it to TCF purposes
//! (`purpose x "…" tcf [3, 4] special_features [1]`), every mapped TCF
//! purpose has its `PurposesConsent` bit, or its `PurposesLITransparency`
//! bit where the rule lists the purpose under legitimate interest; every
//! mapped special feature has its `SpecialFeatureOptIns` bit; and, when the
//! campaign names its `tcf_vendor_id`, that vendor has consent (or
//! legitimate interest on the same terms) and no publisher restriction
//! forbids the purpose or the legal basis used. Without `if signalled`, a
//! record without a TC string fails.
//!
//! **Why**: under the TCF a vendor may process personal data for a purpose
//! only on the legal basis the user's TC string establishes, after
//! publisher restrictions (IAB TCF v2.2 Policies; "Consent string and
//! vendor list formats v2", Publisher Restrictions). TCF v2.2 allows only
//! consent for purposes 1 and 3 to 6, so listing them under legitimate
//! interest is a compile error. A stored consent does not override a TC
//! string that lacks the purpose: the most recent choice of the user wins
//! (GDPR Art. 7(3)), and the gate counts the conflict.
//!
//! **Fires**: on the campaign, `purposes: [targeted_advertising]` (TCF 1,
//! 3, 4) without `consent.purposes: [targeted_advertising]`; in the gate, a
//! TC string whose `PurposesConsent` lacks purpose 4.
//!
//! **Passes**: consent recorded for the purpose; in the gate, purposes 1, 3
//! and 4 consented and the campaign's vendor in the Vendor Consent Section.

use crate::eval::{Ctx, Violation};

/// A violation per declared purpose the TCF needs consent for and the
/// campaign records no consent for. `legitimate_interest`: TCF purposes
/// (bit `n` for purpose `n`) the rule accepts on legitimate interest.
pub fn check(legitimate_interest: u32, cx: &Ctx<'_>) -> Vec<Violation> {
    let model = &cx.campaign.model;
    let consented: Vec<&str> = model
        .consented_purposes()
        .map(|p| p.value.as_str())
        .collect();
    let mut out = Vec::new();
    for purpose in model.purposes() {
        let Some(map) = cx
            .policy
            .purposes
            .get(&purpose.value)
            .and_then(|d| d.decl.tcf.as_ref())
        else {
            continue;
        };
        let consent_only: Vec<String> = map
            .purposes
            .iter()
            .filter(|id| legitimate_interest & (1 << id.value.min(31)) == 0)
            .map(|id| id.value.to_string())
            .collect();
        if consent_only.is_empty() && map.special_features.is_empty()
            || consented.contains(&purpose.value.as_str())
        {
            continue;
        }
        let needs = match (consent_only.is_empty(), map.special_features.is_empty()) {
            (false, _) => format!("TCF purposes {}", consent_only.join(", ")),
            (true, _) => "a TCF special feature opt-in".to_string(),
        };
        out.push(
            Violation::new(
                purpose.span,
                "no consent recorded for this purpose",
                format!(
                    "`{}` needs consent in each TC string ({needs}), but the campaign records no consent for it",
                    purpose.value
                ),
            )
            .var("purpose", purpose.value.clone())
            .var("value", purpose.value.clone()),
        );
    }
    out
}
