import { COLLECTORS } from '../collectors/index.js';
import type { Collector, CollectorSettings } from '../collectors/collector.js';
import { Detector } from '../detect/detector.js';
import type { Finding } from '../detect/finding.js';
import { createLogAnalysis } from '../detect/log-analysis.js';
import { hostLogOpener, triageLogFeed, type LogFeed } from '../detect/log-feed.js';
import { iocLogMatcher, iocRules, type IndicatorSet } from '../detect/ioc/index.js';
import type { Rule } from '../detect/rule.js';
import type { Tagged } from '../detect/rows.js';
import { RULES } from '../detect/rules/index.js';
import { YARA_RULE, yaraTargets, type EngineExtraction, type YaraScanner, type YaraTarget } from '../detect/yara/index.js';
import { VERDICT_FILE, verdictOf, type Verdict } from '../detect/verdict.js';
import { bundleFailure } from '../evidence/bundle-failure.js';
import { CaseWriter, type BundleTarget, type SealResult } from '../evidence/case-writer.js';
import type { CollectorRun } from '../evidence/manifest.js';
import type { Signer } from '../evidence/signing.js';
import { DiskFullError } from '../evidence/space-guard.js';
import { Host } from '../host/host.js';
import { preferSmallHeap } from '../lib/small-heap.js';
import { logErr } from '../lib/terminal.js';
import { UserError } from '../lib/user-error.js';
import { buildCaseHeader, type CaseOptions } from './case-header.js';
import { interruptOnSignals } from './interrupt.js';
import { yieldToProduction, type PriorityMode } from './priority.js';
import { runCollectors } from './run-collectors.js';

export interface TriageOptions extends CaseOptions {
  root: string | undefined;
  proc: string | undefined;
  target: Omit<BundleTarget, 'out'> & { out: string | null | undefined };
  only: string[];
  skip: string[];
  signer: Signer | null;
  quiet: boolean;
  settings: CollectorSettings;
  priority: PriorityMode;
  /** The rules to run; src/detect/rules when absent (IOC and YARA rules join them here). */
  rules?: readonly Rule[];
  /** --ioc: indicators (one set per file) matched against rows and log lines; problems met loading them are errors of the bundle. */
  ioc?: { sets: IndicatorSet[]; problems: string[] } | null;
  /** --yara: rules compiled before the collection, scanning temp files, running executables and the memory of memoryPids. */
  yara?: YaraSetup | null;
}

export interface YaraSetup {
  scanner: YaraScanner;
  memoryPids: readonly number[];
  files: string[];
  ruleCount: number;
  problems: string[];
  extraction: EngineExtraction | null;
}

export interface TriageResult extends SealResult {
  collectors: CollectorRun[];
  interruptedBy: string | null;
  findings: Finding[];
  verdict: Verdict;
}

export function selectCollectors(only: string[], skip: string[]): Collector[] {
  const known = new Set(COLLECTORS.map((c) => c.name));
  for (const n of [...only, ...skip]) {
    if (!known.has(n)) throw new UserError(`unknown collector '${n}' (known: ${[...known].join(', ')})`);
  }
  return COLLECTORS.filter((c) => (only.length === 0 || only.includes(c.name)) && !skip.includes(c.name));
}

const EXTENSION: Record<string, string> = { dir: '', tar: '.tar', tgz: '.tar.gz', zip: '.zip' };

export async function triage(opts: TriageOptions): Promise<TriageResult> {
  preferSmallHeap();
  const collectors = selectCollectors(opts.only, opts.skip);
  const host = await Host.open({ root: opts.root, proc: opts.proc });
  const header = await buildCaseHeader(host, opts);
  const out =
    opts.target.out === undefined
      ? `goldhour-${header.case.id}${EXTENSION[opts.target.format]}${opts.target.encryptTo.length > 0 ? '.age' : ''}`
      : opts.target.out;
  const writer = await CaseWriter.open({ ...opts.target, out }, header);
  if (out !== null) {
    host.exclude(writer.location);
    host.exclude(`${writer.location}.goldhour-reserve`);
  }
  const interrupt = interruptOnSignals();
  const log = (line: string) => {
    if (!opts.quiet) logErr(line);
  };
  log(`goldhour triage: case ${header.case.id} → ${writer.location}`);
  if (host.live) {
    const applied = await yieldToProduction(opts.priority, writer, interrupt.signal);
    if (applied.length > 0) await writer.appendCustody({ event: 'priority', applied });
  }
  await recordInputs(writer, opts);
  const sets = opts.ioc?.sets ?? [];
  const logMatchers = sets.map(iocLogMatcher);
  const yaraTargetList: YaraTarget[] = [];
  const memoryPids = new Set(opts.yara?.memoryPids ?? []);
  const detector = new Detector({
    rules: [...(opts.rules ?? RULES), ...sets.flatMap(iocRules)],
    logs: logFeed(host, writer, opts.settings),
    ...(logMatchers.length > 0 ? { logLines: (text: string, at: { path: string; line: number }) => logMatchers.forEach((m) => m.line(text, at)) } : {}),
    ...(opts.yara ? { watch: { sources: ['temp-files', 'processes'] as const, row: (t: Tagged) => yaraTargetList.push(...yaraTargets(t, memoryPids)) } } : {}),
    onError: (where, message) => writer.recordError({ collector: 'detect', path: null, code: 'EDETECT', message: `${where}: ${message}` }),
  });
  try {
    await runCollectors(
      host,
      opts.settings,
      writer,
      collectors,
      interrupt.signal,
      {
        collectorStarted: (name) => log(`  ${name} …`),
        collectorEnded: (name, status, rows) => log(`  ${name} ${status} (${rows} rows)`),
      },
      detector,
    );
    const reason = interrupt.signal.aborted ? `interrupted by ${String(interrupt.signal.reason)}` : null;
    if (reason) await writer.appendCustody({ event: 'interrupted', signal: String(interrupt.signal.reason) });
    if (writer.diskFull) await writer.appendCustody({ event: 'disk-full' });
    for (const m of logMatchers) for (const h of m.finish()) detector.addHits(h.rule, [h], 'logs');
    if (opts.yara && !interrupt.signal.aborted) {
      log(`  yara … (${yaraTargetList.length} targets)`);
      await yaraScan(host, writer, detector, opts.yara.scanner, yaraTargetList, interrupt.signal);
    }
    const { findings, rejected } = detector.finish();
    const verdict = verdictOf(findings, reason !== null || writer.diskFull);
    await recordVerdict(writer, verdict, findings.length, rejected);
    const findingsText = findings.map((f) => `${JSON.stringify(f)}\n`).join('');
    const sealed = await writer.seal({ status: reason ? 'partial' : 'complete', reason, findings: findingsText, signer: opts.signer });
    return { ...sealed, collectors: writer.collectorRuns, interruptedBy: interrupt.signal.aborted ? String(interrupt.signal.reason) : null, findings, verdict };
  } catch (err) {
    throw bundleFailure(err);
  } finally {
    interrupt.dispose();
  }
}

/** What --ioc and --yara loaded goes into the custody log, the extraction of the YARA engine included; their problems are errors of the bundle. */
async function recordInputs(writer: CaseWriter, opts: TriageOptions): Promise<void> {
  if (opts.ioc) {
    await writer.appendCustody({ event: 'ioc-loaded', indicators: opts.ioc.sets.map((s) => s.size), problems: opts.ioc.problems.length });
    for (const p of opts.ioc.problems) writer.recordError({ collector: 'ioc', path: null, code: 'EIOC', message: p });
  }
  if (opts.yara) {
    const x = opts.yara.extraction;
    if (x) await writer.appendCustody({ event: 'yara-engine-extracted', wrote: x.wrote, sha256: x.sha256, bytes: x.bytes, removed: x.removed });
    await writer.appendCustody({ event: 'yara-loaded', files: opts.yara.files, rules: opts.yara.ruleCount, memoryPids: [...opts.yara.memoryPids] });
    for (const p of opts.yara.problems) writer.recordError({ collector: 'yara', path: null, code: 'EYARA', message: p });
  }
}

/** Scans what the rows named once the collectors are done; matches become yara.match findings. */
async function yaraScan(host: Host, writer: CaseWriter, detector: Detector, scanner: YaraScanner, targets: readonly YaraTarget[], signal: AbortSignal): Promise<void> {
  let hits = 0;
  const onProblem = (p: { path: string; code: string; message: string }) => writer.recordError({ collector: 'yara', path: p.path, code: p.code, message: p.message });
  for await (const hit of scanner.scan(host, targets, { signal, onProblem })) {
    hits++;
    detector.addHits(YARA_RULE, [hit], hit.collector ?? 'temp-files');
  }
  await writer.appendCustody({ event: 'yara-scanned', targets: targets.length, matches: hits });
}

/** The log analysis reads each analysable log again through the Host, capped as its copy was. */
function logFeed(host: Host, writer: CaseWriter, settings: CollectorSettings): LogFeed {
  return triageLogFeed(
    createLogAnalysis,
    hostLogOpener(host, settings.logMaxBytes, (path, code, message) => writer.recordError({ collector: 'logs', path, code, message })),
  );
}

/** verdict.json beside findings.jsonl, and the verdict in the custody log; a full disk loses the file, not the seal. */
async function recordVerdict(writer: CaseWriter, verdict: Verdict, findings: number, rejected: Record<string, number>): Promise<void> {
  await writer.appendCustody({ event: 'detected', verdict: verdict.verdict, findings, counts: verdict.counts, rejectedRows: rejected });
  try {
    await writer.addBuffer(VERDICT_FILE, Buffer.from(`${JSON.stringify(verdict, null, 2)}\n`), { source: null, collector: 'detect' });
  } catch (err) {
    if (!(err instanceof DiskFullError)) throw err;
    writer.recordError({ collector: 'detect', path: null, code: 'ENOSPC', message: `${VERDICT_FILE} not written: ${err.message}` });
  }
}
