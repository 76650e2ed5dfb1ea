import { createHash } from 'node:crypto';
import { constants as fsConstants, fstatSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { encodeHostPath } from '../lib/host-path.js';
import { UserError, errnoCode, errorMessage } from '../lib/user-error.js';
import type { ByteWriter } from './archive/byte-writer.js';
import { ArchiveOutput, type Destination } from './archive/archive-output.js';
import { ageStage, createEvidenceFile, fileDestination, gzipStage, streamDestination } from './archive/outputs.js';
import { CustodyLog, sha256Hex, type CustodyEvent } from './custody.js';
import { exactly, recycledFileChunks } from './file-chunks.js';
import {
  CUSTODY_FILE,
  FINDINGS_FILE,
  MANIFEST_FILE,
  MANIFEST_SCHEMA_ID,
  SIGNATURE_FILE,
  type Artifact,
  type CollectorRun,
  type ErrorEntry,
  type ExternalTool,
  type Manifest,
} from './manifest.js';
import { signManifest, type Signer } from './signing.js';
import { DirSink, TarSink, ZipSink, type BundleFormat, type BundleSink } from './sinks.js';
import { DiskFullError, RESERVE_BYTES, SpaceGuard } from './space-guard.js';

export interface BundleTarget {
  format: BundleFormat;
  /** A path that must not exist yet (or be an empty directory, for dir bundles); null means stdout. */
  out: string | null;
  encryptTo: string[];
  gzipLevel: number;
  /** Also hash the archive file or stream itself (`--archive-hash`). */
  archiveHash: boolean;
}

/** What the writer needs to know about the case before the first byte is written. */
export type CaseHeader = Pick<Manifest, 'case' | 'host' | 'tool' | 'commandLine' | 'clock'>;

export interface ArtifactInfo {
  /** Host path of the source, or null for files goldhour produced. */
  source: string | Buffer | null;
  collector: string;
  sourceMtime?: Date;
  sourceMode?: number;
  sourceUid?: number;
  sourceGid?: number;
  truncatedAt?: number;
  sourceSize?: number;
  /** A boolean, or a check run after the bytes are written (for sources streamed while live). */
  changedWhileRead?: boolean | (() => Promise<boolean>);
  rows?: number;
}

export interface SealResult {
  location: string;
  format: BundleFormat;
  status: 'complete' | 'partial';
  statusReason: string | null;
  artifacts: number;
  errors: number;
  manifestSha256: string;
  /** SHA-256 of the archive file or stream as written (archives only). */
  archiveSha256: string | null;
  encrypted: boolean;
}

const RESERVE_NAME = '.goldhour-reserve';

/**
 * Writes one case bundle. Every artefact is SHA-256 hashed in the same pass that
 * writes it; writes are serialised because archives are sequential. Nothing is
 * ever written outside the bundle, through a symlink, or over an existing file.
 */
export class CaseWriter {
  private readonly artifacts: Artifact[] = [];
  private readonly errors: ErrorEntry[] = [];
  private readonly tools: ExternalTool[] = [];
  private readonly collectors: CollectorRun[] = [];
  private readonly custody = new CustodyLog();
  private readonly names = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();
  private sealed = false;
  /** Artefacts refused because the output lacked room: the bundle is then partial. */
  private refusedForSpace = 0;
  /** Bytes written since the reserve was released; kept within half of it so the seal still fits. */
  private afterFullBytes = 0;
  readonly started = new Date();
  private readonly ring: Buffer[] = [];

  private constructor(
    private readonly sink: BundleSink,
    readonly location: string,
    private readonly guard: SpaceGuard | null,
    private readonly finalStage: ArchiveOutput | null,
    private readonly header: CaseHeader,
    private readonly encrypted: boolean,
  ) {}

  static async open(target: BundleTarget, header: CaseHeader): Promise<CaseWriter> {
    const encrypted = target.encryptTo.length > 0;
    if (target.out === null) {
      if (process.stdout.isTTY) throw new UserError('refusing to write a binary bundle to a terminal; redirect --stdout to a file or pipe');
      const last = new ArchiveOutput(await stdoutDestination(), target.archiveHash);
      const sink = await archiveSink(target, last);
      return new CaseWriter(sink, '(stdout)', null, last, header, encrypted).opened();
    }
    const out = path.resolve(target.out);
    if (target.format === 'dir') {
      await claimEmptyDir(out);
      const guard = new SpaceGuard(out, path.join(out, RESERVE_NAME));
      await guard.hold();
      return new CaseWriter(new DirSink(out, guard), out, guard, null, header, false).opened();
    }
    const fh = await claimNewFile(out);
    const guard = new SpaceGuard(path.dirname(out), `${out}${RESERVE_NAME}`);
    try {
      await guard.hold();
    } catch (err) {
      await fh.close();
      await fsp.rm(out, { force: true });
      throw err;
    }
    const last = new ArchiveOutput(fileDestination(fh, guard, true), target.archiveHash);
    return new CaseWriter(await archiveSink(target, last), out, guard, last, header, encrypted).opened();
  }

  private async opened(): Promise<this> {
    await this.appendCustody({
      event: 'case-opened',
      case: this.header.case.id,
      examiner: this.header.case.examiner,
      host: this.header.host.hostname,
      machineId: this.header.host.machineId,
      bootId: this.header.host.bootId,
      tool: `${this.header.tool.name} ${this.header.tool.version}`,
      toolSha256: this.header.tool.sha256,
      commandLine: this.header.commandLine,
      format: this.sink.format,
      encrypted: this.encrypted,
    });
    return this;
  }

  get diskFull(): boolean {
    return this.guard?.full ?? false;
  }

  get artifactCount(): number {
    return this.artifacts.length;
  }

  get collectorRuns(): CollectorRun[] {
    return [...this.collectors];
  }

  get errorCount(): number {
    return this.errors.length;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  async appendCustody(event: CustodyEvent): Promise<void> {
    const line = this.custody.append(event);
    if (this.sink.appendCustodyLine) await this.serial(() => this.sink.appendCustodyLine!(line));
  }

  /**
   * Codes come from errno values, workers and parsers; one that is not a string
   * (a numeric errno from a worker) would make the whole manifest fail its own
   * schema at verify time, so it is written as text.
   */
  recordError(e: Omit<ErrorEntry, 'at'>): void {
    this.errors.push({ at: new Date().toISOString(), ...e, code: String(e.code), message: String(e.message) });
  }

  recordTool(t: ExternalTool): void {
    this.tools.push(t);
  }

  recordCollector(run: CollectorRun): void {
    this.collectors.push(run);
  }

  /** Adds a file held in memory (rows, raw copies of small host files). */
  addBuffer(name: string, data: Uint8Array, info: ArtifactInfo): Promise<Artifact> {
    return this.addStream(name, [data], data.length, info);
  }

  /**
   * Adds the first `size` bytes of an open file, read through this writer's
   * own ring of buffers: entries are written one at a time, so one ring serves
   * every copy (a ring per copy made 2,000 small files cost more in garbage
   * collection than in copying).
   */
  addFile(name: string, fh: fsp.FileHandle, size: number, info: ArtifactInfo): Promise<Artifact> {
    return this.addStream(name, recycledFileChunks(fh, size, 0, this.ring), size, info);
  }

  /**
   * Adds a file from a stream of exactly `size` bytes (tar headers carry the
   * size first). Large artefacts are refused up front if the output lacks room.
   * A chunk is no longer referenced once the chunk after the next one has been
   * asked for (every sink keeps at most one write in flight behind the hashing,
   * and stages that queue more copy what they queue), so producers may recycle
   * their buffers (recycledFileChunks).
   */
  addStream(name: string, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, size: number, info: ArtifactInfo): Promise<Artifact> {
    return this.serial(async () => {
      if (this.sealed) throw new Error('bundle already sealed');
      const entry = this.uniqueName(name);
      if (this.guard?.full) {
        if (size > 1024 * 1024 || this.afterFullBytes + size > RESERVE_BYTES / 2) throw new DiskFullError();
        this.afterFullBytes += size;
      }
      if (this.guard && size > 1024 * 1024 && !(await this.guard.hasRoomFor(size))) {
        this.refusedForSpace++;
        throw new DiskFullError(`not enough free space for ${entry} (${size} bytes)`);
      }
      const hash = createHash('sha256');
      const report = { delivered: 0, padded: 0, excess: false };
      const hashed = (async function* () {
        for await (const c of exactly(chunks, size, report)) {
          hash.update(c);
          yield c;
        }
      })();
      const mtime = info.sourceMtime ?? new Date();
      await this.sink.addEntry(entry, hashed, size, { mode: 0o600, mtime });
      const changed = typeof info.changedWhileRead === 'function' ? await info.changedWhileRead() : info.changedWhileRead;
      const src = info.source === null ? null : encodeHostPath(info.source);
      const artifact: Artifact = {
        path: entry,
        sha256: hash.digest('hex'),
        size,
        source: src?.text ?? null,
        ...(src?.base64 ? { sourceBase64: src.base64 } : {}),
        collector: info.collector,
        collectedAt: new Date().toISOString(),
        ...(info.sourceMtime ? { sourceMtime: info.sourceMtime.toISOString() } : {}),
        ...optional('sourceMode', info.sourceMode),
        ...optional('sourceUid', info.sourceUid),
        ...optional('sourceGid', info.sourceGid),
        ...optional('truncatedAt', info.truncatedAt),
        ...optional('sourceSize', report.padded > 0 || report.excess ? report.delivered : info.sourceSize),
        ...(changed || report.padded > 0 || report.excess ? { changedWhileRead: true } : {}),
        ...optional('rows', info.rows),
      };
      this.artifacts.push(artifact);
      return artifact;
    });
  }

  /** Two sources may map to one bundle name (e.g. escaped invalid UTF-8); never overwrite, suffix instead. */
  private uniqueName(name: string): string {
    let candidate = name;
    for (let i = 2; this.names.has(candidate) || reservedName(candidate); i++) candidate = `${name}~${i}`;
    this.names.add(candidate);
    return candidate;
  }

  /**
   * Writes findings, the custody log and the manifest (and its signature), and
   * closes the bundle. Called once, also after an interruption or a full disk.
   */
  async seal(opts: { status: 'complete' | 'partial'; reason: string | null; findings: string; signer: Signer | null }): Promise<SealResult> {
    await this.queue;
    const spaceReason = this.guard?.full
      ? 'the output device filled up'
      : this.refusedForSpace > 0
        ? `${this.refusedForSpace} artefact(s) did not fit on the output device`
        : null;
    if (this.guard?.full) this.recordError({ collector: null, path: null, code: 'ENOSPC', message: 'the output device filled up; collection stopped and the reserve was used to seal' });
    const status = spaceReason ? 'partial' : opts.status;
    const reason = opts.reason ?? spaceReason;
    await this.guard?.release();
    const endedAt = new Date();
    await this.writeSpecial(FINDINGS_FILE, Buffer.from(opts.findings), 'findings');
    await this.appendCustody({
      event: 'sealed',
      status,
      reason,
      artifacts: this.artifacts.length + 1,
      errors: this.errors.length,
    });
    const custodyText = Buffer.from(this.custody.text());
    if (this.sink.format === 'dir') {
      await this.sink.close();
      this.artifacts.push(this.specialArtifact(CUSTODY_FILE, custodyText));
    } else {
      await this.writeSpecial(CUSTODY_FILE, custodyText, 'custody');
    }
    const manifest: Manifest = {
      schema: MANIFEST_SCHEMA_ID,
      ...this.header,
      format: this.sink.format,
      started: this.started.toISOString(),
      ended: endedAt.toISOString(),
      status,
      statusReason: reason,
      artifacts: this.artifacts,
      collectors: this.collectors,
      errors: this.errors,
      tools: this.tools,
      custody: { lines: this.custody.count, head: this.custody.head },
      signature: opts.signer ? { alg: 'ed25519', publicKeySha256: opts.signer.publicKeySha256 } : null,
    };
    const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    await this.writeRaw(MANIFEST_FILE, manifestBytes);
    if (opts.signer) await this.writeRaw(SIGNATURE_FILE, signManifest(opts.signer, manifestBytes));
    this.sealed = true;
    if (this.sink.format !== 'dir') await this.sink.close();
    return {
      location: this.location,
      format: this.sink.format,
      status,
      statusReason: reason,
      artifacts: this.artifacts.length,
      errors: this.errors.length,
      manifestSha256: sha256Hex(manifestBytes),
      archiveSha256: (await this.finalStage?.digest()) ?? null,
      encrypted: this.encrypted,
    };
  }

  private specialArtifact(name: string, data: Buffer): Artifact {
    return { path: name, sha256: sha256Hex(data), size: data.length, source: null, collector: 'goldhour', collectedAt: new Date().toISOString() };
  }

  private async writeSpecial(name: string, data: Buffer, what: string): Promise<void> {
    try {
      await this.writeRaw(name, data);
      this.artifacts.push(this.specialArtifact(name, data));
    } catch (err) {
      this.recordError({ collector: 'goldhour', path: null, code: errnoCode(err) ?? 'EWRITE', message: `writing ${what}: ${errorMessage(err)}` });
      throw err;
    }
  }

  private writeRaw(name: string, data: Buffer): Promise<void> {
    return this.serial(() => this.sink.addEntry(name, [data], data.length, { mode: 0o600, mtime: new Date() }));
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

function reservedName(name: string): boolean {
  return name === MANIFEST_FILE || name === SIGNATURE_FILE || name === CUSTODY_FILE || name === FINDINGS_FILE;
}

/**
 * stdout as where the archive goes. Redirected to a file (`--stdout >
 * case.tar`), node writes it synchronously on the main thread, between the
 * hashing; a second descriptor on the same file (append mode: it continues
 * wherever the shell's left off) writes behind the hashing from the pool
 * instead, at twice the speed.
 */
async function stdoutDestination(): Promise<Destination> {
  if (fstatSync(1).isFile()) {
    try {
      return fileDestination(await fsp.open('/proc/self/fd/1', fsConstants.O_WRONLY | fsConstants.O_APPEND), null, false);
    } catch {
      // no /proc: node's own stream still works
    }
  }
  return streamDestination(process.stdout);
}

async function archiveSink(target: BundleTarget, last: ByteWriter): Promise<BundleSink> {
  let stage = last;
  if (target.encryptTo.length > 0) stage = await ageStage(stage, target.encryptTo);
  switch (target.format) {
    case 'tar':
      return new TarSink('tar', stage);
    case 'tgz':
      return new TarSink('tgz', gzipStage(stage, target.gzipLevel));
    case 'zip':
      return new ZipSink(stage);
    case 'dir':
      throw new UserError('a directory bundle cannot go to stdout; use --format tar');
  }
}

/** Refuses an existing non-empty path or a symlink someone planted where the case should go. */
async function claimEmptyDir(dir: string): Promise<void> {
  try {
    await fsp.mkdir(dir, { mode: 0o700 });
    return;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw new UserError(`--out ${dir}: parent directory does not exist`);
    if (errnoCode(err) !== 'EEXIST') throw new UserError(`--out ${dir}: cannot create (${errnoCode(err) ?? errorMessage(err)})`);
  }
  const st = await fsp.lstat(dir);
  if (st.isSymbolicLink()) throw new UserError(`--out ${dir}: is a symbolic link; refusing to write through it`);
  if (!st.isDirectory()) throw new UserError(`--out ${dir}: exists and is not a directory`);
  if ((await fsp.readdir(dir)).length > 0) throw new UserError(`--out ${dir}: exists and is not empty`);
  if (st.uid !== process.getuid?.()) throw new UserError(`--out ${dir}: owned by uid ${st.uid}, not by us`);
  await fsp.chmod(dir, 0o700);
}

async function claimNewFile(file: string): Promise<fsp.FileHandle> {
  try {
    return await createEvidenceFile(file);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'EEXIST') throw new UserError(`--out ${file}: already exists; refusing to overwrite`);
    if (code === 'ELOOP') throw new UserError(`--out ${file}: is a symbolic link; refusing to write through it`);
    if (code === 'ENOENT') throw new UserError(`--out ${file}: parent directory does not exist`);
    throw new UserError(`--out ${file}: cannot create (${code ?? errorMessage(err)})`);
  }
}
