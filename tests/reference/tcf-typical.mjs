// Encodes the typical TC string of benches/gate.rs and docs/performance.md
// with the IAB reference encoder (run where the package is installed, see
// tests/tcf_reference.rs): node tcf-typical.mjs
// ~100 vendors spread over the GVL (ids up to ~1,200), bitfield or ranges as the encoder picks.
import { TCModel, SegmentEncoder, Segment } from '@iabtechlabtcf/core';
let seed = 7;
const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const vendors = new Set([755]);
while (vendors.size < 100) vendors.add(1 + Math.floor(rand() * 1200));
const m = new TCModel();
m.cmpId = 10; m.cmpVersion = 1; m.consentScreen = 1; m.consentLanguage = 'FR'; m.publisherCountryCode = 'FR';
m.vendorListVersion = 150; m.policyVersion = 4; m.isServiceSpecific = true;
m.created = new Date(Date.UTC(2026, 9, 1)); m.lastUpdated = new Date(Date.UTC(2026, 9, 1));
m.specialFeatureOptins.set([1]);
m.purposeConsents.set([1,2,3,4,5,6,7,8,9,10,11]);
m.purposeLegitimateInterests.set([2,7,8,9,10,11]);
m.vendorConsents.set([...vendors]);
m.vendorLegitimateInterests.set([...vendors].slice(0, 60));
m.vendorsDisclosed.set([...vendors]);
console.log([Segment.CORE, Segment.VENDORS_DISCLOSED].map((s) => SegmentEncoder.encode(m, s)).join('.'));
