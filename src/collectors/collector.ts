import type { z } from 'zod';
import type { Host, ReadResult } from '../host/host.js';

export interface ReadOptions {
  maxBytes?: number;
  /** Keep a raw copy under files/<host path> (default: true for files, false for /proc). */
  keep?: boolean;
}

export interface ToolRun {
  path: string;
  exitCode: number | null;
  stdout: Buffer;
  stderr: Buffer;
  timedOut: boolean;
}

export interface ToolOptions {
  purpose: string;
  timeoutMs?: number;
  maxBytes?: number;
}

/** Choices the responder makes on the command line that shape what collectors gather. */
export interface CollectorSettings {
  /** processes: copy executables that were deleted from disk into the bundle (--copy-deleted). */
  copyDeleted: boolean;
  /** packages: check every file of every package, not only what intruders replace (--deep). */
  deep: boolean;
  /** files: how many days back "recently changed" reaches (--recent). */
  recentDays: number;
  /** files: paths to walk for the timeline bodyfile; empty for none, ['/'] for everything (--bodyfile). */
  bodyfile: string[];
  /** logs: most bytes copied from any one log file (--log-max). */
  logMaxBytes: number;
}

export const DEFAULT_SETTINGS: CollectorSettings = {
  copyDeleted: false,
  deep: false,
  recentDays: 7,
  bodyfile: [],
  logMaxBytes: 256 * 1024 * 1024,
};

/**
 * What a collector may do besides yielding rows: read the host (recording what
 * fails), keep raw copies, run an unavoidable external program (recorded with
 * its path and SHA-256), and record errors. Collectors never judge; detectors do.
 */
export interface CollectorContext {
  readonly host: Host;
  readonly settings: CollectorSettings;
  /** Aborted when the run is interrupted or the collector's time is up. */
  readonly signal: AbortSignal;
  /** Reads a host file; a missing file gives null silently, any other failure is recorded and gives null. */
  read(hostPath: string, opts?: ReadOptions): Promise<ReadResult | null>;
  /** Reads /proc/REL (or the saved --proc); null when absent, unreadable or there is no /proc. */
  readProc(rel: string, opts?: ReadOptions): Promise<ReadResult | null>;
  /** Keeps a byte-faithful copy of something already read, under files/<host path>. */
  keepCopy(read: ReadResult): Promise<void>;
  /** Streams a (large) host file into the bundle without holding it in memory, capped at maxBytes. */
  copyFile(hostPath: string, opts: { maxBytes: number }): Promise<boolean>;
  /**
   * Runs a program from the live host's system directories (never from PATH or
   * the examined image) with an argument array; its output is kept under
   * commands/. Null when the program is not installed or the host is not live.
   */
  runTool(program: string, args: string[], opts: ToolOptions): Promise<ToolRun | null>;
  error(path: string | null, code: string, message: string): void;
}

/**
 * One source of facts, declared like an osquery table spec: its row type is
 * declared once (each field described), and docs/collectors.md is generated
 * from these declarations (npm run docs).
 */
export interface Collector<Row extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  /** For the analyst who will act on the rows. */
  description: string;
  /** Which hosts and privileges it needs to give full results. */
  preconditions: string;
  timeoutMs: number;
  /**
   * Slow and independent of what follows (its heavy work runs off the main
   * thread): the collectors after it start without waiting for it to finish.
   */
  alongside?: boolean;
  row: Row;
  collect(ctx: CollectorContext): AsyncIterable<z.infer<Row>>;
}

export function defineCollector<Row extends z.ZodObject>(c: Collector<Row>): Collector<Row> {
  return c;
}
