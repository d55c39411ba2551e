// Encodes the named TC strings of tests/gate_signals.rs with the IAB
// reference encoder (@iabtechlabtcf/core), so the gate's fixtures come from
// the official implementation rather than from scruple's own decoder.
//
// Usage (from a directory where the package is installed, see
// tests/tcf_reference.rs): node tcf-fixtures.mjs
// Prints `name<TAB>string` lines; the test holds a copy of the output.
import { TCModel, SegmentEncoder, PurposeRestriction, Segment } from '@iabtechlabtcf/core';

const VENDOR = 755;
const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
// A typical string: about 100 vendors, the campaign's among them.
const TYPICAL = range(1, 99).concat([VENDOR]);

function model({ consents = range(1, 11), li = [2, 7, 8, 9, 10, 11], features = [1], vendors = TYPICAL, vendorLi = TYPICAL, restrictions = [] } = {}) {
  const m = new TCModel();
  m.version = 2;
  m.cmpId = 10;
  m.cmpVersion = 1;
  m.consentScreen = 1;
  m.consentLanguage = 'FR';
  m.publisherCountryCode = 'FR';
  m.vendorListVersion = 150;
  m.policyVersion = 4;
  m.isServiceSpecific = true;
  m.created = new Date(Date.UTC(2026, 9, 1));
  m.lastUpdated = new Date(Date.UTC(2026, 9, 1));
  m.specialFeatureOptins.set(features);
  m.purposeConsents.set(consents);
  m.purposeLegitimateInterests.set(li);
  m.vendorConsents.set(vendors);
  m.vendorLegitimateInterests.set(vendorLi);
  m.publisherRestrictions.gvl = { vendorIds: new Set(TYPICAL) };
  for (const [purpose, type] of restrictions) {
    m.publisherRestrictions.add(VENDOR, new PurposeRestriction(purpose, type));
  }
  m.vendorsDisclosed.set(TYPICAL);
  return [Segment.CORE, Segment.VENDORS_DISCLOSED].map((s) => SegmentEncoder.encode(m, s)).join('.');
}

const cases = {
  // Everything a personalised-ads campaign of vendor 755 needs.
  full: model(),
  // Purposes 1-3 consented, not 4 (select personalised ads).
  no_purpose_4: model({ consents: [1, 2, 3] }),
  // Purposes 3 and 4 only under legitimate interest: not allowed since TCF 2.2.
  li_for_3_and_4: model({ consents: [1, 2], li: [2, 3, 4, 7] }),
  // Measurement (7) under legitimate interest only, which TCF allows.
  li_for_7: model({ consents: [1, 2, 3, 4], li: [7, 9] }),
  // All purposes, but vendor 755 has neither consent nor legitimate interest.
  vendor_missing: model({ vendors: range(1, 99), vendorLi: range(1, 99) }),
  // The publisher does not allow vendor 755 purpose 4 (RestrictionType 0).
  restricted_purpose_4: model({ restrictions: [[4, 0]] }),
  // No opt-in to special feature 1 (precise geolocation).
  no_geolocation: model({ features: [] }),
};
for (const [name, s] of Object.entries(cases)) console.log(`${name}\t${s}`);
