import type { Evidence } from '../finding.js';
import type { Hit } from '../rule.js';
import type { Indicator } from './indicator.js';
import type { Match } from './match.js';

/** Places kept per rule; past it matches are counted in the last finding's `notKept`, never stored. */
export const MAX_PLACES = 10_000;

/** What a finding of an IOC rule says about the indicator, whatever the place. */
export function indicatorEvidence(m: Match): Record<string, string> {
  return {
    indicator: m.indicator.value,
    indicatorKind: m.indicator.kind,
    matched: m.matched,
    origin: m.indicator.origin,
    ...(m.indicator.label ? { label: m.indicator.label } : {}),
  };
}

/**
 * One finding per (indicator, place): the first hit seen there, and how many
 * times the indicator was seen at that place (lines of one file, connections
 * of one process, lines of one log). Memory grows with the number of distinct
 * places, capped at MAX_PLACES, not with the number of matching lines.
 */
export class Aggregate {
  private readonly byKey = new Map<string, { hit: Hit; count: number }>();
  private dropped = 0;

  add(indicator: Indicator, place: string, make: () => Hit): void {
    const key = `${indicator.kind}\0${indicator.value}\0${place}`;
    const seen = this.byKey.get(key);
    if (seen) {
      seen.count++;
      return;
    }
    if (this.byKey.size >= MAX_PLACES) {
      this.dropped++;
      return;
    }
    this.byKey.set(key, { hit: make(), count: 1 });
  }

  hits(): Hit[] {
    const out: Hit[] = [...this.byKey.values()].map(({ hit, count }) => ({ ...hit, evidence: { ...hit.evidence, count } }));
    if (this.dropped > 0 && out.length > 0) {
      const last = out[out.length - 1]!;
      const evidence: Evidence = { ...last.evidence, notKept: this.dropped };
      out[out.length - 1] = { ...last, evidence };
    }
    return out;
  }
}
