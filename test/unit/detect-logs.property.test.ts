import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Finding } from '../../src/detect/finding.js';
import { createLogAnalysis, LOG_RULES, LOG_RULES_WITH_CASES, type LogAnalysisOptions } from '../../src/detect/logs/index.js';
import { JournalExportParser } from '../../src/detect/logs/journal-export.js';
import { parseSyslogLine } from '../../src/detect/logs/syslog-line.js';
import { normalizeForMatch, parseWebLine } from '../../src/detect/logs/web-request.js';

const CATEGORIES = ['auth', 'syslog', 'web', 'journal-export'] as const;

async function* chunked(buf: Buffer, cuts: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < buf.length; i++) {
    const n = cuts[i % cuts.length]!;
    yield buf.subarray(at, at + n);
    at += n;
  }
}

async function run(inputs: { category: string; buf: Buffer; cuts?: number[] }[], opts: Partial<LogAnalysisOptions> = {}): Promise<Finding[]> {
  const a = createLogAnalysis({ now: new Date('2026-11-24T00:00:00Z'), ...opts });
  for (const [i, x] of inputs.entries()) await a.add({ path: `/var/log/in${i}`, category: x.category, mtime: null, chunks: chunked(x.buf, x.cuts ?? [x.buf.length || 1]) });
  const out = a.finish();
  for (const f of out) Finding.parse(f);
  return out;
}

/** Real lines from the rules' cases, so random mixes reach every rule. */
const REAL_LINES = LOG_RULES_WITH_CASES.flatMap((r) => [...r.cases.fires, ...r.cases.quiet].flatMap((t) => t.split('\n')).filter((l) => l.length > 0 && l.length < 1000));

/** Byte soup that looks like logs: real lines cut and glued, hostile bytes, CR, NUL, escapes, invalid UTF-8. */
const logBytes = fc
  .array(
    fc.oneof(
      fc.constantFrom(...REAL_LINES).map((l) => Buffer.from(`${l}\n`)),
      fc.constantFrom(...REAL_LINES).chain((l) => fc.nat(l.length).map((n) => Buffer.from(l.slice(0, n)))),
      fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
      fc.constantFrom('\n', '\r\n', '\0', '\x1b[2J', '\xff\xfe', '%25', '${', '__CURSOR=x\n', 'MESSAGE\n', '\n\n').map((s) => Buffer.from(s, 'latin1')),
    ),
    { maxLength: 60 },
  )
  .map((parts) => Buffer.concat(parts));

const cuts = fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 6 });

test('property: arbitrary bytes in any category never throw, and findings keep the contract', async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...CATEGORIES), fc.oneof(logBytes, fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a))), cuts, async (category, buf, c) => {
      await run([{ category, buf, cuts: c }]);
    }),
    { numRuns: 300 },
  );
});

test('property: gzip-looking and hostile-length inputs never throw', async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...CATEGORIES), fc.uint8Array({ maxLength: 200 }), async (category, tail) => {
      for (const head of [[0x1f, 0x8b], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3], [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]]) await run([{ category, buf: Buffer.from([...head, ...tail]) }]);
    }),
    { numRuns: 100 },
  );
});

test('property: how the bytes are chunked does not change the findings', async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...CATEGORIES), logBytes, cuts, async (category, buf, c) => {
      const whole = await run([{ category, buf }]);
      assert.deepEqual(await run([{ category, buf, cuts: c }]), whole);
    }),
    { numRuns: 150 },
  );
});

test('property: aggregation is bounded whatever the number of lines and sources', async () => {
  const addr = fc.tuple(fc.nat(255), fc.nat(255)).map(([a, b]) => `198.51.${a}.${b}`);
  const line = fc.tuple(addr, fc.constantFrom(...REAL_LINES)).map(([a, l]) => l.replace(/\b(?:\d{1,3}\.){3}\d{1,3}\b/g, a));
  await fc.assert(
    fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 400 }), fc.integer({ min: 1, max: 5 }), async (lines, maxSourcesPerRule) => {
      const buf = Buffer.from(`${lines.join('\n')}\n`);
      const inputs = CATEGORIES.map((category) => ({ category, buf }));
      const out = await run(inputs, { maxSourcesPerRule });
      const perRule = new Map<string, number>();
      for (const f of out) perRule.set(f.id, (perRule.get(f.id) ?? 0) + 1);
      for (const [id, n] of perRule) {
        // one finding per source up to the cap, plus one that folds the rest; the incomplete rule is one per input
        const bound = id === 'logs.analysis.incomplete' ? inputs.length + 1 : maxSourcesPerRule + 1;
        assert.ok(n <= bound, `${id}: ${n} findings over ${bound}`);
      }
      assert.ok(out.length <= LOG_RULES.length * (maxSourcesPerRule + 1) + inputs.length + 1);
      const keys = out.filter((f) => f.evidence.address !== undefined).map((f) => `${f.id} ${f.evidence.address}`);
      assert.equal(new Set(keys).size, keys.length, 'one finding per (rule, address)');
    }),
    { numRuns: 60 },
  );
});

test('property: the line parsers return null or a result, never throw', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom(...REAL_LINES)), fc.nat(40), (s, n) => {
      const text = s.slice(0, n) + s.slice(n).replace(/./, '\u0000');
      parseSyslogLine(text);
      parseWebLine(text);
      assert.equal(typeof normalizeForMatch(text, true), 'string');
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (a) => {
      const p = new JournalExportParser(new Set(['MESSAGE']), 64, () => undefined);
      p.push(Buffer.from(a));
      p.end();
    }),
    { numRuns: 1000 },
  );
});
