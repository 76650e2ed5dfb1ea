/**
 * One line of a web server access log in the combined format nginx and Apache
 * write by default (`$remote_addr - $remote_user [$time_local] "$request"
 * $status $body_bytes_sent "$http_referer" "$http_user_agent"`), also with
 * Apache's leading `vhost:port` (vhost_combined) or without the two quoted
 * headers (common). Both servers escape quotes and control bytes in the
 * request (`\"`, `\x22`). Attacker-controlled: anything else is null.
 */
export interface WebRequest {
  client: string;
  /** The bracketed time, e.g. 23/Nov/2026:10:00:01 +0000. */
  time: string;
  method: string;
  /** The request target as logged (still percent-encoded). */
  target: string;
  status: number | null;
  referer: string;
  agent: string;
}

const QUOTED = '"((?:[^"\\\\]|\\\\.)*)"';
const COMBINED = new RegExp(`^(?:\\S+ )??(\\S+) \\S+ \\S+ \\[([^\\]]{1,64})\\] ${QUOTED} (\\d{3}|-) (?:\\d+|-)(?: ${QUOTED} ${QUOTED})?`);

export function parseWebLine(line: string): WebRequest | null {
  const m = COMBINED.exec(line);
  if (!m) return null;
  const request = m[3]!;
  const sp = request.indexOf(' ');
  const method = sp === -1 ? '' : request.slice(0, sp);
  let target = sp === -1 ? request : request.slice(sp + 1);
  const proto = target.lastIndexOf(' HTTP/');
  if (proto !== -1) target = target.slice(0, proto);
  return {
    client: m[1]!,
    time: m[2]!,
    method,
    target,
    status: m[4] === '-' ? null : Number(m[4]),
    referer: m[5] ?? '',
    agent: m[6] ?? '',
  };
}

const LOG_ESCAPE = /\\(x[0-9a-fA-F]{2}|["\\])/g;
const PERCENT = /%(?:([0-9a-fA-F]{2})|u([0-9a-fA-F]{4}))/g;
/** Overlong UTF-8 forms of '.', '/' and '\' that old decoders let through (`%c0%af`). */
const OVERLONG = /\xc0\xae|\xe0\x80\xae|\xc0\xaf|\xe0\x80\xaf|\xc1\x9c|\xc1\x1c/g;
const OVERLONG_CHAR: Record<string, string> = { '\xc0\xae': '.', '\xe0\x80\xae': '.', '\xc0\xaf': '/', '\xe0\x80\xaf': '/', '\xc1\x9c': '\\', '\xc1\x1c': '\\' };
const DECODE_ROUNDS = 3;

/**
 * The text rules look at: log escapes undone, percent-decoding repeated until
 * nothing changes (double and triple encoding: %252e%252e%252f is ../), IIS
 * %uXXXX and overlong UTF-8 folded, '+' in the query read as a space, and
 * lower case. Bytes map to chars one to one (latin1), so invalid UTF-8 cannot
 * throw.
 */
export function normalizeForMatch(text: string, plusIsSpace: boolean): string {
  let s = text.includes('\\') ? text.replace(LOG_ESCAPE, (_, e: string) => (e.length === 3 ? String.fromCharCode(parseInt(e.slice(1), 16)) : e)) : text;
  if (plusIsSpace && s.includes('+')) {
    const q = s.indexOf('?');
    if (q !== -1) s = s.slice(0, q) + s.slice(q).replaceAll('+', ' ');
  }
  let decoded = false;
  for (let round = 0; round < DECODE_ROUNDS && s.includes('%'); round++) {
    const next = s.replace(PERCENT, (_, hex: string | undefined, u: string | undefined) => String.fromCharCode(parseInt(hex ?? u!, 16)));
    if (next === s) break;
    s = next;
    decoded = true;
  }
  if (decoded || s !== text) s = s.replace(OVERLONG, (o) => OVERLONG_CHAR[o]!);
  return s.toLowerCase();
}

/** The query's parameters, names and values decoded (as normalizeForMatch does). */
export function queryParams(target: string): { name: string; value: string }[] {
  const q = target.indexOf('?');
  if (q === -1) return [];
  const out: { name: string; value: string }[] = [];
  for (const pair of target.slice(q + 1).split('&', 64)) {
    const eq = pair.indexOf('=');
    const name = eq === -1 ? pair : pair.slice(0, eq);
    const value = eq === -1 ? '' : pair.slice(eq + 1);
    out.push({ name: normalizeForMatch(name.replaceAll('+', ' '), false), value: normalizeForMatch(value.replaceAll('+', ' '), false) });
  }
  return out;
}
