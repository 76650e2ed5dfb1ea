import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** A seeded linear congruential generator in [0, 1): generated bench data is the same every run. */
export function prng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
}

/**
 * A deterministic-enough stand-in for a memory or disk image: 1 MiB runs of
 * random bytes (40%), zeros (20%) and English-like text (40%). Hashing and tar
 * do not care about content; gzip and deflate do, and an all-zero or all-random
 * file would flatter or punish them. Compresses to about half its size at -6.
 */
export async function makeBigFile(file: string, size: number): Promise<void> {
  const text = textPool(4 * MiB);
  const zeros = Buffer.alloc(MiB);
  const fh = await fsp.open(file, 'wx', 0o600);
  try {
    for (let off = 0, i = 0; off < size; off += MiB, i++) {
      const n = Math.min(MiB, size - off);
      const kind = i % 10;
      let chunk: Buffer;
      if (kind < 4) chunk = randomBytes(n);
      else if (kind < 6) chunk = zeros.subarray(0, n);
      else {
        const start = (i * 7919 * 4096) % (text.length - MiB);
        chunk = text.subarray(start, start + n);
      }
      await fh.write(chunk, 0, n, off);
    }
  } finally {
    await fh.close();
  }
}

/** `count` small files (0 to 64 KiB, mostly a few KiB, like configs and logs) in 20 directories. */
export async function makeSmallFiles(dir: string, count: number): Promise<number> {
  const text = textPool(MiB);
  let total = 0;
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
  for (let i = 0; i < count; i++) {
    const sub = path.join(dir, `d${String(i % 20).padStart(2, '0')}`);
    await fsp.mkdir(sub, { recursive: true });
    const size = Math.floor(64 * 1024 * rand() ** 4);
    const start = Math.floor(rand() * (text.length - size));
    await fsp.writeFile(path.join(sub, `f${String(i).padStart(5, '0')}.txt`), text.subarray(start, start + size), { mode: 0o644 });
    total += size;
  }
  return total;
}

const WORDS = (
  'the of and to in is was for on that with as by at from process user root session kernel module cron ' +
  'systemd service unit timer ssh key authorized login failed accepted password connection port address ' +
  'error warning info debug /usr/bin /etc/passwd /var/log 127.0.0.1 10.0.0.12 0x7f3a2c GET POST HTTP/1.1 200 404'
).split(' ');

function textPool(size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let seed = 42;
  let pos = 0;
  while (pos < size) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const w = WORDS[seed % WORDS.length]!;
    const sep = seed % 13 === 0 ? '\n' : ' ';
    pos += out.write(w + sep + (seed % 7 === 0 ? String(seed % 100000) + ' ' : ''), pos, 'latin1');
  }
  return out;
}
