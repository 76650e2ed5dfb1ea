import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Host, HostReadError } from '../../src/host/host.js';
import { UserError } from '../../src/lib/user-error.js';
import { tempDir } from '../helpers.js';

async function fixtureRoot(t: Parameters<typeof tempDir>[0]) {
  const dir = tempDir(t);
  const root = path.join(dir, 'root');
  mkdirSync(path.join(root, 'etc'), { recursive: true });
  mkdirSync(path.join(root, 'tmp'), { recursive: true });
  writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/bash\n');
  writeFileSync(path.join(dir, 'outside-secret'), 'examiner data\n');
  return { dir, root, host: await Host.open({ root }) };
}

test('absolute and .. symlinks in an image resolve inside the root', async (t) => {
  const { dir, root, host } = await fixtureRoot(t);
  symlinkSync('/etc/passwd', path.join(root, 'tmp/abs'));
  symlinkSync('../../../../../outside-secret', path.join(root, 'tmp/climb'));
  symlinkSync(path.join(dir, 'outside-secret'), path.join(root, 'tmp/real-abs'));
  assert.equal((await host.readFile('/tmp/abs')).data.toString(), 'root:x:0:0::/root:/bin/bash\n');
  await assert.rejects(host.readFile('/tmp/climb'), (e: HostReadError) => e.code === 'ENOENT');
  await assert.rejects(host.readFile('/tmp/real-abs'), (e: HostReadError) => e.code === 'ENOENT');
  assert.equal((await host.readFile('/tmp/abs')).hostPath, '/tmp/abs');
});

test('symlink loops end with ELOOP', async (t) => {
  const { root, host } = await fixtureRoot(t);
  symlinkSync('/tmp/b', path.join(root, 'tmp/a'));
  symlinkSync('/tmp/a', path.join(root, 'tmp/b'));
  await assert.rejects(host.readFile('/tmp/a'), (e: HostReadError) => e.code === 'ELOOP');
});

test('a FIFO is refused without blocking; devices too', async (t) => {
  const { root, host } = await fixtureRoot(t);
  execFileSync('mkfifo', [path.join(root, 'tmp/fifo')]);
  await assert.rejects(host.readFile('/tmp/fifo'), (e: HostReadError) => e.code === 'ENOTREG' && /FIFO/.test(e.message));
  const live = await Host.open();
  await assert.rejects(live.readFile('/dev/zero'), (e: HostReadError) => e.code === 'ENOTREG' && /character device/.test(e.message));
});

test('size cap truncates and says so; directories are refused', async (t) => {
  const { root, host } = await fixtureRoot(t);
  writeFileSync(path.join(root, 'tmp/big'), Buffer.alloc(10_000, 1));
  const r = await host.readFile('/tmp/big', { maxBytes: 4096 });
  assert.equal(r.truncated, true);
  assert.equal(r.data.length, 4096);
  assert.equal(r.facts.size, 10_000);
  await assert.rejects(host.readFile('/etc'), (e: HostReadError) => e.code === 'ENOTREG');
});

test('excluded paths (goldhour\'s own output) are not read', async (t) => {
  const { root, host } = await fixtureRoot(t);
  host.exclude(path.join(root, 'tmp'));
  writeFileSync(path.join(root, 'tmp/case-file'), 'x');
  await assert.rejects(host.readFile('/tmp/case-file'), (e: HostReadError) => e.code === 'EXCLUDED');
});

test('a --root that does not exist is a one-line user error', async () => {
  await assert.rejects(Host.open({ root: '/nonexistent/image' }), (e: UserError) => e instanceof UserError && e.message === '--root /nonexistent/image: does not exist');
});

test('a live file that grows while read is flagged', async (t) => {
  const { root } = await fixtureRoot(t);
  const file = path.join(root, 'tmp/growing');
  writeFileSync(file, Buffer.alloc(4 * 1024 * 1024));
  const host = await Host.open();
  const writer = setInterval(() => writeFileSync(file, Buffer.alloc(1024), { flag: 'a' }), 0);
  try {
    let flagged = false;
    for (let i = 0; i < 50 && !flagged; i++) flagged = (await host.readFile(file)).changedWhileRead;
    assert.ok(flagged);
  } finally {
    clearInterval(writer);
  }
});
