/**
 * The classic libpcap file format (not pcapng): a 24-byte global header, then
 * records of a 16-byte header and the captured bytes. The magic number says the
 * writer's byte order and whether timestamps are in micro- or nanoseconds.
 * https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html
 */
export const GLOBAL_HEADER_BYTES = 24;
export const RECORD_HEADER_BYTES = 16;

/**
 * libpcap refuses records longer than 262,144 bytes for network link types
 * (MAXIMUM_SNAPLEN); a longer length means the stream is not what it claims,
 * and believing it would let hostile bytes make us buffer up to 4 GiB.
 */
export const MAX_RECORD_BYTES = 262_144;

const MAGIC_MICRO = 0xa1b2c3d4;
const MAGIC_NANO = 0xa1b23c4d;

export interface PcapHeader {
  littleEndian: boolean;
  nanoseconds: boolean;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  linktype: number;
}

export interface PcapTime {
  sec: number;
  /** Microseconds or nanoseconds, as the header says. */
  frac: number;
}

/** The global header, or why these 24 bytes are not one. */
export function parseGlobalHeader(b: Uint8Array): PcapHeader | string {
  if (b.length < GLOBAL_HEADER_BYTES) return `a pcap global header is ${GLOBAL_HEADER_BYTES} bytes, got ${b.length}`;
  const v = new DataView(b.buffer, b.byteOffset, GLOBAL_HEADER_BYTES);
  const le = v.getUint32(0, true);
  const be = v.getUint32(0, false);
  let littleEndian: boolean;
  if (le === MAGIC_MICRO || le === MAGIC_NANO) littleEndian = true;
  else if (be === MAGIC_MICRO || be === MAGIC_NANO) littleEndian = false;
  else return `not a pcap stream (magic 0x${be.toString(16).padStart(8, '0')}; pcapng is not accepted)`;
  const magic = littleEndian ? le : be;
  const versionMajor = v.getUint16(4, littleEndian);
  const versionMinor = v.getUint16(6, littleEndian);
  if (versionMajor !== 2) return `pcap version ${versionMajor}.${versionMinor} (2.x expected)`;
  return {
    littleEndian,
    nanoseconds: magic === MAGIC_NANO,
    versionMajor,
    versionMinor,
    snaplen: v.getUint32(16, littleEndian),
    linktype: v.getUint32(20, littleEndian),
  };
}

/** Captured length (incl_len) of the record whose header starts at `off`. */
export function recordLength(h: PcapHeader, b: Uint8Array, off: number): number {
  return readU32(b, off + 8, h.littleEndian);
}

export function recordTime(h: PcapHeader, b: Uint8Array, off: number): PcapTime {
  return { sec: readU32(b, off, h.littleEndian), frac: readU32(b, off + 4, h.littleEndian) };
}

/** Why a record header announcing `len` captured bytes cannot be real, or null. */
export function badRecordLength(len: number): string | null {
  return len > MAX_RECORD_BYTES ? `record of ${len} bytes (at most ${MAX_RECORD_BYTES})` : null;
}

/** UTC ISO 8601 with the file's own precision (6 or 9 fractional digits). */
export function pcapTimeIso(t: PcapTime, nanoseconds: boolean): string {
  const digits = nanoseconds ? 9 : 6;
  const extraSec = Math.floor(t.frac / 10 ** digits);
  const frac = t.frac % 10 ** digits;
  const base = new Date((t.sec + extraSec) * 1000).toISOString().slice(0, 19);
  return `${base}.${String(frac).padStart(digits, '0')}Z`;
}

function readU32(b: Uint8Array, off: number, littleEndian: boolean): number {
  return littleEndian
    ? (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0
    : ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}
