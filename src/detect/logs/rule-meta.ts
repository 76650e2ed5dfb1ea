import type { RuleInfo } from '../rule.js';

/**
 * A log rule as data, described the way every rule is (RuleInfo: after Sigma,
 * what it catches, why it matters, what to do next and when it misfires).
 * ATT&CK IDs follow Enterprise ATT&CK v19, as the rest of goldhour
 * (src/detect/attack.ts); none of the techniques named here moved in v19's
 * renumbering.
 */
export type LogRuleMeta = RuleInfo;

/**
 * A rule's positive and negative cases, kept beside it: log texts of one
 * category; every text in `fires` must raise the rule, none in `quiet` may.
 * Classic syslog cases are read with an mtime of CASE_MTIME.
 */
export interface LogRuleCases {
  category: 'auth' | 'web' | 'journal-export';
  fires: readonly string[];
  quiet: readonly string[];
}

export interface LogRule extends LogRuleMeta {
  cases: LogRuleCases;
}

export const CASE_MTIME = new Date('2026-11-24T00:00:00Z');

/** Repeats a line template n times; `{i}` becomes 0…n-1 and `{s}` a two-digit second. */
export function times(n: number, template: string): string {
  let out = '';
  for (let i = 0; i < n; i++) out += `${template.replaceAll('{i}', String(i)).replaceAll('{s}', String(i % 60).padStart(2, '0'))}\n`;
  return out;
}
