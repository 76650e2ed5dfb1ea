import { z } from 'zod';

/**
 * One line of findings.jsonl and one element of `findings` in `triage --json`,
 * exactly as ../shared/design.md defines it. Declared once; `report` and other
 * readers of a bundle parse findings with this same schema.
 */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export const Severity = z.enum(SEVERITIES);
export type Severity = z.infer<typeof Severity>;

/** ATT&CK technique or sub-technique id (T1053, T1053.003). */
export const AttackId = z.string().regex(/^T\d{4}(\.\d{3})?$/, 'an ATT&CK technique id such as T1053.003');

/**
 * What a finding points at, as seen on the examined host. `path` is the host's
 * own path (never prefixed with --root); `line` is 1-based. Further fields
 * (address, user, count, port…) name the facts the rule weighed.
 */
export const Evidence = z
  .object({
    path: z.string().nullable().optional(),
    line: z.number().int().positive().optional(),
    text: z.string().optional(),
  })
  .catchall(z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.union([z.string(), z.number()]))]));
export type Evidence = z.infer<typeof Evidence>;

export const Finding = z.object({
  id: z.string().regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'a dotted rule id such as persistence.cron.download-exec'),
  severity: Severity,
  title: z.string().min(1),
  attack: z.array(AttackId),
  collector: z.string().min(1),
  evidence: Evidence,
  pid: z.number().int().nullable(),
  /** When the thing happened where that is known (a log line, a file's mtime), else when it was seen. UTC. */
  ts: z.string().datetime({ offset: true }).nullable(),
});
export type Finding = z.infer<typeof Finding>;

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}
