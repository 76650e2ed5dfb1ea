import { fileChunks } from '../evidence/file-chunks.js';
import { HostReadError, type Host, type OpenedFile } from '../host/host.js';
import { errnoCode, errorMessage } from '../lib/user-error.js';
import type { LogAnalysis } from './logs/index.js';
import type { RowOf } from './rows.js';

/**
 * Categories whose lines the log analysis (src/detect/logs/) understands.
 * journal-export is not fed although it could read it: the export is command
 * output kept under commands/, which neither the Host nor a bundle's files/
 * gives back the same way in a triage and offline.
 */
const ANALYSED_CATEGORIES: ReadonlySet<string> = new Set(['auth', 'syslog', 'web']);

/** A log row whose copied bytes the analysis can read (plain text or gzip, copied into the bundle). */
export function analysable(row: RowOf<'logs'>): boolean {
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
