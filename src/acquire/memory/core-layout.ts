import { ELF_HEADER_SIZE, ET_CORE, PHDR_SIZE, PN_XNUM, PT_LOAD, PT_NOTE, SHDR_SIZE } from './elf64.js';

/** One PT_LOAD of a process core: a mapping, with its bytes present (filesz = memsz) or not (filesz 0). */
export interface CoreSegment {
  vaddr: number;
  memsz: number;
  filesz: number;
  flags: number;
}

export interface CoreLayout {
  /** ELF header, program headers, section header 0 when needed, the notes, and padding to the first segment. */
  head: Buffer;
  /** File offset of each segment's bytes. */
  offsets: number[];
  size: number;
}

export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
const SEGMENT_ALIGN = 4096;

/**
 * An ELF64 core laid out as the kernel lays out its own: header, program
 * headers (PT_NOTE first), notes, then each segment's bytes page-aligned in
 * address order. With 65,535 headers or more, e_phnum is PN_XNUM and the count
 * goes in section header 0's sh_info (extended numbering).
 */
export function layoutCore(machine: number, segments: readonly CoreSegment[], notes: Buffer): CoreLayout {
  const phnum = segments.length + 1;
  const extended = phnum >= PN_XNUM;
  const phoff = ELF_HEADER_SIZE;
  const shoff = extended ? phoff + phnum * PHDR_SIZE : 0;
  const notesAt = phoff + phnum * PHDR_SIZE + (extended ? SHDR_SIZE : 0);
  const dataAt = alignUp(notesAt + notes.length, SEGMENT_ALIGN);
  const head = Buffer.alloc(dataAt);

  head.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  head.writeUInt16LE(ET_CORE, 16);
  head.writeUInt16LE(machine, 18);
  head.writeUInt32LE(1, 20);
  head.writeBigUInt64LE(BigInt(phoff), 32);
  head.writeBigUInt64LE(BigInt(shoff), 40);
  head.writeUInt16LE(ELF_HEADER_SIZE, 52);
  head.writeUInt16LE(PHDR_SIZE, 54);
  head.writeUInt16LE(extended ? PN_XNUM : phnum, 56);
  head.writeUInt16LE(extended ? SHDR_SIZE : 0, 58);
  head.writeUInt16LE(extended ? 1 : 0, 60);

  writePhdr(head, phoff, { type: PT_NOTE, flags: 0, offset: notesAt, vaddr: 0, filesz: notes.length, memsz: 0, align: 4 });
  const offsets: number[] = [];
  let at = dataAt;
  segments.forEach((s, i) => {
    offsets.push(at);
    writePhdr(head, phoff + (i + 1) * PHDR_SIZE, { type: PT_LOAD, flags: s.flags, offset: at, vaddr: s.vaddr, filesz: s.filesz, memsz: s.memsz, align: SEGMENT_ALIGN });
    at += alignUp(s.filesz, SEGMENT_ALIGN);
  });
  if (extended) head.writeUInt32LE(phnum, shoff + 44);
  notes.copy(head, notesAt);
  return { head, offsets, size: at };
}

function writePhdr(b: Buffer, o: number, p: { type: number; flags: number; offset: number; vaddr: number; filesz: number; memsz: number; align: number }): void {
  b.writeUInt32LE(p.type, o);
  b.writeUInt32LE(p.flags, o + 4);
  b.writeBigUInt64LE(BigInt(p.offset), o + 8);
  b.writeBigUInt64LE(BigInt(p.vaddr), o + 16);
  b.writeBigUInt64LE(0n, o + 24);
  b.writeBigUInt64LE(BigInt(p.filesz), o + 32);
  b.writeBigUInt64LE(BigInt(p.memsz), o + 40);
  b.writeBigUInt64LE(BigInt(p.align), o + 48);
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
