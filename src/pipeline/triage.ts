import { COLLECTORS } from '../collectors/index.js';
import type { Collector, CollectorSettings } from '../collectors/collector.js';
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
}

export interface TriageResult extends SealResult {
  collectors: CollectorRun[];
  interruptedBy: string | null;
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
  try {
    await runCollectors(host, opts.settings, writer, collectors, interrupt.signal, {
      collectorStarted: (name) => log(`  ${name} …`),
      collectorEnded: (name, status, rows) => log(`  ${name} ${status} (${rows} rows)`),
    });
    const reason = interrupt.signal.aborted ? `interrupted by ${String(interrupt.signal.reason)}` : null;
    if (reason) await writer.appendCustody({ event: 'interrupted', signal: String(interrupt.signal.reason) });
    if (writer.diskFull) await writer.appendCustody({ event: 'disk-full' });
    const sealed = await writer.seal({ status: reason ? 'partial' : 'complete', reason, findings: '', signer: opts.signer });
    return { ...sealed, collectors: writer.collectorRuns, interruptedBy: interrupt.signal.aborted ? String(interrupt.signal.reason) : null };
  } catch (err) {
    if (err instanceof DiskFullError) throw new UserError(`output device full and the bundle could not be sealed: ${err.message}`, 3);
    if (errnoCode(err) === 'EPIPE') throw new UserError('the output stream closed before the bundle was finished (EPIPE)', 3);
    throw err;
  } finally {
    interrupt.dispose();
  }
}
