import { CHUNK, fileChunks } from '../evidence/file-chunks.js';
import { HostReadError, type Host, type OpenedFile } from '../host/host.js';
import { errnoCode, errorMessage } from '../lib/user-error.js';
import { contentOf, LineSplitter, type ContentNotes } from './logs/content.js';
import type { LogAnalysis } from './logs/index.js';
import type { RowOf } from './rows.js';

/** Categories whose lines the log analysis (src/detect/logs/) understands. */
const ANALYSED_CATEGORIES: ReadonlySet<string> = new Set(['auth', 'syslog', 'web']);

/**
 * A log row whose copied bytes the analysis can read: a plain or gzipped file
 * copied into the bundle, or the journal export (journalctl's output, kept
 * under commands/logs/).
 */
export function analysable(row: RowOf<'logs'>): boolean {
  if (row.category === 'journal-export') return row.copied && row.bytesCopied !== null && row.bytesCopied > 0;
  return row.copied && ANALYSED_CATEGORIES.has(row.category) && row.targetKind === 'file' && (row.compression === null || row.compression === 'gzip');
}

/** The bytes of a log as copied: from the host in a triage (capped as the copy was), from files/ offline; null when gone. */
export type LogOpener = (row: RowOf<'logs'>) => Promise<AsyncIterable<Uint8Array> | null>;

/**
 * What the analysis is told about the host: its time zone puts zone-less
 * syslog times on UTC; `now` (when the logs collector ran, not the clock of
 * whoever analyses later) dates lines of a log whose mtime is unknown.
 */
export interface LogHostFacts {
  timeZone: string | null;
  now: Date;
}

export interface LogFeed {
  /** Made once the logs collector has run, when the host's time zone (system collector) is known. */
  create(facts: LogHostFacts): LogAnalysis;
  open: LogOpener;
  /**
   * In a triage, the output of each program the logs collector ran: the journal
   * export cannot be read again from the host the way a file can, so the feed
   * keeps it until `open` hands it to the analysis.
   */
  keepOutput?(commandLine: string, stdout: Buffer): void;
}

/**
 * A triage's opener: logs read again from the host (hostLogOpener), the
 * journal export from the output the logs collector's run left (each given
 * once, then let go).
 */
export function triageLogFeed(create: LogFeed['create'], fromHost: LogOpener): LogFeed {
  const outputs = new Map<string, Buffer>();
  return {
    create,
    keepOutput: (commandLine, stdout) => {
      if (JOURNAL_EXPORT_COMMAND.test(commandLine)) outputs.set(commandLine, stdout);
    },
    open: async (row) => {
      if (row.category !== 'journal-export') return fromHost(row);
      const out = outputs.get(row.path);
      outputs.delete(row.path);
      return out ? bufferChunks(out) : null;
    },
  };
}

const JOURNAL_EXPORT_COMMAND = /^journalctl .*-o export/;

async function* bufferChunks(data: Buffer): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += CHUNK) yield data.subarray(at, at + CHUNK);
}

/**
 * Reads a log of the examined host again, the way the logs collector copied
 * it: through the Host (inside --root, never through a planted symlink out of
 * it), capped at the same size. A log that can no longer be read is reported
 * and skipped.
 */
export function hostLogOpener(host: Host, maxBytes: number, onError: (path: string, code: string, message: string) => void): LogOpener {
  return async (row) => {
    let file: OpenedFile;
    try {
      file = await host.openFile(row.path);
    } catch (err) {
      if (!(err instanceof HostReadError)) throw err;
      onError(err.hostPath, err.code, `not analysed: ${err.message}`);
      return null;
    }
    return (async function* () {
      try {
        yield* fileChunks(file.fh, maxBytes);
      } catch (err) {
        // a read that fails midway ends this log's input; what was read is analysed
        onError(row.path, errnoCode(err) ?? 'EREAD', `analysed only in part: ${errorMessage(err)}`);
      } finally {
        await file.fh.close();
      }
    })();
  };
}

/** Told each line of every log the analysis reads (the --ioc log matcher), with its host path and 1-based number. */
export type LogLineObserver = (text: string, at: { path: string; line: number }) => void;

const TAP_LINE_BYTES = 64 * 1024;
/** Chunks the line tap may lag behind the analysis before the read waits for it. */
const TAP_QUEUE = 16;

/**
 * The same bytes the analysis reads, split into lines on the side: the
 * chunks pass through unchanged, and a second decoder (gunzip for a rotated
 * generation) turns a copy into lines for `onLine`. The log is read once, and
 * its size was capped where it was opened.
 * `done` settles when the side has seen the last line.
 */
export function tapLines(chunks: AsyncIterable<Uint8Array>, onLine: (text: string, line: number) => void): { chunks: AsyncIterable<Uint8Array>; done: Promise<void> } {
  const queue: Uint8Array[] = [];
  let ended = false;
  let wakeSide: (() => void) | null = null;
  let wakeMain: (() => void) | null = null;
  let sideGone = false;
  const side = {
    async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
      try {
        for (;;) {
          const c = queue.shift();
          wakeMain?.();
          if (c) yield c;
          else if (ended) return;
          else await new Promise<void>((r) => (wakeSide = r));
        }
      } finally {
        sideGone = true;
        queue.length = 0;
        wakeMain?.();
      }
    },
  };
  const splitter = new LineSplitter(TAP_LINE_BYTES, (buf, n) => onLine(buf.toString('utf8'), n));
  const notes: ContentNotes = { compression: null, bytes: 0, capped: false, error: null };
  const done = (async () => {
    for await (const c of contentOf(side, Number.MAX_SAFE_INTEGER, notes)) splitter.push(c);
    splitter.end();
  })();
  const wake = () => {
    const w = wakeSide;
    wakeSide = null;
    w?.();
  };
  async function* main(): AsyncGenerator<Uint8Array> {
    try {
      for await (const c of chunks) {
        if (!sideGone) {
          queue.push(c);
          wake();
          while (queue.length > TAP_QUEUE && !sideGone) await new Promise<void>((r) => (wakeMain = r));
        }
        yield c;
      }
    } finally {
      ended = true;
      wake();
    }
  }
  return { chunks: main(), done };
}
