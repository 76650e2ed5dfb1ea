import { termSafe } from '../lib/terminal.js';
import type { Finding } from './finding.js';
import type { Verdict } from './verdict.js';

/** High and critical findings printed on the terminal; the rest are in findings.jsonl. */
const SHOWN = 15;

/**
 * The verdict and the findings that matter most, for the responder's terminal:
 * every string that came from the host goes through termSafe.
 */
export function summaryLines(findings: readonly Finding[], verdict: Verdict): string[] {
  const c = verdict.counts;
  const lines = [
    `verdict: ${verdict.verdict.toUpperCase()}${verdict.partial ? ' (from a partial collection)' : ''} — ${c.critical} critical, ${c.high} high, ${c.medium} medium, ${c.low} low, ${c.info} info`,
  ];
  const serious = findings.filter((f) => f.severity === 'critical' || f.severity === 'high');
  for (const f of serious.slice(0, SHOWN)) lines.push(`  ${f.severity.padEnd(8)} ${f.id}  ${termSafe(subject(f))}  ${f.title}`);
  if (serious.length > SHOWN) lines.push(`  … ${serious.length - SHOWN} more high or critical findings in findings.jsonl`);
  return lines;
}

function subject(f: Finding): string {
  const where = f.evidence.path ? `${f.evidence.path}${f.evidence.line ? `:${f.evidence.line}` : ''}` : '';
  return [f.pid !== null ? `pid ${f.pid}` : '', where].filter(Boolean).join(' ') || '-';
}
