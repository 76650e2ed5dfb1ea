/**
 * Property tests for the custody chain checker: any single edit of a chain
 * written by CustodyLog (a flipped byte, a dropped, swapped or duplicated
 * line) is caught, either by the chain itself or, for its last line, by the
 * line count and head the manifest records. An edit that leaves the bytes as
 * they were must still check intact.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CustodyLog, checkCustodyChain, type ChainCheck } from '../../src/evidence/custody.js';

/** Fields CustodyLog sets itself; an entry never carries them. */
const RESERVED = new Set(['seq', 'at', 'prev']);

const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  // the replacement character and escapes that hostile host data brings into custody lines
  fc.constantFrom('\uFFFD', 'caf\u00e9', '\u0000\n\r\t', '"}{\\', '\u2028', '🦀'),
);
const value: fc.Arbitrary<unknown> = fc.oneof(text, fc.integer(), fc.boolean(), fc.constant(null), fc.array(text, { maxLength: 3 }));
const event = fc.record({
  event: text,
  fields: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !RESERVED.has(k) && k !== 'event' && k !== '__proto__'), value, { maxKeys: 4 }),
  at: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }),
});

interface Chain {
  bytes: Buffer;
  lines: string[];
  count: number;
  head: string;
}

const chain = fc.array(event, { minLength: 1, maxLength: 8 }).map((events): Chain => {
  const log = new CustodyLog();
  for (const e of events) log.append({ ...e.fields, event: e.event }, e.at);
  const t = log.text();
  return { bytes: Buffer.from(t), lines: t.slice(0, -1).split('\n'), count: log.count, head: log.head };
});

const join = (ls: string[]): Buffer => Buffer.from(ls.map((l) => `${l}\n`).join(''));

/** What verify concludes from the chain plus the count and head in the manifest. */
const caught = (r: ChainCheck, c: Chain): boolean => !r.intact || r.lines !== c.count || r.head !== c.head;

type Edit =
  | { kind: 'flip'; at: number; mask: number }
  | { kind: 'drop'; line: number }
  | { kind: 'swap'; a: number; b: number }
  | { kind: 'duplicate'; line: number; to: number };

/** Positions are taken modulo the chain's size; mask 0 and a swap of a line with itself are edits that change nothing. */
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('drop' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), line: fc.nat(), to: fc.nat() }),
);

function apply(c: Chain, e: Edit): Buffer {
  const ls = [...c.lines];
  switch (e.kind) {
    case 'flip': {
      const b = Buffer.from(c.bytes);
      b[e.at % b.length]! ^= e.mask;
      return b;
    }
    case 'drop':
      ls.splice(e.line % c.count, 1);
      return join(ls);
    case 'swap': {
      const [a, b] = [e.a % c.count, e.b % c.count];
      [ls[a], ls[b]] = [ls[b]!, ls[a]!];
      return join(ls);
    }
    case 'duplicate':
      ls.splice(e.to % (c.count + 1), 0, c.lines[e.line % c.count]!);
      return join(ls);
  }
}

/** The 0-based line a byte offset falls in (a newline belongs to the line it ends). */
const lineOf = (c: Chain, pos: number): number => c.bytes.subarray(0, pos).toString('latin1').split('\n').length - 1;

describe('custody chain (property)', () => {
  it('a chain written by CustodyLog checks intact, with the count and head it reports', () => {
    fc.assert(
      fc.property(chain, (c) => {
        assert.deepEqual(checkCustodyChain(c.bytes), { intact: true, lines: c.count, head: c.head });
      }),
    );
  });

  it('any single edit is reported, unless it left the bytes as they were', () => {
    fc.assert(
      fc.property(chain, edit, (c, e) => {
        const edited = apply(c, e);
        const r = checkCustodyChain(edited);
        if (edited.equals(c.bytes)) assert.deepEqual(r, { intact: true, lines: c.count, head: c.head });
        else assert.ok(caught(r, c), `undetected ${JSON.stringify(e)}: ${JSON.stringify(r)}`);
      }),
      { numRuns: 2000 },
    );
  });

  it('a flipped byte before the last line breaks the chain itself, at its line or the next', () => {
    fc.assert(
      fc.property(chain, fc.nat(), fc.integer({ min: 1, max: 255 }), (c, at, mask) => {
        const pos = at % c.bytes.length;
        const r = checkCustodyChain(apply(c, { kind: 'flip', at: pos, mask }));
        const line = lineOf(c, pos);
        if (!r.intact) assert.ok(r.brokenAt >= line + 1 && r.brokenAt <= line + 2, `flip in line ${line + 1} reported at ${r.brokenAt}`);
        else assert.equal(line, c.count - 1, `flip in line ${line + 1} of ${c.count} left the chain intact`);
      }),
      { numRuns: 1000 },
    );
  });

  it('a dropped line breaks the chain at its place; without the last one, only the count and head differ', () => {
    fc.assert(
      fc.property(chain, fc.nat(), (c, n) => {
        const i = n % c.count;
        const r = checkCustodyChain(apply(c, { kind: 'drop', line: i }));
        if (i < c.count - 1) assert.deepEqual(r, { intact: false, lines: c.count - 1, brokenAt: i + 1, reason: r.intact ? '' : r.reason });
        else if (c.count === 1) assert.equal(r.intact, false);
        else assert.deepEqual(r, { intact: true, lines: c.count - 1, head: JSON.parse(c.lines[i]!).prev });
      }),
    );
  });

  it('two lines swapped break the chain at the first of them', () => {
    fc.assert(
      fc.property(chain, fc.nat(), fc.nat(), (c, a, b) => {
        fc.pre(a % c.count !== b % c.count);
        const r = checkCustodyChain(apply(c, { kind: 'swap', a, b }));
        assert.equal(!r.intact && r.brokenAt, Math.min(a % c.count, b % c.count) + 1);
      }),
    );
  });

  it(
    'a line is hashed as the bytes on disk: an invalid UTF-8 stand-in for U+FFFD is caught',
    () => {
      const log = new CustodyLog();
      log.append({ event: 'collected', host: 'web\uFFFD01' });
      log.append({ event: 'sealed' });
      const bytes = Buffer.from(log.text());
      const at = bytes.indexOf(Buffer.from('\uFFFD'));
      const forged = Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff]), bytes.subarray(at + 3)]);
      assert.ok(caught(checkCustodyChain(forged), { bytes, lines: [], count: log.count, head: log.head }));
    },
  );

  it(
    'an entry cannot overwrite the fields that make the chain',
    () => {
      fc.assert(
        fc.property(fc.constantFrom(...RESERVED), fc.string(), (key, v) => {
          const log = new CustodyLog();
          log.append({ event: 'a' });
          log.append({ event: 'b', [key]: v });
          assert.equal(checkCustodyChain(Buffer.from(log.text())).intact, true);
        }),
      );
    },
  );

  it('a duplicated line breaks the chain where the copy stands, or right after it when it stands where it belongs', () => {
    fc.assert(
      fc.property(chain, fc.nat(), fc.nat(), (c, l, t) => {
        const [i, to] = [l % c.count, t % (c.count + 1)];
        const r = checkCustodyChain(apply(c, { kind: 'duplicate', line: l, to: t }));
        // A copy put in front of its original is in its right place, so the original after it is the first wrong line.
        assert.equal(!r.intact && r.brokenAt, i === to ? to + 2 : to + 1);
      }),
    );
  });
});
