import {
  ELF_HEADER_SIZE,
  ElfFormatError,
  PHDR_SIZE,
  PT_NOTE,
  SHDR_SIZE,
  checkedPhnum,
  parseElfHeader,
  parseNotes,
  parseProgramHeaders,
  phnumFromSectionZero,
  sectionZeroOffset,
  type ElfHeader,
  type ElfNote,
  type ProgramHeader,
} from './elf64.js';
import { readFull, type PositionedFile } from './positioned-file.js';

export interface KcoreLayout {
  header: ElfHeader;
  phdrs: ProgramHeader[];
  /** Read from section header 0 because e_phnum was PN_XNUM. */
  extendedNumbering: boolean;
  notes: ElfNote[];
}

/** Notes in kcore are a few KiB (prstatus, prpsinfo, task_struct, vmcoreinfo); more is not a kcore. */
const MAX_NOTE_BYTES = 1024 * 1024;

/** The ELF header, program headers and notes of /proc/kcore or a saved kcore-format file. */
export async function readKcoreLayout(file: PositionedFile): Promise<KcoreLayout> {
  const header = parseElfHeader(await readExactly(file, 0n, ELF_HEADER_SIZE, 'ELF header'));
  const shdr0At = sectionZeroOffset(header);
  const count = checkedPhnum(
    shdr0At === null ? header.phnumField : phnumFromSectionZero(header, await readExactly(file, shdr0At, SHDR_SIZE, 'section header 0')),
  );
  const table = await readExactly(file, header.phoff, count * PHDR_SIZE, 'program header table');
  const phdrs = parseProgramHeaders(header, table, count);
  const notes: ElfNote[] = [];
  for (const p of phdrs) {
    if (p.type !== PT_NOTE || p.filesz === 0n) continue;
    if (p.filesz > BigInt(MAX_NOTE_BYTES)) throw new ElfFormatError(`note segment ${p.index} is ${p.filesz} bytes, more than a kcore holds`);
    notes.push(...parseNotes(await readExactly(file, p.offset, Number(p.filesz), `note segment ${p.index}`), header.littleEndian));
  }
  return { header, phdrs, extendedNumbering: shdr0At !== null, notes };
}

/** OSRELEASE from the VMCOREINFO note: it names the kernel the image came from even when it is read elsewhere. */
export function osReleaseFromNotes(notes: readonly ElfNote[]): string | null {
  const note = notes.find((n) => n.name === 'VMCOREINFO');
  const line = note?.desc.toString('latin1').split('\n').find((l) => l.startsWith('OSRELEASE='));
  return line === undefined ? null : line.slice('OSRELEASE='.length);
}

async function readExactly(file: PositionedFile, at: bigint, length: number, what: string): Promise<Buffer> {
  if (at > BigInt(Number.MAX_SAFE_INTEGER - length)) throw new ElfFormatError(`${what} lies beyond any readable offset (0x${at.toString(16)})`);
  const buf = Buffer.alloc(length);
  const got = await readFull(file, buf, 0, length, Number(at));
  if (got < length) throw new ElfFormatError(`${what} cut short (${got} of ${length} bytes at offset ${at})`);
  return buf;
}
