/**
 * utmp/wtmp/btmp records as glibc writes them on x86-64 and aarch64 (384 bytes).
 * The files are written by login programs but an intruder can write them too,
 * so every string field is kept byte-faithfully and nothing is assumed valid.
 */
export const UTMP_RECORD_SIZE = 384;

export const UT_TYPES = [
  'EMPTY',
  'RUN_LVL',
  'BOOT_TIME',
  'NEW_TIME',
  'OLD_TIME',
  'INIT_PROCESS',
  'LOGIN_PROCESS',
  'USER_PROCESS',
  'DEAD_PROCESS',
  'ACCOUNTING',
] as const;

export interface UtmpRecord {
  offset: number;
  type: string;
  pid: number;
  line: string;
  id: string;
  user: string;
  host: string;
  exitTermination: number;
  exitStatus: number;
  session: number;
  time: string | null;
  address: string | null;
}

export interface UtmpParse {
  records: UtmpRecord[];
  /** Bytes after the last whole record: a torn write, or tampering. */
  trailingBytes: number;
}

const textDecoder = new TextDecoder('utf-8');

function cString(buf: Buffer, start: number, len: number): string {
  const field = buf.subarray(start, start + len);
  const nul = field.indexOf(0);
  return textDecoder.decode(nul === -1 ? field : field.subarray(0, nul));
}

function address(buf: Buffer, start: number): string | null {
  const a = buf.subarray(start, start + 16);
  if (a.every((b) => b === 0)) return null;
  if (a.subarray(4).every((b) => b === 0)) return `${a[0]}.${a[1]}.${a[2]}.${a[3]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(a.readUInt16BE(i).toString(16));
  return groups.join(':');
}

export function parseUtmp(buf: Buffer): UtmpParse {
  const records: UtmpRecord[] = [];
  const whole = Math.floor(buf.length / UTMP_RECORD_SIZE);
  for (let i = 0; i < whole; i++) {
    const off = i * UTMP_RECORD_SIZE;
    const r = buf.subarray(off, off + UTMP_RECORD_SIZE);
    const typeNum = r.readInt16LE(0);
    const sec = r.readInt32LE(340);
    const usec = r.readInt32LE(344);
    const ms = sec * 1000 + Math.floor(usec / 1000);
    records.push({
      offset: off,
      type: UT_TYPES[typeNum] ?? `UNKNOWN(${typeNum})`,
      pid: r.readInt32LE(4),
      line: cString(r, 8, 32),
      id: cString(r, 40, 4),
      user: cString(r, 44, 32),
      host: cString(r, 76, 256),
      exitTermination: r.readInt16LE(332),
      exitStatus: r.readInt16LE(334),
      session: r.readInt32LE(336),
      time: sec === 0 && usec === 0 ? null : Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : null,
      address: address(r, 348),
    });
  }
  return { records, trailingBytes: buf.length - whole * UTMP_RECORD_SIZE };
}
