import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loginsCollector } from '../../src/collectors/logins.js';
import { runCollector } from '../collector-harness.js';
import { buildRoot } from '../fixture-root.js';
import { fixture } from '../fixtures/accounts-logs/build-root.js';
import { tempDir } from '../helpers.js';

type Row = Record<string, unknown>;

/**
 * Debian installs /var/log/lastlog as an empty file (seen in the Debian image
 * triage): its row must say it is empty, not that records were read sparsely.
 */
test('lastlog: an empty file is called empty; one with records is read sparsely', async (t) => {
  const dir = tempDir(t);
  const root = buildRoot(dir);
  writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n');
  writeFileSync(path.join(root, 'var/log/lastlog'), '');
  const empty = await runCollector<Row>(loginsCollector, path.join(dir, 'empty'), { root });
  const e = empty.rows.find((r) => r.kind === 'file' && r.source === '/var/log/lastlog')!;
  assert.deepEqual([e.size, e.records, e.copied], [0, 0, true]);
  assert.match(String(e.note), /^empty: no last login is recorded/);

  const record = Buffer.alloc(292 * 1001);
  fixture('lastlog-record.bin').copy(record, 1000 * 292);
  writeFileSync(path.join(root, 'var/log/lastlog'), record);
  const used = await runCollector<Row>(loginsCollector, path.join(dir, 'used'), { root });
  const u = used.rows.find((r) => r.kind === 'file' && r.source === '/var/log/lastlog')!;
  assert.deepEqual([u.records, used.rows.filter((r) => r.kind === 'lastlog').map((r) => r.user)], [1, ['alice']]);
  assert.match(String(u.note), /^sparse file: only the records of the 2 uids/);
});
