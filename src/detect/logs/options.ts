import { z } from 'zod';

const count = (min: number, max: number) => z.number().int().min(min).max(max);

/**
 * Tuning of the log analysis, declared once; every field has a default, so
 * callers pass only what they change. Times are in milliseconds.
 */
export const LogAnalysisOptions = z.object({
  /** SSH brute force: this many failed logins from one address… */
  bruteForceThreshold: count(2, 1000).default(10),
  /** …within this sliding window (10 minutes, fail2ban's findtime). */
  bruteForceWindowMs: count(1000, 30 * 86_400_000).default(10 * 60_000),
  /** Password spraying: failures from one address across at least this many distinct user names… */
  sprayUsers: count(2, 256).default(10),
  /** …with at most this many failures per user on average (many accounts, few guesses each). */
  sprayMaxPerUser: z.number().min(1).max(1000).default(3),
  /** A success is critical when its address failed at least this many times… */
  successAfterFailures: count(1, 1000).default(5),
  /** …within this long before it (24 hours). */
  successLookbackMs: count(60_000, 366 * 86_400_000).default(86_400_000),
  /**
   * The host's IANA time zone (the system collector's `timezone`), used to put
   * zone-less times (classic syslog) on UTC. Null or unknown: such times stay
   * local, findings carry them as local in evidence and `ts` is null.
   */
  timeZone: z.string().nullable().default(null),
  /** Findings per rule; sources beyond it are folded into one finding per rule (address null, otherSources). */
  maxSourcesPerRule: count(1, 1_000_000).default(1000),
  /** Source addresses whose logins are tracked; later ones are counted as untracked and reported. */
  maxTrackedAddresses: count(16, 10_000_000).default(50_000),
  /** Content read per input (decompressed): a gzip bomb costs no more than this. */
  maxBytesPerInput: count(1, Number.MAX_SAFE_INTEGER).default(4 * 1024 ** 3),
  /** Longer lines are analysed by their first this-many bytes. */
  maxLineBytes: count(256, 16 * 1024 * 1024).default(64 * 1024),
  /** Used to infer the year of classic syslog lines when an input has no mtime. */
  now: z.date().default(() => new Date()),
});
export type LogAnalysisOptions = z.infer<typeof LogAnalysisOptions>;

/** Defaults filled in; a value out of range is a programming error and throws a one-line message. */
export function resolveOptions(opts: Partial<LogAnalysisOptions> = {}): LogAnalysisOptions {
  const r = LogAnalysisOptions.safeParse(opts);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new Error(`log analysis option ${issue.path.join('.')}: ${issue.message}`);
  }
  return r.data;
}
