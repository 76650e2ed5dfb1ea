import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { z } from 'zod';
import { Detector } from '../../src/detect/detector.js';
import { Finding } from '../../src/detect/finding.js';
import type { Rule } from '../../src/detect/rule.js';
import { ROW_SOURCES, type RowOf, type Source, type Tagged } from '../../src/detect/rows.js';

/** The time rows of a case were "seen" (each collector's start), fixed so cases about recency are stable. */
export const SEEN = '2026-11-23T10:00:00.000Z';

interface Def {
  type: string;
  innerType?: z.ZodType;
  element?: z.ZodType;
  entries?: Record<string, string>;
  shape?: Record<string, z.ZodType>;
}

const def = (t: z.ZodType) => (t as unknown as { _zod: { def: Def } })._zod.def;

/** The most neutral value a column can hold: null, empty, zero, false, or an enum's first value. */
function blank(t: z.ZodType): unknown {
  const d = def(t);
  switch (d.type) {
    case 'nullable':
      return null;
    case 'optional':
      return undefined;
    case 'array':
      return [];
    case 'string':
      return '';
    case 'number':
      return 0;
    case 'boolean':
      return false;
    case 'enum':
      return Object.values(d.entries ?? {})[0];
    case 'record':
      return {};
    case 'object':
      return Object.fromEntries(Object.entries(d.shape ?? {}).map(([k, v]) => [k, blank(v)]));
    default:
      throw new Error(`no blank value for a ${d.type} column`);
  }
}

/**
 * A row of a collector with every column neutral but the ones given: cases
 * name only the facts they are about, and the row still passes the
 * collector's own declaration (checked when the detector reads it).
 */
export function row<S extends Source>(source: S, fields: Partial<RowOf<S>>): Tagged {
  const shape = ROW_SOURCES[source].row.shape as Record<string, z.ZodType>;
  const base = Object.fromEntries(Object.entries(shape).map(([k, t]) => [k, blank(t)]));
  return { source, row: { ...base, ...fields } } as unknown as Tagged;
}

/** Runs the detector over rows in order, as a triage would, and returns its findings; rejects any row or finding outside its contract. */
export function detect(rows: readonly Tagged[], rules?: readonly Rule[]): Finding[] {
  const d = new Detector(rules ? { rules } : {});
  for (const s of Object.keys(ROW_SOURCES)) d.begin(s, SEEN);
  for (const t of rows) d.offerLine(t.source, JSON.stringify(t.row));
  const { findings, rejected } = d.finish();
  assert.deepEqual(rejected, {}, 'every row matches its declaration and every finding the contract');
  for (const f of findings) Finding.parse(f);
  return findings;
}

/** A rule's cases as data: each scenario is the rows of one host; every `fires` scenario must raise the rule, no `quiet` one may. */
export interface RuleCases {
  rule: string;
  fires: readonly (readonly Tagged[])[];
  quiet: readonly (readonly Tagged[])[];
}

/** One test per rule of the family, and one that checks no rule of the family lacks cases. */
export function checkCases(family: readonly Rule[], cases: readonly RuleCases[]): void {
  test('every rule of the family has positive and negative cases', () => {
    const covered = new Map(cases.map((c) => [c.rule, c]));
    for (const r of family) {
      const c = covered.get(r.id);
      assert.ok(c && c.fires.length > 0 && c.quiet.length > 0, `${r.id} needs cases that fire and cases that stay quiet`);
    }
    for (const c of cases) assert.ok(family.some((r) => r.id === c.rule), `cases for unknown rule ${c.rule}`);
  });
  for (const c of cases) {
    test(c.rule, () => {
      c.fires.forEach((rows, i) => {
        const ids = detect(rows).map((f) => f.id);
        assert.ok(ids.includes(c.rule), `fires[${i}] should raise ${c.rule}; raised ${JSON.stringify(ids)}`);
      });
      c.quiet.forEach((rows, i) => {
        const ids = detect(rows).map((f) => f.id);
        assert.ok(!ids.includes(c.rule), `quiet[${i}] should not raise ${c.rule}`);
      });
    });
  }
}
