// Generates random GPP strings with the IAB reference encoder
// (@iabgpp/cmpapi) and prints each with the reference decoder's fields as
// JSON Lines, for tests/gpp_reference.rs.
//
// Usage: node gpp.mjs COUNT SEED [VECTORS_FILE]
//
// Each string gets a random set of sections: tcfeuv2 (2), usnat (7, spec
// version 1 or 2), usca (8), usva (9), usco (10), usut (11), usct (12),
// and sometimes uspv1 (6) or usfl (13), which scruple keeps undecoded.
// The string is then decoded by a fresh GppModel, so what is printed is
// the reference *decoder's* reading, not the values the generator chose.
// With VECTORS_FILE, the strings in that file (one per line, `#` starts a
// comment) are decoded and printed first.
import { readFileSync } from 'node:fs';
import {
  GppModel,
  HeaderV1,
  RangeEntry,
  USNAT_CORE_SEGMENT_FIELD_NAMES,
  USCA_CORE_SEGMENT_FIELD_NAMES,
  USVA_CORE_SEGMENT_FIELD_NAMES,
  USCO_CORE_SEGMENT_FIELD_NAMES,
  USUT_CORE_SEGMENT_FIELD_NAMES,
  USCT_CORE_SEGMENT_FIELD_NAMES,
  TCFEUV2_CORE_SEGMENT_FIELD_NAMES,
  TCFEUV2_PUBLISHER_PURPOSES_SEGMENT_FIELD_NAMES,
} from '@iabgpp/cmpapi';

const count = Number(process.argv[2] ?? 10000);
let seed = Number(process.argv[3] ?? 13) >>> 0;
const vectorsFile = process.argv[4];

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
const bools = (n) => Array.from({ length: n }, () => chance(0.5));
const twos = (n) => Array.from({ length: n }, () => int(0, 2));

// Vendor ids: dense (bitfield), runs (ranges) or scattered.
function vendors() {
  const max = pick([0, 1, 10, 50, 300, 1200]);
  if (max === 0) return [];
  const out = new Set();
  switch (int(0, 2)) {
    case 0:
      for (let i = 1; i <= max; i++) if (chance(0.5)) out.add(i);
      break;
    case 1:
      for (let r = int(1, 4); r > 0; r--) {
        const start = int(1, max);
        for (let i = start; i <= Math.min(max, start + int(0, 200)); i++) out.add(i);
      }
      break;
    default:
      for (let i = 1; i <= max; i++) if (chance(0.02)) out.add(i);
      out.add(max);
  }
  return [...out].sort((a, b) => a - b);
}

// The two-bit fields of a US core segment: 0..2, except
// MspaCoveredTransaction (1 or 2), lists by their length.
function usFields(model, name, fieldNames, listLengths) {
  for (const field of fieldNames) {
    if (field === 'Version') continue;
    if (field in listLengths) {
      model.setFieldValue(name, field, twos(listLengths[field]));
    } else if (field === 'MspaCoveredTransaction') {
      model.setFieldValue(name, field, int(1, 2));
    } else {
      model.setFieldValue(name, field, int(0, 2));
    }
  }
}

function withGpc(model, name) {
  const included = chance(0.6);
  model.setFieldValue(name, 'GpcSegmentIncluded', included);
  if (included) model.setFieldValue(name, 'Gpc', chance(0.5));
}

function tcf(model) {
  const n = 'tcfeuv2';
  model.setFieldValue(n, 'CmpId', int(0, 4095));
  model.setFieldValue(n, 'CmpVersion', int(0, 4095));
  model.setFieldValue(n, 'ConsentScreen', int(0, 63));
  model.setFieldValue(n, 'ConsentLanguage', letter() + letter());
  model.setFieldValue(n, 'VendorListVersion', int(0, 4095));
  model.setFieldValue(n, 'PolicyVersion', pick([2, 4, 5]));
  model.setFieldValue(n, 'UseNonStandardStacks', chance(0.5));
  model.setFieldValue(n, 'SpecialFeatureOptins', bools(12));
  model.setFieldValue(n, 'PurposeConsents', bools(24));
  model.setFieldValue(n, 'PurposeLegitimateInterests', bools(24));
  model.setFieldValue(n, 'PurposeOneTreatment', chance(0.5));
  model.setFieldValue(n, 'PublisherCountryCode', letter() + letter());
  model.setFieldValue(n, 'VendorConsents', vendors());
  model.setFieldValue(n, 'VendorLegitimateInterests', vendors());
  const restrictions = [];
  for (let r = pick([0, 0, 1, 3]); r > 0; r--) {
    const ids = vendors();
    if (ids.length > 0) restrictions.push(new RangeEntry(int(1, 24), int(0, 2), ids));
  }
  model.setFieldValue(n, 'PublisherRestrictions', restrictions);
  model.setFieldValue(n, 'VendorsDisclosed', vendors());
  model.setFieldValue(n, 'PublisherConsents', bools(24));
  model.setFieldValue(n, 'PublisherLegitimateInterests', bools(24));
  const custom = int(0, 10);
  model.setFieldValue(n, 'NumCustomPurposes', custom);
  model.setFieldValue(n, 'PublisherCustomConsents', bools(custom));
  model.setFieldValue(n, 'PublisherCustomLegitimateInterests', bools(custom));
}

function generate() {
  const model = new GppModel();
  // At least one section: the reference encodes an empty model as "".
  let any = false;
  while (!any) {
    if (chance(0.3)) {
      tcf(model);
      any = true;
    }
    if (chance(0.5)) {
      const v1 = chance(0.3);
      usFields(model, 'usnat', USNAT_CORE_SEGMENT_FIELD_NAMES, {
        SensitiveDataProcessing: 16,
        KnownChildSensitiveDataConsents: 3,
      });
      if (v1) model.setFieldValue('usnat', 'Version', 1);
      withGpc(model, 'usnat');
      any = true;
    }
    if (chance(0.4)) {
      usFields(model, 'usca', USCA_CORE_SEGMENT_FIELD_NAMES, {
        SensitiveDataProcessing: 9,
        KnownChildSensitiveDataConsents: 2,
      });
      withGpc(model, 'usca');
      any = true;
    }
    if (chance(0.3)) {
      usFields(model, 'usva', USVA_CORE_SEGMENT_FIELD_NAMES, { SensitiveDataProcessing: 8 });
      any = true;
    }
    if (chance(0.3)) {
      usFields(model, 'usco', USCO_CORE_SEGMENT_FIELD_NAMES, { SensitiveDataProcessing: 7 });
      withGpc(model, 'usco');
      any = true;
    }
    if (chance(0.3)) {
      usFields(model, 'usut', USUT_CORE_SEGMENT_FIELD_NAMES, { SensitiveDataProcessing: 8 });
      any = true;
    }
    if (chance(0.3)) {
      usFields(model, 'usct', USCT_CORE_SEGMENT_FIELD_NAMES, {
        SensitiveDataProcessing: 8,
        KnownChildSensitiveDataConsents: 3,
      });
      withGpc(model, 'usct');
      any = true;
    }
    if (chance(0.1)) {
      model.setFieldValue('uspv1', 'Notice', pick(['Y', 'N', '-']));
      model.setFieldValue('uspv1', 'OptOutSale', pick(['Y', 'N', '-']));
      model.setFieldValue('uspv1', 'LspaCovered', pick(['Y', 'N', '-']));
    }
    if (chance(0.1)) {
      model.setFieldValue('usfl', 'SaleOptOut', int(0, 2));
    }
  }
  return model.encode();
}

const US_FIELDS = {
  usnat: USNAT_CORE_SEGMENT_FIELD_NAMES,
  usca: USCA_CORE_SEGMENT_FIELD_NAMES,
  usva: USVA_CORE_SEGMENT_FIELD_NAMES,
  usco: USCO_CORE_SEGMENT_FIELD_NAMES,
  usut: USUT_CORE_SEGMENT_FIELD_NAMES,
  usct: USCT_CORE_SEGMENT_FIELD_NAMES,
};
const HAS_GPC = new Set(['usnat', 'usca', 'usco', 'usct']);

// A fixed bitfield (array of booleans) as the 1-based ids that are set.
const ids = (bits) => bits.flatMap((b, i) => (b ? [i + 1] : []));

// The reference decoder's reading of `s`, field by field.
function decoded(s) {
  const model = new GppModel(s);
  const parts = s.split('~');
  const out = { s, SectionIds: new HeaderV1(parts[0]).getFieldValue('SectionIds'), sections: {} };
  for (const [name, fields] of Object.entries(US_FIELDS)) {
    if (!model.hasSection(name)) continue;
    const sec = {};
    for (const f of fields) sec[f] = model.getFieldValue(name, f);
    sec.Gpc = HAS_GPC.has(name) && model.getFieldValue(name, 'GpcSegmentIncluded')
      ? model.getFieldValue(name, 'Gpc')
      : null;
    out.sections[name] = sec;
  }
  if (model.hasSection('tcfeuv2')) {
    const sec = {};
    for (const f of [...TCFEUV2_CORE_SEGMENT_FIELD_NAMES, ...TCFEUV2_PUBLISHER_PURPOSES_SEGMENT_FIELD_NAMES, 'VendorsDisclosed']) {
      let v = model.getFieldValue('tcfeuv2', f);
      if (v instanceof Date) v = v.getTime();
      else if (f === 'PublisherRestrictions') {
        v = v.map((r) => ({ purposeId: r.getKey(), restrictionType: r.getType(), vendors: r.getIds() }));
      } else if (Array.isArray(v) && v.length > 0 && typeof v[0] === 'boolean') v = ids(v);
      else if (Array.isArray(v) && v.length === 0 && /Consents|Interests|Optins/.test(f) && !/^Vendor/.test(f)) v = [];
      sec[f] = v;
    }
    out.sections.tcfeuv2 = sec;
  }
  // Sections scruple keeps undecoded: their text, by id.
  const known = new Set([2, 7, 8, 9, 10, 11, 12]);
  out.unknown = {};
  out.SectionIds.forEach((id, i) => {
    if (!known.has(id)) out.unknown[id] = parts[i + 1];
  });
  return out;
}

if (vectorsFile) {
  for (const line of readFileSync(vectorsFile, 'utf8').split('\n')) {
    const s = line.replace(/#.*/, '').trim();
    if (s) console.log(JSON.stringify({ vector: true, ...decoded(s) }));
  }
}
for (let i = 0; i < count; i++) {
  console.log(JSON.stringify(decoded(generate())));
}
