import { z } from 'zod';
import { SEVERITIES, Severity, type Finding } from './finding.js';

/**
 * The host's verdict, derived from the findings by one documented policy
 * (VERDICT_POLICY), so anyone can recompute it from findings.jsonl:
 *
 * - compromised: at least one critical finding, or high findings from at least
 *   two different rules (two independent signs);
 * - suspicious: a high finding, or medium findings from at least two different rules;
 * - clean: anything less (low and info findings never change the verdict).
 *
 * The reasons are the findings that decided it, most severe first.
 */
export const VERDICT_POLICY = 'goldhour.verdict/1';

/** Where a bundle keeps the verdict, beside findings.jsonl (listed and hashed in the manifest like any artefact). */
export const VERDICT_FILE = 'verdict.json';

export const VERDICTS = ['clean', 'suspicious', 'compromised'] as const;

export const VerdictReason = z.object({
  id: z.string(),
  severity: Severity,
  title: z.string(),
  /** What the finding is about: the process, else the host path, else nothing more specific than the rule. */
  subject: z.string(),
});
export type VerdictReason = z.infer<typeof VerdictReason>;

export const Verdict = z.object({
  verdict: z.enum(VERDICTS),
  policy: z.literal(VERDICT_POLICY),
  reasons: z.array(VerdictReason),
  counts: z.object(Object.fromEntries(SEVERITIES.map((s) => [s, z.number().int().nonnegative()])) as Record<Severity, z.ZodNumber>),
  /** The findings come from a partial collection (interrupted, or the disk filled): absence of findings proves less. */
  partial: z.boolean(),
});
export type Verdict = z.infer<typeof Verdict>;

/** Reasons listed at most; the counts say how many findings there are in all. */
const MAX_REASONS = 20;

export function verdictOf(findings: readonly Finding[], partial = false): Verdict {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of findings) counts[f.severity]++;
  const of = (s: Severity) => findings.filter((f) => f.severity === s);
  const rules = (fs: Finding[]) => new Set(fs.map((f) => f.id)).size;
  const critical = of('critical');
  const high = of('high');
  const medium = of('medium');
  let verdict: Verdict['verdict'] = 'clean';
  let deciding: Finding[] = [];
  if (critical.length > 0 || rules(high) >= 2) {
    verdict = 'compromised';
    deciding = [...critical, ...high];
  } else if (high.length > 0 || rules(medium) >= 2) {
    verdict = 'suspicious';
    deciding = [...high, ...medium];
  }
  return { verdict, policy: VERDICT_POLICY, reasons: deciding.slice(0, MAX_REASONS).map(reason), counts, partial };
}

function reason(f: Finding): VerdictReason {
  const subject = f.pid !== null ? `pid ${f.pid}${f.evidence.path ? ` (${f.evidence.path})` : ''}` : (f.evidence.path ?? f.id);
  return { id: f.id, severity: f.severity, title: f.title, subject };
}
