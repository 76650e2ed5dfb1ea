import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  INET_TABLES,
  formatIpv6,
  hexIpv6,
  interfaceFlagNames,
  ipv4InPrefix,
  netnsInode,
  parseArp,
  parseFibTrieLocal,
  parseIfIndexes,
  parseIfInet6,
  parseInetSockets,
  parseIpv6Routes,
  parseNetDev,
  parsePacketSockets,
  parseRoutes,
  parseUnixSockets,
  procHexIpv4,
  procHexIpv6,
  routeFlagNames,
  scanProcesses,
  socketInode,
} from '../../src/host/proc-net.js';
import { parseIptablesSave, parseNftRuleset } from '../../src/collectors/firewall.js';
import { parseHosts, parseNsswitch, parseResolvConf } from '../../src/collectors/network.js';
import { PROJECT, tempDir } from '../helpers.js';

// ns/ and host/ were captured from this machine: ns/ inside a network namespace
// holding node listeners and clients (tcp, tcp6 with an IPv4-mapped peer, udp,
// udp6, a unix socket with a space in its name, an abstract one) and python
// packet and raw sockets; host/ from the host's own namespace. edge/ is
// hand-edited: TIME_WAIT and SYN_RECV entries, malformed lines, hostile unix names.
const fx = (p: string) => readFileSync(path.join(PROJECT, 'test/fixtures/net', p)).toString('latin1');

test('tcp: listener and both ends of an established connection, from a real namespace', () => {
  const { records, bad } = parseInetSockets(fx('ns/tcp'), 'tcp');
  assert.deepEqual(bad, []);
  assert.equal(records.length, 4);
  const [listen, client, , server] = records;
  assert.deepEqual(
    { a: listen!.localAddress, p: listen!.localPort, s: listen!.state, l: listen!.listening, i: listen!.inode, line: listen!.line },
    { a: '127.0.0.1', p: 4444, s: 'LISTEN', l: true, i: 49045, line: 2 },
  );
  assert.equal(client!.state, 'ESTABLISHED');
  assert.equal(client!.listening, false);
  assert.equal(client!.remotePort, 4444);
  assert.equal(server!.localPort, 4444);
  assert.equal(server!.remotePort, client!.localPort);
  assert.equal(client!.family, 'inet');
});

test('tcp6: dual-stack listener, ::1 pair and an IPv4-mapped peer', () => {
  const { records, bad } = parseInetSockets(fx('ns/tcp6'), 'tcp6');
  assert.deepEqual(bad, []);
  assert.equal(records[0]!.localAddress, '::');
  assert.equal(records[0]!.state, 'LISTEN');
  assert.equal(records[1]!.localAddress, '::1');
  assert.equal(records[3]!.localAddress, '::ffff:127.0.0.1');
  assert.equal(records[3]!.remoteAddress, '::ffff:127.0.0.1');
  assert.equal(records[3]!.family, 'inet6');
});

test('udp: state 07 is an unconnected socket (listening), 01 a connected one', () => {
  const ns = parseInetSockets(fx('ns/udp'), 'udp');
  assert.deepEqual(ns.bad, []);
  const byPort = new Map(ns.records.map((r) => [r.localPort, r]));
  assert.equal(byPort.get(5353)!.state, 'UNCONN');
  assert.equal(byPort.get(5353)!.listening, true);
  const connected = ns.records.find((r) => r.stateCode === 1)!;
  assert.equal(connected.state, 'ESTABLISHED');
  assert.equal(connected.listening, false);
  assert.equal(connected.remotePort, 5353);

  const edge = parseInetSockets(fx('edge/udp'), 'udp');
  assert.deepEqual(edge.records.map((r) => [r.localAddress, r.localPort, r.state, r.uid]), [
    ['0.0.0.0', 68, 'UNCONN', 0],
    ['10.0.2.2', 40000, 'ESTABLISHED', 104],
  ]);
  assert.equal(edge.records[1]!.remoteAddress, '8.8.8.8');
  const v6 = parseInetSockets(fx('ns/udp6'), 'udp6');
  assert.equal(v6.records[0]!.localAddress, '::1');
  assert.equal(v6.records[0]!.localPort, 5354);
});

test('raw sockets: the port column is the IP protocol', () => {
  assert.equal(parseInetSockets(fx('ns/raw'), 'raw').records[0]!.localPort, 1);
  assert.equal(parseInetSockets(fx('ns/raw6'), 'raw6').records[0]!.localPort, 58);
  assert.equal(parseInetSockets(fx('ns/raw6'), 'raw6').records[0]!.listening, true);
});

test('tcp edge cases: TIME_WAIT and SYN_RECV (inode 0), BOUND_INACTIVE, queues; malformed lines are returned, not thrown', () => {
  const { records, bad } = parseInetSockets(fx('edge/tcp'), 'tcp');
  assert.deepEqual(records.map((r) => r.state), ['LISTEN', 'ESTABLISHED', 'TIME_WAIT', 'SYN_RECV', 'BOUND_INACTIVE']);
  assert.equal(records[0]!.rxQueue, 3);
  assert.equal(records[1]!.txQueue, 0xffff);
  assert.equal(records[1]!.uid, 1001);
  assert.equal(records[1]!.remoteAddress, '203.113.0.66');
  assert.equal(records[1]!.localAddress, '10.0.2.2');
  assert.equal(records[2]!.inode, 0);
  assert.equal(records[3]!.inode, 0);
  assert.equal(records[4]!.remotePort, 443);
  assert.deepEqual(bad.map((b) => b.line), [3, 8, 9, 10]);
  assert.ok(bad[1]!.text.startsWith('garbage'));
});

test('tcp6 edge cases: link-local and documentation addresses, IPv4-mapped', () => {
  const { records } = parseInetSockets(fx('edge/tcp6'), 'tcp6');
  assert.deepEqual(records.map((r) => r.localAddress), ['fe80::2fc:ff:fe0e:1', '2001:db8::1', '::ffff:10.0.2.2']);
  assert.equal(records[0]!.remoteAddress, 'fe80::2fc:ff:fe0e:5');
  assert.equal(records[2]!.remoteAddress, '::ffff:203.113.0.66');
});

test('unix: paths with spaces, abstract names, listening flag, unbound sockets (real capture)', () => {
  const { records, bad } = parseUnixSockets(fx('ns/unix'));
  assert.deepEqual(bad, []);
  assert.equal(records.length, 4);
  assert.equal(records[0]!.path, null);
  assert.equal(records[0]!.state, 'CONNECTED');
  assert.equal(records[2]!.path!.toString(), '/tmp/gh fixture.sock');
  assert.equal(records[2]!.listening, true);
  assert.equal(records[2]!.state, 'LISTEN');
  assert.equal(records[2]!.type, 'stream');
  assert.equal(records[3]!.abstract, true);
  // node binds abstract names with the whole sun_path: the trailing NULs show as '@'
  assert.ok(records[3]!.path!.toString().startsWith('@gh-abstract@@@'));
  assert.equal(records[3]!.path!.length, 108);
});

test('unix: hostile names survive byte for byte; a name with a newline is joined back', () => {
  const { records, bad } = parseUnixSockets(fx('edge/unix'));
  const byInode = new Map(records.map((r) => [r.inode, r]));
  assert.equal(byInode.get(60001)!.abstract, true);
  assert.equal(byInode.get(60002)!.path!.toString(), '/run/my socket.sock');
  assert.equal(byInode.get(60003)!.type, 'dgram');
  assert.equal(byInode.get(60003)!.state, 'UNCONNECTED');
  assert.equal(byInode.get(60004)!.path!.toString(), '/tmp/evil\nname');
  assert.equal(byInode.get(60004)!.multiline, true);
  assert.deepEqual(byInode.get(60005)!.path, Buffer.from('/tmp/\xff\xfe\x1b[31mred', 'latin1'));
  assert.equal(byInode.get(60005)!.type, 'seqpacket');
  assert.equal(byInode.get(60006)!.path, null);
  assert.equal(byInode.get(60007)!.path!.toString(), ' leading-space');
  assert.deepEqual(bad.map((b) => b.line), [9]);
});

test('packet sockets: ETH_P_ALL sniffer and a bound IPv4 one', () => {
  const ns = parsePacketSockets(fx('ns/packet'));
  assert.deepEqual(ns.bad, []);
  assert.deepEqual(ns.records.map((r) => [r.type, r.etherProtocol, r.etherProtocolName, r.ifindex, r.inode]), [
    ['raw', 3, 'all', 0, 49050],
    ['dgram', 0x800, 'ipv4', 1, 49051],
  ]);
  const edge = parsePacketSockets(fx('edge/packet'));
  assert.equal(edge.records[1]!.etherProtocolName, 'lldp');
  assert.equal(edge.records[1]!.running, false);
  assert.equal(edge.records[1]!.uid, 108);
  assert.deepEqual(edge.bad.map((b) => b.line), [4]);
});

test('net/dev counters, if_inet6, igmp/dev_mcast indexes, fib_trie local addresses', () => {
  const dev = parseNetDev(fx('host/dev'));
  assert.deepEqual(dev.bad, []);
  const eth0 = dev.records.find((r) => r.name === 'eth0')!;
  assert.ok(eth0.rxBytes > 0 && eth0.txPackets > 0);
  assert.deepEqual(dev.records.map((r) => r.name).sort(), ['eth0', 'ifb0', 'ifb1', 'lo']);
  // a counter large enough to touch the colon
  const wide = parseNetDev('Inter-|\n face |\n  eth9:123456789012    1 0 0 0 0 0 0 5 6 0 0 0 0 0 0\n');
  assert.equal(wide.records[0]!.rxBytes, 123456789012);

  const v6 = parseIfInet6(fx('host/if_inet6'));
  assert.deepEqual(v6.records.map((r) => [r.interface, r.address, r.prefixLength]).sort(), [
    ['eth0', 'fd00::2', 64],
    ['eth0', 'fe80::fc:ff:fe00:1', 64],
    ['lo', '::1', 128],
  ]);
  const idx = parseIfIndexes(fx('host/igmp'), fx('host/dev_mcast'));
  assert.equal(idx.get(1), 'lo');
  assert.equal(idx.get(4), 'eth0');
  assert.equal(idx.get(2), 'ifb0');
  assert.deepEqual(parseFibTrieLocal(fx('host/fib_trie')), ['127.0.0.1', '192.0.2.2']);
});

test('routes: IPv4 default route via a gateway, IPv6 table, ARP neighbours', () => {
  const v4 = parseRoutes(fx('host/route'));
  assert.deepEqual(v4.bad, []);
  assert.deepEqual(v4.records.map((r) => [r.interface, r.destination, r.prefixLength, r.gateway, r.flagNames.join(',')]), [
    ['eth0', '0.0.0.0', 0, '192.0.2.1', 'UP,GATEWAY'],
    ['eth0', '192.0.2.0', 24, '0.0.0.0', 'UP'],
  ]);
  const v6 = parseIpv6Routes(fx('host/ipv6_route'));
  assert.deepEqual(v6.bad, []);
  const def = v6.records.find((r) => r.prefixLength === 0 && r.interface === 'eth0')!;
  assert.equal(def.nextHop, 'fd00::1');
  assert.ok(def.flagNames.includes('GATEWAY'));
  const local = v6.records.find((r) => r.destination === '::1')!;
  assert.ok(local.flagNames.includes('LOCAL'));
  assert.equal(local.flags, 0x80200001);
  const arp = parseArp(fx('host/arp'));
  assert.deepEqual(arp.records.map((r) => [r.address, r.hwAddress, r.interface, r.flagNames.join(',')]), [['192.0.2.1', '02:fc:00:00:00:05', 'eth0', 'COMPLETE']]);
  const perm = parseArp('IP address HW type Flags HW address Mask Device\n10.0.0.9 0x1 0x6 AA:BB:CC:DD:EE:FF * br-lan\n10.0.0.8 0x1 0x0 00:00:00:00:00:00 * eth0\nbogus\n');
  assert.deepEqual(perm.records[0]!.flagNames, ['COMPLETE', 'PERMANENT']);
  assert.equal(perm.records[0]!.hwAddress, 'aa:bb:cc:dd:ee:ff');
  assert.deepEqual(perm.records[1]!.flagNames, []);
  assert.deepEqual(perm.bad.map((b) => b.line), [4]);
});

test('address helpers', () => {
  assert.equal(procHexIpv4('0100007F'), '127.0.0.1');
  assert.equal(procHexIpv4('0100007'), null);
  assert.equal(procHexIpv6('00000000000000000000000001000000'), '::1');
  assert.equal(procHexIpv6('0000000000000000FFFF00000100007F'), '::ffff:127.0.0.1');
  assert.equal(hexIpv6('20010db8000000010000000000000001'), '2001:db8:0:1::1');
  assert.equal(formatIpv6([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]), '2001:db8::1:0:0:1');
  assert.equal(formatIpv6([0x20, 1, 0xd, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]), '2001:db8:0:1:1:1:1:1');
  assert.equal(formatIpv6(new Array(16).fill(0)), '::');
  assert.ok(ipv4InPrefix('192.0.2.2', '192.0.2.0', 24));
  assert.ok(!ipv4InPrefix('192.0.3.2', '192.0.2.0', 24));
  assert.ok(ipv4InPrefix('8.8.8.8', '0.0.0.0', 0));
  assert.deepEqual(interfaceFlagNames(0x1103), ['UP', 'BROADCAST', 'PROMISC', 'MULTICAST']);
  assert.deepEqual(routeFlagNames(0x80200001), ['UP', 'NONEXTHOP', 'LOCAL']);
  assert.equal(netnsInode('net:[4026531833]'), 4026531833);
  assert.equal(netnsInode('mnt:[4026531833]'), null);
  assert.equal(socketInode('socket:[49045]'), 49045);
  assert.equal(socketInode('pipe:[49045]'), null);
  assert.equal(socketInode('/tmp/socket:[1]'), null);
});

test('50,000 sockets parse line by line (parse time printed, not asserted)', () => {
  const lines = ['  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'];
  for (let i = 0; i < 50_000; i++) {
    const port = (1024 + (i % 60000)).toString(16).toUpperCase().padStart(4, '0');
    lines.push(`${String(i).padStart(5)}: 0202000A:${port} 420071CB:01BB 01 00000000:00000000 02:000A7B1D 00000000  1000        0 ${100000 + i} 1 0000000000000000 20 4 30 10 -1`);
  }
  const text = `${lines.join('\n')}\n`;
  const t0 = performance.now();
  const { records, bad } = parseInetSockets(text, 'tcp');
  const ms = performance.now() - t0;
  assert.equal(records.length, 50_000);
  assert.equal(bad.length, 0);
  assert.equal(records[49_999]!.inode, 149_999);
  console.log(`# parsed 50,000 /proc/net/tcp lines in ${ms.toFixed(1)} ms`);
});

test('scanProcesses groups pids by namespace and maps socket inodes to descriptors; exits mid-scan are counted', async () => {
  const links: Record<string, string> = {
    '/p/1/ns/net': 'net:[100]',
    '/p/2/ns/net': 'net:[100]',
    '/p/7/ns/net': 'net:[200]',
    '/p/1/fd/3': 'socket:[5000]',
    '/p/1/fd/4': '/dev/null',
    '/p/2/fd/0': 'socket:[5000]',
    '/p/7/fd/9': 'socket:[6000]',
  };
  const dirs: Record<string, string[]> = {
    '/p': ['1', '2', '7', '9', 'self', 'net'],
    '/p/1/fd': ['3', '4'],
    '/p/2/fd': ['0', '5'], // 5 closes between readdir and readlink
    '/p/7/fd': ['9'],
    '/p/1': [],
    '/p/2': [],
    '/p/7': [],
  };
  const fail = (code: string) => Object.assign(new Error(code), { code });
  const fs = {
    readdir: async (p: string) => {
      if (dirs[p]) return dirs[p]!;
      throw fail('ENOENT');
    },
    readlink: async (p: string) => {
      if (links[p]) return links[p]!;
      throw fail('ENOENT');
    },
    readFile: async () => {
      throw fail('ENOENT');
    },
  };
  const scan = await scanProcesses('/p', { descriptors: true, signal: new AbortController().signal }, fs);
  assert.deepEqual([...scan.namespaces], [[100, [1, 2]], [200, [7]]]);
  assert.equal(scan.initNetns, 100);
  assert.deepEqual(scan.owners.get(5000), [{ pid: 1, fd: 3 }, { pid: 2, fd: 0 }]);
  assert.deepEqual(scan.owners.get(6000), [{ pid: 7, fd: 9 }]);
  assert.equal(scan.vanished, 1); // pid 9 listed, then gone
  assert.equal(scan.processes, 4);
});

// --- property tests: any bytes parse without throwing, and every non-blank line is a record or a bad line

const bytesText = fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b).toString('latin1'));
const lineish = fc.array(
  fc.oneof(
    fc.string(),
    fc.constantFrom(
      '   0: 0100007F:115C 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 49045 1 0 100 0 0 10 0',
      '0000000000000000: 00000002 00000000 00010000 0001 01 60001 @x',
      '0000000000000000 3      3    0003   2     1 0      0      55001',
    ),
  ),
  { maxLength: 12 },
).map((l) => l.join('\n'));

// blank means spaces and tabs only, as the parsers see it; the first line may be a header
const nonBlank = (text: string) => text.split('\n').filter((l, i) => l.replace(/[ \t]/g, '') !== '' && !(i === 0 && /^[ \t]*(sl|sk)[ \t]/.test(`${l} `))).length;

test('property: inet parser never throws and accounts for every line', () => {
  fc.assert(
    fc.property(fc.oneof(bytesText, lineish), fc.constantFrom(...INET_TABLES), (text, table) => {
      const { records, bad } = parseInetSockets(text, table);
      assert.equal(records.length + bad.length, nonBlank(text));
      for (const r of records) assert.ok(r.localPort >= 0 && r.localPort <= 0xffff);
    }),
  );
});

test('property: unix, packet, dev, route, ipv6_route, arp, if_inet6, fib_trie, igmp parsers never throw', () => {
  fc.assert(
    fc.property(fc.oneof(bytesText, lineish), (text) => {
      const u = parseUnixSockets(text);
      for (const r of u.records) assert.ok(r.path === null || Buffer.isBuffer(r.path));
      const p = parsePacketSockets(text);
      assert.equal(p.records.length + p.bad.length, nonBlank(text));
      parseNetDev(text);
      parseRoutes(text);
      parseIpv6Routes(text);
      parseArp(text);
      parseIfInet6(text);
      parseFibTrieLocal(text);
      parseIfIndexes(text, text);
    }),
  );
});

test('property: unix names keep their bytes exactly', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 100 }), (name) => {
      const bytes = Buffer.from(name.filter((b) => b !== 0x0a));
      fc.pre(bytes.length > 0);
      const text = `Num RefCount Protocol Flags Type St Inode Path\n0000000000000000: 00000002 00000000 00010000 0001 01 123 ${bytes.toString('latin1')}\n`;
      const { records } = parseUnixSockets(text);
      assert.equal(records.length, 1);
      assert.deepEqual(records[0]!.path, bytes);
    }),
  );
});

test('property: IPv6 text round-trips through the kernel hex form', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
      const bytes = [...b];
      const hex = Buffer.from(bytes).toString('hex');
      // the kernel prints each 32-bit word little-endian
      const words = [0, 1, 2, 3].map((w) => Buffer.from(bytes.slice(4 * w, 4 * w + 4)).reverse().toString('hex')).join('');
      assert.equal(procHexIpv6(words), formatIpv6(bytes));
      assert.equal(hexIpv6(hex), formatIpv6(bytes));
      const text = formatIpv6(bytes);
      assert.ok(!text.includes(':::'));
    }),
  );
});

// --- firewall rulesets (captured with nft and iptables-nft inside a namespace) and configuration files

test('nft -a list ruleset: tables, base chains with hook and policy, rules with handles and counters, multi-line sets', () => {
  const rows = parseNftRuleset(fx('firewall/nft-list-ruleset.txt'));
  const tables = rows.filter((r) => r.kind === 'table').map((r) => [r.family, r.table, r.handle]);
  assert.deepEqual(tables, [['inet', 'filter', 4], ['ip', 'nat', 5], ['netdev', 'ingress_tap', 6]]);
  const input = rows.find((r) => r.kind === 'chain' && r.chain === 'input')!;
  assert.deepEqual([input.hook, input.policy, input.handle, input.table], ['input', 'drop', 1, 'filter']);
  assert.ok(input.text.includes('priority filter'));
  const rules = rows.filter((r) => r.kind === 'rule' && r.chain === 'input');
  assert.deepEqual(rules.map((r) => r.handle), [4, 5, 6, 8]);
  assert.deepEqual([rules[1]!.packets, rules[1]!.bytes], [0, 0]);
  assert.equal(rules[0]!.packets, null);
  assert.ok(rules[2]!.text.includes('comment "blocked { by } SOC"'), 'braces inside quotes do not open blocks');
  const elements = rows.filter((r) => r.kind === 'element');
  assert.deepEqual(elements.map((r) => r.text), ['type ipv4_addr', 'flags interval', 'elements = { 192.0.2.0/24, 198.51.100.66,', '203.0.113.7 }']);
  assert.ok(elements.every((r) => r.table === 'filter' && r.chain === null));
  const nat = rows.find((r) => r.kind === 'rule' && r.table === 'nat')!;
  assert.equal(nat.chain, 'prerouting');
  assert.equal(nat.family, 'ip');
  assert.equal(rows.find((r) => r.chain === 'ing' && r.kind === 'chain')!.hook, 'ingress');
  assert.equal(rows.filter((r) => r.kind === 'statement').length, 0);
  // the iptables-nft view of the same kind of rules
  const ipt = parseNftRuleset(fx('firewall/nft-iptables-nft.txt'));
  assert.deepEqual(ipt.filter((r) => r.kind === 'rule').map((r) => `${r.family}/${r.table}/${r.chain}#${r.handle}`), [
    'ip/filter/INPUT#2', 'ip/filter/INPUT#3', 'ip/filter/INPUT#4', 'ip/filter/LOGDROP#6', 'ip/filter/LOGDROP#7', 'ip/nat/PREROUTING#2', 'ip6/filter/INPUT#2',
  ]);
  assert.equal(ipt.find((r) => r.chain === 'LOGDROP' && r.kind === 'chain')!.hook, null);
});

test('nft scripts: flush, define, include and one-line add commands', () => {
  const rows = parseNftRuleset(fx('firewall/nftables.conf'));
  assert.deepEqual(rows.filter((r) => r.kind === 'statement').map((r) => r.text), ['flush ruleset', 'define ADMIN = 198.51.100.7', 'include "/etc/nftables.d/*.nft"']);
  const added = rows.find((r) => r.text.startsWith('add rule'))!;
  assert.deepEqual([added.kind, added.family, added.table, added.chain], ['rule', 'inet', 'filter', 'input']);
  const addTable = rows.find((r) => r.text === 'add table ip raw')!;
  assert.deepEqual([addTable.kind, addTable.family, addTable.table], ['table', 'ip', 'raw']);
  const backdoor = rows.find((r) => r.text.includes('31337'))!;
  assert.deepEqual([backdoor.kind, backdoor.chain, backdoor.line], ['rule', 'input', 13]);
  assert.equal(rows.find((r) => r.kind === 'chain')!.policy, 'drop');
  assert.deepEqual(rows.filter((r) => r.kind === 'element').map((r) => r.line), [16, 17, 18]);
  assert.equal(rows.find((r) => r.kind === 'set')!.chain, null);
});

test('iptables-save -c: tables, chains with policies and counters, rules per chain', () => {
  const rows = parseIptablesSave(fx('firewall/iptables-save.txt'), 'ip');
  assert.deepEqual(rows.filter((r) => r.kind === 'table').map((r) => r.table), ['filter', 'nat']);
  const chains = rows.filter((r) => r.kind === 'chain').map((r) => [r.table, r.chain, r.policy, r.packets]);
  assert.deepEqual(chains[0], ['filter', 'INPUT', 'DROP', 0]);
  assert.deepEqual(chains[3], ['filter', 'LOGDROP', null, 0]);
  const ssh = rows.find((r) => r.text.includes('198.51.100.7'))!;
  assert.deepEqual([ssh.kind, ssh.table, ssh.chain, ssh.packets, ssh.bytes, ssh.family], ['rule', 'filter', 'INPUT', 0, 0, 'ip']);
  assert.equal(rows.find((r) => r.table === 'nat' && r.kind === 'rule')!.chain, 'PREROUTING');
  const v6 = parseIptablesSave(fx('firewall/ip6tables-save.txt'), 'ip6');
  assert.deepEqual(v6.filter((r) => r.kind === 'rule').map((r) => [r.family, r.chain]), [['ip6', 'INPUT']]);
  // persisted rules without counters
  const file = parseIptablesSave(fx('firewall/rules.v4'), 'ip');
  assert.equal(file.filter((r) => r.kind === 'rule').length, 4);
  assert.ok(file.filter((r) => r.kind === 'rule').every((r) => r.packets === null));
  const odd = parseIptablesSave('*filter\n[12:3456] -A INPUT -j ACCEPT\n-N EVIL\n-P INPUT ACCEPT\nwhat is this\n', 'ip');
  assert.deepEqual(odd.map((r) => [r.kind, r.chain, r.policy, r.packets, r.bytes]), [
    ['table', null, null, null, null],
    ['rule', 'INPUT', null, 12, 3456],
    ['chain', 'EVIL', null, null, null],
    ['chain', 'INPUT', 'ACCEPT', null, null],
    ['statement', null, null, null, null],
  ]);
});

test('hosts, resolv.conf and nsswitch.conf lines keep their bytes', () => {
  const hosts = parseHosts(Buffer.from('127.0.0.1\tlocalhost\n\n# x\n::1 ip6-localhost ip6-loopback # c\n10.0.0.1 evil\r\n\xff bad\n', 'latin1'));
  assert.deepEqual(hosts.map((h) => [h.line, h.address, h.names]), [
    [1, '127.0.0.1', ['localhost']],
    [4, '::1', ['ip6-localhost', 'ip6-loopback']],
    [5, '10.0.0.1', ['evil']],
    [6, '%FF', ['bad']],
  ]);
  assert.equal(hosts[2]!.text, '10.0.0.1 evil\r');
  assert.equal(hosts[3]!.textBase64, Buffer.from('\xff bad', 'latin1').toString('base64'));
  const resolv = parseResolvConf(Buffer.from('# c\n; c\nnameserver 1.1.1.1 # trailing\ndomain example.org\nsearch a b\n'));
  assert.deepEqual(resolv.map((r) => [r.key, r.address, r.names]), [
    ['nameserver', '1.1.1.1', ['#', 'trailing']],
    ['domain', null, ['example.org']],
    ['search', null, ['a', 'b']],
  ]);
  const nss = parseNsswitch(Buffer.from('hosts:  files mdns4_minimal [NOTFOUND=return] dns # x\npasswd:files\n'));
  assert.deepEqual(nss.map((r) => [r.key, r.names]), [
    ['hosts', ['files', 'mdns4_minimal', '[NOTFOUND=return]', 'dns']],
    ['passwd', ['files']],
  ]);
});

test('property: firewall and configuration parsers never throw, and rows point at real lines', () => {
  const lines = fc.array(
    fc.oneof(
      fc.string(),
      fc.constantFrom('table inet t {', 'chain c {', 'set s {', '}', '} }', 'elements = { 1,', '2 }', 'type filter hook input priority 0; policy drop;', '*filter', ':INPUT ACCEPT [1:2]', '[1:2] -A INPUT -j DROP', '"{', '# handle x'),
    ),
    { maxLength: 15 },
  );
  fc.assert(
    fc.property(fc.oneof(lines.map((l) => l.join('\n')), bytesText), (text) => {
      const count = text.split('\n').length;
      for (const r of [...parseNftRuleset(text), ...parseIptablesSave(text, 'ip')]) {
        assert.ok(r.line >= 1 && r.line <= count);
        assert.equal(typeof r.text, 'string');
      }
      const buf = Buffer.from(text, 'latin1');
      for (const r of [...parseHosts(buf), ...parseResolvConf(buf), ...parseNsswitch(buf)]) assert.ok(r.line >= 1 && r.line <= count);
    }),
  );
});

test('scanProcesses: a shielded pid 1 falls back to kthreadd for the host namespace; sync and async reads agree on a real tree', async (t) => {
  const dir = tempDir(t);
  const mk = (pid: number, ns: string | null, fds: Record<string, string>, comm: string) => {
    mkdirSync(path.join(dir, String(pid), 'fd'), { recursive: true });
    mkdirSync(path.join(dir, String(pid), 'ns'));
    if (ns) symlinkSync(ns, path.join(dir, String(pid), 'ns', 'net'));
    for (const [fd, target] of Object.entries(fds)) symlinkSync(target, path.join(dir, String(pid), 'fd', fd));
    writeFileSync(path.join(dir, String(pid), 'comm'), `${comm}\n`);
  };
  mk(1, null, {}, 'init'); // its namespace link cannot be read
  mk(2, 'net:[111]', {}, 'kthreadd');
  mk(30, 'net:[111]', { '0': 'socket:[7]', '1': 'anon_inode:[eventfd]' }, 'sshd');
  mk(31, 'net:[222]', { '4': 'socket:[7]', '5': 'socket:[8]' }, 'nc');
  mkdirSync(path.join(dir, 'net'));
  const signal = new AbortController().signal;
  for (const sync of [false, true]) {
    const scan = await scanProcesses(dir, { descriptors: true, signal, sync });
    assert.equal(scan.initNetns, 111);
    assert.deepEqual([...scan.namespaces], [[111, [2, 30]], [222, [31]]]);
    assert.deepEqual(scan.owners.get(7), [{ pid: 30, fd: 0 }, { pid: 31, fd: 4 }]);
    assert.deepEqual(scan.owners.get(8), [{ pid: 31, fd: 5 }]);
    assert.equal(scan.vanished, 0);
  }
  // without kthreadd there is no way to tell which namespace is the host's
  writeFileSync(path.join(dir, '2', 'comm'), 'impostor\n');
  assert.equal((await scanProcesses(dir, { descriptors: false, signal })).initNetns, null);
});
