import type { Evidence, Severity } from './finding.js';
import type { ProcessIndex } from './process-index.js';
import type { RowOf, Source, Tagged } from './rows.js';

/**
 * A rule's description, in the manner of a Sigma rule: what it catches, why it
 * matters, what to do next, and when it misfires. docs/rules.md is generated
 * from these fields.
 */
export interface RuleInfo {
  /** Dotted, stable: family.subject.what (process.exe.deleted). */
  id: string;
  title: string;
  severity: Severity;
  /** ATT&CK technique IDs as of ATTACK_VERSION (src/detect/attack.ts). */
  attack: readonly string[];
  /** One paragraph for the responder: what it means and what to do next. */
  description: string;
  falsepositives: readonly string[];
  references: readonly string[];
}

/** The facts behind one finding. */
export interface Hit {
  evidence: Evidence;
  /** Set for findings about a process. */
  pid?: number | null;
  /** When the thing happened, where a row says (a file's mtime, a login's time); else the collection time. */
  ts?: string | null;
  /** The collector the facts came from, for rules that read several (defaults to the first they read). */
  collector?: Source;
}

/** What every rule may consult besides its own rows. */
export interface DetectContext {
  /** When the run of a collector began (UTC): the time a fact was seen; null when unknown. */
  seen(source: Source): string | null;
  /** Every process seen so far (processes run first). */
  readonly processes: ProcessIndex;
}

/** A rule judging one row at a time. */
export interface RowRule<S extends Source = Source> extends RuleInfo {
  kind: 'row';
  reads: readonly S[];
  match(row: RowOf<S>, ctx: DetectContext): Hit | Hit[] | null;
}

/**
 * A rule that needs more than one row: counts, joins across collectors,
 * process trees. It keeps only what it needs in its own state and reports
 * when detection finishes.
 */
export interface JoinRule<State = unknown> extends RuleInfo {
  kind: 'join';
  reads: readonly Source[];
  start(): State;
  row(state: State, t: Tagged, ctx: DetectContext): void;
  finish(state: State, ctx: DetectContext): Hit[];
}

export type Rule = RowRule | JoinRule;

export function rowRule<S extends Source>(r: Omit<RowRule<S>, 'kind'>): Rule {
  return { kind: 'row', ...r } as unknown as Rule;
}

export function joinRule<State>(r: Omit<JoinRule<State>, 'kind'>): Rule {
  return { kind: 'join', ...r } as unknown as Rule;
}
