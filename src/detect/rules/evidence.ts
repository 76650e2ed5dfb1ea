import type { Evidence } from '../finding.js';
import type { ProcessBrief } from '../process-index.js';
import type { RowOf } from '../rows.js';

/** Longest text kept in a finding: enough to read, bounded when an attacker writes a megabyte of cmdline. */
const MAX_TEXT = 1000;

export function clip(text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT)}… (${text.length} characters)`;
}

/** A row's time as a finding's ts: only times that carry a zone (a local time without one is not UTC). */
export function tsOf(time: string | null | undefined): string | null {
  if (!time || !/(?:Z|[+-]\d\d:?\d\d)$/.test(time)) return null;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** Milliseconds from a row's time to when it was seen; null when either is unknown. */
export function ageMs(time: string | null | undefined, seen: string | null): number | null {
  const t = tsOf(time);
  if (t === null || seen === null) return null;
  return Date.parse(seen) - Date.parse(t);
}

export const DAY_MS = 86_400_000;
/** "Recently" for rules about changed files and accounts: the default of --recent. */
export const RECENT_DAYS = 7;

export function recent(time: string | null | undefined, seen: string | null): boolean {
  const age = ageMs(time, seen);
  return age !== null && age <= RECENT_DAYS * DAY_MS && age >= -DAY_MS;
}

export function processEvidence(p: RowOf<'processes'>, extra: Evidence = {}): Evidence {
  return {
    path: p.exe,
    text: clip(p.argv.join(' ')),
    comm: p.comm,
    user: p.user ?? (p.uid === null ? null : String(p.uid)),
    ...(p.exeDeleted ? { deleted: true } : {}),
    ...extra,
  };
}

export function briefEvidence(p: ProcessBrief, extra: Evidence = {}): Evidence {
  return { path: p.exe, comm: p.comm, text: p.argv0 ?? '', uid: p.uid, ...extra };
}
