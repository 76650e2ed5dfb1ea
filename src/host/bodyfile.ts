/**
 * The Sleuth Kit bodyfile, format 3.x, as mactime reads it:
 *   MD5|name|inode|mode_as_string|UID|GID|size|atime|mtime|ctime|crtime
 * Times are whole seconds since the epoch, 0 where unknown. mactime splits
 * on '|' and lines on '\n', so a hostile name holding either would shift
 * every column after it: in the name, bytes below 0x20, 0x7f, '|', '\' and
 * bytes that are not valid UTF-8 are written as \xHH (and only those), so the
 * line always has exactly eleven fields and the exact name can be recovered.
 */
export interface BodyfileRecord {
  md5: string;
  /** The name as bytes (a symlink's target is appended as " -> target", as fls does). */
  name: Buffer;
  inode: string;
  mode: string;
  uid: number;
  gid: number;
  size: number | bigint;
  atime: number;
  mtime: number;
  ctime: number;
  crtime: number;
}

const hex = (b: number) => `\\x${b.toString(16).padStart(2, '0')}`;

/** Length of a valid UTF-8 sequence at i (2–4 bytes), or 0. */
function seqLen(b: Buffer, i: number): number {
  const c = b[i]!;
  const cont = (k: number) => i + k < b.length && (b[i + k]! & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    const c1 = b[i + 1]!;
    if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 > 0x9f)) return 0;
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const c1 = b[i + 1]!;
    if ((c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 > 0x8f)) return 0;
    return 4;
  }
  return 0;
}

export function escapeBodyfileName(name: Buffer): string {
  let out = '';
  let i = 0;
  while (i < name.length) {
    const c = name[i]!;
    if (c < 0x80) {
      out += c < 0x20 || c === 0x7f || c === 0x7c || c === 0x5c ? hex(c) : String.fromCharCode(c);
      i++;
      continue;
    }
    const n = seqLen(name, i);
    if (n === 0) {
      out += hex(c);
      i++;
    } else {
      out += name.subarray(i, i + n).toString('utf8');
      i += n;
    }
  }
  return out;
}

export function unescapeBodyfileName(text: string): Buffer {
  const parts: Buffer[] = [];
  let last = 0;
  const re = /\\x([0-9a-fA-F]{2})/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    parts.push(Buffer.from(text.slice(last, m.index), 'utf8'), Buffer.from([parseInt(m[1]!, 16)]));
    last = m.index + m[0].length;
  }
  parts.push(Buffer.from(text.slice(last), 'utf8'));
  return Buffer.concat(parts);
}

export function bodyfileLine(r: BodyfileRecord): string {
  return [r.md5, escapeBodyfileName(r.name), r.inode, r.mode, r.uid, r.gid, String(r.size), r.atime, r.mtime, r.ctime, r.crtime].join('|');
}

/** Reads a line back (for the report and for tests); null when it does not have eleven fields. */
export function parseBodyfileLine(line: string): BodyfileRecord | null {
  const f = line.replace(/\r?\n$/, '').split('|');
  if (f.length !== 11) return null;
  const num = (s: string) => (/^-?\d+$/.test(s) ? Number(s) : NaN);
  const rec: BodyfileRecord = {
    md5: f[0]!,
    name: unescapeBodyfileName(f[1]!),
    inode: f[2]!,
    mode: f[3]!,
    uid: num(f[4]!),
    gid: num(f[5]!),
    size: num(f[6]!),
    atime: num(f[7]!),
    mtime: num(f[8]!),
    ctime: num(f[9]!),
    crtime: num(f[10]!),
  };
  return [rec.uid, rec.gid, rec.size, rec.atime, rec.mtime, rec.ctime, rec.crtime].some((n) => Number.isNaN(n)) ? null : rec;
}
