import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import * as facts from '../../src/host/facts.js';
import { Host } from '../../src/host/host.js';
import { tempDir } from '../helpers.js';

test('os-release: quotes, escapes and comments', () => {
  const kv = facts.parseOsRelease('# c\nID=debian\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID=\'12\'\nX="a \\"q\\""\nbad line\n');
  assert.equal(kv.ID, 'debian');
  assert.equal(kv.PRETTY_NAME, 'Debian GNU/Linux 12 (bookworm)');
  assert.equal(kv.VERSION_ID, '12');
  assert.equal(kv.X, 'a "q"');
});

test('facts of an image with a saved /proc, read through the root', async (t) => {
  const dir = tempDir(t);
  const root = path.join(dir, 'root');
  const proc = path.join(dir, 'proc');
  mkdirSync(path.join(root, 'etc'), { recursive: true });
  mkdirSync(path.join(root, 'usr/lib'), { recursive: true });
  mkdirSync(path.join(root, 'usr/share/zoneinfo/Europe'), { recursive: true });
  mkdirSync(path.join(proc, 'sys/kernel/random'), { recursive: true });
  writeFileSync(path.join(root, 'usr/lib/os-release'), 'ID=debian\nVERSION_ID="12"\n');
  symlinkSync('../usr/lib/os-release', path.join(root, 'etc/os-release'));
  symlinkSync('/usr/share/zoneinfo/Europe/Berlin', path.join(root, 'etc/localtime'));
  writeFileSync(path.join(root, 'etc/hostname'), 'web01\n');
  writeFileSync(path.join(root, 'etc/machine-id'), '0123456789abcdef0123456789abcdef\n');
  writeFileSync(path.join(proc, 'uptime'), '12345.67 2000.00\n');
  writeFileSync(path.join(proc, 'stat'), 'cpu 1 2 3\nbtime 1795420800\nprocesses 5\n');
  writeFileSync(path.join(proc, 'sys/kernel/osrelease'), '6.1.0-28-amd64\n');
  const host = await Host.open({ root, proc });
  const r = new facts.FactReader(host);
  assert.equal(await facts.hostname(r), 'web01');
  assert.equal(await facts.machineId(r), '0123456789abcdef0123456789abcdef');
  assert.deepEqual(await facts.osRelease(r), { id: 'debian', versionId: '12', prettyName: null });
  assert.equal(await facts.timezone(r), 'Europe/Berlin');
  assert.equal(await facts.uptimeSeconds(r), 12345.67);
  assert.equal((await facts.bootTime(r))?.toISOString(), new Date(1795420800 * 1000).toISOString());
  assert.deepEqual(await facts.kernel(r), { release: '6.1.0-28-amd64', version: null });
  assert.deepEqual(await facts.ntpSynchronized(host), { synced: null, source: null });
  assert.ok(r.reads.some((x) => x.hostPath === '/etc/os-release'));
});
