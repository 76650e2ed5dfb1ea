import { inferYears, parseLogTime, type LogStamp } from '../../host/syslog-time.js';

/**
 * Times of log events while a file streams past, and on UTC at the end.
 *
 * A classic syslog stamp has no year and no zone, and the year can only be
 * told from the file's mtime and its *last* line, which comes last. So events
 * are timed provisionally as they stream: zone-less readings are kept as
 * wall-clock milliseconds shifted up by LOCAL_BIAS, and year-less ones start
 * in a placeholder year (PROVISIONAL_YEAR, a leap year) that advances whenever
 * the calendar runs backwards (Dec 31 -> Jan 1). Differences inside one file
 * are right from the start (sliding windows work as lines arrive); finish()
 * shifts the placeholder years to the inferred ones and, when the host's zone
 * is known, puts local readings on UTC.
 */

const LOCAL_BIAS = 1e15;
const LOCAL_FLOOR = 5e14;
const PROVISIONAL_YEAR = 1200;
const PROVISIONAL_END = 1300;
/** The calendar ran backwards by more than this: a new year began (less: a clock step or reordering). */
const ROLLOVER_MS = 30 * 86_400_000;

export interface Resolved {
  /** Milliseconds since the epoch: UTC, or the local wall clock read as if it were UTC when `local`. */
  ms: number;
  local: boolean;
}

function wallMillis(s: LogStamp, year: number): number {
  const d = new Date(Date.UTC(2000, s.month - 1, s.day, s.hour, s.minute, s.second, s.millis));
  d.setUTCFullYear(year);
  return d.getTime();
}

/** One input's clock: encodes stamps as lines arrive, resolves them after the last line. */
export class InputClock {
  private year = PROVISIONAL_YEAR;
  private prevYearless = Number.NaN;
  private lastYearless: LogStamp | null = null;
  private yearShift = 0;
  private lastText: string | null = null;
  private lastT = Number.NaN;

  constructor(private readonly mtime: Date) {}

  /** encode() of a timestamp as written; lines of one second share it, so the last one is remembered. */
  encodeText(text: string | null): number {
    if (text === null) return Number.NaN;
    if (text !== this.lastText) {
      this.lastText = text;
      this.lastT = this.encode(parseLogTime(text));
    }
    return this.lastT;
  }

  /** A provisional time (NaN when the line had none). */
  encode(s: LogStamp | null): number {
    if (!s) return Number.NaN;
    if (s.year === null) {
      let wall = wallMillis(s, this.year);
      if (wall < this.prevYearless - ROLLOVER_MS && this.year < PROVISIONAL_END - 1) wall = wallMillis(s, ++this.year);
      this.prevYearless = wall;
      this.lastYearless = s;
      return wall + LOCAL_BIAS;
    }
    const wall = wallMillis(s, s.year);
    return s.offsetMinutes === null ? wall + LOCAL_BIAS : wall - s.offsetMinutes * 60_000;
  }

  /** Called once after the input's last line: fixes the year of classic syslog lines from the mtime. */
  seal(): void {
    if (!this.lastYearless) return;
    const real = inferYears(null, this.lastYearless, this.mtime).last;
    if (real !== null) this.yearShift = real - this.year;
  }

  /** Provisional year-less readings carry a placeholder year: shift them to the inferred one. */
  wall(t: number): number {
    const wall = t - LOCAL_BIAS;
    const d = new Date(wall);
    const y = d.getUTCFullYear();
    if (y >= PROVISIONAL_YEAR && y < PROVISIONAL_END && this.yearShift !== 0) d.setUTCFullYear(y + this.yearShift);
    return d.getTime();
  }

  isLocal(t: number): boolean {
    return t >= LOCAL_FLOOR;
  }
}

/** Offsets of one IANA zone, cached per hour of wall-clock time. */
class ZoneOffsets {
  private readonly fmt: Intl.DateTimeFormat | null;
  private readonly cache = new Map<number, number>();

  constructor(zone: string | null) {
    let fmt: Intl.DateTimeFormat | null = null;
    if (zone) {
      try {
        fmt = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
      } catch {
        // the zone name came from the examined host: an unknown one leaves times local
      }
    }
    this.fmt = fmt;
  }

  get known(): boolean {
    return this.fmt !== null;
  }

  /** The zone's wall clock minus UTC at an instant. */
  private offsetAt(utc: number): number {
    const parts: Record<string, number> = {};
    for (const p of this.fmt!.formatToParts(new Date(utc))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
    const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
    return wall - Math.floor(utc / 1000) * 1000;
  }

  /** UTC of a wall-clock reading in this zone (in a gap or fold, the reading before the change). */
  toUtc(wall: number): number {
    const hour = Math.floor(wall / 3_600_000);
    let off = this.cache.get(hour);
    if (off === undefined) {
      off = this.offsetAt(wall - this.offsetAt(wall));
      if (this.cache.size > 100_000) this.cache.clear();
      this.cache.set(hour, off);
    }
    return wall - off;
  }
}

/** Resolves provisional times of sealed inputs. */
export class Clocks {
  private readonly zone: ZoneOffsets;

  constructor(zone: string | null) {
    this.zone = new ZoneOffsets(zone);
  }

  resolve(clock: InputClock, t: number): Resolved {
    if (Number.isNaN(t)) return { ms: Number.NaN, local: false };
    if (!clock.isLocal(t)) return { ms: t, local: false };
    const wall = clock.wall(t);
    if (Number.isNaN(wall) || !this.zone.known) return { ms: wall, local: true };
    return { ms: this.zone.toUtc(wall), local: false };
  }
}

/** ISO 8601: UTC with 'Z', or the local wall clock without a zone; null for an unknown or impossible time. */
export function isoOf(r: Resolved): string | null {
  if (!Number.isFinite(r.ms) || Math.abs(r.ms) >= 8.64e15) return null;
  const iso = new Date(r.ms).toISOString();
  return r.local ? iso.replace(/Z$/, '') : iso;
}
