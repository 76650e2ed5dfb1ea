/**
 * goldhour pcap through the real CLI, inside network namespaces the test makes:
 * two namespaces joined by a veth pair, traffic only between them (a node UDP
 * sender in A, a UDP sink in B), capture in A with `ip netns exec A goldhour
 * pcap`. Every file is checked with capinfos (and tshark where the contents
 * matter), every bundle with `goldhour verify`. Namespaces and processes are
 * removed by their own names and ids in `after` hooks, even on failure.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { PcapSidecar } from '../../src/acquire/pcap/sidecar.js';
import type { Manifest } from '../../src/evidence/manifest.js';
import { PROJECT, RUN_JS, runCli, tempDir } from '../helpers.js';

const which = (names: string[]) => names.find((p) => existsSync(p));
const IP = which(['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip']);
const CAPINFOS = which(['/usr/bin/capinfos']);
const TSHARK = which(['/usr/bin/tshark']);
const UNSHARE = which(['/usr/bin/unshare']);
const TOOLS = ['/usr/bin/tcpdump', '/usr/sbin/tcpdump', '/usr/bin/dumpcap', '/usr/sbin/dumpcap'].filter((p) => existsSync(p));
const ready = process.getuid?.() === 0 && IP && CAPINFOS && TSHARK && TOOLS.some((p) => p.endsWith('tcpdump')) && TOOLS.some((p) => p.endsWith('dumpcap'));
// In CI the tools are installed by scripts/install-test-deps.sh: there a missing one fails the tests instead of skipping them.
const skip = ready || process.env.CI === 'true' ? false : 'needs root, ip(8), tcpdump, dumpcap, capinfos and tshark (scripts/install-test-deps.sh)';

interface Link {
  a: string;
  b: string;
  ifaceA: string;
  addrB: string;
  nsInode: number;
  /** Sends `count` UDP datagrams of `size` bytes from A to B, round-robin over `ports`, in bursts; resolves with the count sent. */
  send(ports: number[], count: number, size: number, opts?: { burst?: number; gapMs?: number }): Promise<number>;
}

/** Two namespaces, a veth pair, addresses, IPv6 off (no router solicitations in the counts), a UDP sink in B; checked reachable. */
async function makeLink(t: TestContext, sinkPorts: number[]): Promise<Link> {
  const id = randomBytes(3).toString('hex');
  const a = `gh-pcap-${id}-a`;
  const b = `gh-pcap-${id}-b`;
  const ifaceA = `ghp${id}a`;
  const ifaceB = `ghp${id}b`;
  const net = `10.${100 + (parseInt(id.slice(0, 2), 16) % 100)}.${parseInt(id.slice(2, 4), 16)}`;
  const children: ChildProcess[] = [];
  const ip = (...args: string[]) => execFileSync(IP!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const ns of [a, b]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // never made, or already gone
      }
    }
  });
  ip('netns', 'add', a);
  ip('netns', 'add', b);
  ip('link', 'add', ifaceA, 'netns', a, 'type', 'veth', 'peer', 'name', ifaceB, 'netns', b);
  for (const [ns, iface, host] of [[a, ifaceA, 1], [b, ifaceB, 2]] as const) {
    ip('netns', 'exec', ns, '/usr/sbin/sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
    ip('-n', ns, 'addr', 'add', `${net}.${host}/24`, 'dev', iface);
    ip('-n', ns, 'link', 'set', iface, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
  const addrB = `${net}.2`;
  const sink = spawn(IP!, ['netns', 'exec', b, process.execPath, '-e', SINK, JSON.stringify(sinkPorts)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(sink);
  await new Promise<void>((resolve, reject) => {
    sink.stdout!.once('data', () => resolve());
    sink.once('exit', (code) => reject(new Error(`UDP sink exited (${code})`)));
  });
  const probe = execFileSync(IP!, ['netns', 'exec', a, process.execPath, '-e', PROBE, addrB, String(sinkPorts[0])], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(probe.trim(), 'pong', `${addrB} is reachable from ${a}`);
  const send: Link['send'] = async (ports, count, size, opts = {}) => {
    const args = JSON.stringify({ host: addrB, ports, count, size, burst: opts.burst ?? 50, gapMs: opts.gapMs ?? 20 });
    const out = execFileSync(IP!, ['netns', 'exec', a, process.execPath, '-e', SENDER, args], { encoding: 'utf8', timeout: 120_000 });
    return Number(JSON.parse(out).sent);
  };
  return { a, b, ifaceA, addrB, nsInode: statSync(`/run/netns/${a}`).ino, send };
}

/** Echoes "ping" with "pong"; swallows everything else (so B never answers with ICMP port unreachable). */
const SINK = `
const dgram = require('dgram');
const ports = JSON.parse(process.argv[1]);
let bound = 0;
for (const p of ports) {
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => { if (m.toString() === 'ping') s.send('pong', r.port, r.address); });
  s.bind(p, () => { if (++bound === ports.length) process.stdout.write('ready\\n'); });
}`;

const PROBE = `
const dgram = require('dgram');
const [host, port] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
s.on('message', (m) => { process.stdout.write(m.toString()); process.exit(0); });
const t = setInterval(() => s.send('ping', +port, host), 200);
s.send('ping', +port, host);
setTimeout(() => { process.stdout.write('unreachable'); process.exit(1); }, 20000);`;

const SENDER = `
const dgram = require('dgram');
const o = JSON.parse(process.argv[1]);
const s = dgram.createSocket('udp4');
let i = 0;
const one = (done) => { const b = Buffer.alloc(o.size, 0x61); b.writeUInt32BE(i, 0); const port = o.ports[i % o.ports.length]; i++; s.send(b, port, o.host, done); };
const burst = () => {
  let n = Math.min(o.burst, o.count - i);
  if (n === 0) { s.close(); process.stdout.write(JSON.stringify({ sent: i })); return; }
  const next = () => (n-- > 0 ? one(next) : setTimeout(burst, o.gapMs));
  next();
};
burst();`;

/** goldhour pcap in namespace A, running in the background of the test; resolves its stderr line by line. */
function startPcap(t: TestContext, link: Link, args: string[]) {
  const child = spawn(IP!, ['netns', 'exec', link.a, process.execPath, RUN_JS, 'pcap', ...args], { cwd: PROJECT, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  const stdout: Buffer[] = [];
  child.stdout!.on('data', (d: Buffer) => stdout.push(d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: Buffer }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr, stdout: Buffer.concat(stdout) })),
  );
  /** Resolves with the tool's pid once goldhour says it is capturing. */
  const capturing = new Promise<number>((resolve, reject) => {
    const look = () => {
      const m = /capturing on .* \(pid (\d+)\)/.exec(stderr);
      if (m) resolve(Number(m[1]));
    };
    child.stderr!.on('data', look);
    void exited.then((r) => reject(new Error(`goldhour pcap exited (${r.code}) before capturing: ${r.stderr}`)));
  });
  return { child, capturing, exited };
}

/** Processes whose network namespace is `inode`: what must be gone once goldhour is. */
function processesInNs(inode: number): { pid: number; comm: string }[] {
  const found: { pid: number; comm: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (readlinkSync(`/proc/${name}/ns/net`) === `net:[${inode}]`) found.push({ pid: Number(name), comm: readFileSync(`/proc/${name}/comm`, 'utf8').trim() });
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  return found;
}

/** Waits for a condition that must come true (the bound only keeps a broken run from hanging; nothing is timed). */
async function eventually(what: string, check: () => boolean, boundMs = 30_000): Promise<void> {
  const end = Date.now() + boundMs;
  while (!check()) {
    if (Date.now() > end) assert.fail(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
};

function capinfosPackets(file: string): number {
  const out = execFileSync(CAPINFOS!, ['-c', '-M', file], { encoding: 'utf8' });
  const m = /Number of packets:\s+(\d+)/.exec(out);
  assert.ok(m, `capinfos read ${file}: ${out}`);
  return Number(m[1]);
}

function udpPorts(file: string): number[] {
  const out = execFileSync(TSHARK!, ['-n', '-r', file, '-T', 'fields', '-e', 'udp.dstport'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter(Boolean).map(Number);
}

function readBundle(dir: string): { manifest: Manifest; sidecar: PcapSidecar; custody: Record<string, unknown>[] } {
  return {
    manifest: JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest,
    sidecar: JSON.parse(readFileSync(path.join(dir, 'acquired/pcap/capture.json'), 'utf8')) as PcapSidecar,
    custody: readFileSync(path.join(dir, 'custody.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

async function assertVerifies(bundle: string, status: 'INTACT' | 'PARTIAL' = 'INTACT'): Promise<void> {
  const v = await runCli(['verify', bundle]);
  assert.equal(v.code, 0, v.stdout.toString() + v.stderr);
  assert.match(v.stdout.toString() + v.stderr, new RegExp(`^${status}`, 'm'));
}

const pcapFiles = (dir: string) => readdirSync(path.join(dir, 'acquired/pcap')).filter((f) => f.endsWith('.pcap')).sort().map((f) => path.join(dir, 'acquired/pcap', f));

test('60 s with a new file every 10 s over namespace traffic: 6 files, each read by capinfos, holding exactly the packets sent', { skip, timeout: 180_000 }, async (t) => {
  const link = await makeLink(t, [5001]);
  const out = path.join(tempDir(t), 'case');
  const run = startPcap(t, link, ['--iface', link.ifaceA, '--duration', '60', '--rotate', '10', '--filter', 'udp dst port 5001', '--out', out]);
  await run.capturing;
  // 10 bursts of 40, about 5 s apart: traffic spread over the capture, all sent well before its end
  const sent = await link.send([5001], 400, 200, { burst: 40, gapMs: 5000 });
  const r = await run.exited;
  assert.equal(r.code, 0, r.stderr);
  const files = pcapFiles(out);
  assert.equal(files.length, 6);
  const counts = files.map(capinfosPackets);
  assert.equal(counts.reduce((x, y) => x + y, 0), sent);
  const { sidecar, manifest } = readBundle(out);
  assert.equal(sidecar.stop.reason, 'duration');
  assert.deepEqual(sidecar.stop.signalsSent, ['SIGINT']);
  assert.equal(sidecar.stats.captured, sent);
  assert.equal(sidecar.stats.droppedByKernel, 0);
  assert.deepEqual(sidecar.files.map((f) => f.cutBy), ['time', 'time', 'time', 'time', 'time', 'end']);
  assert.deepEqual(sidecar.files.map((f) => f.packets), counts);
  for (const f of sidecar.files) assert.equal(manifest.artifacts.find((a) => a.path === f.path)?.sha256, f.sha256);
  assert.equal(manifest.status, 'complete');
  assert.ok(manifest.tools.some((x) => x.path.endsWith('/tcpdump') && x.sha256 && x.purpose === 'pcap: packet capture'));
  await assertVerifies(out);
  assert.deepEqual(processesInNs(link.nsInode), []);
});

test('--background returns at once; size rotation and a ring of 2; --stop ends it cleanly and waits for the seal', { skip, timeout: 180_000 }, async (t) => {
  const link = await makeLink(t, [5002]);
  const out = path.join(tempDir(t), 'case');
  const started = await runCli(['netns', 'exec', link.a, process.execPath, RUN_JS, 'pcap', '--background', '--iface', link.ifaceA, '--size', '1', '--files', '2', '--filter', 'udp dst port 5002', '--out', out], { exe: IP });
  assert.equal(started.code, 0, started.stderr);
  const pid = Number(/in the background \(pid (\d+)\)/.exec(started.stderr)?.[1]);
  t.after(() => {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  assert.ok(alive(pid), 'the detached capture runs on after the command returned');
  const stateFile = `${out}.goldhour-pcap.json`;
  assert.equal(JSON.parse(readFileSync(stateFile, 'utf8')).pid, pid);
  const tools = processesInNs(link.nsInode).filter((p) => p.comm === 'tcpdump');
  assert.equal(tools.length, 1);

  const sent = await link.send([5002], 3000, 1000, { burst: 100, gapMs: 20 });
  const stopped = await runCli(['pcap', '--stop', out]);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stderr, /complete bundle/);
  assert.ok(!alive(pid));
  assert.ok(!existsSync(stateFile), '--stop removes the state file once it has read the result');
  assert.deepEqual(processesInNs(link.nsInode), []);

  const { sidecar, manifest, custody } = readBundle(out);
  assert.equal(sidecar.stop.reason, 'stop-request');
  assert.equal(sidecar.stats.captured, sent, 'the tool saw every datagram');
  assert.equal(sidecar.totals.packets, sent, 'and goldhour received every one');
  const kept = sidecar.files.filter((f) => f.status === 'in-bundle');
  const dropped = sidecar.files.filter((f) => f.status === 'dropped-by-ring');
  assert.equal(kept.length, 2);
  assert.ok(dropped.length >= 1, `3 MB at --size 1 makes more than 2 files (${sidecar.files.length})`);
  for (const f of sidecar.files.slice(0, -1)) {
    assert.equal(f.cutBy, 'size');
    assert.ok(f.size <= 1_000_000, `${f.path}: ${f.size} bytes`);
  }
  const files = pcapFiles(out);
  assert.deepEqual(files.map((f) => path.relative(out, f)), kept.map((f) => f.path));
  assert.deepEqual(files.map(capinfosPackets), kept.map((f) => f.packets));
  assert.deepEqual(
    custody.filter((c) => c.event === 'pcap-ring-dropped').map((c) => [c.file, c.sha256]),
    dropped.map((f) => [f.path, f.sha256]),
  );
  assert.equal(manifest.status, 'complete');
  await assertVerifies(out);
});

test('dumpcap, a BPF filter and a tar bundle: only the filtered port is kept, every packet of it', { skip, timeout: 120_000 }, async (t) => {
  const link = await makeLink(t, [5003, 5004]);
  const dir = tempDir(t);
  const out = path.join(dir, 'case.tar');
  const run = startPcap(t, link, ['--tool', 'dumpcap', '--iface', link.ifaceA, '--duration', '8', '--filter', 'udp dst port 5003', '--format', 'tar', '--archive-hash', '--out', out]);
  await run.capturing;
  const sent = await link.send([5003, 5004], 600, 100);
  const r = await run.exited;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`archive SHA-256: +${createHash('sha256').update(readFileSync(out)).digest('hex')}`));
  await assertVerifies(out);
  const x = path.join(dir, 'x');
  execFileSync('/usr/bin/mkdir', [x]);
  execFileSync('/usr/bin/tar', ['-xf', out, '-C', x]);
  const files = pcapFiles(x);
  assert.equal(files.length, 1);
  assert.equal(capinfosPackets(files[0]!), sent / 2);
  const ports = udpPorts(files[0]!);
  assert.equal(ports.length, sent / 2);
  assert.ok(ports.every((p) => p === 5003));
  const { sidecar } = readBundle(x);
  assert.equal(sidecar.tool.name, 'dumpcap');
  assert.equal(sidecar.filter, 'udp dst port 5003');
  assert.equal(sidecar.stats.captured, sent / 2);
  assert.deepEqual(processesInNs(link.nsInode), []);
});

test('an idle link: the capture still stops on goldhour\'s timer, with an empty but valid file for every stretch', { skip, timeout: 60_000 }, async (t) => {
  const link = await makeLink(t, [5005]);
  const out = path.join(tempDir(t), 'case');
  const r = await runCli(['netns', 'exec', link.a, process.execPath, RUN_JS, 'pcap', '--iface', link.ifaceA, '--duration', '3', '--rotate', '1', '--filter', 'udp port 9', '--out', out], { exe: IP });
  assert.equal(r.code, 0, r.stderr);
  const files = pcapFiles(out);
  assert.equal(files.length, 3);
  assert.deepEqual(files.map(capinfosPackets), [0, 0, 0]);
  const { sidecar } = readBundle(out);
  assert.equal(sidecar.stop.reason, 'duration');
  assert.deepEqual(sidecar.stop.signalsSent, ['SIGINT']);
  assert.equal(sidecar.stop.exitCode, 0);
  await assertVerifies(out);
});

for (const tool of ['tcpdump', 'dumpcap'] as const) {
  test(`killing goldhour with SIGKILL kills ${tool} too, even on an idle link`, { skip, timeout: 60_000 }, async (t) => {
    const link = await makeLink(t, [5006]);
    const out = path.join(tempDir(t), 'case');
    const run = startPcap(t, link, ['--tool', tool, '--iface', link.ifaceA, '--filter', 'udp port 9', '--out', out]);
    const toolPid = await run.capturing;
    assert.ok(alive(toolPid));
    assert.equal(readlinkSync(`/proc/${toolPid}/ns/net`), `net:[${link.nsInode}]`);
    t.after(() => {
      if (alive(toolPid)) process.kill(toolPid, 'SIGKILL');
    });
    run.child.kill('SIGKILL'); // `ip netns exec` execs, so this is goldhour's own pid
    await run.exited;
    await eventually(`${tool} (pid ${toolPid}) gone after goldhour was killed`, () => !alive(toolPid));
    assert.deepEqual(processesInNs(link.nsInode), []);
  });
}

test('Ctrl-C ends an open-ended capture as planned (complete); SIGTERM seals a partial bundle that verify accepts', { skip, timeout: 90_000 }, async (t) => {
  const link = await makeLink(t, [5007]);
  const dir = tempDir(t);
  for (const [sig, code, status] of [['SIGINT', 0, 'complete'], ['SIGTERM', 143, 'partial']] as const) {
    const out = path.join(dir, sig);
    const run = startPcap(t, link, ['--iface', link.ifaceA, '--filter', 'udp dst port 5007', '--out', out]);
    await run.capturing;
    const sent = await link.send([5007], 50, 64);
    run.child.kill(sig);
    const r = await run.exited;
    assert.equal(r.code, code, r.stderr);
    const { manifest, sidecar } = readBundle(out);
    assert.equal(manifest.status, status);
    assert.equal(sidecar.stop.signal, sig);
    assert.equal(sidecar.totals.packets, sent);
    await assertVerifies(out, status === 'complete' ? 'INTACT' : 'PARTIAL');
    assert.deepEqual(processesInNs(link.nsInode), []);
  }
});

test('no capture tool on the host: one line naming the packages, exit 2, nothing written', { skip: skip || (!UNSHARE && 'needs unshare(1)'), timeout: 60_000 }, async (t) => {
  const out = path.join(tempDir(t), 'case');
  // A private mount namespace in which every tcpdump and dumpcap is a character device: none is a program any more.
  const hide = TOOLS.map((p) => `mount --bind /dev/null ${p}`).join(' && ');
  const r = await runCli(['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', `${hide} && exec "$0" "$@"`, process.execPath, RUN_JS, 'pcap', '--duration', '1', '--out', out], { exe: UNSHARE });
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /no capture tool/);
  for (const pkg of ['tcpdump', 'wireshark-common', 'wireshark-cli']) assert.ok(lines[0]!.includes(pkg), `names ${pkg}`);
  assert.ok(!existsSync(out));
});
