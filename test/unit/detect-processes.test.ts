import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RowOf } from '../../src/detect/rows.js';
import { HIDDEN_RULES } from '../../src/detect/rules/hidden.js';
import { PROCESS_RULES } from '../../src/detect/rules/processes.js';
import { SEEN, checkCases, detect, row, type RuleCases } from './detect-cases.js';

/** A userspace process; cases override what they are about. */
function proc(f: Partial<RowOf<'processes'>>) {
  const exe = f.exe === undefined ? '/usr/sbin/cron' : f.exe;
  return row('processes', {
    pid: 4242,
    ppid: 1,
    ancestry: [1],
    depth: 1,
    listed: true,
    foundBy: ['listing'],
    kernelThread: false,
    comm: exe ? exe.split('/').pop()!.slice(0, 15) : 'x',
    argv: exe ? [exe] : [],
    uid: 0,
    euid: 0,
    user: 'root',
    exe,
    exeDeleted: false,
    startTime: '2026-11-23T08:00:00Z',
    inContainer: false,
    ...f,
  });
}

const hidden = (f: Partial<RowOf<'hidden-processes'>>) => row('hidden-processes', { kind: 'check', detail: 'x', ...f });

const CASES: RuleCases[] = [
  {
    rule: 'process.exe.deleted',
    fires: [[proc({ exe: '/usr/local/bin/agent', exeDeleted: true })]],
    quiet: [[proc({ exe: '/usr/local/bin/agent' })], [proc({ exe: '/tmp/x', exeDeleted: true })], [proc({ exe: '/memfd:x', exeMemfd: true, exeDeleted: true })]],
  },
  {
    rule: 'process.exe.memfd',
    fires: [[proc({ exe: '/memfd:payload', exeMemfd: true, exeDeleted: true })]],
    quiet: [[proc({ exe: '/memfd:runc_cloned:/proc/self/exe', exeMemfd: true })], [proc({})]],
  },
  {
    rule: 'process.exe.temp-dir',
    fires: [[proc({ exe: '/dev/shm/kdevtmpfsi' })], [proc({ exe: '/var/tmp/.ICE-unix/x', exeDeleted: true })], [proc({ exe: '/root/.cache/.x/run' })]],
    quiet: [[proc({ exe: '/usr/bin/tmpreaper' })], [proc({ exe: '/opt/tmp-tools/bin/x' })], [proc({ exe: '/tmp/build/root/usr/bin/dpkg', root: '/tmp/build/root' })]],
  },
  {
    rule: 'process.kernel-thread-name',
    fires: [[proc({ exe: '/usr/bin/.x', comm: 'kworker/0:1', argv: ['[kworker/0:1]'] })], [proc({ exe: '/tmp/kswapd0', comm: 'kswapd0' })], [proc({ exe: null, kernelThread: false, comm: '[watchdogd]', argv: ['[watchdogd]'] })]],
    quiet: [[proc({ exe: null, kernelThread: true, comm: 'kworker/0:1', argv: [] })], [proc({ exe: null, kernelThread: null, comm: 'kswapd0', argv: [] })]],
  },
  {
    rule: 'process.exe.deceptive-name',
    fires: [[proc({ exe: '/usr/sbin/sshd ' })], [proc({ exe: '/usr/bin/\u0441ron' })], [proc({ exe: '/usr/local/bin/...' })]],
    quiet: [[proc({ exe: '/usr/sbin/sshd' })], [proc({ exe: '/memfd: ', exeMemfd: true })], [proc({ exe: null, kernelThread: true, argv: [] })]],
  },
  {
    rule: 'process.comm-mismatch',
    fires: [[proc({ exe: '/usr/local/bin/agent', comm: 'sshd', argv: ['/usr/local/bin/agent'] })]],
    quiet: [
      [proc({ exe: '/usr/lib/systemd/systemd-journald', comm: 'systemd-journal' })],
      [proc({ exe: '/usr/bin/python3.11', comm: 'unattended-upgr', argv: ['/usr/bin/python3', '/usr/bin/unattended-upgrade'] })],
      [proc({ exe: '/usr/lib/systemd/systemd', comm: '(sd-pam)', argv: ['(sd-pam)'] })],
      [proc({ exe: '/usr/sbin/sshd', comm: 'sshd', argv: ['sshd: alice [priv]'] })],
    ],
  },
  {
    rule: 'process.miner',
    fires: [
      [proc({ exe: '/usr/bin/xmrig', argv: ['xmrig', '-o', 'pool.example:3333'] })],
      [proc({ exe: '/usr/bin/updater', argv: ['updater', '-o', 'stratum+tcp://198.51.100.7:14444', '-u', 'x'] })],
      [proc({ exe: '/usr/bin/updater', argv: ['updater', '--donate-level=1'] })],
    ],
    quiet: [[proc({ exe: '/usr/bin/python3', comm: 'python3', argv: ['python3', '-m', 'http.server', '8000'] })], [proc({ exe: '/usr/bin/minetest', argv: ['minetest'] })]],
  },
  {
    rule: 'process.miner-pool-port',
    fires: [[proc({ exe: '/usr/bin/updater', argv: ['updater', '-o', 'eu.pool.example.net:4444'] })]],
    quiet: [[proc({ exe: '/usr/bin/xmrig', argv: ['xmrig', '-o', 'pool.example:3333'] })], [proc({ exe: '/usr/bin/node', argv: ['node', 'server.js', '--port', '3000'] })]],
  },
  {
    rule: 'process.high-cpu',
    fires: [[proc({ cpuPercent: 390, cpuSeconds: 6 * 3600 * 3.9, startTime: '2026-11-23T04:00:00Z' })]],
    quiet: [
      [proc({ cpuPercent: 95, cpuSeconds: 60, startTime: '2026-11-23T04:00:00Z' })],
      [proc({ cpuPercent: 99, cpuSeconds: 200, startTime: '2026-11-23T09:58:00Z' })],
      [proc({ cpuPercent: null, cpuSeconds: 100000, startTime: '2026-11-23T04:00:00Z' })],
    ],
  },
  {
    rule: 'process.ld-preload-odd',
    fires: [[proc({ ldPreload: ['/tmp/.l/libs.so'] })], [proc({ ldPreload: ['libhide.so'] })], [proc({ ldPreload: ['/home/bob/x.so'] })]],
    quiet: [[proc({ ldPreload: ['/usr/lib/x86_64-linux-gnu/libjemalloc.so.2'] })], [proc({ ldPreload: null })], [proc({ ldPreload: [] })]],
  },
  {
    rule: 'process.server-spawned-shell',
    fires: [
      [
        proc({ pid: 100, exe: '/usr/sbin/php-fpm8.2', comm: 'php-fpm8.2', uid: 33, euid: 33 }),
        proc({ pid: 200, ppid: 100, ancestry: [100, 1], exe: '/usr/bin/dash', comm: 'sh', uid: 33, euid: 33 }),
        proc({ pid: 300, ppid: 200, ancestry: [200, 100, 1], exe: '/usr/bin/bash', comm: 'bash', uid: 33, euid: 33 }),
      ],
      [proc({ pid: 100, exe: '/usr/sbin/nginx', comm: 'nginx' }), proc({ pid: 200, ppid: 100, ancestry: [100, 1], exe: '/usr/bin/python3.11', comm: 'python3' })],
    ],
    quiet: [
      [proc({ pid: 100, exe: '/usr/sbin/sshd', comm: 'sshd' }), proc({ pid: 200, ppid: 100, ancestry: [100, 1], exe: '/usr/bin/bash', comm: 'bash' })],
      [proc({ pid: 100, exe: '/usr/sbin/nginx', comm: 'nginx' }), proc({ pid: 200, ppid: 100, ancestry: [100, 1], exe: '/usr/sbin/nginx', comm: 'nginx' })],
    ],
  },
  {
    rule: 'process.root-in-user-session',
    fires: [
      [
        proc({ pid: 10, exe: '/usr/sbin/sshd', comm: 'sshd', uid: 1000, euid: 1000 }),
        proc({ pid: 11, ppid: 10, ancestry: [10, 1], exe: '/usr/bin/bash', comm: 'bash', uid: 1000, euid: 1000 }),
        proc({ pid: 12, ppid: 11, ancestry: [11, 10, 1], exe: '/tmp/.r/rootsh', comm: 'rootsh', uid: 1000, euid: 0 }),
      ],
    ],
    quiet: [
      [
        proc({ pid: 11, exe: '/usr/bin/bash', comm: 'bash', uid: 1000, euid: 1000 }),
        proc({ pid: 12, ppid: 11, ancestry: [11, 1], exe: '/usr/bin/sudo', comm: 'sudo', uid: 1000, euid: 0 }),
        proc({ pid: 13, ppid: 12, ancestry: [12, 11, 1], exe: '/usr/bin/bash', comm: 'bash', uid: 0, euid: 0 }),
      ],
      [proc({ pid: 11, exe: '/usr/bin/bash', comm: 'bash', uid: 0, euid: 0 }), proc({ pid: 12, ppid: 11, ancestry: [11, 1], exe: '/usr/bin/vim', comm: 'vim' })],
      [proc({ pid: 11, exe: '/usr/bin/bash', uid: 1000, euid: 1000 }), proc({ pid: 12, ppid: 11, ancestry: [11, 1], exe: '/usr/bin/passwd', uid: 1000, euid: 0 })],
    ],
  },
  {
    rule: 'process.hidden',
    fires: [[hidden({ kind: 'unlisted-process', pid: 31337, comm: 'rk', exe: '/usr/bin/rk', foundBy: ['probe'], startTime: '2026-11-23T09:00:00Z' })]],
    quiet: [[hidden({ kind: 'check', processesListed: 120, processesHidden: 0 })]],
  },
  {
    rule: 'process.proc-mount',
    fires: [[hidden({ kind: 'proc-mount', pid: 4242, path: '/proc/4242', mountSource: 'tmpfs', fsType: 'tmpfs' })]],
    quiet: [[hidden({ kind: 'check' })]],
  },
  {
    rule: 'process.preload-in-goldhour',
    fires: [
      [hidden({ kind: 'ld-so-preload', path: '/etc/ld.so.preload', entries: ['/usr/local/lib/libhide.so'], loadedIntoGoldhour: true })],
      [hidden({ kind: 'goldhour-library', path: '/usr/local/lib/libhide.so', entries: ['ld.so.preload'] })],
    ],
    quiet: [
      [hidden({ kind: 'ld-so-preload', path: '/etc/ld.so.preload', entries: ['/x.so'], loadedIntoGoldhour: false })],
      [hidden({ kind: 'goldhour-library', path: '/usr/lib/x86_64-linux-gnu/libc.so.6', entries: [] })],
    ],
  },
];

checkCases([...PROCESS_RULES, ...HIDDEN_RULES], CASES);

test('a process finding names the pid, the host path of the executable and when it started', () => {
  const [f] = detect([proc({ pid: 777, exe: '/dev/shm/.x', argv: ['/dev/shm/.x', '-c', 'x\u001b[2J'], startTime: '2026-11-23T09:15:00Z' })]).filter((x) => x.id === 'process.exe.temp-dir');
  assert.ok(f);
  assert.equal(f.pid, 777);
  assert.equal(f.evidence.path, '/dev/shm/.x');
  assert.equal(f.evidence.text, '/dev/shm/.x -c x\u001b[2J', 'attacker bytes are kept as they were');
  assert.equal(f.ts, '2026-11-23T09:15:00.000Z');
  assert.equal(f.collector, 'processes');
});

test('findings without a time of their own carry the time the collector ran', () => {
  const [f] = detect([hidden({ kind: 'proc-mount', pid: 1, path: '/proc/1' })]);
  assert.equal(f?.ts, SEEN);
});
