import type { z } from 'zod';
import type { Host, ReadResult } from '../host/host.js';

/**
 * What a collector may do besides yielding rows: keep raw copies of what it
 * read and record what went wrong. Collectors never judge; detectors do.
 */
export interface CollectorContext {
  readonly host: Host;
  /** Aborted when the run is interrupted or the collector's time is up. */
  readonly signal: AbortSignal;
  /** Keeps a byte-faithful copy under files/<host path>. */
  keepCopy(read: ReadResult): Promise<void>;
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
  row: Row;
  collect(ctx: CollectorContext): AsyncIterable<z.infer<Row>>;
}

export function defineCollector<Row extends z.ZodObject>(c: Collector<Row>): Collector<Row> {
  return c;
}
