import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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
  const writer = await CaseWriter.open({ format: 'dir', out, encryptTo: [], gzipLevel: 6 }, header);
  writer.recordError({ collector: 'x', path: '/etc/x', code: -13 as unknown as string, message: 'EACCES from a worker' });
  await writer.seal({ status: 'complete', reason: null, findings: '', signer: null });
  const m = Manifest.parse(JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')));
  assert.equal(m.errors[0]?.code, '-13');
});

test('an empty artefact (a program that printed nothing) is not marked as changed while read; a short or long stream is', async (t) => {
  const out = path.join(tempDir(t), 'case');
  const header = await buildCaseHeader(await Host.open(), { caseId: 't', examiner: 't', commandLine: ['t'], version: '0.0.0', codeRoot: PROJECT });
  const writer = await CaseWriter.open({ format: 'dir', out, encryptTo: [], gzipLevel: 6 }, header);
  const empty = await writer.addBuffer('commands/x/empty.stdout', Buffer.alloc(0), { source: null, collector: 'x' });
  const shrunk = await writer.addStream('files/shrunk', [Buffer.from('abc')], 5, { source: '/shrunk', collector: 'x' });
  const grown = await writer.addStream('files/grown', [Buffer.from('abcdef')], 4, { source: '/grown', collector: 'x' });
  await writer.seal({ status: 'complete', reason: null, findings: '', signer: null });
  assert.equal(empty.changedWhileRead, undefined);
  assert.equal(shrunk.changedWhileRead, true);
  assert.equal(grown.changedWhileRead, true);
});
