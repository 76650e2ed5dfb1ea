import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { CaptureFiles, type CaptureFilesOptions } from '../../src/acquire/pcap/capture-files.js';
import { Staging } from '../../src/acquire/pcap/staging.js';
import { CaseWriter } from '../../src/evidence/case-writer.js';
import { Manifest } from '../../src/evidence/manifest.js';
import { Host } from '../../src/host/host.js';
import { buildCaseHeader } from '../../src/pipeline/case-header.js';
import { PROJECT, tempDir } from '../helpers.js';
import { globalHeader, readPcap, record, type StreamSpec } from '../pcap-fixtures.js';

const S: StreamSpec = { littleEndian: true, nanoseconds: false };
const rec = (i: number, size = 100) => record(S, { sec: 1_700_000_000 + i, frac: i, data: Buffer.alloc(size, i) });

async function setup(t: TestContext, opts: Partial<CaptureFilesOptions>) {
  const dir = tempDir(t);
  const out = path.join(dir, 'case');
  const header = await buildCaseHeader(await Host.open(), { caseId: 't', examiner: 't', commandLine: ['t'], version: '0.0.0', codeRoot: PROJECT });
  const writer = await CaseWriter.open({ format: 'dir', out, encryptTo: [], gzipLevel: 6, archiveHash: false }, header);
  const staging = await Staging.create(dir);
  const files = new CaptureFiles(writer, staging, { bundleDir: 'acquired/pcap', baseName: 'capture', maxFileBytes: null, ringFiles: null, ...opts }, () => undefined);
  const seal = async () => {
    await writer.seal({ status: 'complete', reason: null, findings: '', signer: null });
    return Manifest.parse(JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')));
  };
  const custody = () =>
    readFileSync(path.join(out, 'custody.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { out, writer, staging, files, seal, custody };
}

test('time cuts between chunks: one file per stretch, each whole, hashed on arrival and again in the bundle, staging emptied', async (t) => {
  const { out, staging, files, seal } = await setup(t, {});
  await files.take(Buffer.concat([globalHeader(S), rec(0), rec(1)]));
  await files.rotate();
  await files.take(rec(2));
  await files.rotate();
  await files.rotate(); // an idle stretch
  await files.take(rec(3).subarray(0, 50)); // a record split across chunks and across nothing else
  await files.take(rec(3).subarray(50));
  await files.finish();
  const m = await seal();
  assert.deepEqual(
    files.entries.map((e) => [e.path, e.packets, e.cutBy, e.status]),
    [
      ['acquired/pcap/capture-0001.pcap', 2, 'time', 'in-bundle'],
      ['acquired/pcap/capture-0002.pcap', 1, 'time', 'in-bundle'],
      ['acquired/pcap/capture-0003.pcap', 0, 'time', 'in-bundle'],
      ['acquired/pcap/capture-0004.pcap', 1, 'end', 'in-bundle'],
    ],
  );
  for (const e of files.entries) {
    const bytes = readFileSync(path.join(out, e.path));
    assert.equal(readPcap(bytes).records.length, e.packets);
    assert.equal(m.artifacts.find((a) => a.path === e.path)?.sha256, e.sha256, 'arrival hash equals the bundle hash');
  }
  assert.equal(files.entries[0]!.firstPacket, '2023-11-14T22:13:20.000000Z');
  assert.equal(files.entries[0]!.lastPacket, '2023-11-14T22:13:21.000001Z');
  assert.deepEqual(readdirSync(staging.dir), []);
});

test('a ring of 2 keeps the newest two files; older ones are deleted from staging and logged with their hash', async (t) => {
  const { out, files, seal, custody } = await setup(t, { ringFiles: 2 });
  await files.take(globalHeader(S));
  for (let i = 0; i < 5; i++) {
    await files.take(rec(i));
    await files.rotate();
  }
  await files.take(rec(5));
  await files.finish();
  await seal();
  const kept = files.entries.filter((e) => e.status === 'in-bundle').map((e) => e.path);
  assert.deepEqual(kept, ['acquired/pcap/capture-0005.pcap', 'acquired/pcap/capture-0006.pcap']);
  assert.deepEqual(readdirSync(path.join(out, 'acquired/pcap')).sort(), ['capture-0005.pcap', 'capture-0006.pcap']);
  const dropped = custody().filter((c) => c.event === 'pcap-ring-dropped');
  assert.deepEqual(
    dropped.map((d) => d.file),
    ['acquired/pcap/capture-0001.pcap', 'acquired/pcap/capture-0002.pcap', 'acquired/pcap/capture-0003.pcap', 'acquired/pcap/capture-0004.pcap'],
  );
  for (const d of dropped) assert.equal(d.sha256, files.entries.find((e) => e.path === d.file)!.sha256);
});

test('a staged file changed before it reaches the bundle is caught by the second hash and recorded as tampering', async (t) => {
  const { staging, files, seal, custody } = await setup(t, { ringFiles: 5 });
  await files.take(Buffer.concat([globalHeader(S), rec(0), rec(1)]));
  await files.rotate();
  const staged = path.join(staging.dir, 'capture-0001.pcap');
  const bytes = readFileSync(staged);
  bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1); // same size, one byte changed
  writeFileSync(staged, bytes);
  await files.take(rec(2));
  await files.finish();
  const m = await seal();
  assert.deepEqual(files.mismatched, ['acquired/pcap/capture-0001.pcap']);
  assert.ok(m.errors.some((e) => e.code === 'ETAMPERED' && e.message.includes('capture-0001.pcap')));
  assert.equal(custody().filter((c) => c.event === 'pcap-staging-mismatch').length, 1);
});

test('the size limit cuts files as the bytes arrive, and a garbage tail is kept as unparsed, not dropped', async (t) => {
  const { out, files, seal } = await setup(t, { maxFileBytes: 24 + 2 * 116 });
  const junk = Buffer.alloc(40, 0xff);
  await files.take(Buffer.concat([globalHeader(S), rec(0), rec(1), rec(2), rec(3), rec(4), junk]));
  await files.finish();
  const m = await seal();
  assert.deepEqual(files.entries.map((e) => [e.packets, e.cutBy]), [[2, 'size'], [2, 'size'], [1, 'end']]);
  const un = files.unparsedInfo();
  assert.equal(un?.size, 40);
  assert.deepEqual(readFileSync(path.join(out, 'acquired/pcap/capture.unparsed')), junk);
  assert.equal(m.artifacts.find((a) => a.path === 'acquired/pcap/capture.unparsed')?.sha256, un?.sha256);
});
