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
