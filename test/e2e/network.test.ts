import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { firewallCollector } from '../../src/collectors/firewall.js';
import { interfacesCollector } from '../../src/collectors/interfaces.js';
import { networkConfigCollector } from '../../src/collectors/network.js';
import { socketsCollector } from '../../src/collectors/sockets.js';
import type { Manifest } from '../../src/evidence/manifest.js';
import { runCollector } from '../collector-harness.js';
import { buildRoot } from '../fixture-root.js';
import { PROJECT, tempDir } from '../helpers.js';

type Row = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p));
const NFT = ['/usr/sbin/nft', '/sbin/nft'].find((p) => existsSync(p));
const isRoot = process.getuid?.() === 0;

function noRowErrors(m: Manifest): void {
  const bad = m.errors.filter((e) => e.code === 'EROW' || e.code === 'ECOLLECT');
  assert.deepEqual(bad, [], 'rows match their declaration and nothing threw');
}

/** A network namespace of our own, removed (with everything we started in it) when the test ends. */
function makeNamespace(t: TestContext): string {
  const ns = `goldhour-test-${randomBytes(4).toString('hex')}`;
  execFileSync(IP!, ['netns', 'add', ns]);
  const children: ChildProcess[] = [];
  t.after(() => {
    for (const c of children) if (c.pid && c.exitCode === null) c.kill('SIGKILL');
    try {
      execFileSync(IP!, ['netns', 'del', ns]);
    } catch {
      // already gone
    }
  });
  execFileSync(IP!, ['netns', 'exec', ns, IP!, 'link', 'set', 'lo', 'up']);
  (t as unknown as { children: ChildProcess[] }).children = children;
  return ns;
}

/** Starts `node -e script` inside the namespace and waits for its first stdout line (JSON). */
async function startInNs(t: TestContext, ns: string, script: string): Promise<{ child: ChildProcess; hello: Row }> {
  const child = spawn(IP!, ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  (t as unknown as { children: ChildProcess[] }).children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const hello = await new Promise<Row>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no ready line in 30 s; stderr: ${err}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(JSON.parse(out.slice(0, nl)) as Row);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before it was ready: ${err}`));
    });
  });
  return { child, hello };
}

const canNetns = isRoot && IP !== undefined;

test('live: listeners and connections inside a namespace the test made are seen with their pids and namespace', { skip: !canNetns && 'needs root and ip(8)' }, async (t) => {
  const dir = tempDir(t);
  const ns = makeNamespace(t);
  const sockPath = path.join(dir, 'gh test.sock');
  const server = await startInNs(
    t,
    ns,
    `
    const net = require('net'), dgram = require('dgram');
    const tcp = net.createServer(() => {}).listen(4444, '127.0.0.1', () => {
      const udp = dgram.createSocket('udp4');
      udp.bind(5353, '127.0.0.1', () => {
        const unix = net.createServer(() => {}).listen(${JSON.stringify(sockPath)}, () => {
          const abs = net.createServer(() => {}).listen('\\0goldhour-test-abstract', () => {
            console.log(JSON.stringify({ pid: process.pid }));
          });
        });
      });
    });
    setTimeout(() => process.exit(0), 120000);
    `,
  );
  const client = await startInNs(
    t,
    ns,
    `
    const net = require('net');
    const c = net.connect(4444, '127.0.0.1', () => console.log(JSON.stringify({ pid: process.pid, port: c.localPort })));
    setTimeout(() => process.exit(0), 120000);
    `,
  );
  const serverPid = server.hello.pid as number;
  const clientPid = client.hello.pid as number;
  const clientPort = client.hello.port as number;
  const nsInode = Number(/net:\[(\d+)\]/.exec(readlinkSync(`/proc/${serverPid}/ns/net`))![1]);
  const hostInode = Number(/net:\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/net'))![1]);
  assert.notEqual(nsInode, hostInode);

  const { rows, manifest } = await runCollector<Row>(socketsCollector, path.join(dir, 'sockets'));
  noRowErrors(manifest);
  const mine = rows.filter((r) => r.netns === nsInode);
  const listener = mine.find((r) => r.protocol === 'tcp' && r.localPort === 4444 && r.state === 'LISTEN');
  assert.ok(listener, `listener in ${JSON.stringify(mine.map((r) => [r.protocol, r.localPort, r.state]))}`);
  assert.equal(listener.listening, true);
  assert.equal(listener.localAddress, '127.0.0.1');
  assert.deepEqual(listener.pids, [serverPid]);
  assert.equal(listener.owners[0].comm, 'node');
  assert.equal(listener.initNetns, false);
  assert.match(listener.source, new RegExp(`^/proc/\\d+/net/tcp$`));

  const out = mine.find((r) => r.protocol === 'tcp' && r.state === 'ESTABLISHED' && r.localPort === clientPort && r.remotePort === 4444);
  const back = mine.find((r) => r.protocol === 'tcp' && r.state === 'ESTABLISHED' && r.localPort === 4444 && r.remotePort === clientPort);
  assert.ok(out && back, 'both ends of the connection');
  assert.deepEqual(out.pids, [clientPid]);
  assert.deepEqual(back.pids, [serverPid]);

  const udp = mine.find((r) => r.protocol === 'udp' && r.localPort === 5353);
  assert.equal(udp?.state, 'UNCONN');
  assert.equal(udp?.listening, true);
  assert.deepEqual(udp?.pids, [serverPid]);

  const unix = mine.find((r) => r.protocol === 'unix' && r.path === sockPath);
  assert.ok(unix, 'unix socket path');
  assert.equal(unix.listening, true);
  assert.equal(unix.abstract, false);
  assert.deepEqual(unix.pids, [serverPid]);
  const abstract = mine.find((r) => r.protocol === 'unix' && typeof r.path === 'string' && r.path.startsWith('@goldhour-test-abstract'));
  assert.ok(abstract, 'abstract unix name');
  assert.equal(abstract.abstract, true);

  // the host's own sockets are there too, in the host namespace
  assert.ok(rows.some((r) => r.netns === hostInode && r.initNetns !== false));
  // raw copies of the namespace's tables are evidence
  assert.ok(manifest.artifacts.some((a) => a.source === listener.source));

  // the same namespace through the interface and routing collectors
  const ifs = await runCollector<Row>(interfacesCollector, path.join(dir, 'interfaces'));
  noRowErrors(ifs.manifest);
  const lo = ifs.rows.find((r) => r.netns === nsInode && r.name === 'lo');
  assert.ok(lo, 'lo of the namespace');
  assert.deepEqual(lo.ipv4Addresses, ['127.0.0.1']);
  assert.ok(lo.rxPackets > 0);
  assert.equal(lo.promiscuous, null, 'sysfs is not read for other namespaces');
  assert.ok(ifs.rows.some((r) => r.netns === hostInode && r.promiscuous !== null), 'interfaces of our own namespace carry sysfs facts');

  const cfg = await runCollector<Row>(networkConfigCollector, path.join(dir, 'config'));
  noRowErrors(cfg.manifest);
  assert.ok(cfg.rows.some((r) => r.kind === 'route' && r.netns === nsInode && r.family === 'inet6' && r.address === '::1'));
});

test('live: the loaded nftables ruleset of a namespace, through nft recorded in the manifest', { skip: (!canNetns || !NFT) && 'needs root, ip(8) and nft' }, async (t) => {
  const dir = tempDir(t);
  const ns = makeNamespace(t);
  const nft = (args: string) => execFileSync(IP!, ['netns', 'exec', ns, NFT!, ...args.split(' ')]);
  nft('add table inet goldhour_test');
  nft('add chain inet goldhour_test input { type filter hook input priority 0 ; policy drop ; }');
  nft('add rule inet goldhour_test input tcp dport 4444 counter accept');
  nft('add set inet goldhour_test bad { type ipv4_addr ; }');
  nft('add element inet goldhour_test bad { 192.0.2.66 }');
  // The collector runs nft in its own namespace, so run it from inside ours.
  const script = path.join(dir, 'run-firewall.mts');
  writeFileSync(
    script,
    `import { runCollector } from ${JSON.stringify(path.join(PROJECT, 'test/collector-harness.ts'))};
     import { firewallCollector } from ${JSON.stringify(path.join(PROJECT, 'src/collectors/firewall.ts'))};
     const r = await runCollector(firewallCollector, ${JSON.stringify(path.join(dir, 'out'))});
     console.log(JSON.stringify({ rows: r.rows, tools: r.manifest.tools, errors: r.manifest.errors }));`,
  );
  const out = execFileSync(IP!, ['netns', 'exec', ns, process.execPath, '--import', 'tsx', script], { cwd: PROJECT, maxBuffer: 64 * 1024 * 1024 }).toString();
  const { rows, tools, errors } = JSON.parse(out) as { rows: Row[]; tools: Row[]; errors: Row[] };
  assert.deepEqual(errors.filter((e) => e.code === 'EROW' || e.code === 'ETOOL'), []);
  assert.ok(tools.some((x) => x.path === NFT && /^[0-9a-f]{64}$/.test(x.sha256) && x.exitCode === 0), JSON.stringify(tools));
  const kernel = rows.filter((r) => r.origin === 'kernel');
  const chain = kernel.find((r) => r.kind === 'chain' && r.table === 'goldhour_test' && r.chain === 'input');
  assert.equal(chain?.hook, 'input');
  assert.equal(chain?.policy, 'drop');
  assert.equal(chain?.family, 'inet');
  const rule = kernel.find((r) => r.kind === 'rule' && r.chain === 'input' && r.text.includes('tcp dport 4444'));
  assert.ok(rule, JSON.stringify(kernel));
  assert.equal(rule.packets, 0);
  assert.ok(Number.isInteger(rule.handle));
  assert.ok(kernel.some((r) => r.kind === 'set' && r.table === 'goldhour_test'));
  assert.ok(kernel.some((r) => r.kind === 'element' && r.text.includes('192.0.2.66')));
});

test('--root: no live sockets or interfaces; resolver, hosts and persisted firewall rules from files', async (t) => {
  const dir = tempDir(t);
  const root = buildRoot(dir);
  const etc = (p: string, body: string | Buffer) => {
    mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    writeFileSync(path.join(root, p), body);
  };
  etc('/etc/hosts', Buffer.concat([Buffer.from('127.0.0.1 localhost\n# comment\n203.0.113.9 security.debian.org deb.debian.org # pinned\r\n'), Buffer.from([0x31, 0x2e, 0x32, 0x2e, 0x33, 0x2e, 0x34, 0x20, 0xff, 0x0a])]));
  etc('/etc/resolv.conf', '; managed\nnameserver 203.0.113.53\nsearch corp.example internal\noptions ndots:2 edns0\n');
  etc('/etc/nsswitch.conf', 'passwd: files\nhosts: files evil [NOTFOUND=return] dns\n');
  etc('/etc/nftables.conf', readFileSync(path.join(PROJECT, 'test/fixtures/net/firewall/nftables.conf')));
  etc('/etc/iptables/rules.v4', readFileSync(path.join(PROJECT, 'test/fixtures/net/firewall/rules.v4')));

  for (const c of [socketsCollector, interfacesCollector]) {
    const r = await runCollector<Row>(c, path.join(dir, c.name), { root });
    assert.deepEqual(r.rows, [], c.name);
    assert.deepEqual(r.manifest.errors, [], c.name);
  }

  const cfg = await runCollector<Row>(networkConfigCollector, path.join(dir, 'cfg'), { root });
  noRowErrors(cfg.manifest);
  const hosts = cfg.rows.filter((r) => r.kind === 'hosts');
  assert.deepEqual(hosts.map((r) => [r.address, r.names, r.line]), [
    ['127.0.0.1', ['localhost'], 1],
    ['203.0.113.9', ['security.debian.org', 'deb.debian.org'], 3],
    ['1.2.3.4', ['%FF'], 4],
  ]);
  assert.ok(hosts[1]!.text.endsWith('# pinned\r'), 'the carriage return is kept');
  assert.equal(Buffer.from(hosts[2]!.textBase64, 'base64').at(-1), 0xff);
  const resolver = cfg.rows.filter((r) => r.kind === 'resolver');
  assert.deepEqual(resolver.map((r) => [r.key, r.address, r.names]), [
    ['nameserver', '203.0.113.53', []],
    ['search', null, ['corp.example', 'internal']],
    ['options', null, ['ndots:2', 'edns0']],
  ]);
  const nss = cfg.rows.find((r) => r.kind === 'nsswitch' && r.key === 'hosts');
  assert.deepEqual(nss?.names, ['files', 'evil', '[NOTFOUND=return]', 'dns']);
  assert.ok(cfg.rows.every((r) => r.kind !== 'route'));
  for (const f of ['/etc/hosts', '/etc/resolv.conf', '/etc/nsswitch.conf']) assert.ok(cfg.manifest.artifacts.some((a) => a.source === f), f);

  const fw = await runCollector<Row>(firewallCollector, path.join(dir, 'fw'), { root });
  noRowErrors(fw.manifest);
  assert.deepEqual(fw.manifest.tools, [], 'no program runs against an image');
  assert.ok(fw.rows.every((r) => r.origin === 'file'));
  const accept = fw.rows.find((r) => r.source === '/etc/iptables/rules.v4' && r.kind === 'rule' && r.text.includes('198.51.100.7'));
  assert.equal(accept?.chain, 'INPUT');
  assert.equal(accept?.table, 'filter');
  const nat = fw.rows.find((r) => r.source === '/etc/iptables/rules.v4' && r.kind === 'rule' && r.table === 'nat');
  assert.ok(nat?.text.includes('REDIRECT'));
  const nftRule = fw.rows.find((r) => r.source === '/etc/nftables.conf' && r.kind === 'rule' && r.text.includes('dport 31337'));
  assert.equal(nftRule?.chain, 'input');
  assert.equal(nftRule?.table, 'filter');
  assert.ok(fw.manifest.artifacts.some((a) => a.source === '/etc/nftables.conf'));
});

/** A saved /proc: pid 1 in the host namespace, pid 4242 in another, with descriptor links to sockets. */
function savedProc(dir: string): string {
  const proc = path.join(dir, 'proc');
  const fx = (p: string) => path.join(PROJECT, 'test/fixtures/net', p);
  const tables = ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6', 'unix', 'packet', 'route', 'ipv6_route', 'arp', 'dev', 'if_inet6', 'igmp', 'dev_mcast', 'fib_trie'];
  const pid = (n: number, netns: number, from: string, fds: Record<string, string>, comm: string) => {
    mkdirSync(path.join(proc, String(n), 'net'), { recursive: true });
    mkdirSync(path.join(proc, String(n), 'ns'));
    mkdirSync(path.join(proc, String(n), 'fd'));
    symlinkSync(`net:[${netns}]`, path.join(proc, String(n), 'ns/net'));
    for (const [fd, target] of Object.entries(fds)) symlinkSync(target, path.join(proc, String(n), 'fd', fd));
    writeFileSync(path.join(proc, String(n), 'comm'), `${comm}\n`);
    for (const t of tables) copyFileSync(fx(`${from}/${t}`), path.join(proc, String(n), 'net', t));
  };
  pid(1, 4026531833, 'host', { '0': '/dev/null' }, 'systemd');
  pid(4242, 4026532999, 'ns', { '3': 'socket:[49045]', '4': 'socket:[49050]', '5': 'pipe:[1]', '6': 'socket:[49043]' }, 'backdoor\u001b[2J');
  pid(4243, 4026532999, 'ns', { '7': 'socket:[49045]' }, 'child');
  return proc;
}

test('--root with a saved /proc: sockets per namespace with owners, interfaces and routes', async (t) => {
  const dir = tempDir(t);
  const root = buildRoot(dir);
  const proc = savedProc(dir);
  const s = await runCollector<Row>(socketsCollector, path.join(dir, 's'), { root, proc });
  noRowErrors(s.manifest);
  const listener = s.rows.find((r) => r.inode === 49045)!;
  assert.equal(listener.netns, 4026532999);
  assert.equal(listener.initNetns, false);
  assert.equal(listener.state, 'LISTEN');
  assert.deepEqual(listener.pids, [4242, 4243], 'a socket shared by two processes');
  assert.deepEqual(listener.owners, [
    { pid: 4242, fd: 3, comm: 'backdoor\u001b[2J' },
    { pid: 4243, fd: 7, comm: 'child' },
  ]);
  assert.equal(listener.source, '/proc/4242/net/tcp');
  const sniffer = s.rows.find((r) => r.protocol === 'packet' && r.etherProtocolName === 'all')!;
  assert.deepEqual(sniffer.pids, [4242]);
  const bound = s.rows.find((r) => r.protocol === 'packet' && r.etherProtocolName === 'ipv4')!;
  assert.equal(bound.interface, 'lo');
  const host = s.rows.filter((r) => r.netns === 4026531833);
  assert.ok(host.length > 0 && host.every((r) => r.initNetns === true && r.source.startsWith('/proc/1/')));
  assert.ok(host.some((r) => r.protocol === 'tcp' && r.localPort === 2024 && r.pids.length === 0), 'a socket no process holds');
  assert.ok(s.rows.some((r) => r.protocol === 'unix' && r.path === '/tmp/gh fixture.sock' && r.listening && r.pids[0] === 4242));
  assert.ok(s.rows.some((r) => r.family === 'inet6' && r.localAddress === '::ffff:127.0.0.1'));

  const i = await runCollector<Row>(interfacesCollector, path.join(dir, 'i'), { root, proc });
  noRowErrors(i.manifest);
  const eth0 = i.rows.find((r) => r.name === 'eth0')!;
  assert.equal(eth0.netns, 4026531833);
  assert.deepEqual(eth0.ipv4Addresses, ['192.0.2.2']);
  assert.deepEqual(eth0.ipv6Addresses.sort(), ['fd00::2/64', 'fe80::fc:ff:fe00:1/64']);
  assert.equal(eth0.ifindex, 4);
  assert.equal(eth0.macAddress, null, 'no sysfs for a saved /proc');
  assert.deepEqual(i.rows.filter((r) => r.netns === 4026532999).map((r) => r.name), ['lo']);

  const c = await runCollector<Row>(networkConfigCollector, path.join(dir, 'c'), { root, proc });
  noRowErrors(c.manifest);
  const def = c.rows.find((r) => r.kind === 'route' && r.family === 'inet' && r.prefixLength === 0)!;
  assert.equal(def.gateway, '192.0.2.1');
  assert.equal(def.interface, 'eth0');
  assert.equal(def.initNetns, true);
  assert.ok(c.rows.some((r) => r.kind === 'neighbour' && r.hwAddress === '02:fc:00:00:00:05'));
});

test('a saved /proc/net without process directories still gives sockets, without namespace or owners', async (t) => {
  const dir = tempDir(t);
  const root = buildRoot(dir);
  const proc = path.join(dir, 'proc');
  mkdirSync(path.join(proc, 'net'), { recursive: true });
  for (const f of ['tcp', 'udp', 'unix']) copyFileSync(path.join(PROJECT, 'test/fixtures/net/edge', f), path.join(proc, 'net', f));
  const s = await runCollector<Row>(socketsCollector, path.join(dir, 's'), { root, proc });
  noRowErrors(s.manifest);
  assert.ok(s.rows.length > 10);
  assert.ok(s.rows.every((r) => r.netns === null && r.initNetns === null && r.pids.length === 0));
  assert.ok(s.rows.some((r) => r.state === 'TIME_WAIT' && r.inode === 0));
  const parseErrors = s.manifest.errors.filter((e) => e.code === 'EPARSE');
  assert.deepEqual(
    parseErrors.map((e) => [e.path, e.message.split(':')[0]]),
    [
      ['/proc/net/tcp', 'line 3 does not parse'],
      ['/proc/net/tcp', 'line 8 does not parse'],
      ['/proc/net/tcp', 'line 9 does not parse'],
      ['/proc/net/tcp', 'line 10 does not parse'],
      ['/proc/net/unix', 'line 9 does not parse'],
    ],
  );
  const hostile = s.rows.find((r) => r.inode === 60005)!;
  assert.equal(hostile.path, '/tmp/%FF%FE\u001b[31mred');
  assert.deepEqual(Buffer.from(hostile.pathBase64, 'base64'), Buffer.from('/tmp/\xff\xfe\x1b[31mred', 'latin1'));
  assert.equal(s.rows.find((r) => r.inode === 60004)!.path, '/tmp/evil\nname');
  assert.deepEqual(readFileSync(path.join(s.bundle, 'files/proc/net/tcp')), readFileSync(path.join(proc, 'net/tcp')), 'raw copy kept');
});
