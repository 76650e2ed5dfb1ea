import { COLLECTORS } from '../collectors/index.js';
import type { Collector, CollectorSettings } from '../collectors/collector.js';
import { Detector } from '../detect/detector.js';
import type { Finding } from '../detect/finding.js';
import { createLogAnalysis } from '../detect/log-analysis.js';
import { hostLogOpener, type LogFeed } from '../detect/log-feed.js';
import type { Rule } from '../detect/rule.js';
import { VERDICT_FILE, verdictOf, type Verdict } from '../detect/verdict.js';
import { CaseWriter, type BundleTarget, type SealResult } from '../evidence/case-writer.js';
import type { CollectorRun } from '../evidence/manifest.js';
import type { Signer } from '../evidence/signing.js';
import { DiskFullError } from '../evidence/space-guard.js';
import { Host } from '../host/host.js';
import { logErr } from '../lib/terminal.js';
import { UserError, errnoCode } from '../lib/user-error.js';
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
  const detector = new Detector({
    ...(opts.rules ? { rules: opts.rules } : {}),
    logs: logFeed(host, writer, opts.settings),
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
    const { findings, rejected } = detector.finish();
    const verdict = verdictOf(findings, reason !== null || writer.diskFull);
    await recordVerdict(writer, verdict, findings.length, rejected);
    const findingsText = findings.map((f) => `${JSON.stringify(f)}\n`).join('');
    const sealed = await writer.seal({ status: reason ? 'partial' : 'complete', reason, findings: findingsText, signer: opts.signer });
    return { ...sealed, collectors: writer.collectorRuns, interruptedBy: interrupt.signal.aborted ? String(interrupt.signal.reason) : null, findings, verdict };
  } catch (err) {
    if (err instanceof DiskFullError) throw new UserError(`output device full and the bundle could not be sealed: ${err.message}`, 3);
    if (errnoCode(err) === 'EPIPE') throw new UserError('the output stream closed before the bundle was finished (EPIPE)', 3);
    throw err;
  } finally {
    interrupt.dispose();
  }
}

/** The log analysis reads each analysable log again through the Host, capped as its copy was. */
function logFeed(host: Host, writer: CaseWriter, settings: CollectorSettings): LogFeed {
  return {
    create: createLogAnalysis,
    open: hostLogOpener(host, settings.logMaxBytes, (path, code, message) => writer.recordError({ collector: 'logs', path, code, message })),
  };
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
