import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RowOf } from '../../src/detect/rows.js';
import { NETWORK_RULES } from '../../src/detect/rules/network.js';
import { checkCases, detect, row, type RuleCases } from './detect-cases.js';

function proc(pid: number, exe: string, f: Partial<RowOf<'processes'>> = {}) {
  return row('processes', { pid, ppid: 1, ancestry: [1], listed: true, kernelThread: false, exe, comm: exe.split('/').pop()!.slice(0, 15), argv: [exe], uid: 0, euid: 0, ...f });
}

function sock(f: Partial<RowOf<'sockets'>>) {
  return row('sockets', {
    netns: 4026531840,
    initNetns: true,
    protocol: 'tcp',
    family: 'inet',
    socketType: 'stream',
    state: 'ESTABLISHED',
    localAddress: '192.0.2.10',
    localPort: 40000,
    remoteAddress: '198.51.100.7',
    remotePort: 443,
    inode: 9001,
    source: '/proc/net/tcp',
    line: 2,
    ...f,
  });
}

const held = (pid: number, fd: number, comm: string) => ({ pids: [pid], owners: [{ pid, fd, comm }] });

/** n connections of a protocol, each with its own inode. */
const many = (n: number, f: Partial<RowOf<'sockets'>>) => Array.from({ length: n }, (_, i) => sock({ inode: 100_000 + i, localPort: 20000 + i, ...f }));

const CASES: RuleCases[] = [
  {
    rule: 'network.reverse-shell',
    fires: [
      [proc(50, '/usr/bin/bash'), sock({ remotePort: 4444, ...held(50, 0, 'bash') })],
      [proc(51, '/usr/bin/python3.11'), sock({ protocol: 'udp', state: 'ESTABLISHED', remotePort: 53, ...held(51, 1, 'python3') })],
    ],
    quiet: [
      [proc(52, '/usr/sbin/sshd'), sock({ ...held(52, 3, 'sshd') })],
      [proc(53, '/usr/bin/bash'), sock({ ...held(53, 5, 'bash') })],
      [proc(54, '/usr/bin/bash'), sock({ protocol: 'unix', family: 'unix', state: 'CONNECTED', remoteAddress: null, remotePort: null, ...held(54, 1, 'bash') })],
    ],
  },
  {
    rule: 'network.mining-pool-port',
    fires: [[proc(60, '/usr/bin/updater'), sock({ remotePort: 14444, ...held(60, 7, 'updater') })], [sock({ state: 'SYN_SENT', remotePort: 3333 })]],
    quiet: [[sock({ remotePort: 443 })], [sock({ remotePort: 3333, remoteAddress: '127.0.0.1' })], [sock({ state: 'LISTEN', listening: true, localPort: 3333, remotePort: 0 })]],
  },
  {
    rule: 'network.listener-temp-process',
    fires: [[proc(70, '/tmp/.s/bind'), sock({ state: 'LISTEN', listening: true, localPort: 31337, remoteAddress: '0.0.0.0', remotePort: 0, ...held(70, 3, 'bind') })]],
    quiet: [
      [proc(71, '/usr/sbin/nginx'), sock({ state: 'LISTEN', listening: true, localPort: 80, remotePort: 0, ...held(71, 6, 'nginx') })],
      [proc(72, '/tmp/.s/bind'), sock({ ...held(72, 3, 'bind') })],
    ],
  },
  {
    rule: 'network.raw-socket-unexpected',
    fires: [
      [proc(80, '/usr/sbin/haldrund'), sock({ protocol: 'packet', family: 'packet', socketType: 'raw', state: 'UNCONN', ...held(80, 3, 'haldrund') })],
      [proc(81, '/dev/shm/dhclient', { exeDeleted: true }), sock({ protocol: 'raw', socketType: 'raw', state: 'UNCONN', ...held(81, 3, 'dhclient') })],
    ],
    quiet: [[proc(82, '/usr/sbin/dhclient'), sock({ protocol: 'packet', family: 'packet', socketType: 'raw', state: 'UNCONN', ...held(82, 5, 'dhclient') })], [proc(83, '/usr/bin/bash'), sock({ ...held(83, 3, 'bash') })]],
  },
  {
    rule: 'network.established-flood',
    fires: [[proc(90, '/usr/bin/flood'), ...many(1001, held(90, 9, 'flood'))]],
    quiet: [[...many(1000, {})], [...many(1500, { state: 'TIME_WAIT' })]],
  },
  {
    rule: 'network.udp-share',
    fires: [[...many(30, { protocol: 'udp', socketType: 'dgram' }), ...many(30, {})]],
    quiet: [[...many(10, { protocol: 'udp', socketType: 'dgram' }), ...many(90, {})], [...many(20, { protocol: 'udp', socketType: 'dgram' })], [...many(60, { protocol: 'udp', socketType: 'dgram', remotePort: 0, listening: true, state: 'UNCONN' })]],
  },
];

checkCases(NETWORK_RULES, CASES);

test('a reverse shell names the shell process, the remote address and which descriptors are the socket', () => {
  const f = detect([proc(50, '/usr/bin/bash'), sock({ remoteAddress: '2001:db8::7', family: 'inet6', remotePort: 4444, pids: [50], owners: [{ pid: 50, fd: 0, comm: 'bash' }, { pid: 50, fd: 1, comm: 'bash' }] })]).find(
    (x) => x.id === 'network.reverse-shell',
  );
  assert.ok(f);
  assert.equal(f.pid, 50);
  assert.equal(f.evidence.path, '/usr/bin/bash');
  assert.equal(f.evidence.remote, '[2001:db8::7]:4444');
  assert.deepEqual(f.evidence.fds, [0, 1]);
});
