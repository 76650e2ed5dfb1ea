import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { fileChunks } from '../evidence/file-chunks.js';
import { errnoCode, errorMessage } from '../lib/user-error.js';
import { HostReadError, type FileFacts, type Host } from './host.js';

export type Compression = 'gzip' | 'xz' | 'bzip2' | 'zstd' | 'lz4';

/** Which compressed format a file's first bytes announce (by magic, not by name: a name can lie). */
export function compressionOf(magic: Buffer): Compression | null {
  if (magic.length >= 2 && magic[0] === 0x1f && magic[1] === 0x8b) return 'gzip';
  if (magic.length >= 6 && magic.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (magic.length >= 3 && magic.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (magic.length >= 4 && magic.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (magic.length >= 4 && magic.readUInt32LE(0) === 0x184d2204) return 'lz4';
  return null;
}

export interface ContentStatus {
  /** Bytes of content delivered (decompressed for gzip). */
  bytes: number;
  /** Delivery stopped at the cap: there was more. */
  capped: boolean;
  /** Decompression failed (a torn or forged .gz): what zlib said. */
  error: string | null;
}

export interface OpenedLog {
  hostPath: string;
  facts: FileFacts;
  compression: Compression | null;
  /** Whether `content()` can give the text: plain, or gzip (decompressed in a stream). */
  readable: boolean;
  /** The content, at most maxBytes of it, in chunks; call once. */
  content(maxBytes: number, status: ContentStatus): AsyncGenerator<Buffer>;
  /** Reads `length` bytes at `position` of the file as stored (the tail of a big plain log); throws HostReadError. */
  readAt(position: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

/**
 * Opens a host log for reading its content in a stream, decompressing gzip
 * (rotated generations) on the fly, so memory stays flat whatever the size and
 * a gzip bomb costs no more than the cap. Throws HostReadError like Host.openFile.
 */
export async function openLog(host: Host, hostPath: string): Promise<OpenedLog> {
  const file = await host.openFile(hostPath);
  const { fh } = file;
  const magic = Buffer.alloc(8);
  let n = 0;
  try {
    n = (await fh.read(magic, 0, 8, 0)).bytesRead;
  } catch (err) {
    await fh.close();
    throw new HostReadError(hostPath, errnoCode(err) ?? 'EIO', `read failed: ${errorMessage(err)}`);
  }
  const compression = compressionOf(magic.subarray(0, n));
  return {
    hostPath,
    facts: file.facts,
    compression,
    readable: compression === null || compression === 'gzip',
    async *content(maxBytes: number, status: ContentStatus) {
      if (compression !== null && compression !== 'gzip') return;
      const source: AsyncIterable<Buffer> =
        compression === 'gzip'
          ? pipeline(Readable.from(fileChunks(fh)), createGunzip(), (err) => {
              if (err && !status.capped && err.code !== 'ERR_STREAM_PREMATURE_CLOSE') status.error ??= err.message;
            })
          : fileChunks(fh, maxBytes + 1);
      try {
        for await (const chunk of source) {
          const room = maxBytes - status.bytes;
          if (chunk.length > room) {
            status.capped = true;
            if (room > 0) {
              status.bytes += room;
              yield chunk.subarray(0, room);
            }
            return;
          }
          status.bytes += chunk.length;
          yield chunk;
        }
      } catch (err) {
        status.error ??= err instanceof Error ? err.message : String(err);
      }
    },
    async readAt(position: number, length: number) {
      const buf = Buffer.alloc(length);
      try {
        const { bytesRead } = await fh.read(buf, 0, length, position);
        return buf.subarray(0, bytesRead);
      } catch (err) {
        throw new HostReadError(hostPath, errnoCode(err) ?? 'EIO', `read at ${position} failed: ${errorMessage(err)}`);
      }
    },
    close: () => fh.close(),
  };
}
