import { align4 } from './elf64.js';

/**
 * The notes of the process cores we write. Registers (NT_PRSTATUS, NT_FPREGSET)
 * need ptrace, which goldhour does not use, so a core holds what /proc gives:
 * who the process was (NT_PRPSINFO), its auxiliary vector (NT_AUXV) and which
 * file backs each mapping (NT_FILE). Little-endian, 64-bit, as on x86-64 and arm64.
 */
export const NT_PRPSINFO = 3;
export const NT_AUXV = 6;
export const NT_FILE = 0x46494c45;
const PRPSINFO_BYTES = 136;

export function encodeNote(name: string, type: number, desc: Uint8Array): Buffer {
  const nameBytes = Buffer.from(`${name}\0`, 'latin1');
  const out = Buffer.alloc(12 + align4(nameBytes.length) + align4(desc.length));
  out.writeUInt32LE(nameBytes.length, 0);
  out.writeUInt32LE(desc.length, 4);
  out.writeUInt32LE(type, 8);
  nameBytes.copy(out, 12);
  out.set(desc, 12 + align4(nameBytes.length));
  return out;
}

export interface PrpsInfo {
  /** The state letter of /proc/PID/stat (R, S, D, T, Z…). */
  state: string;
  flags: number;
  uid: number;
  gid: number;
  pid: number;
  ppid: number;
  pgrp: number;
  sid: number;
  comm: Buffer;
  cmdline: Buffer;
}

const STATES = 'RSDTZW';

/** struct elf_prpsinfo: state, sname, zomb, nice, flag, uid, gid, pid, ppid, pgrp, sid, fname[16], psargs[80]. */
export function prpsinfoNote(p: PrpsInfo): Buffer {
  const d = Buffer.alloc(PRPSINFO_BYTES);
  const state = STATES.indexOf(p.state);
  d.writeInt8(state < 0 ? 0 : state, 0);
  d.write(p.state.slice(0, 1) || '.', 1, 'latin1');
  d.writeInt8(p.state === 'Z' ? 1 : 0, 2);
  d.writeBigUInt64LE(BigInt(p.flags >>> 0), 8);
  d.writeUInt32LE(p.uid >>> 0, 16);
  d.writeUInt32LE(p.gid >>> 0, 20);
  d.writeInt32LE(p.pid | 0, 24);
  d.writeInt32LE(p.ppid | 0, 28);
  d.writeInt32LE(p.pgrp | 0, 32);
  d.writeInt32LE(p.sid | 0, 36);
  p.comm.copy(d, 40, 0, Math.min(p.comm.length, 15));
  // The kernel writes the command line with its NULs turned into spaces, cut to 79 bytes.
  const args = Buffer.from(p.cmdline.subarray(0, 79)).map((b) => (b === 0 ? 0x20 : b));
  Buffer.from(args).copy(d, 56);
  return encodeNote('CORE', NT_PRPSINFO, d);
}

export function auxvNote(auxv: Uint8Array): Buffer {
  return encodeNote('CORE', NT_AUXV, auxv);
}

export interface FileMapping {
  start: bigint;
  end: bigint;
  /** File offset in bytes (written in pages, as the kernel does). */
  offset: bigint;
  path: Buffer;
}

/** NT_FILE: count, page size, then (start, end, offset in pages) per mapping, then the NUL-terminated names. */
export function fileNote(files: readonly FileMapping[], pageSize: number): Buffer {
  const head = Buffer.alloc(16 + files.length * 24);
  head.writeBigUInt64LE(BigInt(files.length), 0);
  head.writeBigUInt64LE(BigInt(pageSize), 8);
  files.forEach((f, i) => {
    const o = 16 + i * 24;
    head.writeBigUInt64LE(f.start, o);
    head.writeBigUInt64LE(f.end, o + 8);
    head.writeBigUInt64LE(f.offset / BigInt(pageSize), o + 16);
  });
  const names = files.map((f) => Buffer.concat([stripNul(f.path), Buffer.from([0])]));
  return encodeNote('CORE', NT_FILE, Buffer.concat([head, ...names]));
}

/** A path holding NUL cannot come from the kernel; cut there rather than shift every later name. */
function stripNul(p: Buffer): Buffer {
  const nul = p.indexOf(0);
  return nul < 0 ? p : p.subarray(0, nul);
}
