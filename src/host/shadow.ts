/**
 * /etc/shadow and /etc/gshadow as the examined host has them. The password
 * field is turned into facts here (is it empty, locked, which hash scheme) so
 * that no hash ever leaves this module: rows, logs and errors never carry one.
 * Lines are edited by hand by intruders, so parsing is lenient: a line with a
 * name and a password field is used, and its field count is reported so that a
 * malformed line is still visible.
 */

export type PasswordState =
  /** The field is empty: no password is asked (pam_unix nullok) — anyone can log in. */
  | 'empty'
  /** A hash that authenticates. */
  | 'hash'
  /** '!' or '!!' (or '!' before a hash): locked; a hash after the '!' is kept but cannot match. */
  | 'locked'
  /** '*' or another value that can never match a crypt(3) result: no password login. */
  | 'no-password'
  /** 'x' in /etc/passwd: the real field is in /etc/shadow. */
  | 'shadowed';

export type HashScheme =
  | 'des'
  | 'bsdi'
  | 'md5'
  | 'sha256'
  | 'sha512'
  | 'yescrypt'
  | 'gost-yescrypt'
  | 'scrypt'
  | 'bcrypt'
  | 'sha1crypt'
  | 'sunmd5'
  | 'nthash'
  | 'unknown';

export interface PasswordFacts {
  state: PasswordState;
  /** Scheme of the hash (also of a hash kept after a lock '!'); null when there is no hash. */
  scheme: HashScheme | null;
  /** The field started with '!' (usermod -L / passwd -l). */
  lockedPrefix: boolean;
  /** Length of the field in bytes: a fact for odd values, never the value. */
  length: number;
}

export interface ShadowEntry {
  line: number;
  name: string;
  password: PasswordFacts;
  /** Day of the last password change (YYYY-MM-DD); '1970-01-01' (0) means the user must change it at next login. */
  lastChange: string | null;
  lastChangeDays: number | null;
  minDays: number | null;
  maxDays: number | null;
  warnDays: number | null;
  inactiveDays: number | null;
  /** Day the account expires (YYYY-MM-DD). */
  expires: string | null;
  /** Fields on the line: 9 in a well-formed shadow line. */
  fieldCount: number;
  /** A numeric field held something else than digits. */
  badNumbers: boolean;
}

export interface GshadowEntry {
  line: number;
  name: string;
  password: PasswordFacts;
  admins: string[];
  members: string[];
  fieldCount: number;
}

export interface ShadowParse<E> {
  entries: E[];
  /** Lines (1-based) without even a name and a password field. */
  bad: number[];
}

const DES = /^[./0-9A-Za-z]{13}$/;
const BSDI = /^_[./0-9A-Za-z]{19}$/;

function schemeOf(hash: string): HashScheme {
  if (hash.startsWith('$y$')) return 'yescrypt';
  if (hash.startsWith('$gy$')) return 'gost-yescrypt';
  if (hash.startsWith('$7$')) return 'scrypt';
  if (hash.startsWith('$6$')) return 'sha512';
  if (hash.startsWith('$5$')) return 'sha256';
  if (hash.startsWith('$1$')) return 'md5';
  if (/^\$2[abxy]?\$/.test(hash)) return 'bcrypt';
  if (hash.startsWith('$sha1$')) return 'sha1crypt';
  if (hash.startsWith('$md5')) return 'sunmd5';
  if (hash.startsWith('$3$')) return 'nthash';
  if (BSDI.test(hash)) return 'bsdi';
  if (DES.test(hash)) return 'des';
  return 'unknown';
}

/** Facts about a password field of shadow, gshadow or passwd; the value itself is never returned. */
export function classifyPassword(field: string, opts: { inPasswd?: boolean } = {}): PasswordFacts {
  const length = Buffer.byteLength(field, 'latin1');
  if (field === '') return { state: 'empty', scheme: null, lockedPrefix: false, length };
  if (opts.inPasswd && field === 'x') return { state: 'shadowed', scheme: null, lockedPrefix: false, length };
  if (field.startsWith('!')) {
    const rest = field.replace(/^!+/, '');
    return { state: 'locked', scheme: rest === '' || rest === '*' ? null : schemeOf(rest), lockedPrefix: true, length };
  }
  const scheme = schemeOf(field);
  // crypt(3) never produces '*' or 'x', and an unknown shape cannot be told from junk: no-password
  if (scheme === 'unknown') return { state: field.startsWith('$') ? 'hash' : 'no-password', scheme: field.startsWith('$') ? 'unknown' : null, lockedPrefix: false, length };
  return { state: 'hash', scheme, lockedPrefix: false, length };
}

function lines(text: string): [number, string][] {
  return text
    .split('\n')
    .map((l, i): [number, string] => [i + 1, l.replace(/\r$/, '')])
    .filter(([, l]) => l.trim() !== '' && !l.startsWith('#'));
}

function num(s: string | undefined): { value: number | null; bad: boolean } {
  if (s === undefined || s === '') return { value: null, bad: false };
  if (!/^-?\d{1,15}$/.test(s)) return { value: null, bad: true };
  const n = Number(s);
  // -1 is what some tools write for "not set"
  return n < 0 ? { value: null, bad: false } : { value: n, bad: false };
}

/** Days since 1970-01-01 as YYYY-MM-DD; null when absent or beyond what a Date holds. */
export function daysToDate(days: number | null): string | null {
  if (days === null) return null;
  const ms = days * 86_400_000;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return null;
  return new Date(ms).toISOString().slice(0, 10);
}

export function parseShadow(text: string): ShadowParse<ShadowEntry> {
  const entries: ShadowEntry[] = [];
  const bad: number[] = [];
  for (const [line, l] of lines(text)) {
    const f = l.split(':');
    if (f.length < 2 || f[0] === '') {
      bad.push(line);
      continue;
    }
    const last = num(f[2]);
    const min = num(f[3]);
    const max = num(f[4]);
    const warn = num(f[5]);
    const inactive = num(f[6]);
    const expire = num(f[7]);
    entries.push({
      line,
      name: f[0]!,
      password: classifyPassword(f[1]!),
      lastChange: daysToDate(last.value),
      lastChangeDays: last.value,
      minDays: min.value,
      maxDays: max.value,
      warnDays: warn.value,
      inactiveDays: inactive.value,
      expires: daysToDate(expire.value),
      fieldCount: f.length,
      badNumbers: [last, min, max, warn, inactive, expire].some((n) => n.bad),
    });
  }
  return { entries, bad };
}

export function parseGshadow(text: string): ShadowParse<GshadowEntry> {
  const entries: GshadowEntry[] = [];
  const bad: number[] = [];
  const list = (s: string | undefined) => (s ? s.split(',').filter(Boolean) : []);
  for (const [line, l] of lines(text)) {
    const f = l.split(':');
    if (f.length < 2 || f[0] === '') {
      bad.push(line);
      continue;
    }
    entries.push({ line, name: f[0]!, password: classifyPassword(f[1]!), admins: list(f[2]), members: list(f[3]), fieldCount: f.length });
  }
  return { entries, bad };
}

/** /etc/shells: the shells chsh accepts and some services (ftp, su) check. */
export function parseShells(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, '').trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}
