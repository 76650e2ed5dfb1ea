import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { MAX_RECORD_BYTES, parseGlobalHeader, pcapTimeIso } from '../../src/acquire/pcap/pcap-format.js';
import { PROJECT } from '../helpers.js';
import { buildPcap, globalHeader, readPcap, record, splitAll, type RecordSpec, type StreamSpec } from '../pcap-fixtures.js';

const FIXTURES = path.join(PROJECT, 'test/fixtures/pcap');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name));

const LE_MICRO: StreamSpec = { littleEndian: true, nanoseconds: false };

test('real captures (tcpdump, dumpcap, nanosecond editcap) split one record a file, and the records reassemble to the input', () => {
  for (const [name, packets] of [['tcpdump-udp.pcap', 5], ['dumpcap-udp.pcap', 3], ['tcpdump-udp-nsec.pcap', 5]] as const) {
    const input = fixture(name);
    const r = splitAll(input, [7, 64, 3], 1);
    assert.equal(r.corrupt, null, name);
    assert.equal(r.packets, packets, name);
    assert.equal(r.files.length, packets, `${name}: a limit below any record gives each record its own file`);
    for (const f of r.files) {
      const parsed = readPcap(f);
      assert.equal(parsed.records.length, 1);
      assert.deepEqual(parsed.header, input.subarray(0, 24));
    }
    assert.deepEqual(Buffer.concat(r.files.map((f) => f.subarray(24))), input.subarray(24));
  }
});

test('the global header: both byte orders, micro and nano, version and magic checks', () => {
  const be = parseGlobalHeader(globalHeader({ littleEndian: false, nanoseconds: true, snaplen: 96, linktype: 113 }));
  assert.deepEqual(be, { littleEndian: false, nanoseconds: true, versionMajor: 2, versionMinor: 4, snaplen: 96, linktype: 113 });
  const nsec = parseGlobalHeader(fixture('tcpdump-udp-nsec.pcap'));
  assert.equal(typeof nsec === 'object' && nsec.nanoseconds, true);
  const pcapng = Buffer.from('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff', 'hex');
  assert.match(String(parseGlobalHeader(pcapng)), /not a pcap stream.*pcapng/);
  const v3 = globalHeader(LE_MICRO);
  v3.writeUInt16LE(3, 4);
  assert.match(String(parseGlobalHeader(v3)), /version 3\.4/);
});

test('timestamps print with the file\'s own precision', () => {
  assert.equal(pcapTimeIso({ sec: 1_700_000_000, frac: 123 }, false), '2023-11-14T22:13:20.000123Z');
  assert.equal(pcapTimeIso({ sec: 1_700_000_000, frac: 5 }, true), '2023-11-14T22:13:20.000000005Z');
  // a fraction of a whole second or more (a sloppy writer) carries into the seconds
  assert.equal(pcapTimeIso({ sec: 0, frac: 1_500_000 }, false), '1970-01-01T00:00:01.500000Z');
});

test('a record that claims more than libpcap allows ends parsing there: earlier records are kept, the rest is handed back', () => {
  const good = record(LE_MICRO, { sec: 1, frac: 2, data: Buffer.from('abc') });
  const bad = Buffer.alloc(16);
  bad.writeUInt32LE(MAX_RECORD_BYTES + 1, 8);
  const input = Buffer.concat([globalHeader(LE_MICRO), good, bad, Buffer.from('tail')]);
  const r = splitAll(input, [5], null);
  assert.equal(r.packets, 1);
  assert.deepEqual(r.corrupt, { offset: 24 + good.length, reason: `record of ${MAX_RECORD_BYTES + 1} bytes (at most ${MAX_RECORD_BYTES})` });
  assert.deepEqual(r.unparsed, Buffer.concat([bad, Buffer.from('tail')]));
  assert.equal(r.files.length, 1);
  assert.deepEqual(readPcap(r.files[0]!).records, [good]);
});

test('a stream that ends inside a record (a killed tool) keeps the whole records and hands back the cut one', () => {
  const recs = [0, 1, 2].map((i) => record(LE_MICRO, { sec: i, frac: 0, data: Buffer.alloc(50, i) }));
  const input = Buffer.concat([globalHeader(LE_MICRO), ...recs]).subarray(0, 24 + 2 * 66 + 30);
  const r = splitAll(input, [1000], null);
  assert.equal(r.packets, 2);
  assert.deepEqual(r.corrupt, { offset: 24 + 2 * 66, reason: 'the stream ended inside a record (30 bytes)' });
  assert.equal(r.unparsed.length, 30);
});

test('no bytes, or fewer than a header: no file at all, and what came is handed back', () => {
  assert.deepEqual(splitAll(Buffer.alloc(0), [1], null).files, []);
  const r = splitAll(Buffer.from('d4c3b2a10200', 'hex'), [2], null);
  assert.deepEqual(r.files, []);
  assert.equal(r.unparsed.length, 6);
  assert.match(r.corrupt!.reason, /inside the global header/);
});

test('a time cut on an idle link gives a file with the header alone', () => {
  const input = globalHeader(LE_MICRO);
  const r = splitAll(input, [24], null, new Set([0]));
  assert.equal(r.files.length, 2);
  for (const f of r.files) assert.deepEqual(f, input);
});

test('the size limit: a file is cut before the record that would pass it; a record larger than the limit gets a file of its own', () => {
  const sizes = [10, 10, 10, 200, 10];
  const recs: RecordSpec[] = sizes.map((n, i) => ({ sec: i, frac: 0, data: Buffer.alloc(n) }));
  const input = buildPcap(LE_MICRO, recs);
  const r = splitAll(input, [13], 24 + 2 * 26);
  assert.deepEqual(
    r.files.map((f) => readPcap(f).records.length),
    [2, 1, 1, 1],
  );
});

// --- properties ---

const streamSpec = fc.record({ littleEndian: fc.boolean(), nanoseconds: fc.boolean(), snaplen: fc.integer({ min: 1, max: 262144 }), linktype: fc.integer({ min: 0, max: 300 }) });
const recordSpec = fc.record({
  sec: fc.nat({ max: 0xffffffff }),
  frac: fc.nat({ max: 999_999_999 }),
  data: fc.uint8Array({ maxLength: 300 }),
});
const chunking = fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 8 });
const limit = fc.option(fc.integer({ min: 1, max: 2000 }), { nil: null });
const cuts = fc.array(fc.nat({ max: 40 }), { maxLength: 6 }).map((xs) => new Set(xs));

test('property: any bytes, any chunking, any limit and cuts: never throws, every file is a valid pcap, and nothing is lost', () => {
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 3000 }),
    // a valid header followed by anything: exercises the record walk on hostile lengths
    fc.tuple(streamSpec, fc.uint8Array({ maxLength: 3000 })).map(([s, rest]) => Buffer.concat([globalHeader(s), rest])),
  );
  fc.assert(
    fc.property(bytes, chunking, limit, cuts, (input, chunks, max, cutSet) => {
      const r = splitAll(input, chunks, max, cutSet);
      const headerOk = input.length >= 24 && typeof parseGlobalHeader(input.subarray(0, 24)) === 'object';
      for (const f of r.files) {
        const parsed = readPcap(f);
        assert.deepEqual(parsed.header, Buffer.from(input.subarray(0, 24)));
      }
      const body = Buffer.concat(r.files.map((f) => f.subarray(24)));
      if (headerOk) {
        assert.deepEqual(Buffer.concat([body, r.unparsed]), Buffer.from(input.subarray(24)));
      } else {
        assert.equal(r.files.length, 0);
        assert.deepEqual(r.unparsed, Buffer.from(input));
      }
      assert.equal(r.unparsed.length > 0, r.corrupt !== null);
    }),
    { numRuns: 400 },
  );
});

test('property: a valid stream comes back record for record, in order, whatever the chunking; size limits hold', () => {
  fc.assert(
    fc.property(streamSpec, fc.array(recordSpec, { maxLength: 40 }), chunking, limit, cuts, (s, recs, chunks, max, cutSet) => {
      const input = buildPcap(s, recs);
      const r = splitAll(input, chunks, max, cutSet);
      assert.equal(r.corrupt, null);
      assert.equal(r.packets, recs.length);
      const all = r.files.flatMap((f) => readPcap(f).records);
      assert.deepEqual(all, recs.map((x) => record(s, x)));
      if (max !== null) for (const f of r.files) assert.ok(f.length <= max || readPcap(f).records.length <= 1, `file of ${f.length} bytes over ${max}`);
      for (const p of r.pieces) {
        if (p.kind !== 'records') continue;
        const first = readPcap(Buffer.concat([globalHeader(s), Buffer.from(p.data)])).records;
        assert.equal(first.length, p.count);
      }
    }),
    { numRuns: 300 },
  );
});

test('property: without time cuts, the files do not depend on how the stream was chunked', () => {
  fc.assert(
    fc.property(streamSpec, fc.array(recordSpec, { maxLength: 30 }), chunking, chunking, limit, (s, recs, a, b, max) => {
      const input = buildPcap(s, recs);
      assert.deepEqual(splitAll(input, a, max).files, splitAll(input, b, max).files);
    }),
    { numRuns: 200 },
  );
});
