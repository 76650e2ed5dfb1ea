import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../lib/user-error.js';
import type { ByteWriter } from './archive/byte-writer.js';
import { createEvidenceFile } from './archive/outputs.js';
import { TarWriter } from './archive/tar-writer.js';
import { ZipWriter } from './archive/zip-writer.js';
import { SpaceGuard, writeAll } from './space-guard.js';

export type BundleFormat = 'dir' | 'tar' | 'tgz' | 'zip';

export interface EntryMeta {
  mode: number;
  mtime: Date;
}

/**
 * One bundle layout. Entries arrive one at a time (archives are sequential);
 * the chunks given are exactly the bytes to store. Tar needs the size up front,
 * so callers always declare it and deliver exactly that many bytes.
 */
export interface BundleSink {
  readonly format: BundleFormat;
  addEntry(name: string, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, size: number, meta: EntryMeta): Promise<void>;
  /** Dir bundles keep custody.jsonl on disk as the run goes, so even a killed run leaves its log. */
  appendCustodyLine?(line: string): Promise<void>;
  close(): Promise<void>;
}

export class DirSink implements BundleSink {
  readonly format = 'dir' as const;
  private readonly made = new Set<string>();
  private custody: fsp.FileHandle | null = null;

  constructor(
    readonly dir: string,
    private readonly guard: SpaceGuard,
  ) {
    this.made.add(dir);
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.made.has(dir)) return;
    await this.ensureDir(path.dirname(dir));
    try {
      await fsp.mkdir(dir, { mode: 0o700 });
    } catch (err) {
      // Only directories this run created are ever written into.
      if (errnoCode(err) === 'EEXIST') throw new Error(`${dir} appeared in the bundle from outside`);
      throw err;
    }
    this.made.add(dir);
  }

  async addEntry(name: string, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, _size: number, meta: EntryMeta): Promise<void> {
    const target = path.join(this.dir, name);
    await this.ensureDir(path.dirname(target));
    const fh = await createEvidenceFile(target);
    // One write in flight behind the hashing: the pool thread copies chunk N to
    // the kernel while this thread hashes chunk N+1 (chunks are never reused).
    let pending: Promise<void> = Promise.resolve();
    const failed: { err?: unknown } = {};
    const landed = async () => {
      await pending;
      if ('err' in failed) throw failed.err;
    };
    try {
      for await (const chunk of chunks) {
        await landed();
        pending = writeAll(fh, chunk, this.guard).catch((err: unknown) => {
          failed.err = err;
        });
      }
      await landed();
      await fh.utimes(meta.mtime, meta.mtime);
    } finally {
      await pending;
      await fh.close();
    }
  }

  async appendCustodyLine(line: string): Promise<void> {
    this.custody ??= await createEvidenceFile(path.join(this.dir, 'custody.jsonl'));
    await writeAll(this.custody, Buffer.from(`${line}\n`), this.guard);
    await this.custody.datasync();
  }

  async close(): Promise<void> {
    await this.custody?.close();
    this.custody = null;
  }
}

export class TarSink implements BundleSink {
  private readonly tar: TarWriter;

  constructor(
    readonly format: 'tar' | 'tgz',
    private readonly out: ByteWriter,
  ) {
    this.tar = new TarWriter(out);
  }

  async addEntry(name: string, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, size: number, meta: EntryMeta): Promise<void> {
    await this.tar.header({ name, size, mode: meta.mode, mtime: meta.mtime });
    for await (const chunk of chunks) await this.out.write(chunk);
    await this.tar.endEntry(size);
  }

  async close(): Promise<void> {
    await this.tar.finish();
    await this.out.close();
  }
}

export class ZipSink implements BundleSink {
  readonly format = 'zip' as const;
  private readonly zip: ZipWriter;

  constructor(private readonly out: ByteWriter) {
    this.zip = new ZipWriter(out);
  }

  async addEntry(name: string, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, _size: number, meta: EntryMeta): Promise<void> {
    await this.zip.addEntry({ name, mode: 0o100000 | meta.mode, mtime: meta.mtime }, chunks);
  }

  async close(): Promise<void> {
    await this.zip.finish();
    await this.out.close();
  }
}
