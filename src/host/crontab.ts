/**
 * Crontabs (system, cron.d, user spools) and anacrontab, parsed from bytes the
 * way Vixie/Debian cron reads them: one line per '\n', blanks are only space
 * and tab, a carriage return is an ordinary byte (it stays in the command, as
 * cron would run it), and a line that does not parse is skipped while the rest
 * of the file still counts. That last rule is what makes a crontab written
 * through Redis `CONFIG SET dir` work: binary junk around one valid line. Every
 * line that cron would take is returned with its exact bytes; everything else
 * is counted as junk.
 */

export type CrontabFlavor = 'system' | 'user';

export interface CronLineFacts {
  /** 1-based line number. */
  line: number;
  /** The line's bytes exactly, without the '\n'. */
  raw: Buffer;
  /** The line ends with '\r' (CRLF file): cron keeps it as part of the line. */
  crlf: boolean;
  /** Carriage returns inside the line (not the final one): they hide what comes before them from `cat`. */
  carriageReturns: number;
  /** Other control bytes (not tab or CR): escape sequences, NUL, backspace. */
  controlBytes: number;
}

export interface CronJob extends CronLineFacts {
  kind: 'job';
  /** The schedule fields joined by one space ('*\/5 * * * *', '@reboot'). */
  schedule: string;
  /** '@reboot', '@daily'… when the line uses one; null for five fields. */
  special: string | null;
  /** The user field of a system crontab; null for user crontabs. */
  user: Buffer | null;
  /** Everything after the schedule (and user), exactly as cron passes it to the shell. */
  command: Buffer;
}

export interface CronEnv extends CronLineFacts {
  kind: 'env';
  name: Buffer;
  value: Buffer;
}

export interface AnacronJob extends CronLineFacts {
  kind: 'job';
  /** Period in days, or '@daily', '@weekly', '@monthly', '@yearly'. */
  period: string;
  /** Delay in minutes. */
  delay: string;
  /** The job identifier (also the name of its timestamp file in /var/spool/anacron). */
  id: Buffer;
  command: Buffer;
}

export interface CrontabParse<Job> {
  entries: (Job | CronEnv)[];
  /** Line numbers of lines that are neither blank, comment, job nor assignment. */
  junkLines: number[];
  /** Bytes in those lines. */
  junkBytes: number;
  /** NUL bytes anywhere in the file. */
  nulBytes: number;
  /** Number of lines (a final line without '\n' counts). */
  lineCount: number;
}

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const isBlank = (b: number | undefined) => b === SPACE || b === TAB;

/** Splits a file into lines on '\n'; a trailing '\n' does not start another line. */
export function splitLines(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (;;) {
    const nl = data.indexOf(0x0a, start);
    if (nl < 0) break;
    out.push(data.subarray(start, nl));
    start = nl + 1;
  }
  if (start < data.length) out.push(data.subarray(start));
  return out;
}

function lineFacts(line: number, raw: Buffer): CronLineFacts {
  let carriageReturns = 0;
  let controlBytes = 0;
  const crlf = raw.length > 0 && raw[raw.length - 1] === CR;
  const end = crlf ? raw.length - 1 : raw.length;
  for (let i = 0; i < end; i++) {
    const b = raw[i]!;
    if (b === CR) carriageReturns++;
    else if ((b < 0x20 && b !== TAB) || b === 0x7f) controlBytes++;
  }
  return { line, raw, crlf, carriageReturns, controlBytes };
}

/** Words separated by blanks, with the offset where each starts and ends. */
function nextWord(raw: Buffer, from: number): { start: number; end: number } | null {
  let i = from;
  while (isBlank(raw[i])) i++;
  if (i >= raw.length) return null;
  let j = i;
  while (j < raw.length && !isBlank(raw[j])) j++;
  return { start: i, end: j };
}

function isComment(raw: Buffer): boolean {
  let i = 0;
  while (isBlank(raw[i])) i++;
  return i >= raw.length || raw[i] === 0x23; // blank or '#'
}

/**
 * An environment assignment as cron's load_env reads it: a name (quoted, or up
 * to a blank or '='), optional blanks, '=', the value with blanks around it
 * trimmed and matching quotes removed.
 */
export function parseEnvLine(raw: Buffer): { name: Buffer; value: Buffer } | null {
  let i = 0;
  while (isBlank(raw[i])) i++;
  let name: Buffer;
  const q = raw[i];
  if (q === 0x22 || q === 0x27) {
    const close = raw.indexOf(q, i + 1);
    if (close < 0) return null;
    name = raw.subarray(i + 1, close);
    i = close + 1;
  } else {
    const start = i;
    while (i < raw.length && !isBlank(raw[i]) && raw[i] !== 0x3d) i++;
    name = raw.subarray(start, i);
  }
  if (name.length === 0) return null;
  while (isBlank(raw[i])) i++;
  if (raw[i] !== 0x3d) return null;
  i++;
  while (isBlank(raw[i])) i++;
  let end = raw.length;
  while (end > i && isBlank(raw[end - 1])) end--;
  let value = raw.subarray(i, end);
  const vq = value[0];
  if (value.length >= 2 && (vq === 0x22 || vq === 0x27) && value[value.length - 1] === vq) value = value.subarray(1, value.length - 1);
  return { name, value };
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const FIELDS: { min: number; max: number; names?: string[]; nameBase?: number }[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { min: 0, max: 7, names: DAYS, nameBase: 0 },
];

function fieldValue(tok: string, f: (typeof FIELDS)[number]): number | null {
  if (/^\d{1,3}$/.test(tok)) {
    const n = Number(tok);
    return n >= f.min && n <= f.max ? n : null;
  }
  if (f.names && /^[A-Za-z]{3}$/.test(tok)) {
    const i = f.names.indexOf(tok.toLowerCase());
    return i < 0 ? null : i + f.nameBase!;
  }
  return null;
}

/** One time field of a five-field schedule: lists of *, n, a-b, a~b (cronie's random), each with an optional /step. */
export function validField(tok: string, index: number): boolean {
  const f = FIELDS[index];
  if (!f || tok === '') return false;
  return tok.split(',').every((item) => {
    const [base, step, ...rest] = item.split('/');
    if (rest.length > 0 || base === undefined) return false;
    if (step !== undefined && !/^\d{1,3}$/.test(step)) return false;
    if (step !== undefined && Number(step) === 0) return false;
    if (base === '*' || base === '~') return true;
    const range = base.match(/^([^-~]+)([-~])([^-~]*)$/);
    if (range) {
      const lo = fieldValue(range[1]!, f);
      if (lo === null) return false;
      if (range[2] === '~' && range[3] === '') return true;
      const hi = fieldValue(range[3]!, f);
      return hi !== null && (range[2] === '~' ? lo <= hi : true);
    }
    return fieldValue(base, f) !== null;
  });
}

export const SPECIAL_SCHEDULES = ['@reboot', '@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/** A cron job line (system flavor: with the user field), or null when cron would reject it. */
export function parseJobLine(raw: Buffer, flavor: CrontabFlavor): { schedule: string; special: string | null; user: Buffer | null; command: Buffer } | null {
  const first = nextWord(raw, 0);
  if (!first) return null;
  let pos: number;
  let schedule: string;
  let special: string | null = null;
  if (raw[first.start] === 0x40) {
    const word = raw.subarray(first.start, first.end).toString('latin1');
    if (!SPECIAL_SCHEDULES.includes(word)) return null;
    special = word;
    schedule = word;
    pos = first.end;
  } else {
    const toks: string[] = [];
    pos = 0;
    for (let k = 0; k < 5; k++) {
      const w = nextWord(raw, pos);
      if (!w) return null;
      const tok = raw.subarray(w.start, w.end).toString('latin1');
      if (!validField(tok, k)) return null;
      toks.push(tok);
      pos = w.end;
    }
    schedule = toks.join(' ');
  }
  let user: Buffer | null = null;
  if (flavor === 'system') {
    const w = nextWord(raw, pos);
    if (!w) return null;
    user = raw.subarray(w.start, w.end);
    pos = w.end;
  }
  while (isBlank(raw[pos])) pos++;
  if (pos >= raw.length) return null;
  return { schedule, special, user, command: raw.subarray(pos) };
}

function parseLines<Job>(data: Buffer, job: (raw: Buffer, line: number) => Job | null): CrontabParse<Job> {
  const lines = splitLines(data);
  const entries: (Job | CronEnv)[] = [];
  const junkLines: number[] = [];
  let junkBytes = 0;
  let nulBytes = 0;
  for (const b of data) if (b === 0) nulBytes++;
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (isComment(raw)) return;
    const env = parseEnvLine(raw);
    if (env) {
      entries.push({ kind: 'env', ...lineFacts(line, raw), name: env.name, value: env.value });
      return;
    }
    const j = job(raw, line);
    if (j) {
      entries.push(j);
      return;
    }
    junkLines.push(line);
    junkBytes += raw.length;
  });
  return { entries, junkLines, junkBytes, nulBytes, lineCount: lines.length };
}

/** A crontab: system flavor (/etc/crontab, /etc/cron.d/*) has a user field, user flavor (spools) does not. */
export function parseCrontab(data: Buffer, flavor: CrontabFlavor): CrontabParse<CronJob> {
  return parseLines(data, (raw, line) => {
    const j = parseJobLine(raw, flavor);
    return j ? { kind: 'job' as const, ...lineFacts(line, raw), ...j } : null;
  });
}

/** /etc/anacrontab: assignments and `period delay job-identifier command` lines. */
export function parseAnacrontab(data: Buffer): CrontabParse<AnacronJob> {
  return parseLines(data, (raw, line) => {
    const p = nextWord(raw, 0);
    const d = p && nextWord(raw, p.end);
    const id = d && nextWord(raw, d.end);
    if (!p || !d || !id) return null;
    const period = raw.subarray(p.start, p.end).toString('latin1');
    const delay = raw.subarray(d.start, d.end).toString('latin1');
    if (!/^(\d+|@daily|@weekly|@monthly|@yearly|@annually)$/.test(period) || !/^\d+$/.test(delay)) return null;
    let pos = id.end;
    while (isBlank(raw[pos])) pos++;
    if (pos >= raw.length) return null;
    return { kind: 'job' as const, ...lineFacts(line, raw), period, delay, id: raw.subarray(id.start, id.end), command: raw.subarray(pos) };
  });
}

/**
 * Whether run-parts (Debian's cron.daily & co., and Debian cron for cron.d)
 * would use a file of this name: only letters, digits, '_' and '-'.
 */
export function runPartsName(name: string): boolean {
  return /^[A-Za-z0-9_-]+$/.test(name);
}
