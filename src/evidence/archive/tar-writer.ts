import type { ByteWriter } from './byte-writer.js';

/**
 * A minimal POSIX (pax) tar writer that hands bytes straight to a ByteWriter.
 * tar-stream measured three times slower than `tar cf` on large files; writing
 * headers ourselves keeps the copy loop to read → hash → write.
 */
export interface TarEntry {
  name: string;
  size: number;
  mode: number;
  mtime: Date;
  uid?: number;
  gid?: number;
  type?: 'file' | 'directory';
}

const BLOCK = 512;
const MAX_OCTAL_SIZE = 8 ** 11 - 1;
const MAX_OCTAL_ID = 8 ** 7 - 1;

export class TarWriter {
  constructor(private readonly out: ByteWriter) {}

  async header(entry: TarEntry): Promise<void> {
    const nameBytes = Buffer.from(entry.name, 'utf8');
    const pax: Record<string, string> = {};
    if (nameBytes.length > 100 || !/^[\x20-\x7e]*$/.test(entry.name)) pax.path = entry.name;
    if (entry.size > MAX_OCTAL_SIZE) pax.size = String(entry.size);
    const uid = entry.uid ?? 0;
    const gid = entry.gid ?? 0;
    if (uid > MAX_OCTAL_ID) pax.uid = String(uid);
    if (gid > MAX_OCTAL_ID) pax.gid = String(gid);
    if (Object.keys(pax).length > 0) {
      const body = encodePax(pax);
      await this.out.write(ustarHeader({ name: 'PaxHeaders/entry', size: body.length, mode: 0o600, mtime: entry.mtime }, 'x'));
      await this.out.write(padded(body));
    }
    await this.out.write(ustarHeader(entry, entry.type === 'directory' ? '5' : '0'));
  }

  /** Pads the entry body to a whole block; call after writing `size` bytes. */
  async endEntry(size: number): Promise<void> {
    const rem = size % BLOCK;
    if (rem !== 0) await this.out.write(Buffer.alloc(BLOCK - rem));
  }

  async addBuffer(entry: Omit<TarEntry, 'size'>, data: Uint8Array): Promise<void> {
    await this.header({ ...entry, size: data.length });
    if (data.length > 0) await this.out.write(data);
    await this.endEntry(data.length);
  }

  async finish(): Promise<void> {
    await this.out.write(Buffer.alloc(BLOCK * 2));
  }
}

function encodePax(fields: Record<string, string>): Buffer {
  const records = Object.entries(fields).map(([key, value]) => {
    const rest = ` ${key}=${value}\n`;
    const restLen = Buffer.byteLength(rest);
    let len = restLen + 1;
    while (String(len).length + restLen !== len) len = String(len).length + restLen;
    return `${len}${rest}`;
  });
  return Buffer.from(records.join(''), 'utf8');
}

function padded(body: Buffer): Buffer {
  const rem = body.length % BLOCK;
  return rem === 0 ? body : Buffer.concat([body, Buffer.alloc(BLOCK - rem)]);
}

function octal(value: number, width: number): string {
  return Math.min(value, 8 ** (width - 1) - 1).toString(8).padStart(width - 1, '0');
}

function ustarHeader(entry: TarEntry, typeflag: string): Buffer {
  const h = Buffer.alloc(BLOCK);
  const name = Buffer.from(entry.name, 'utf8');
  // When a pax 'path' carries the real name, the ustar field holds an ASCII stand-in.
  const shortName = name.length <= 100 && /^[\x20-\x7e]*$/.test(entry.name) ? entry.name : asciiStandIn(entry.name);
  h.write(shortName, 0, 100, 'ascii');
  h.write(octal(entry.mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(entry.uid ?? 0, 8), 108, 'ascii');
  h.write(octal(entry.gid ?? 0, 8), 116, 'ascii');
  h.write(octal(entry.size, 12), 124, 'ascii');
  h.write(octal(Math.max(0, Math.floor(entry.mtime.getTime() / 1000)), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(typeflag, 156, 'ascii');
  h.write('ustar\u000000', 257, 'binary');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i]!;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'binary');
  return h;
}

function asciiStandIn(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_');
  return ascii.length <= 100 ? ascii : ascii.slice(ascii.length - 100);
}
