import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { COLLECTORS } from '../../src/collectors/index.js';
import { collectorDocs } from '../../src/docs/collector-docs.js';
import { PROJECT } from '../helpers.js';

test('docs/collectors.md is what the declarations generate (run npm run docs)', () => {
  assert.equal(readFileSync(path.join(PROJECT, 'docs/collectors.md'), 'utf8'), collectorDocs(COLLECTORS));
});

test('every column of every collector is described', () => {
  for (const c of COLLECTORS) {
    assert.ok(c.description.length > 40 && c.preconditions.length > 10, c.name);
    for (const line of collectorDocs([c]).split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| column'))) {
      const cells = line.split(' | ');
      assert.ok(cells[2]!.trim().length > 3, `${c.name}: ${line}`);
    }
  }
});
