// Generates random TC strings with the IAB reference encoder
// (@iabtechlabtcf/core) and prints each with the reference decoder's fields
// as JSON Lines, for tests/tcf_reference.rs.
//
// Usage: node tcf.mjs COUNT SEED
//
// The segments are encoded with SegmentEncoder directly rather than
// TCString.encode: the latter runs the SemanticPreEncoder, which needs a
// real Global Vendor List and drops every vendor not in it, so most random
// choices would never reach the string.
import { TCModel, TCString, SegmentEncoder, PurposeRestriction, Segment } from '@iabtechlabtcf/core';

const count = Number(process.argv[2] ?? 10000);
let seed = Number(process.argv[3] ?? 13) >>> 0;

// mulberry32: small, seeded, reproducible across node versions.
function rand() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const chance = (p) => rand() < p;
const pick = (xs) => xs[int(0, xs.length - 1)];
const letter = () => String.fromCharCode(65 + int(0, 25));

// Each id in 1..n with probability p.
function subset(n, p) {
  const out = [];
  for (let i = 1; i <= n; i++) if (chance(p)) out.push(i);
  return out;
}

// Vendor ids shaped to exercise both encodings: dense sets (bitfield),
// a few long runs (ranges), or scattered singles (either).
function vendors() {
  const max = pick([0, 1, 10, 50, 300, 1200, 3000]);
  if (max === 0) return [];
  switch (int(0, 2)) {
    case 0:
      return subset(max, rand());
    case 1: {
      const out = new Set();
      for (let r = int(1, 6); r > 0; r--) {
        const start = int(1, max);
        const end = Math.min(max, start + int(0, 400));
        for (let i = start; i <= end; i++) out.add(i);
      }
      return [...out];
    }
    default:
      return subset(max, 0.01).concat([max]);
  }
}

function ids(vector) {
  const out = [];
  vector.forEach((has, id) => {
    if (has) out.push(id);
  });
  return out;
}

for (let n = 0; n < count; n++) {
  const m = new TCModel();
  m.version = 2;
  m.cmpId = int(2, 4095);
  m.cmpVersion = int(0, 4095);
  m.consentScreen = int(0, 63);
  m.consentLanguage = letter() + letter();
  m.publisherCountryCode = letter() + letter();
  m.vendorListVersion = int(1, 4095);
  m.policyVersion = pick([2, 3, 4, 5]);
  m.isServiceSpecific = chance(0.5);
  m.useNonStandardTexts = chance(0.5);
  m.purposeOneTreatment = chance(0.5);
  // Deciseconds are what the string holds: whole tenths of a second.
  m.created = new Date(int(9_000_000_000, 20_000_000_000) * 100);
  m.lastUpdated = new Date(int(9_000_000_000, 20_000_000_000) * 100);
  m.specialFeatureOptins.set(subset(12, rand()));
  m.purposeConsents.set(subset(24, rand()));
  m.purposeLegitimateInterests.set(subset(24, rand()));
  m.vendorConsents.set(vendors());
  m.vendorLegitimateInterests.set(vendors());

  // The restriction encoder merges ids into ranges across ids missing from
  // the GVL; a stub GVL with a random vendor list exercises that.
  const gvlIds = new Set(subset(500, 0.7));
  m.publisherRestrictions.gvl = { vendorIds: gvlIds };
  for (let r = chance(0.5) ? int(1, 5) : 0; r > 0; r--) {
    const pr = new PurposeRestriction(int(1, 24), int(0, 2));
    for (const id of subset(pick([5, 40, 500]), rand() * 0.5)) {
      m.publisherRestrictions.add(id, pr);
    }
  }

  const segments = [Segment.CORE];
  if (chance(0.6)) {
    m.vendorsDisclosed.set(vendors());
    segments.push(Segment.VENDORS_DISCLOSED);
  }
  if (chance(0.2)) {
    m.vendorsAllowed.set(vendors());
    segments.push(Segment.VENDORS_ALLOWED);
  }
  if (chance(0.6)) {
    m.publisherConsents.set(subset(24, rand()));
    m.publisherLegitimateInterests.set(subset(24, rand()));
    const custom = pick([0, 1, 5, 20, 63]);
    m.numCustomPurposes = custom;
    m.publisherCustomConsents.set(subset(custom, rand()));
    m.publisherCustomLegitimateInterests.set(subset(custom, rand()));
    segments.push(Segment.PUBLISHER_TC);
  }
  // Optional segments may come in any order.
  if (chance(0.3)) segments.splice(1, segments.length - 1, ...segments.slice(1).reverse());

  const s = segments.map((seg) => SegmentEncoder.encode(m, seg)).join('.');
  const d = TCString.decode(s);
  const has = (seg) => segments.includes(seg);
  const row = {
    s,
    version: d.version,
    created: d.created.getTime(),
    lastUpdated: d.lastUpdated.getTime(),
    cmpId: d.cmpId,
    cmpVersion: d.cmpVersion,
    consentScreen: d.consentScreen,
    consentLanguage: d.consentLanguage,
    vendorListVersion: d.vendorListVersion,
    policyVersion: d.policyVersion,
    isServiceSpecific: d.isServiceSpecific,
    useNonStandardTexts: d.useNonStandardTexts,
    specialFeatureOptins: ids(d.specialFeatureOptins),
    purposeConsents: ids(d.purposeConsents),
    purposeLegitimateInterests: ids(d.purposeLegitimateInterests),
    purposeOneTreatment: d.purposeOneTreatment,
    publisherCountryCode: d.publisherCountryCode,
    vendorConsents: ids(d.vendorConsents),
    vendorLegitimateInterests: ids(d.vendorLegitimateInterests),
    publisherRestrictions: d.publisherRestrictions.getRestrictions().map((pr) => ({
      purposeId: pr.purposeId,
      restrictionType: pr.restrictionType,
      vendors: d.publisherRestrictions.getVendors(pr),
    })),
    vendorsDisclosed: has(Segment.VENDORS_DISCLOSED) ? ids(d.vendorsDisclosed) : null,
    vendorsAllowed: has(Segment.VENDORS_ALLOWED) ? ids(d.vendorsAllowed) : null,
    publisherTC: has(Segment.PUBLISHER_TC)
      ? {
          publisherConsents: ids(d.publisherConsents),
          publisherLegitimateInterests: ids(d.publisherLegitimateInterests),
          numCustomPurposes: d.numCustomPurposes,
          publisherCustomConsents: ids(d.publisherCustomConsents),
          publisherCustomLegitimateInterests: ids(d.publisherCustomLegitimateInterests),
        }
      : null,
  };
  process.stdout.write(JSON.stringify(row) + '\n');
}
