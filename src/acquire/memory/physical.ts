import { promises as fsp } from 'node:fs';
import type { CaseWriter } from '../../evidence/case-writer.js';
import { UserError, errnoCode } from '../../lib/user-error.js';
import { HoleLog, readPieces } from './chunked-read.js';
import { ElfFormatError } from './elf64.js';
import { imageBytes, imageName, imageSize, type ImageFormat } from './image-format.js';
import { parseIomem, type IomemMap } from './iomem.js';
import { osReleaseFromNotes } from './kcore-layout.js';
import { openPhysicalSource, type PhysicalSource } from './physical-source.js';
import { checkPhysicalAccess } from './preflight.js';
import { Progress } from './progress.js';
import { IDENTITY, buildPlan, type ReadPlan } from './read-plan.js';
import { physicalPieces, type SegmentRow } from './segment-table.js';
import { PhysicalSidecar, hexAddr, timing } from './sidecar.js';

export interface PhysicalOptions {
  /** kcore, crash, mem, a kcore-format FILE, or undefined for the first live source that opens. */
  source: string | undefined;
  /** A saved /proc/iomem (required with a FILE source: the RAM map of the machine it came from). */
  iomemFile: string | undefined;
  format: ImageFormat;
  maxBytes: number | null;
}

/** Everything decided before the bundle is opened, so a doomed run fails with one line and writes nothing. */
export interface PreparedImage {
  source: PhysicalSource;
  iomemText: string;
  iomemFrom: string;
  iomem: IomemMap;
  segments: SegmentRow[];
  plan: ReadPlan;
  size: number;
}

export interface ImageResult {
  path: string;
  sha256: string;
  size: number;
  status: 'complete' | 'partial';
  statusReason: string | null;
  holes: number;
  holeBytes: number;
}

const LIVE_SOURCES = new Set(['kcore', 'crash', 'mem']);

export async function prepareImage(opts: PhysicalOptions): Promise<PreparedImage> {
  const live = opts.source === undefined || LIVE_SOURCES.has(opts.source);
  if (!live && opts.iomemFile === undefined) throw new UserError('--source FILE needs --iomem FILE: the /proc/iomem of the machine the file came from');
  if (live) await checkPhysicalAccess();
  const iomemFrom = opts.iomemFile ?? '/proc/iomem';
  let iomemText: string;
  try {
    iomemText = await fsp.readFile(iomemFrom, 'latin1');
  } catch (err) {
    throw new UserError(`${opts.iomemFile ? '--iomem ' : ''}${iomemFrom}: cannot read (${errnoCode(err) ?? 'error'})`);
  }
  const iomem = parseIomem(iomemText);
  if (iomem.zeroed) throw new UserError(`${iomemFrom} shows every address as zero: it was read without CAP_SYS_ADMIN; run as root`);
  if (iomem.ram.length === 0) throw new UserError(`${iomemFrom} lists no System RAM`);
  const source = await openPhysicalSource(opts.source);
  try {
    const { pieces, table } = source.layout ? physicalPieces(source.layout.phdrs) : { pieces: IDENTITY, table: [] };
    const plan = buildPlan(iomem.ram, pieces, opts.maxBytes ?? Infinity);
    if (plan.bytes === 0) throw new UserError(`${source.path} maps none of the System RAM listed in ${iomemFrom}`);
    return { source, iomemText, iomemFrom, iomem, segments: table, plan, size: imageSize(plan, opts.format) };
  } catch (err) {
    await source.close();
    if (err instanceof ElfFormatError) throw new UserError(`${source.path}: ${err.message}`);
    throw err;
  }
}

/** Streams the image through the case writer (hashed as written), then its sidecar. */
export async function acquireImage(
  writer: CaseWriter,
  prep: PreparedImage,
  opts: PhysicalOptions & { signal: AbortSignal; progress: NodeJS.WriteStream | null },
): Promise<ImageResult> {
  const { plan, source } = prep;
  const holes = new HoleLog();
  const progress = new Progress('memory', plan.bytes, opts.progress);
  const name = imageName(opts.format);
  const started = new Date();
  await writer.appendCustody({ event: 'memory-image-started', source: source.path, format: opts.format, bytes: plan.bytes, size: prep.size });
  const memory = readPieces(source.file, plan.records.flatMap((r) => r.pieces), { holes, signal: opts.signal, onBytes: (n) => progress.add(n) });
  const artifact = await writer.addStream(name, imageBytes(plan, opts.format, memory), prep.size, { source: source.path, collector: 'memory' });
  progress.finish();
  const ended = new Date();

  const interrupted = holes.holes.some((h) => h.code === 'INTERRUPTED');
  const nothingRead = holes.bytes >= plan.bytes;
  const statusReason = interrupted
    ? 'interrupted: the rest of the image is zero-filled'
    : nothingRead
      ? `no byte of memory could be read from ${source.path} (first error: ${holes.holes[0]?.code ?? 'none'})`
      : null;
  const live = source.kind !== 'file';
  const sidecar: PhysicalSidecar = {
    schema: 'goldhour.memory-image/1',
    image: { path: artifact.path, size: artifact.size, sha256: artifact.sha256, format: opts.format },
    status: statusReason ? 'partial' : 'complete',
    statusReason,
    source: {
      kind: source.kind,
      path: source.path,
      elf: source.layout
        ? {
            machine: source.layout.header.machine,
            littleEndian: source.layout.header.littleEndian,
            programHeaders: source.layout.phdrs.length,
            extendedNumbering: source.layout.extendedNumbering,
          }
        : null,
    },
    kernel: {
      release: live ? await firstLine('/proc/sys/kernel/osrelease') : null,
      version: live ? await firstLine('/proc/version') : null,
      imageRelease: source.layout ? osReleaseFromNotes(source.layout.notes) : null,
    },
    iomem: {
      from: prep.iomemFrom,
      text: prep.iomemText,
      badLines: prep.iomem.badLines,
      ram: prep.iomem.ram.map((r) => ({ start: hexAddr(r.start), end: hexAddr(r.end - 1) })),
    },
    segments: prep.segments,
    ranges: plan.records.map((r) => ({ start: hexAddr(r.start), end: hexAddr(r.end - 1), bytes: r.end - r.start })),
    unmapped: plan.unmapped.map((r) => ({ start: hexAddr(r.start), end: hexAddr(r.end - 1), bytes: r.end - r.start })),
    holes: holes.holes.map((h) => ({ address: hexAddr(h.address), length: h.length, code: h.code })),
    holeBytes: holes.bytes,
    maxSize: opts.maxBytes,
    truncated: plan.truncated,
    timing: timing(started, ended, plan.bytes),
  };
  await writer.addBuffer(`${name}.json`, Buffer.from(`${JSON.stringify(PhysicalSidecar.parse(sidecar), null, 2)}\n`), { source: null, collector: 'memory' });
  await writer.appendCustody({ event: 'memory-image', path: artifact.path, sha256: artifact.sha256, size: artifact.size, holes: holes.holes.length, holeBytes: holes.bytes, status: sidecar.status });
  return { path: artifact.path, sha256: artifact.sha256, size: artifact.size, status: sidecar.status, statusReason, holes: holes.holes.length, holeBytes: holes.bytes };
}

export async function firstLine(p: string): Promise<string | null> {
  try {
    return (await fsp.readFile(p, 'utf8')).split('\n')[0]!.trim() || null;
  } catch {
    return null;
  }
}
