import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CaseWriter } from '../../src/evidence/case-writer.js';
import { Manifest } from '../../src/evidence/manifest.js';
import { Host } from '../../src/host/host.js';
import { buildCaseHeader } from '../../src/pipeline/case-header.js';
import { PROJECT, tempDir } from '../helpers.js';

test('an error code that is not a string is written as text: the manifest still matches its schema', async (t) => {
  const out = path.join(tempDir(t), 'case');
  const header = await buildCaseHeader(await Host.open(), { caseId: 't', examiner: 't', commandLine: ['t'], version: '0.0.0', codeRoot: PROJECT });
  const writer = await CaseWriter.open({ format: 'dir', out, encryptTo: [], gzipLevel: 6, archiveHash: false }, header);
  writer.recordError({ collector: 'x', path: '/etc/x', code: -13 as unknown as string, message: 'EACCES from a worker' });
  await writer.seal({ status: 'complete', reason: null, findings: '', signer: null });
  const m = Manifest.parse(JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')));
  assert.equal(m.errors[0]?.code, '-13');
});

test('an empty artefact (a program that printed nothing) is not marked as changed while read; a short or long stream is', async (t) => {
  const out = path.join(tempDir(t), 'case');
  const header = await buildCaseHeader(await Host.open(), { caseId: 't', examiner: 't', commandLine: ['t'], version: '0.0.0', codeRoot: PROJECT });
  const writer = await CaseWriter.open({ format: 'dir', out, encryptTo: [], gzipLevel: 6, archiveHash: false }, header);
  const empty = await writer.addBuffer('commands/x/empty.stdout', Buffer.alloc(0), { source: null, collector: 'x' });
  const shrunk = await writer.addStream('files/shrunk', [Buffer.from('abc')], 5, { source: '/shrunk', collector: 'x' });
  const grown = await writer.addStream('files/grown', [Buffer.from('abcdef')], 4, { source: '/grown', collector: 'x' });
  await writer.seal({ status: 'complete', reason: null, findings: '', signer: null });
  assert.equal(empty.changedWhileRead, undefined);
  assert.equal(shrunk.changedWhileRead, true);
  assert.equal(grown.changedWhileRead, true);
});

test('files copied one after another through the writer\'s one ring arrive intact, large and small, in dir and tar', async (t) => {
  const dir = tempDir(t);
  const header = await buildCaseHeader(await Host.open(), { caseId: 't', examiner: 't', commandLine: ['t'], version: '0.0.0', codeRoot: PROJECT });
  // Sizes around the 1 MiB chunk, so a later copy reuses buffers an earlier one grew or left short.
  const bodies = [5 * 1024 * 1024 + 3, 10, 1024 * 1024, 0, 2 * 1024 * 1024 - 1, 70_000].map((n) => randomBytes(n));
  bodies.forEach((b, i) => writeFileSync(path.join(dir, `f${i}`), b));
  for (const format of ['dir', 'tar'] as const) {
    const out = path.join(dir, `case-${format}`);
    const writer = await CaseWriter.open({ format, out, encryptTo: [], gzipLevel: 6, archiveHash: false }, header);
    for (let i = 0; i < bodies.length; i++) {
      const fh = await fsp.open(path.join(dir, `f${i}`), 'r');
      const a = await writer.addFile(`files/f${i}`, fh, bodies[i]!.length, { source: `/f${i}`, collector: 'x' });
      await fh.close();
      assert.equal(a.sha256, createHash('sha256').update(bodies[i]!).digest('hex'));
    }
    await writer.seal({ status: 'complete', reason: null, findings: '', signer: null });
    bodies.forEach((b, i) => {
      const got = format === 'dir' ? readFileSync(path.join(out, `files/f${i}`)) : execFileSync('tar', ['-xOf', out, `files/f${i}`], { maxBuffer: 64 * 1024 * 1024 });
      assert.ok(got.equals(b), `${format} f${i}`);
    });
  }
});
