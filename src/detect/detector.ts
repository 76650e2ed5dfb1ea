import { Finding } from './finding.js';
import { FindingSet } from './finding-set.js';
import { analysable, tapLines, type LogFeed, type LogLineObserver } from './log-feed.js';
import type { LogAnalysis } from './logs/index.js';
import { ProcessIndex } from './process-index.js';
import type { DetectContext, Hit, JoinRule, Rule, RowRule, RuleInfo } from './rule.js';
import { ROW_SOURCES, isSource, type RowOf, type Source, type Tagged } from './rows.js';
import { RULES } from './rules/index.js';

export interface DetectorOptions {
  rules?: readonly Rule[];
  /** Log analysis and where to read the logs from; none when absent. */
  logs?: LogFeed | null;
  /** Also told every line of the logs the analysis reads, from the same read (the --ioc log matcher). */
  logLines?: LogLineObserver;
  /** Told when a rule or the log analysis fails (a bug): detection goes on without it, and so does the collection. */
  onError?: (where: string, message: string) => void;
  /** Also shown every valid row of these collectors (what --yara scans is read from them). */
  watch?: { sources: readonly Source[]; row(t: Tagged): void };
}

export interface Detection {
  findings: Finding[];
  /** Rows that did not match their collector's declaration (or were not JSON), per collector: skipped, never judged. */
  rejected: Record<string, number>;
}

/**
 * Runs the rules over rows as collectors produce them, one row at a time:
 * nothing is kept but what join rules keep for themselves, the process table
 * (small), and the list of logs to analyse. The same rows in the same order
 * give the same findings, whether they come from a live triage or from a
 * bundle read later (detectBundle).
 */
export class Detector {
  private readonly rowRules = new Map<Source, RowRule[]>();
  private readonly joinRules = new Map<Source, JoinRule[]>();
  private readonly joinStates = new Map<JoinRule, unknown>();
  private readonly seenAt = new Map<Source, string>();
  private readonly rejected = new Map<string, number>();
  private readonly found = new FindingSet();
  private readonly logRows: RowOf<'logs'>[] = [];
  private readonly logs: LogFeed | null;
  private readonly logLines: LogLineObserver | null;
  private readonly watch: DetectorOptions['watch'] | null;
  private readonly onError: (where: string, message: string) => void;
  private logAnalysis: LogAnalysis | null = null;
  private timeZone: string | null = null;
  readonly processes = new ProcessIndex();
  private readonly ctx: DetectContext;

  constructor(opts: DetectorOptions = {}) {
    this.logs = opts.logs ?? null;
    this.logLines = opts.logLines ?? null;
    this.watch = opts.watch ?? null;
    this.onError = opts.onError ?? (() => undefined);
    for (const rule of opts.rules ?? RULES) {
      if (rule.kind === 'join') this.joinStates.set(rule, rule.start());
      for (const s of rule.reads) {
        if (rule.kind === 'row') push(this.rowRules, s, rule);
        else push(this.joinRules, s, rule);
      }
    }
    this.ctx = { seen: (s) => this.seenAt.get(s) ?? null, processes: this.processes };
  }

  /** Whether rows of this collector are wanted at all (others need not be parsed). */
  reads(collector: string): boolean {
    if (!isSource(collector)) return false;
    if (collector === 'processes' || this.rowRules.has(collector) || this.joinRules.has(collector)) return true;
    if (this.watch?.sources.includes(collector)) return true;
    return (collector === 'logs' || collector === 'system') && this.logs !== null;
  }

  /** A collector's run starts: its rows were seen from this time on. */
  begin(collector: string, startedAt: string): void {
    if (isSource(collector)) this.seenAt.set(collector, startedAt);
  }

  /** One line of collectors/NAME.jsonl. */
  offerLine(collector: string, line: string): void {
    if (!this.reads(collector)) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.reject(collector);
      return;
    }
    this.offer(collector, value);
  }

  offer(collector: string, value: unknown): void {
    if (!isSource(collector) || !this.reads(collector)) return;
    const parsed = ROW_SOURCES[collector].row.safeParse(value);
    if (!parsed.success) {
      this.reject(collector);
      return;
    }
    const t = { source: collector, row: parsed.data } as Tagged;
    if (t.source === 'processes') this.processes.add(t.row);
    if (t.source === 'system') this.timeZone = t.row.timezone;
    if (t.source === 'logs' && this.logs && analysable(t.row)) this.logRows.push(t.row);
    if (this.watch?.sources.includes(t.source)) this.guarded('row watcher', () => this.watch!.row(t));
    for (const rule of this.rowRules.get(collector) ?? []) {
      const hits = this.guarded(`rule ${rule.id}`, () => rule.match(t.row as never, this.ctx));
      if (hits) for (const h of Array.isArray(hits) ? hits : [hits]) this.record(rule, h, collector);
    }
    for (const rule of this.joinRules.get(collector) ?? []) this.guarded(`rule ${rule.id}`, () => rule.row(this.joinStates.get(rule), t, this.ctx));
  }

  /** An external program a collector ran gave this output (already in the bundle); the log feed may keep the journal export. */
  toolOutput(collector: string, commandLine: string, stdout: Buffer): void {
    if (collector === 'logs') this.logs?.keepOutput?.(commandLine, stdout);
  }

  /** A collector finished. After the logs collector, its analysable logs are streamed to the log analysis. */
  async ended(collector: string, signal?: AbortSignal): Promise<void> {
    if (collector !== 'logs' || !this.logs) return;
    this.logAnalysis ??= this.logs.create({ timeZone: this.timeZone, now: new Date(this.seenAt.get('logs') ?? 0) });
    for (const row of this.logRows.splice(0)) {
      if (signal?.aborted) return;
      try {
        const opened = await this.logs.open(row);
        if (!opened) continue;
        const observe = this.logLines;
        const tap = observe ? tapLines(opened, (text, line) => observe(text, { path: row.path, line })) : null;
        await this.logAnalysis.add({ path: row.path, category: row.category, mtime: row.mtime ? new Date(row.mtime) : null, chunks: tap?.chunks ?? opened });
        await tap?.done;
      } catch (err) {
        this.failed(`log analysis of ${row.path}`, err);
      }
    }
  }

  finish(): Detection {
    for (const [rule, state] of this.joinStates) {
      for (const h of this.guarded(`rule ${rule.id}`, () => rule.finish(state, this.ctx)) ?? []) this.record(rule, h, rule.reads[0]!);
    }
    const logFindings = this.logAnalysis ? this.guarded('log analysis', () => this.logAnalysis!.finish()) : [];
    for (const f of logFindings ?? []) {
      const parsed = Finding.safeParse(f);
      if (parsed.success) this.found.add(parsed.data);
      else this.reject('log-analysis');
    }
    return { findings: this.found.sorted(), rejected: Object.fromEntries(this.rejected) };
  }

  /** Findings made outside the rules (the --ioc log matcher, YARA scans), recorded and capped like theirs. */
  addHits(rule: RuleInfo, hits: Iterable<Hit>, source: Source): void {
    for (const h of hits) this.record(rule, h, source);
  }

  private record(rule: RuleInfo, hit: Hit, source: Source): void {
    const collector = hit.collector ?? source;
    const finding = Finding.safeParse({
      id: rule.id,
      severity: rule.severity,
      title: rule.title,
      attack: [...rule.attack],
      collector,
      evidence: hit.evidence,
      pid: hit.pid ?? null,
      ts: hit.ts ?? this.seenAt.get(collector) ?? null,
    });
    // A rule that builds a finding outside the contract is a bug; counted where tests look, never written.
    if (finding.success) this.found.add(finding.data);
    else this.reject(`rule ${rule.id}`);
  }

  private reject(collector: string): void {
    this.rejected.set(collector, (this.rejected.get(collector) ?? 0) + 1);
  }

  /** Runs a rule's code; an exception is a bug that must cost this one judgement, not the collection. */
  private guarded<T>(where: string, fn: () => T): T | null {
    try {
      return fn();
    } catch (err) {
      this.failed(where, err);
      return null;
    }
  }

  private failed(where: string, err: unknown): void {
    this.reject(where);
    this.onError(where, err instanceof Error ? err.message : String(err));
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}
