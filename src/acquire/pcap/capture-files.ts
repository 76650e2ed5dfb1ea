import type { CaseWriter } from '../../evidence/case-writer.js';
import { errnoCode, errorMessage } from '../../lib/user-error.js';
import { pcapTimeIso, type PcapHeader, type PcapTime } from './pcap-format.js';
import { RecordSplitter, type SplitPiece } from './record-splitter.js';
import type { PcapFileEntry, PcapSidecar } from './sidecar.js';
import type { StagedFile, Staging } from './staging.js';

export interface CaptureFilesOptions {
  /** Folder inside the bundle, and the name the numbered files share. */
  bundleDir: string;
  baseName: string;
  maxFileBytes: number | null;
  /** Keep only the newest N files (a ring); null keeps all and hands each to the bundle as soon as it is complete. */
  ringFiles: number | null;
}

interface OpenFile {
  file: StagedFile;
  entry: PcapFileEntry;
  /** Kept raw while the file grows; turned into text once, when it closes. */
  first: PcapTime | null;
  last: PcapTime | null;
}

interface Done {
  file: StagedFile;
  entry: PcapFileEntry;
}

/**
 * Turns the capture tool's pcap stream into numbered files: split at record
 * boundaries, cut by goldhour's own timer (rotate) or by size, staged, and
 * handed to the case writer, which hashes them again as it writes. All calls
 * are serialised, so a timer's cut lands between two chunks, never inside one.
 */
export class CaptureFiles {
  private readonly splitter: RecordSplitter;
  private queue: Promise<unknown> = Promise.resolve();
  private headerBytes: Uint8Array | null = null;
  private current: OpenFile | null = null;
  private opened = new Date();
  private seq = 0;
  private readonly ring: Done[] = [];
  private deliveries: Promise<void> = Promise.resolve();
  private unparsed: { file: StagedFile; offset: number; reason: string } | null = null;
  readonly entries: PcapFileEntry[] = [];
  header: PcapHeader | null = null;
  bytes = 0;
  packets = 0;
  /** Staged files whose bytes changed between arrival and the bundle. */
  readonly mismatched: string[] = [];

  constructor(
    private readonly writer: CaseWriter,
    private readonly staging: Staging,
    private readonly opts: CaptureFilesOptions,
    private readonly onHeader: (h: PcapHeader) => void,
  ) {
    this.splitter = new RecordSplitter({ maxFileBytes: opts.maxFileBytes });
  }

  get fileCount(): number {
    return this.seq;
  }

  /** Takes the next chunk of the tool's stdout. */
  take(chunk: Uint8Array): Promise<void> {
    this.bytes += chunk.length;
    return this.serial(() => this.apply(this.splitter.push(chunk)));
  }

  /** The --rotate timer: ends the current file (an idle stretch still gets its own, empty, file). */
  rotate(): Promise<void> {
    return this.serial(async () => {
      if (!this.headerBytes) return;
      await this.closeCurrent('time', true);
      this.splitter.newFile();
    });
  }

  /** The stream has ended: closes the last file, hands what the ring kept to the bundle, and waits for every hand-over. */
  finish(): Promise<void> {
    return this.serial(async () => {
      await this.apply(this.splitter.end());
      if (this.headerBytes) await this.closeCurrent('end', true);
      const unparsedStaged = this.unparsed ? await this.closeUnparsed(this.unparsed.file) : false;
      for (const d of this.ring.splice(0)) this.deliver(d);
      await this.deliveries;
      if (unparsedStaged) await this.deliverUnparsed(this.unparsed!.file);
    });
  }

  /** What the sidecar says about the unparsed bytes, if any. */
  unparsedInfo(): PcapSidecar['unparsed'] {
    if (!this.unparsed) return null;
    const { file, offset, reason } = this.unparsed;
    return { path: this.unparsedPath(), offset, reason, size: file.size, sha256: file.sha256 };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async apply(pieces: SplitPiece[]): Promise<void> {
    for (const p of pieces) {
      switch (p.kind) {
        case 'header':
          this.header = p.header;
          this.headerBytes = p.bytes;
          this.opened = new Date();
          this.onHeader(p.header);
          break;
        case 'records': {
          const cur = await this.ensureOpen();
          await cur.file.write(p.data);
          cur.entry.packets += p.count;
          this.packets += p.count;
          cur.first ??= p.first;
          cur.last = p.last;
          break;
        }
        case 'cut':
          await this.closeCurrent('size', false);
          break;
        case 'corrupt':
          this.unparsed = { file: await this.staging.file(`${this.opts.baseName}.unparsed`), offset: p.offset, reason: p.reason };
          break;
        case 'unparsed':
          await this.unparsed?.file.write(p.data);
          break;
      }
    }
  }

  private iso(t: PcapTime): string {
    return pcapTimeIso(t, this.header?.nanoseconds ?? false);
  }

  private async ensureOpen(): Promise<OpenFile> {
    if (this.current) return this.current;
    const seq = ++this.seq;
    const name = `${this.opts.baseName}-${String(seq).padStart(4, '0')}.pcap`;
    const file = await this.staging.file(name);
    const entry: PcapFileEntry = {
      path: `${this.opts.bundleDir}/${name}`,
      status: 'not-written',
      sha256: null,
      size: 0,
      packets: 0,
      firstPacket: null,
      lastPacket: null,
      opened: this.opened.toISOString(),
      closed: this.opened.toISOString(),
      cutBy: 'end',
    };
    this.entries.push(entry);
    this.current = { file, entry, first: null, last: null };
    await file.write(this.headerBytes!);
    return this.current;
  }

  /** `evenIfEmpty`: a time cut or the end makes a file for its stretch even if no packet came. */
  private async closeCurrent(cutBy: PcapFileEntry['cutBy'], evenIfEmpty: boolean): Promise<void> {
    if (!this.current && !evenIfEmpty) return;
    if (!this.current) {
      try {
        await this.ensureOpen();
      } catch (err) {
        this.opened = new Date();
        this.writer.recordError({ collector: 'pcap', path: null, code: errnoCode(err) ?? 'EWRITE', message: `could not stage a capture file: ${errorMessage(err)}` });
        return;
      }
    }
    const { file, entry, first, last } = this.current!;
    this.current = null;
    entry.firstPacket = first && this.iso(first);
    entry.lastPacket = last && this.iso(last);
    this.opened = new Date();
    entry.closed = this.opened.toISOString();
    entry.cutBy = cutBy;
    try {
      await file.close();
    } catch (err) {
      entry.error = `staging failed: ${errorMessage(err)}`;
      this.writer.recordError({ collector: 'pcap', path: null, code: errnoCode(err) ?? 'EWRITE', message: `${entry.path}: ${entry.error}` });
      return;
    }
    entry.size = file.size;
    entry.sha256 = file.sha256;
    const done = { file, entry };
    if (this.opts.ringFiles === null) {
      this.deliver(done);
      return;
    }
    this.ring.push(done);
    while (this.ring.length > this.opts.ringFiles) await this.dropOldest();
  }

  private async dropOldest(): Promise<void> {
    const { file, entry } = this.ring.shift()!;
    await file.remove();
    entry.status = 'dropped-by-ring';
    await this.writer.appendCustody({ event: 'pcap-ring-dropped', file: entry.path, sha256: entry.sha256, size: entry.size, packets: entry.packets });
  }

  /** Hands a complete file to the bundle behind the ones before it; the capture goes on meanwhile. */
  private deliver(d: Done): void {
    this.deliveries = this.deliveries.then(() => this.deliverOne(d));
  }

  private async deliverOne({ file, entry }: Done): Promise<void> {
    try {
      const artifact = await this.writer.addStream(entry.path, file.chunks(), file.size, { source: null, collector: 'pcap' });
      entry.path = artifact.path;
      entry.status = 'in-bundle';
      if (artifact.sha256 !== entry.sha256) await this.stagingChanged(entry.path, entry.sha256!, artifact.sha256);
      await file.remove();
    } catch (err) {
      entry.error = errorMessage(err);
      this.writer.recordError({ collector: 'pcap', path: null, code: errnoCode(err) ?? 'EWRITE', message: `${entry.path} not written: ${entry.error} (kept in ${this.staging.dir})` });
    }
  }

  private async closeUnparsed(file: StagedFile): Promise<boolean> {
    try {
      await file.close();
      return true;
    } catch (err) {
      this.writer.recordError({ collector: 'pcap', path: null, code: errnoCode(err) ?? 'EWRITE', message: `${this.unparsedPath()}: staging failed: ${errorMessage(err)}` });
      return false;
    }
  }

  private async deliverUnparsed(file: StagedFile): Promise<void> {
    try {
      const artifact = await this.writer.addStream(this.unparsedPath(), file.chunks(), file.size, { source: null, collector: 'pcap' });
      if (artifact.sha256 !== file.sha256) await this.stagingChanged(artifact.path, file.sha256!, artifact.sha256);
      await file.remove();
    } catch (err) {
      this.writer.recordError({ collector: 'pcap', path: null, code: errnoCode(err) ?? 'EWRITE', message: `${this.unparsedPath()} not written: ${errorMessage(err)} (kept in ${this.staging.dir})` });
    }
  }

  private unparsedPath(): string {
    return `${this.opts.bundleDir}/${this.opts.baseName}.unparsed`;
  }

  private async stagingChanged(name: string, arrived: string, written: string): Promise<void> {
    this.mismatched.push(name);
    this.writer.recordError({ collector: 'pcap', path: null, code: 'ETAMPERED', message: `${name}: the staged file changed before it reached the bundle (SHA-256 ${arrived} on arrival, ${written} as written)` });
    await this.writer.appendCustody({ event: 'pcap-staging-mismatch', file: name, arrivedSha256: arrived, writtenSha256: written });
  }
}
