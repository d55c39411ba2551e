//! The facts behind lawful bases other than consent: where the audience's
//! contact details came from (for the soft opt-in of ePrivacy Art. 13(2) and
//! PECR reg. 22(3)) and the legitimate-interest assessment (GDPR
//! Art. 6(1)(f)). Kept apart from the rest of the builder because they are
//! read only by the lawful-basis rules.

use super::{Cx, Obj};
use crate::campaign::model::{ContactSource, LegitimateInterestAssessment};

/// `audience.contact_source`.
pub(super) fn contact_source(cx: &mut Cx<'_>, o: Obj<'_>) -> Option<ContactSource> {
    Some(ContactSource {
        obtained: cx.keyword(&o, "obtained"),
        controller: cx.keyword(&o, "controller"),
        brand: cx.text(&o, "brand"),
        similar_products: cx.flag(&o, "similar_products"),
        opt_out_at_collection: cx.flag(&o, "opt_out_at_collection"),
        oldest_relationship_days: cx.field(&o, "oldest_relationship_days", Cx::int),
    })
}

/// `legitimate_interest_assessment`; `None` when `reference` is missing
/// (reported as a missing key by the shape check).
pub(super) fn legitimate_interest_assessment(
    cx: &mut Cx<'_>,
    o: Obj<'_>,
) -> Option<LegitimateInterestAssessment> {
    let date = cx.field(&o, "date", Cx::when);
    Some(LegitimateInterestAssessment {
        reference: cx.text(&o, "reference")?,
        date,
    })
}
