import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CaptureProcess } from '../../src/acquire/pcap/capture-process.js';

/** A real process that says "ready" once its handlers are in place, then writes nothing more. */
function start(script: string): Promise<CaptureProcess> {
  const p = CaptureProcess.start([process.execPath, '-e', script]);
  return new Promise((resolve, reject) => {
    p.stdout.once('data', () => resolve(p));
    void p.ended.then(() => reject(new Error(`exited before it was ready: ${p.stderr()}`)));
  });
}

test('a tool that stops on SIGINT gets only SIGINT', async (t) => {
  const p = await start(`process.on('SIGINT', () => { process.stderr.write('3 packets captured\\n'); process.exit(0); }); process.stdout.write('ready'); setInterval(() => {}, 1000);`);
  t.after(() => p.pid && !p.exited && process.kill(p.pid, 'SIGKILL'));
  const end = await p.stop({ drainMs: 0, graceMs: 10_000 });
  assert.deepEqual(p.signalsSent, ['SIGINT']);
  assert.deepEqual(end, { exitCode: 0, signal: null });
  assert.equal(p.stderr(), '3 packets captured\n');
});

test('a tool that ignores SIGINT gets SIGTERM, and one that ignores both gets SIGKILL', async (t) => {
  const stubborn = await start(`process.on('SIGINT', () => {}); process.stdout.write('ready'); setInterval(() => {}, 1000);`);
  t.after(() => stubborn.pid && !stubborn.exited && process.kill(stubborn.pid, 'SIGKILL'));
  assert.deepEqual(await stubborn.stop({ drainMs: 0, graceMs: 200 }), { exitCode: null, signal: 'SIGTERM' });
  assert.deepEqual(stubborn.signalsSent, ['SIGINT', 'SIGTERM']);

  const deaf = await start(`process.on('SIGINT', () => {}); process.on('SIGTERM', () => {}); process.stdout.write('ready'); setInterval(() => {}, 1000);`);
  t.after(() => deaf.pid && !deaf.exited && process.kill(deaf.pid, 'SIGKILL'));
  assert.deepEqual(await deaf.stop({ drainMs: 0, graceMs: 200 }), { exitCode: null, signal: 'SIGKILL' });
  assert.deepEqual(deaf.signalsSent, ['SIGINT', 'SIGTERM', 'SIGKILL']);
});

test('stderr beyond 64 KiB keeps its start and its end (where the statistics are) and says what was left out', async () => {
  const p = CaptureProcess.start([process.execPath, '-e', `process.stderr.write('HEAD' + 'x'.repeat(200000)); process.stderr.write('9 packets captured\\n');`]);
  await p.ended;
  const text = p.stderr();
  assert.ok(text.startsWith('HEAD'));
  assert.ok(text.endsWith('9 packets captured\n'));
  assert.match(text, /\[\d+ bytes left out\]/);
  assert.ok(text.length < 70 * 1024);
});

test('the drain: a tool that finishes while it drains is never signalled', async (t) => {
  const p = await start(`process.stdout.write('ready'); setTimeout(() => process.exit(0), 300);`);
  t.after(() => p.pid && !p.exited && process.kill(p.pid, 'SIGKILL'));
  assert.deepEqual(await p.stop({ drainMs: 60_000, graceMs: 10 }), { exitCode: 0, signal: null });
  assert.deepEqual(p.signalsSent, []);
});
