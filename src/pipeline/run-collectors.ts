import type { Collector, CollectorContext } from '../collectors/collector.js';
import type { CaseWriter } from '../evidence/case-writer.js';
import { DiskFullError } from '../evidence/space-guard.js';
import type { Host, ReadResult } from '../host/host.js';
import { bundlePathForHostFile } from '../lib/host-path.js';
import { errnoCode, errorMessage } from '../lib/user-error.js';

export interface RunProgress {
  collectorStarted(name: string): void;
  collectorEnded(name: string, status: string, rows: number): void;
}

class CollectorTimeout extends Error {}

/**
 * Runs collectors one after another, most volatile first. A collector that
 * throws, hangs past its time limit or meets a hostile file is recorded and the
 * run goes on; an interruption or a full disk stops the run between collectors.
 */
export async function runCollectors(
  host: Host,
  writer: CaseWriter,
  collectors: readonly Collector[],
  interrupt: AbortSignal,
  progress: RunProgress,
): Promise<void> {
  for (const c of collectors) {
    if (interrupt.aborted || writer.diskFull) {
      const started = new Date().toISOString();
      writer.recordCollector({ name: c.name, status: 'skipped', started, ended: started, rows: 0, artifacts: 0, errors: 0 });
      continue;
    }
    await runOne(host, writer, c, interrupt, progress);
  }
}

async function runOne(host: Host, writer: CaseWriter, c: Collector, interrupt: AbortSignal, progress: RunProgress): Promise<void> {
  progress.collectorStarted(c.name);
  const started = new Date().toISOString();
  const timer = AbortSignal.timeout(c.timeoutMs);
  const signal = AbortSignal.any([interrupt, timer]);
  let open = true;
  let artifacts = 0;
  let errors = 0;
  const error = (path: string | null, code: string, message: string) => {
    if (!open) return;
    errors++;
    writer.recordError({ collector: c.name, path, code, message });
  };
  const ctx: CollectorContext = {
    host,
    signal,
    error,
    keepCopy: async (read: ReadResult) => {
      if (!open) return;
      await writer.addBuffer(bundlePathForHostFile(read.hostPath), read.data, {
        source: read.hostPath,
        collector: c.name,
        sourceMtime: read.facts.mtime,
        sourceMode: read.facts.mode,
        sourceUid: read.facts.uid,
        sourceGid: read.facts.gid,
        ...(read.truncated ? { truncatedAt: read.data.length, sourceSize: read.facts.size } : {}),
        changedWhileRead: read.changedWhileRead,
      });
      artifacts++;
    },
  };
  const rows: string[] = [];
  let status: 'ok' | 'error' | 'timeout' | 'interrupted' = 'ok';
  try {
    await untilAborted(signal, (async () => {
      for await (const row of c.collect(ctx)) {
        const parsed = c.row.safeParse(row);
        if (!parsed.success) error(null, 'EROW', `row does not match its declaration: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
        rows.push(JSON.stringify(row));
        if (signal.aborted) break;
      }
    })());
  } catch (err) {
    if (err instanceof CollectorTimeout) {
      status = interrupt.aborted ? 'interrupted' : 'timeout';
      if (status === 'timeout') error(null, 'TIMEOUT', `stopped after ${c.timeoutMs} ms; rows so far are kept`);
    } else if (err instanceof DiskFullError) {
      status = 'error';
      error(null, 'ENOSPC', err.message);
    } else {
      status = 'error';
      error(null, errnoCode(err) ?? 'ECOLLECT', errorMessage(err));
    }
  }
  open = false;
  if (rows.length > 0 || status === 'ok') {
    try {
      const body = Buffer.from(rows.map((r) => `${r}\n`).join(''));
      await writer.addBuffer(`collectors/${c.name}.jsonl`, body, { source: null, collector: c.name, rows: rows.length });
      artifacts++;
    } catch (err) {
      status = 'error';
      writer.recordError({ collector: c.name, path: null, code: errnoCode(err) ?? (err instanceof DiskFullError ? 'ENOSPC' : 'EWRITE'), message: errorMessage(err) });
      errors++;
    }
  }
  writer.recordCollector({ name: c.name, status, started, ended: new Date().toISOString(), rows: rows.length, artifacts, errors });
  await writer.appendCustody({ event: 'collected', collector: c.name, status, rows: rows.length, artifacts, errors });
  progress.collectorEnded(c.name, status, rows.length);
}

/** Resolves with the work, or rejects as soon as the signal fires (a hung read must not hang the run). */
function untilAborted<T>(signal: AbortSignal, work: Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(new CollectorTimeout());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new CollectorTimeout());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
