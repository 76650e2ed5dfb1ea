import { existsSync } from 'node:fs';
import path from 'node:path';
import { bundleFailure } from '../../evidence/bundle-failure.js';
import { CaseWriter, type BundleTarget, type SealResult } from '../../evidence/case-writer.js';
import { DiskFullError } from '../../evidence/space-guard.js';
import { Host } from '../../host/host.js';
import { logErr, termSafe } from '../../lib/terminal.js';
import { UserError } from '../../lib/user-error.js';
import { buildCaseHeader, type CaseOptions } from '../../pipeline/case-header.js';
import { interruptOnSignals } from '../../pipeline/interrupt.js';
import { AcquirerFailed, acquireWithTool, checkToolSpace, resolveAcquirer, type ExternalAcquirer } from './external-acquirer.js';
import { ancestors } from './freeze.js';
import { acquireImage, prepareImage, type ImageResult, type PhysicalOptions } from './physical.js';
import { checkFreeSpace, checkProcessAccess } from './preflight.js';
import { dumpProcess, type ProcessDumpResult } from './process-dump.js';

export interface MemoryOptions extends CaseOptions {
  /** Processes to dump; none means physical memory. */
  pids: number[];
  freeze: boolean;
  physical: PhysicalOptions;
  /** --tool: avml or a LiME module instead of goldhour's own reader. */
  tool: string | undefined;
  target: Omit<BundleTarget, 'out'> & { out: string | null | undefined };
  quiet: boolean;
  /** Progress lines on stderr (off with --json and --quiet). */
  progress: boolean;
}

export interface MemoryResult extends SealResult {
  interruptedBy: string | null;
  image: ImageResult | null;
  processes: ProcessDumpResult[];
}

const EXTENSION: Record<string, string> = { dir: '', tar: '.tar', tgz: '.tar.gz', zip: '.zip' };

/** goldhour memory: preflight, open the bundle, acquire, seal (partial when interrupted or a dump is incomplete). */
export async function runMemory(opts: MemoryOptions): Promise<MemoryResult> {
  const acquirer = opts.tool === undefined ? null : await preflightTool(opts.tool);
  const prepared = acquirer ? null : opts.pids.length === 0 ? await prepareImage(opts.physical) : await preflightProcesses(opts.pids, opts.freeze);
  try {
    const host = await Host.open({});
    const header = await buildCaseHeader(host, opts);
    const out = opts.target.out === undefined ? `goldhour-memory-${header.case.id}${EXTENSION[opts.target.format]}` : opts.target.out;
    if (prepared && out !== null) await checkFreeSpace(out, prepared.size);
    if (acquirer && out !== null) await checkToolSpace(out);
    const writer = await CaseWriter.open({ ...opts.target, out }, header);
    const interrupt = interruptOnSignals();
    const log = (line: string) => {
      if (!opts.quiet) logErr(line);
    };
    const progress = opts.progress ? process.stderr : null;
    log(`goldhour memory: case ${header.case.id} → ${termSafe(writer.location)}`);
    try {
      let image: ImageResult | null = null;
      const processes: ProcessDumpResult[] = [];
      let toolFailure: string | null = null;
      try {
        if (acquirer) {
          log(`  ${acquirer.kind} ${termSafe(acquirer.path)} → staged beside the bundle, then hashed into it`);
          image = await acquireWithTool(writer, acquirer, path.dirname(writer.location), { signal: interrupt.signal, progress, log });
        } else if (prepared) {
          log(`  ${termSafe(prepared.source.path)} → ${prepared.plan.records.length} RAM ranges, ${prepared.plan.bytes} bytes`);
          image = await acquireImage(writer, prepared, { ...opts.physical, signal: interrupt.signal, progress });
        } else {
          for (const pid of opts.pids) {
            if (interrupt.signal.aborted) break;
            log(`  pid ${pid} …`);
            const r = await dumpProcess(writer, pid, { freeze: opts.freeze, signal: interrupt.signal, progress });
            processes.push(r);
            log(`  pid ${pid} ${r.status}${r.statusReason ? `: ${termSafe(r.statusReason)}` : ''}`);
          }
        }
      } catch (err) {
        if (err instanceof AcquirerFailed) {
          toolFailure = err.message;
          writer.recordError({ collector: 'memory', path: null, code: 'ETOOL', message: err.message });
        } else {
          // The writer marks the bundle partial; the seal still fits in its reserve.
          if (!(err instanceof DiskFullError)) throw err;
          writer.recordError({ collector: 'memory', path: null, code: 'ENOSPC', message: err.message });
        }
      }
      const interruptedBy = interrupt.signal.aborted ? String(interrupt.signal.reason) : null;
      if (interruptedBy) await writer.appendCustody({ event: 'interrupted', signal: interruptedBy });
      const incomplete = [image, ...processes].filter((r) => r !== null && r.status === 'partial').length;
      const reason = interruptedBy
        ? `interrupted by ${interruptedBy}`
        : toolFailure ?? (incomplete > 0 ? `${incomplete} acquisition(s) incomplete (see the sidecar JSON)` : null);
      const sealed = await writer.seal({ status: reason ? 'partial' : 'complete', reason, findings: '', signer: null });
      return { ...sealed, interruptedBy, image, processes };
    } catch (err) {
      throw bundleFailure(err);
    } finally {
      interrupt.dispose();
    }
  } finally {
    await prepared?.source.close();
  }
}

async function preflightTool(spec: string): Promise<ExternalAcquirer> {
  const acquirer = await resolveAcquirer(spec);
  if (process.getuid?.() !== 0) throw new UserError(`--tool ${spec}: ${acquirer.kind === 'lime' ? 'loading a kernel module' : 'avml'} needs root: run it with sudo`);
  return acquirer;
}

async function preflightProcesses(pids: number[], freeze: boolean): Promise<null> {
  await checkProcessAccess();
  const mine = freeze ? ancestors() : new Set<number>();
  for (const pid of pids) {
    if (!existsSync(`/proc/${pid}/stat`)) throw new UserError(`no process ${pid}`);
    if (mine.has(pid)) throw new UserError(`--freeze ${pid}: that is goldhour itself or one of its parents; stopping it would hang this session`);
  }
  return null;
}
