import type { Collector, CollectorSettings } from '../collectors/collector.js';
import type { Detector } from '../detect/detector.js';
import type { CaseWriter } from '../evidence/case-writer.js';
import { DiskFullError } from '../evidence/space-guard.js';
import type { Host } from '../host/host.js';
import { errnoCode, errorMessage } from '../lib/user-error.js';
import { collectorContext } from './collector-context.js';

export interface RunProgress {
  collectorStarted(name: string): void;
  collectorEnded(name: string, status: string, rows: number): void;
}

/** Rows are written in parts of about this size, so a collector with millions of rows stays flat in memory. */
const ROWS_PART_BYTES = 32 * 1024 * 1024;

class Stopped extends Error {}

/**
 * Runs collectors one after another, most volatile first. A collector that
 * throws, hangs past its time limit or meets a hostile file is recorded and the
 * run goes on; an interruption or a full disk stops the run between collectors.
 * With a detector, each row is offered to it as it is written (the same line
 * that goes into collectors/NAME.jsonl), so rows are judged without being kept.
 */
export async function runCollectors(
  host: Host,
  settings: CollectorSettings,
  writer: CaseWriter,
  collectors: readonly Collector[],
  interrupt: AbortSignal,
  progress: RunProgress,
  detector?: Detector,
): Promise<void> {
  const alongside: Promise<void>[] = [];
  for (const c of collectors) {
    if (interrupt.aborted || writer.diskFull) {
      const started = new Date().toISOString();
      writer.recordCollector({ name: c.name, status: 'skipped', started, ended: started, rows: 0, artifacts: 0, errors: 0 });
      continue;
    }
    const run = runOne(host, settings, writer, c, interrupt, progress, detector);
    if (c.alongside) alongside.push(run);
    else await run;
  }
  await Promise.all(alongside);
}

/** collectors/NAME.jsonl, then collectors/NAME.2.jsonl … for further parts. */
class RowWriter {
  private lines: string[] = [];
  private bytes = 0;
  private parts = 0;
  rows = 0;

  constructor(
    private readonly writer: CaseWriter,
    private readonly name: string,
  ) {}

  async add(line: string): Promise<void> {
    this.lines.push(line);
    this.bytes += line.length + 1;
    this.rows++;
    if (this.bytes >= ROWS_PART_BYTES) await this.flush();
  }

  /** Writes what is buffered; the first part is written even when empty, so "no rows" is on record. */
  async flush(): Promise<number> {
    if (this.lines.length === 0 && this.parts > 0) return 0;
    const body = Buffer.from(this.lines.map((l) => `${l}\n`).join(''));
    const count = this.lines.length;
    this.lines = [];
    this.bytes = 0;
    this.parts++;
    const file = this.parts === 1 ? `collectors/${this.name}.jsonl` : `collectors/${this.name}.${this.parts}.jsonl`;
    await this.writer.addBuffer(file, body, { source: null, collector: this.name, rows: count });
    return 1;
  }
}

async function runOne(
  host: Host,
  settings: CollectorSettings,
  writer: CaseWriter,
  c: Collector,
  interrupt: AbortSignal,
  progress: RunProgress,
  detector: Detector | undefined,
): Promise<void> {
  progress.collectorStarted(c.name);
  const started = new Date().toISOString();
  const judged = detector?.reads(c.name) ? detector : undefined;
  judged?.begin(c.name, started);
  const signal = AbortSignal.any([interrupt, AbortSignal.timeout(c.timeoutMs)]);
  const { ctx, stats, close } = collectorContext(host, settings, writer, c.name, signal, judged && ((line, stdout) => judged.toolOutput(c.name, line, stdout)));
  const rows = new RowWriter(writer, c.name);
  // A collector that wakes after its time is up may still yield rows that are never written: those are not judged either.
  let rowsClosed = false;
  let status: 'ok' | 'error' | 'timeout' | 'interrupted' = 'ok';
  try {
    await untilAborted(signal, (async () => {
      for await (const row of c.collect(ctx)) {
        const parsed = c.row.safeParse(row);
        if (!parsed.success) ctx.error(null, 'EROW', `row does not match its declaration: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message ?? 'invalid'}`);
        const line = JSON.stringify(row);
        if (!rowsClosed) judged?.offerLine(c.name, line);
        await rows.add(line);
        if (signal.aborted) break;
      }
    })());
  } catch (err) {
    if (err instanceof Stopped) {
      status = interrupt.aborted ? 'interrupted' : 'timeout';
      if (status === 'timeout') ctx.error(null, 'TIMEOUT', `stopped after ${c.timeoutMs} ms; rows so far are kept`);
    } else {
      status = 'error';
      ctx.error(null, err instanceof DiskFullError ? 'ENOSPC' : (errnoCode(err) ?? 'ECOLLECT'), errorMessage(err));
    }
  }
  close();
  rowsClosed = true;
  try {
    stats.artifacts += await rows.flush();
  } catch (err) {
    status = 'error';
    writer.recordError({ collector: c.name, path: null, code: err instanceof DiskFullError ? 'ENOSPC' : (errnoCode(err) ?? 'EWRITE'), message: errorMessage(err) });
    stats.errors++;
  }
  writer.recordCollector({ name: c.name, status, started, ended: new Date().toISOString(), rows: rows.rows, artifacts: stats.artifacts, errors: stats.errors });
  await writer.appendCustody({ event: 'collected', collector: c.name, status, rows: rows.rows, artifacts: stats.artifacts, errors: stats.errors });
  progress.collectorEnded(c.name, status, rows.rows);
  await judged?.ended(c.name, interrupt);
}

/** Resolves with the work, or rejects as soon as the signal fires (a hung read must not hang the run). */
function untilAborted<T>(signal: AbortSignal, work: Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(new Stopped());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Stopped());
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
