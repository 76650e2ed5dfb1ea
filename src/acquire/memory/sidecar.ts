import { z } from 'zod';
import { IMAGE_FORMATS } from './image-format.js';

/**
 * The JSON written beside every memory artefact: how it was acquired, declared
 * once here. Addresses are hex strings (they pass 2^53 in kernel space).
 */
const hex = z.string().regex(/^0x[0-9a-f]+$/);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const isoTime = z.string().datetime({ offset: true });

export const HoleEntry = z.object({
  address: hex.describe('first byte that could not be read (physical for images, virtual for cores)'),
  length: z.number().int().positive(),
  code: z.string().describe('errno of the failed read, EOF (the source ended first), EXITED (the process went away) or INTERRUPTED'),
});
export type HoleEntry = z.infer<typeof HoleEntry>;

export const Timing = z.object({
  started: isoTime,
  ended: isoTime,
  seconds: z.number().nonnegative(),
  bytesPerSecond: z.number().nonnegative(),
});

export const Artefact = z.object({ path: z.string(), size: z.number().int().nonnegative(), sha256 });

export const PhysicalSidecar = z.object({
  schema: z.literal('goldhour.memory-image/1'),
  image: Artefact.extend({ format: z.enum(IMAGE_FORMATS) }),
  status: z.enum(['complete', 'partial']),
  statusReason: z.string().nullable(),
  source: z.object({
    kind: z.enum(['kcore', 'crash', 'mem', 'file']),
    path: z.string(),
    elf: z.object({ machine: z.number().int(), littleEndian: z.boolean(), programHeaders: z.number().int(), extendedNumbering: z.boolean() }).nullable(),
  }),
  kernel: z.object({
    release: z.string().nullable().describe('of the live host (/proc/sys/kernel/osrelease), for a live source'),
    version: z.string().nullable().describe('/proc/version of the live host, for a live source'),
    imageRelease: z.string().nullable().describe('OSRELEASE from the source\'s VMCOREINFO note: the kernel the memory belongs to'),
  }),
  iomem: z.object({
    from: z.string(),
    text: z.string(),
    badLines: z.number().int(),
    ram: z.array(z.object({ start: hex, end: hex.describe('inclusive') })),
  }),
  segments: z.array(
    z.object({
      index: z.number().int(),
      type: z.number().int(),
      vaddr: hex,
      paddr: hex.nullable(),
      offset: z.number().int().nullable(),
      size: z.number().int(),
      use: z.enum(['ram', 'alias', 'partial-alias', 'no-physical-address', 'not-loadable', 'empty', 'out-of-range']),
      usedBytes: z.number().int(),
    }),
  ),
  ranges: z.array(z.object({ start: hex, end: hex.describe('inclusive, as in the LiME header'), bytes: z.number().int() })),
  unmapped: z.array(z.object({ start: hex, end: hex, bytes: z.number().int() })).describe('System RAM the source does not map'),
  holes: z.array(HoleEntry),
  holeBytes: z.number().int(),
  maxSize: z.number().int().nullable(),
  truncated: z.boolean(),
  timing: Timing,
});
export type PhysicalSidecar = z.infer<typeof PhysicalSidecar>;

export const RegionEntry = z.object({
  start: hex,
  end: hex,
  perms: z.string(),
  offset: hex,
  dev: z.string(),
  inode: z.string(),
  path: z.string(),
  pathBase64: z.string().optional(),
  rssBytes: z.number().int().nullable(),
  inCore: z.enum(['read', 'not-resident', 'skipped']).describe('read: bytes in the core; not-resident: a PT_LOAD with no bytes (smaps Rss 0); skipped: no PT_LOAD'),
  note: z.string().optional(),
});
export type RegionEntry = z.infer<typeof RegionEntry>;

export const ProcessSidecar = z.object({
  schema: z.literal('goldhour.process-core/1'),
  pid: z.number().int(),
  status: z.enum(['complete', 'partial']),
  statusReason: z.string().nullable(),
  comm: z.string().nullable(),
  exe: z.object({ link: z.string(), linkBase64: z.string().optional(), deleted: z.boolean() }).nullable(),
  core: Artefact.nullable(),
  notes: z.array(z.string()).describe('ELF notes in the core; registers (NT_PRSTATUS) need ptrace and are not taken'),
  freeze: z.object({
    method: z.enum(['SIGSTOP', 'none']),
    stateBefore: z.string().nullable(),
    stoppedAt: isoTime.nullable(),
    resumedAt: isoTime.nullable(),
  }).nullable(),
  regions: z.array(RegionEntry),
  holes: z.array(HoleEntry),
  holeBytes: z.number().int(),
  files: z.array(z.string()).describe('other artefacts of this process in the bundle'),
  timing: Timing,
});
export type ProcessSidecar = z.infer<typeof ProcessSidecar>;

export function hexAddr(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}

export function timing(started: Date, ended: Date, bytes: number): z.infer<typeof Timing> {
  const seconds = (ended.getTime() - started.getTime()) / 1000;
  return { started: started.toISOString(), ended: ended.toISOString(), seconds, bytesPerSecond: seconds > 0 ? Math.round(bytes / seconds) : 0 };
}
