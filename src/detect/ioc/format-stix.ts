import { z } from 'zod';
import { parseAs } from './indicator.js';
import type { IndicatorSet } from './indicator-set.js';
import { PatternError, parsePattern } from './stix-pattern.js';
import type { Problems } from './problems.js';

/** The fields of a STIX 2.1 indicator that matter here; everything else in the object is ignored. */
const StixIndicator = z.object({
  type: z.literal('indicator'),
  id: z.string().optional(),
  name: z.string().optional(),
  pattern: z.string(),
  pattern_type: z.string().optional(),
  revoked: z.boolean().optional(),
});

const StixObject = z.object({ type: z.string() }).passthrough();

/**
 * A STIX 2.1 bundle (or a lone indicator, or an array of objects): every
 * `indicator` whose pattern is STIX patterning. Revoked indicators are left
 * out; other pattern languages (Sigma, YARA, Snort) and other object types
 * are counted as skipped.
 */
export function loadStix(doc: unknown, fileName: string, into: IndicatorSet, problems: Problems): void {
  const objects = Array.isArray(doc) ? doc : isBundle(doc) ? doc.objects : [doc];
  let indicators = 0;
  objects.forEach((o, i) => {
    const base = StixObject.safeParse(o);
    if (!base.success) {
      problems.at(null, `object ${i} is not a STIX object`);
      return;
    }
    if (base.data.type !== 'indicator') {
      problems.count(`${base.data.type} objects are not indicators, skipped`);
      return;
    }
    const ind = StixIndicator.safeParse(o);
    const where = `indicator ${ind.success && ind.data.id ? ind.data.id : `#${i}`}`;
    if (!ind.success) {
      problems.at(null, `${where} has no pattern`);
      return;
    }
    indicators++;
    if (ind.data.revoked) {
      problems.count('revoked indicators skipped');
      return;
    }
    if (ind.data.pattern_type !== undefined && ind.data.pattern_type !== 'stix') {
      problems.count(`indicators with ${JSON.stringify(ind.data.pattern_type)} patterns skipped (only STIX patterning is read)`);
      return;
    }
    let result;
    try {
      result = parsePattern(ind.data.pattern);
    } catch (err) {
      if (!(err instanceof PatternError)) throw err;
      problems.at(null, `${where}: pattern not understood (${err.message})`, ind.data.pattern);
      return;
    }
    for (const s of result.skipped) problems.count(`comparisons skipped (only = and IN on hashes, file names, addresses, domains and URLs are matched): ${s}`);
    if (result.terms.length === 0) {
      problems.at(null, `${where}: nothing in its pattern can be matched on a host`, ind.data.pattern);
      return;
    }
    for (const t of result.terms) {
      const parsed = parseAs(t.kind, t.value);
      if (parsed) into.add(parsed, ind.data.id ?? `${fileName}#${i}`, ind.data.name ?? null);
      else problems.at(null, `${where}: not a valid ${t.kind}`, t.value);
    }
  });
  if (indicators === 0) problems.at(null, 'no STIX indicator objects found');
}

function isBundle(doc: unknown): doc is { objects: unknown[] } {
  return typeof doc === 'object' && doc !== null && (doc as { type?: unknown }).type === 'bundle' && Array.isArray((doc as { objects?: unknown }).objects);
}
