import { Finding, severityRank } from './finding.js';

/** More findings of one rule than this are counted, not kept: a host with a million bad files still gives a readable report. */
export const MAX_PER_RULE = 500;

/**
 * Findings as they are found: duplicates (the same rule on the same facts,
 * e.g. one file seen by two collectors) are kept once, and each rule keeps at
 * most MAX_PER_RULE. Of duplicates, the one from the collector whose name
 * sorts first is kept: collectors that run side by side deliver in no fixed
 * order, and a triage must give what detection over its bundle gives later. `sorted()` orders them for reading: most severe first,
 * then by rule and subject, so the same input always gives the same output.
 */
export class FindingSet {
  private readonly byKey = new Map<string, Finding>();
  private readonly perRule = new Map<string, number>();
  private readonly dropped = new Map<string, { count: number; collector: string }>();

  add(f: Finding): void {
    const key = JSON.stringify([f.id, f.pid, f.evidence]);
    const kept = this.byKey.get(key);
    if (kept) {
      if (f.collector < kept.collector) this.byKey.set(key, f);
      return;
    }
    const n = this.perRule.get(f.id) ?? 0;
    if (n >= MAX_PER_RULE) {
      const d = this.dropped.get(f.id) ?? { count: 0, collector: f.collector };
      d.count++;
      this.dropped.set(f.id, d);
      return;
    }
    this.perRule.set(f.id, n + 1);
    this.byKey.set(key, f);
  }

  sorted(): Finding[] {
    const capped: Finding[] = [...this.dropped].map(([id, d]) => ({
      id: 'detect.capped',
      severity: 'info',
      title: `more findings of ${id} than a report keeps`,
      attack: [],
      collector: d.collector,
      evidence: { path: null, rule: id, kept: MAX_PER_RULE, dropped: d.count },
      pid: null,
      ts: null,
    }));
    return [...this.byKey.values(), ...capped].sort(compareFindings);
  }
}

function compareFindings(a: Finding, b: Finding): number {
  return (
    severityRank(b.severity) - severityRank(a.severity) ||
    cmp(a.id, b.id) ||
    cmp(a.evidence.path ?? '', b.evidence.path ?? '') ||
    (a.evidence.line ?? 0) - (b.evidence.line ?? 0) ||
    (a.pid ?? -1) - (b.pid ?? -1) ||
    cmp(JSON.stringify(a.evidence), JSON.stringify(b.evidence))
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
