import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, openSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { ContentReadError, contentKind, examineContent, interpreterLine } from '../../src/host/content-kind.js';
import { HashPool, eachBounded } from '../../src/host/hash-pool.js';
import { tempDir } from '../helpers.js';

test('workers hash open descriptors like node:crypto does, several algorithms at once, with a byte cap', async (t) => {
  const dir = tempDir(t);
  const files = [Buffer.alloc(0), Buffer.from('hello\n'), Buffer.alloc(3 * 1024 * 1024 + 7, 0x61)].map((data, i) => {
    const p = path.join(dir, `f${i}`);
    writeFileSync(p, data);
    return { p, data };
  });
  const pool = HashPool.open(2);
  t.after(() => pool.close());
  assert.ok(pool.threads >= 1);
  await Promise.all(
    files.map(async ({ p, data }) => {
      const fd = openSync(p, 'r');
      try {
        const r = await pool.hash(fd, ['md5', 'sha256']);
        assert.deepEqual(r.digests, [createHash('md5').update(data).digest('hex'), createHash('sha256').update(data).digest('hex')]);
        assert.equal(r.bytes, data.length);
        const capped = await pool.hash(fd, ['sha256'], 4);
        assert.equal(capped.digests[0], createHash('sha256').update(data.subarray(0, 4)).digest('hex'));
      } finally {
        closeSync(fd);
      }
    }),
  );
});

test('a bad descriptor is an error, not a crash; a closed pool refuses work', async () => {
  const pool = HashPool.open(1);
  await assert.rejects(pool.hash(987654, ['sha256']), /EBADF/);
  await pool.close();
  await assert.rejects(pool.hash(0, ['sha256']), /ECLOSED/);
});

test('eachBounded never runs more than the limit at once', async () => {
  let running = 0;
  let peak = 0;
  await eachBounded([...Array(20).keys()], 3, new AbortController().signal, async () => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, 2));
    running--;
  });
  assert.equal(peak, 3);
});

test('content kind by first bytes, not by name', () => {
  assert.equal(contentKind(Buffer.from('\x7fELF\x02\x01\x01')), 'elf');
  assert.equal(contentKind(Buffer.from('#!/bin/sh\n')), 'script');
  assert.equal(contentKind(Buffer.from('MZ')), null);
  assert.equal(contentKind(Buffer.from('#')), null);
  assert.equal(interpreterLine(Buffer.from('#!/usr/bin/env python3\r\nimport os')), '/usr/bin/env python3');
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => void interpreterLine(Buffer.from(b))));
});

test('examineContent hashes an ELF copied under a harmless name, leaves data files alone, refuses links and FIFOs', async (t) => {
  const dir = tempDir(t);
  const pool = HashPool.open(1);
  t.after(() => pool.close());
  const elf = path.join(dir, '.font-cache');
  copyFileSync('/usr/bin/true', elf);
  writeFileSync(path.join(dir, 'notes.sh'), 'just text');
  symlinkSync(elf, path.join(dir, 'link'));
  spawnSync('mkfifo', [path.join(dir, 'fifo')]);
  const opts = { pool, maxHashBytes: 1 << 30, hash: (k: string | null) => k !== null };
  const st = statSync(elf);
  const facts = await examineContent(Buffer.from(elf), st, opts);
  assert.equal(facts.kind, 'elf');
  assert.equal(facts.sha256, createHash('sha256').update(await import('node:fs').then((f) => f.readFileSync(elf))).digest('hex'));
  const text = await examineContent(Buffer.from(path.join(dir, 'notes.sh')), null, opts);
  assert.deepEqual([text.kind, text.sha256], [null, null]);
  await assert.rejects(async () => examineContent(Buffer.from(path.join(dir, 'link')), null, opts), (e: ContentReadError) => e.code === 'ELOOP');
  await assert.rejects(async () => examineContent(Buffer.from(path.join(dir, 'fifo')), null, opts), (e: ContentReadError) => e.code === 'ENOTREG');
  await assert.rejects(async () => examineContent(Buffer.from(elf), { dev: st.dev, ino: st.ino + 1 }, opts), (e: ContentReadError) => e.code === 'ERACE');
  const big = await examineContent(Buffer.from(elf), st, { ...opts, maxHashBytes: 10 });
  assert.deepEqual([big.kind, big.sha256, big.tooBigToHash], ['elf', null, true]);
});

test('a worker that dies hands its job back; with no worker left, hashing goes on in this thread', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'f');
  writeFileSync(p, 'abc');
  const pool = HashPool.open(1);
  t.after(() => pool.close());
  const fd = openSync(p, 'r');
  t.after(() => closeSync(fd));
  const workers = (pool as unknown as { threadsOf: { workers: { terminate(): Promise<number> }[] } }).threadsOf.workers;
  const pending = pool.hash(fd, ['sha256']);
  await workers[0]!.terminate();
  assert.equal((await pending).digests[0], createHash('sha256').update('abc').digest('hex'));
  assert.equal((await pool.hash(fd, ['md5'])).digests[0], createHash('md5').update('abc').digest('hex'));
});

test('pools open at the same time share their threads; closing one refuses only its own waiting jobs', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'big');
  writeFileSync(p, Buffer.alloc(8 * 1024 * 1024, 0x62));
  const expected = createHash('sha256').update(readFileSync(p)).digest('hex');
  const a = HashPool.open(2);
  const b = HashPool.open(2);
  t.after(() => Promise.all([a.close(), b.close()]));
  const threadsOf = (x: HashPool) => (x as unknown as { threadsOf: { workers: unknown[] } }).threadsOf;
  assert.equal(threadsOf(a), threadsOf(b));
  assert.ok(a.threads >= 1 && a.threads <= 2);
  const fd = openSync(p, 'r');
  t.after(() => closeSync(fd));
  const fromA = Array.from({ length: 12 }, () => a.hash(fd, ['sha256']).then((r) => r.digests[0], (e: Error) => e.message));
  const fromB = Array.from({ length: 3 }, () => b.hash(fd, ['sha256']));
  await a.close();
  const settledA = await Promise.all(fromA);
  assert.ok(settledA.some((x) => x === 'hashing failed (ECLOSED)'), 'jobs still waiting when their pool closed are refused');
  assert.ok(settledA.every((x) => x === expected || x === 'hashing failed (ECLOSED)'));
  for (const r of await Promise.all(fromB)) assert.equal(r.digests[0], expected);
  assert.ok(b.threads >= 1, 'the other pool keeps the threads');
  await b.close();
  assert.equal(b.threads, 0, 'the last pool to close stops them');
});
