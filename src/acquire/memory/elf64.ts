/**
 * ELF64 headers as /proc/kcore and core files use them: the file header, the
 * program header table (with extended numbering: when e_phnum is PN_XNUM the
 * real count is in section header 0's sh_info) and nothing else. Every field
 * comes from bytes we did not write, so each one is checked before it is used.
 */
export const ELF_HEADER_SIZE = 64;
export const PHDR_SIZE = 56;
export const SHDR_SIZE = 64;
export const PN_XNUM = 0xffff;
export const PT_LOAD = 1;
export const PT_NOTE = 4;
export const ET_CORE = 4;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;
/** kcore's p_paddr for a segment with no physical address (vmalloc, vmemmap, modules). */
export const NO_PADDR = 0xffff_ffff_ffff_ffffn;
/** More program headers than any kernel writes; a count above it is a hostile or broken file. */
export const MAX_PHDRS = 1 << 20;

export class ElfFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ElfFormatError';
  }
}

export interface ElfHeader {
  littleEndian: boolean;
  type: number;
  machine: number;
  phoff: bigint;
  shoff: bigint;
  phentsize: number;
  /** As written: PN_XNUM means "see section header 0". */
  phnumField: number;
  shentsize: number;
  shnum: number;
}

export interface ProgramHeader {
  index: number;
  type: number;
  flags: number;
  offset: bigint;
  vaddr: bigint;
  paddr: bigint;
  filesz: bigint;
  memsz: bigint;
  align: bigint;
}

export function parseElfHeader(b: Uint8Array): ElfHeader {
  if (b.length < ELF_HEADER_SIZE) throw new ElfFormatError(`too short for an ELF header (${b.length} bytes)`);
  if (b[0] !== 0x7f || b[1] !== 0x45 || b[2] !== 0x4c || b[3] !== 0x46) throw new ElfFormatError('not an ELF file (bad magic)');
  if (b[4] !== 2) throw new ElfFormatError(`not ELF64 (class ${b[4]})`);
  if (b[5] !== 1 && b[5] !== 2) throw new ElfFormatError(`unknown byte order ${b[5]}`);
  const le = b[5] === 1;
  const v = view(b);
  const h: ElfHeader = {
    littleEndian: le,
    type: v.getUint16(16, le),
    machine: v.getUint16(18, le),
    phoff: v.getBigUint64(32, le),
    shoff: v.getBigUint64(40, le),
    phentsize: v.getUint16(54, le),
    phnumField: v.getUint16(56, le),
    shentsize: v.getUint16(58, le),
    shnum: v.getUint16(60, le),
  };
  if (h.phentsize !== PHDR_SIZE) throw new ElfFormatError(`program header size ${h.phentsize}, expected ${PHDR_SIZE}`);
  return h;
}

/** Where section header 0 is, when the program header count lives there; null when e_phnum is the count. */
export function sectionZeroOffset(h: ElfHeader): bigint | null {
  if (h.phnumField !== PN_XNUM) return null;
  if (h.shoff === 0n) throw new ElfFormatError('e_phnum is PN_XNUM but there is no section header table');
  if (h.shentsize !== SHDR_SIZE) throw new ElfFormatError(`section header size ${h.shentsize}, expected ${SHDR_SIZE}`);
  return h.shoff;
}

/** The program header count from section header 0 (its sh_info). */
export function phnumFromSectionZero(h: ElfHeader, shdr0: Uint8Array): number {
  if (shdr0.length < SHDR_SIZE) throw new ElfFormatError('section header 0 is cut short');
  return view(shdr0).getUint32(44, h.littleEndian);
}

export function checkedPhnum(n: number): number {
  if (n > MAX_PHDRS) throw new ElfFormatError(`${n} program headers is more than any kernel writes`);
  return n;
}

export function parseProgramHeaders(h: ElfHeader, table: Uint8Array, count: number): ProgramHeader[] {
  if (table.length < count * PHDR_SIZE) throw new ElfFormatError(`program header table cut short (${table.length} of ${count * PHDR_SIZE} bytes)`);
  const v = view(table);
  const le = h.littleEndian;
  const out: ProgramHeader[] = [];
  for (let i = 0; i < count; i++) {
    const o = i * PHDR_SIZE;
    out.push({
      index: i,
      type: v.getUint32(o, le),
      flags: v.getUint32(o + 4, le),
      offset: v.getBigUint64(o + 8, le),
      vaddr: v.getBigUint64(o + 16, le),
      paddr: v.getBigUint64(o + 24, le),
      filesz: v.getBigUint64(o + 32, le),
      memsz: v.getBigUint64(o + 40, le),
      align: v.getBigUint64(o + 48, le),
    });
  }
  return out;
}

export interface ElfNote {
  name: string;
  type: number;
  desc: Buffer;
}

/** A PT_NOTE segment's notes (4-byte aligned, as Linux writes them); stops quietly at the first malformed one. */
export function parseNotes(data: Buffer, littleEndian: boolean): ElfNote[] {
  const notes: ElfNote[] = [];
  let at = 0;
  while (at + 12 <= data.length) {
    const namesz = littleEndian ? data.readUInt32LE(at) : data.readUInt32BE(at);
    const descsz = littleEndian ? data.readUInt32LE(at + 4) : data.readUInt32BE(at + 4);
    const type = littleEndian ? data.readUInt32LE(at + 8) : data.readUInt32BE(at + 8);
    const nameAt = at + 12;
    const descAt = nameAt + align4(namesz);
    const next = descAt + align4(descsz);
    if (next > data.length) break;
    const rawName = data.subarray(nameAt, nameAt + namesz);
    const nul = rawName.indexOf(0);
    notes.push({ name: rawName.subarray(0, nul < 0 ? rawName.length : nul).toString('latin1'), type, desc: data.subarray(descAt, descAt + descsz) });
    at = next;
  }
  return notes;
}

export function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}
