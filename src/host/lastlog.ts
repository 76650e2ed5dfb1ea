/**
 * /var/log/lastlog as shadow's login and lastlog write it on x86-64 and
 * aarch64: one 292-byte record per uid at offset uid*292 (int32 ll_time,
 * char ll_line[32], char ll_host[256]). The file is sparse: its apparent size
 * follows the largest uid that ever logged in (terabytes with LDAP uids), so
 * it is never read whole — only the records of known uids.
 */
export const LASTLOG_RECORD_SIZE = 292;

export interface LastlogRecord {
  time: string | null;
  /** Raw ll_time, seconds since the epoch (0: never). */
  seconds: number;
  line: string;
  host: string;
}

const textDecoder = new TextDecoder('utf-8');

function cString(buf: Buffer, start: number, len: number): string {
  const field = buf.subarray(start, start + len);
  const nul = field.indexOf(0);
  return textDecoder.decode(nul === -1 ? field : field.subarray(0, nul));
}

/** Byte offset of a uid's record. */
export function lastlogOffset(uid: number): number {
  return uid * LASTLOG_RECORD_SIZE;
}

/** One record; null when it is all zero (the uid never logged in) or shorter than a record. */
export function parseLastlogRecord(buf: Buffer): LastlogRecord | null {
  if (buf.length < LASTLOG_RECORD_SIZE) return null;
  const r = buf.subarray(0, LASTLOG_RECORD_SIZE);
  if (r.every((b) => b === 0)) return null;
  const seconds = r.readInt32LE(0);
  return {
    time: seconds === 0 ? null : new Date(seconds * 1000).toISOString(),
    seconds,
    line: cString(r, 4, 32),
    host: cString(r, 36, 256),
  };
}
