import { createHash } from 'node:crypto';

/**
 * OpenSSH authorized_keys lines (sshd(8) "AUTHORIZED_KEYS FILE FORMAT"):
 *   [options] keytype base64-blob [comment]
 * Options are comma-separated `name` or `name="value"`; inside a value `\"` is
 * a literal quote, and commas and spaces inside quotes do not split. Parsing
 * follows sshd: if the line does not start with a key type, the first
 * unquoted-whitespace-delimited run is the option list. Lines sshd would
 * refuse come back as bad lines with the reason, never dropped.
 */
export interface KeyOption {
  /** Option name as written (sshd compares case-insensitively). */
  name: string;
  /** Unquoted value with \" unescaped, or null for a flag such as no-pty. */
  value: string | null;
}

export interface AuthorizedKey {
  line: number;
  /** The option list exactly as written, or null when there is none. */
  optionsText: string | null;
  options: KeyOption[];
  keyType: string;
  /** SHA256:<base64 without padding> of the decoded key blob, as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** Free text after the key (user@host by convention; attacker-chosen). */
  comment: string;
}

export interface BadKeyLine {
  line: number;
  reason: string;
}

export const KEY_TYPES: ReadonlySet<string> = new Set([
  'ssh-rsa',
  'ssh-dss',
  'ssh-ed25519',
  'ssh-ed448',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'sk-ssh-ed25519@openssh.com',
  'ssh-xmss@openssh.com',
  'ssh-rsa-cert-v01@openssh.com',
  'ssh-dss-cert-v01@openssh.com',
  'ssh-ed25519-cert-v01@openssh.com',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com',
  'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'sk-ssh-ed25519-cert-v01@openssh.com',
  'ssh-xmss-cert-v01@openssh.com',
]);

const isBlank = (c: string | undefined) => c === ' ' || c === '\t';

/** Where the option list starts at `s[0]` ends: the first whitespace outside quotes (sshkey_advance_past_options). */
function endOfOptions(s: string): { end: number; unterminated: boolean } {
  let quoted = false;
  let i = 0;
  for (; i < s.length && (quoted || !isBlank(s[i])); i++) {
    if (s[i] === '\\' && s[i + 1] === '"') i++;
    else if (s[i] === '"') quoted = !quoted;
  }
  return { end: i, unterminated: quoted };
}

/** Splits an option list into options; null if it is malformed the way sshd rejects ("bad options"). */
export function parseKeyOptions(text: string): KeyOption[] | null {
  const out: KeyOption[] = [];
  let i = 0;
  while (i < text.length) {
    let name = '';
    while (i < text.length && text[i] !== '=' && text[i] !== ',') name += text[i++];
    if (name === '' || /[\s"]/.test(name)) return null;
    if (text[i] === '=') {
      i++;
      if (text[i] !== '"') return null;
      i++;
      let value = '';
      let closed = false;
      while (i < text.length) {
        if (text[i] === '\\' && text[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (text[i] === '"') {
          closed = true;
          i++;
          break;
        } else value += text[i++];
      }
      if (!closed) return null;
      out.push({ name, value });
    } else out.push({ name, value: null });
    if (i < text.length) {
      if (text[i] !== ',') return null;
      i++;
      if (i === text.length) return null; // trailing comma
    }
  }
  return out;
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The fingerprint and the type name stored inside a key blob, or a reason it is not one. */
export function keyBlob(base64: string): { fingerprint: string; blobType: string | null } | { error: string } {
  if (!B64.test(base64) || base64.replace(/=+$/, '').length % 4 === 1) return { error: 'key is not valid base64' };
  const blob = Buffer.from(base64, 'base64');
  if (blob.length < 4) return { error: 'key blob is too short' };
  const fingerprint = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  const len = blob.readUInt32BE(0);
  const blobType = len > 0 && len <= 64 && blob.length >= 4 + len ? blob.subarray(4, 4 + len).toString('latin1') : null;
  return { fingerprint, blobType };
}

export type KeyLineResult = { key: AuthorizedKey } | { bad: BadKeyLine } | null;

/** One line (without its \n). A trailing \r is ignored as sshd ignores it; blank and # lines give null. */
export function parseAuthorizedKeyLine(raw: string, line: number): KeyLineResult {
  let s = raw.replace(/\r$/, '').replace(/^[ \t]+/, '');
  if (s === '' || s.startsWith('#')) return null;
  const bad = (reason: string): KeyLineResult => ({ bad: { line, reason } });
  let optionsText: string | null = null;
  let options: KeyOption[] = [];
  const first = s.split(/[ \t]/, 1)[0]!;
  if (!KEY_TYPES.has(first)) {
    const { end, unterminated } = endOfOptions(s);
    if (unterminated) return bad('unterminated quote in options');
    optionsText = s.slice(0, end);
    const parsed = parseKeyOptions(optionsText);
    s = s.slice(end).replace(/^[ \t]+/, '');
    const next = s.split(/[ \t]/, 1)[0]!;
    if (!KEY_TYPES.has(next)) return bad(next === '' ? 'no key after options' : `unknown key type or malformed options: ${JSON.stringify(first.slice(0, 40))}`);
    if (!parsed) return bad('malformed options');
    options = parsed;
  }
  const m = /^([^ \t]+)[ \t]+([^ \t]*)(?:[ \t]+([\s\S]*))?$/.exec(s);
  if (!m || m[2] === '') return bad('key type without key data');
  const keyType = m[1]!;
  const blob = keyBlob(m[2]!);
  if ('error' in blob) return bad(blob.error);
  if (blob.blobType !== keyType) return bad(`key data holds a ${JSON.stringify(blob.blobType ?? '?')} key, not ${keyType}`);
  return { key: { line, optionsText, options, keyType, fingerprint: blob.fingerprint, comment: (m[3] ?? '').trim() } };
}

/** A whole file; \r\n endings tolerated. */
export function parseAuthorizedKeys(text: string): { keys: AuthorizedKey[]; bad: BadKeyLine[] } {
  const keys: AuthorizedKey[] = [];
  const bad: BadKeyLine[] = [];
  text.split('\n').forEach((l, i) => {
    const r = parseAuthorizedKeyLine(l, i + 1);
    if (r && 'key' in r) keys.push(r.key);
    else if (r) bad.push(r.bad);
  });
  return { keys, bad };
}

/** The value of the first option with this name (case-insensitive), as sshd takes it. */
export function optionValue(options: KeyOption[], name: string): string | null {
  const o = options.find((x) => x.name.toLowerCase() === name);
  return o ? (o.value ?? '') : null;
}
