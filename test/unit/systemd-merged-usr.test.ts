import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { systemdCollector } from '../../src/collectors/systemd.js';
import { runCollector } from '../collector-harness.js';
import { buildRoot } from '../fixture-root.js';
import { tempDir } from '../helpers.js';

type Row = Record<string, unknown>;

/**
 * Debian since bookworm (and every merged-/usr distribution) has /lib as a link
 * to usr/lib, so two directories of systemd's search path are one directory:
 * found by the Debian image triage, where every vendor-enabled unit listed its
 * .wants link twice.
 */
test('systemd on a merged-/usr image: each enabling link counted once, each unit and link listed once', async (t) => {
  const dir = tempDir(t);
  const root = buildRoot(dir);
  const put = (rel: string, data: string) => {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), data);
  };
  const link = (rel: string, target: string) => {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    symlinkSync(target, path.join(root, rel));
  };
  symlinkSync('usr/lib', path.join(root, 'lib'));
  put('usr/lib/systemd/system/systemd-journald.service', '[Service]\nExecStart=/lib/systemd/systemd-journald\n');
  link('usr/lib/systemd/system/sysinit.target.wants/systemd-journald.service', '../systemd-journald.service');
  put('usr/lib/systemd/system/getty@.service', '[Service]\nExecStart=-/sbin/agetty -o \'-p -- \\\\u\' --noclear - $TERM\n');
  link('etc/systemd/system/getty.target.wants/getty@tty1.service', '/lib/systemd/system/getty@.service');
  link('usr/lib/systemd/system/getty.target.wants/getty@tty2.service', '../getty@.service');

  const { rows } = await runCollector<Row>(systemdCollector, path.join(dir, 'out'), { root });
  const units = (name: string) => rows.filter((r) => r.kind === 'unit' && r.unit === name);
  assert.equal(units('systemd-journald.service').length, 1);
  assert.deepEqual(units('systemd-journald.service')[0]!.enabledBy, ['/usr/lib/systemd/system/sysinit.target.wants/systemd-journald.service']);
  assert.deepEqual(units('getty@.service')[0]!.enabledBy, ['/etc/systemd/system/getty.target.wants/getty@tty1.service', '/usr/lib/systemd/system/getty.target.wants/getty@tty2.service']);
  const links = rows.filter((r) => r.kind === 'link').map((r) => r.path);
  assert.deepEqual(links.sort(), [
    '/etc/systemd/system/getty.target.wants/getty@tty1.service',
    '/usr/lib/systemd/system/getty.target.wants/getty@tty2.service',
    '/usr/lib/systemd/system/sysinit.target.wants/systemd-journald.service',
  ]);
});
