/**
 * The fixed header of a systemd journal file (journal-def.h, struct Header):
 * enough to tell what span of time a file covers and how many entries it
 * claims without parsing its objects. The header is written by journald but a
 * file on disk can be anything, so every field is checked and nothing throws.
 */
export const JOURNAL_HEADER_MIN = 208;
const SIGNATURE = Buffer.from('LPKSHHRH', 'latin1');
const STATES = ['offline', 'online', 'archived'] as const;

export interface JournalHeader {
  /** offline: closed cleanly; online: open by journald now (or it crashed); archived: rotated. */
  state: string;
  compatibleFlags: number;
  incompatibleFlags: number;
  machineId: string;
  /** Boot of the last entry written. */
  tailBootId: string;
  entries: number;
  /** UTC time of the first and last entry (head/tail_entry_realtime). */
  firstTime: string | null;
  lastTime: string | null;
  headerSize: number;
  arenaSize: number;
}

function usecToIso(v: bigint): string | null {
  if (v === 0n || v === 0xffffffffffffffffn) return null;
  const ms = Number(v / 1000n);
  return Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : null;
}

const toNumber = (v: bigint) => (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : Number.MAX_SAFE_INTEGER);

/** Null when the buffer is too short or lacks the "LPKSHHRH" signature. */
export function parseJournalHeader(buf: Buffer): JournalHeader | null {
  if (buf.length < JOURNAL_HEADER_MIN || !buf.subarray(0, 8).equals(SIGNATURE)) return null;
  const state = buf[16]!;
  return {
    state: STATES[state] ?? `unknown(${state})`,
    compatibleFlags: buf.readUInt32LE(8),
    incompatibleFlags: buf.readUInt32LE(12),
    machineId: buf.subarray(40, 56).toString('hex'),
    tailBootId: buf.subarray(56, 72).toString('hex'),
    headerSize: toNumber(buf.readBigUInt64LE(88)),
    arenaSize: toNumber(buf.readBigUInt64LE(96)),
    entries: toNumber(buf.readBigUInt64LE(152)),
    firstTime: usecToIso(buf.readBigUInt64LE(184)),
    lastTime: usecToIso(buf.readBigUInt64LE(192)),
  };
}
