import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { mountsCollector } from '../../src/collectors/mounts.js';
import { runCollector } from '../collector-harness.js';
import { buildRoot } from '../fixture-root.js';
import { tempDir } from '../helpers.js';

test('the harness runs a collector on a fixture root and returns its rows and manifest', async (t) => {
  const dir = tempDir(t);
  const root = buildRoot(dir);
  const { rows, manifest } = await runCollector(mountsCollector, path.join(dir, 'out'), { root });
  assert.deepEqual(rows.map((r) => r.mountPoint), ['/', '/tmp']);
  assert.ok(manifest.artifacts.some((a) => a.source === '/etc/fstab'));
});
