/**
 * Timestamps at the start of log lines, in the formats Linux hosts write:
 * classic syslog (RFC 3164, `Nov 23 10:00:01`, no year, no zone), RFC 5424 and
 * RFC 3339 (rsyslog on Debian 12, journald exports), ISO with a space (dpkg,
 * PostgreSQL), audit's `msg=audit(1700000000.123:42)`, the common log format
 * of web servers (`[23/Nov/2026:10:00:01 +0000]`), Apache's and nginx's error
 * logs and apt's history. Lines are attacker-controlled: anything parses to a
 * stamp or to null, never an exception.
 *
 * A stamp without a zone is the host's local time, whose zone we do not know
 * here: it is rendered without a 'Z' and flagged as local. A stamp without a
 * year (RFC 3164) gets one inferred from the file's mtime; see inferYears.
 */

export type TimeFormat = 'rfc3164' | 'rfc3339' | 'rfc5424' | 'iso-space' | 'audit' | 'clf' | 'apache-error' | 'nginx-error' | 'apt';

export interface LogStamp {
  format: TimeFormat;
  /** Null when the format carries no year (RFC 3164). */
  year: number | null;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millis: number;
  /** Minutes east of UTC; null when the line carries no zone (the host's local time). */
  offsetMinutes: number | null;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MON = '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const monthOf = (m: string) => MONTHS.indexOf(m) + 1;

const RFC3164 = new RegExp(`^(?:<\\d{1,3}>)?${MON} {1,2}(\\d{1,2}) (\\d\\d):(\\d\\d):(\\d\\d)(?:\\.(\\d{1,9}))?(?![\\d.])`);
const ISO = /^(\d{4})-(\d\d)-(\d\d)([T ])(\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(?:(Z)|([+-])(\d\d):?(\d\d)| (UTC|GMT)\b)?(?![\d.])/;
const RFC5424_PREFIX = /^<\d{1,3}>\d{1,2} /;
const APACHE = new RegExp(`^\\[(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ${MON} {1,2}(\\d{1,2}) (\\d\\d):(\\d\\d):(\\d\\d)(?:\\.(\\d{1,9}))? (\\d{4})\\]`);
const NGINX = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)(?![\d.])/;
const APT = /^(?:Start-Date|End-Date|Log started|Log ended): (\d{4})-(\d\d)-(\d\d) {1,2}(\d\d):(\d\d):(\d\d)/;
const AUDIT = /msg=audit\((\d{1,12})(?:\.(\d{1,6}))?:\d+\)/;
const CLF = new RegExp(`\\[(\\d{1,2})/${MON}/(\\d{4}):(\\d\\d):(\\d\\d):(\\d\\d) ([+-])(\\d\\d)(\\d\\d)\\]`);

/** Only this much of a line is looked at: a hostile multi-megabyte line costs nothing. */
const LOOK = 1024;

const frac = (s: string | undefined) => (s ? Math.floor(Number(`0.${s}`) * 1000) : 0);

function stamp(format: TimeFormat, year: number | null, month: number, day: number, h: string, m: string, s: string, ms: number, offset: number | null): LogStamp | null {
  const st: LogStamp = { format, year, month, day, hour: Number(h), minute: Number(m), second: Number(s), millis: ms, offsetMinutes: offset };
  if (st.month < 1 || st.month > 12 || st.day < 1 || st.day > 31 || st.hour > 23 || st.minute > 59 || st.second > 59) return null;
  if (offset !== null && Math.abs(offset) > 18 * 60) return null;
  // a year given must make the date real (no 31 Nov); a missing one is checked when it is inferred
  if (year !== null && utcMillis(st, year) === null) return null;
  if (year === null && utcMillis(st, 2000) === null) return null; // 2000 is leap: only impossible days fail
  return st;
}

/** Parses the timestamp a log line starts with (or, for audit and web logs, carries); null when there is none. */
export function parseLogTime(input: string): LogStamp | null {
  let line = input.length > LOOK ? input.slice(0, LOOK) : input;
  line = line.replace(/^[\0\uFEFF]+/, '');
  let m: RegExpMatchArray | null;
  let format: TimeFormat = 'rfc3339';
  const pri = RFC5424_PREFIX.exec(line);
  if (pri) {
    line = line.slice(pri[0].length);
    format = 'rfc5424';
  }
  if ((m = ISO.exec(line))) {
    const [, y, mo, d, sep, h, mi, s, fr, z, sign, oh, om, zname] = m;
    const offset = z || zname ? 0 : sign ? (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) : null;
    const fmt: TimeFormat = format === 'rfc5424' ? 'rfc5424' : sep === 'T' ? 'rfc3339' : 'iso-space';
    return stamp(fmt, Number(y), Number(mo), Number(d), h!, mi!, s!, frac(fr), offset);
  }
  if (pri) return null;
  if ((m = RFC3164.exec(line))) {
    const [, mon, d, h, mi, s, fr] = m;
    return stamp('rfc3164', null, monthOf(mon!), Number(d), h!, mi!, s!, frac(fr), null);
  }
  if ((m = APACHE.exec(line))) {
    const [, mon, d, h, mi, s, fr, y] = m;
    return stamp('apache-error', Number(y), monthOf(mon!), Number(d), h!, mi!, s!, frac(fr), null);
  }
  if ((m = NGINX.exec(line))) {
    const [, y, mo, d, h, mi, s] = m;
    return stamp('nginx-error', Number(y), Number(mo), Number(d), h!, mi!, s!, 0, null);
  }
  if ((m = APT.exec(line))) {
    const [, y, mo, d, h, mi, s] = m;
    return stamp('apt', Number(y), Number(mo), Number(d), h!, mi!, s!, 0, null);
  }
  if ((m = AUDIT.exec(line))) {
    const ms = Number(m[1]) * 1000 + frac(m[2]);
    const dt = new Date(ms);
    if (Number.isNaN(dt.getTime())) return null;
    return {
      format: 'audit',
      year: dt.getUTCFullYear(),
      month: dt.getUTCMonth() + 1,
      day: dt.getUTCDate(),
      hour: dt.getUTCHours(),
      minute: dt.getUTCMinutes(),
      second: dt.getUTCSeconds(),
      millis: dt.getUTCMilliseconds(),
      offsetMinutes: 0,
    };
  }
  if ((m = CLF.exec(line))) {
    const [, d, mon, y, h, mi, s, sign, oh, om] = m;
    return stamp('clf', Number(y), monthOf(mon!), Number(d), h!, mi!, s!, 0, (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)));
  }
  return null;
}

/** Milliseconds of the wall-clock reading as if it were UTC; null when the date does not exist in that year. */
function utcMillis(s: LogStamp, year: number): number | null {
  if (year < 0 || year > 9999) return null;
  const d = new Date(Date.UTC(2000, s.month - 1, s.day, s.hour, s.minute, s.second, s.millis));
  d.setUTCFullYear(year);
  if (d.getUTCMonth() !== s.month - 1 || d.getUTCDate() !== s.day) return null;
  return d.getTime();
}

/** ISO 8601: in UTC with 'Z' when the stamp has a zone, else the local wall-clock time without a zone. */
export function stampToIso(s: LogStamp, year: number | null = s.year): string | null {
  if (year === null) return null;
  const wall = utcMillis(s, year);
  if (wall === null) return null;
  if (s.offsetMinutes === null) return new Date(wall).toISOString().replace(/Z$/, '');
  const t = wall - s.offsetMinutes * 60_000;
  return Math.abs(t) < 8.64e15 ? new Date(t).toISOString() : null;
}

/** How far a local time may run ahead of the file's mtime (UTC): the largest zone offset (+14:00), plus a margin. */
const SLACK_MS = 15 * 3600_000;

/**
 * Years for the first and last stamps of a file whose lines have none. The
 * last line was written at or before the file's mtime, and the file spans
 * less than a year, so: the last stamp takes the latest year that does not put
 * it after the mtime; the first takes the same year, or the one before when
 * its month-day-time comes after the last's (Dec 31 … Jan 1). Feb 29 falls
 * back to the nearest earlier leap year. Stamps that carry a year keep it.
 */
export function inferYears(first: LogStamp | null, last: LogStamp | null, mtime: Date): { first: number | null; last: number | null } {
  const limit = mtime.getTime() + SLACK_MS;
  const fits = (s: LogStamp, y: number) => {
    const t = utcMillis(s, y);
    return t !== null && t <= limit;
  };
  const latestYear = (s: LogStamp, from: number, ok: (y: number) => boolean): number | null => {
    for (let y = from; y > from - 9; y--) if (utcMillis(s, y) !== null && ok(y)) return y;
    return null;
  };
  const startYear = Number.isNaN(mtime.getTime()) ? null : mtime.getUTCFullYear() + 1;
  let lastYear: number | null = null;
  if (last) lastYear = last.year ?? (startYear === null ? null : latestYear(last, startYear, (y) => fits(last, y)));
  let firstYear: number | null = null;
  if (first) {
    if (first.year !== null) firstYear = first.year;
    else if (last && lastYear !== null) {
      const lastWall = utcMillis(last, lastYear)! - (last.offsetMinutes ?? 0) * 60_000;
      firstYear = latestYear(first, lastYear, (y) => utcMillis(first, y)! - (first.offsetMinutes ?? 0) * 60_000 <= lastWall);
    } else if (startYear !== null) firstYear = latestYear(first, startYear, (y) => fits(first, y));
  }
  return { first: firstYear, last: lastYear };
}

export interface TimeSpan {
  firstTime: string | null;
  lastTime: string | null;
  /** Format of the first stamp found (of the last when there is no first). */
  format: TimeFormat | null;
  /** A year was inferred from the mtime for at least one of the two. */
  yearInferred: boolean;
  /** At least one of the two carries no zone: it is the host's local time. */
  local: boolean;
}

/** First and last times of a file from the first and last stamps found in it and its mtime. */
export function timeSpan(first: LogStamp | null, last: LogStamp | null, mtime: Date): TimeSpan {
  const years = inferYears(first, last, mtime);
  return {
    firstTime: first ? stampToIso(first, years.first) : null,
    lastTime: last ? stampToIso(last, years.last) : null,
    format: first?.format ?? last?.format ?? null,
    yearInferred: (first !== null && first.year === null) || (last !== null && last.year === null),
    local: (first !== null && first.offsetMinutes === null) || (last !== null && last.offsetMinutes === null),
  };
}
