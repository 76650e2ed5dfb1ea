import assert from 'node:assert/strict';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { discoverProcesses, type Outcome, type ProcView } from '../../src/collectors/processes.js';
import {
  EnvironScanner,
  PF_KTHREAD,
  ancestry,
  isPidName,
  mappedFiles,
  parseBtime,
  parseCgroup,
  parseExeLink,
  parseLdSoPreload,
  parseLoadavg,
  parseNsLink,
  parseStat,
  parseStatus,
  pickEnviron,
  socketInode,
  splitCmdline,
} from '../../src/host/proc-pid.js';
import { PROJECT } from '../helpers.js';

// A saved /proc of real processes, made by test/fixtures/proc/capture.py (see there).
const SAVED = path.join(PROJECT, 'test/fixtures/proc/saved');
const saved = (rel: string) => readFileSync(path.join(SAVED, rel));
const savedPids = readdirSync(SAVED).filter(isPidName).map(Number);
// the process whose comm was set to hostile bytes is the one bind-mounted over /proc/4242 in 1/mountinfo
const weirdPid = Number(readFileSync(path.join(SAVED, '1/mountinfo'), 'utf8').match(/ \/(\d+) \/proc\/4242 /)![1]);

test('stat: a comm holding ") Z 9 (", a newline and an invalid byte is cut at the LAST parenthesis', () => {
  const st = parseStat(saved(`${weirdPid}/stat`))!;
  assert.equal(st.pid, weirdPid);
  assert.deepEqual([...st.comm], [...Buffer.from('x) Z 9 (\nq\xff', 'latin1')]);
  assert.equal(st.state, 'S'); // not the 'Z' planted in the comm
  assert.ok(st.ppid > 1);
  assert.ok(st.startTicks > 0);
  assert.equal(st.numThreads, 1);
});

test('stat: kernel thread, zombie and PID 1', () => {
  const k = parseStat(saved('2/stat'))!;
  assert.equal(k.comm.toString(), 'kthreadd');
  assert.ok((k.flags & PF_KTHREAD) !== 0);
  assert.equal(k.ppid, 0);
  const init = parseStat(saved('1/stat'))!;
  assert.equal(init.flags & PF_KTHREAD, 0);
  const zombies = savedPids.map((p) => parseStat(saved(`${p}/stat`))!).filter((st) => st.state === 'Z');
  assert.equal(zombies.length, 1);
  assert.equal(zombies[0]!.rssPages, 0);
  assert.equal(zombies[0]!.vsize, 0);
});

test('stat: garbage gives null', () => {
  for (const s of ['', '12', '12 (x', 'x (a) S 1', '12 (a) S', '12 (a) 9 1 1 1', '(a) S 1 1']) assert.equal(parseStat(Buffer.from(s)), null, s);
});

test('status: ids, capabilities, NSpid, VmRSS; the kernel escapes Name, so it is not used for comm', () => {
  const s = parseStatus(saved(`${weirdPid}/status`).toString('latin1'));
  assert.deepEqual(s.uids, [0, 0, 0, 0]);
  assert.deepEqual(s.gids, [0, 0, 0, 0]);
  assert.equal(s.tgid, weirdPid);
  assert.deepEqual(s.nsPids, [weirdPid]);
  assert.equal(s.name, 'x) Z 9 (\\nq\xff'); // \n escaped by the kernel
  assert.match(s.capEff!, /^[0-9a-f]{16}$/);
  assert.ok(s.rssBytes! > 0);
  const k = parseStatus(saved('2/status').toString('latin1'));
  assert.equal(k.rssBytes, null);
  const c = parseStatus('Name:\tnginx\nUid:\t33\t33\t33\t33\nGid:\t33\t33\t33\t33\nNSpid:\t81234\t7\nCapEff:\t0000000000003000\nThreads:\t4\n');
  assert.deepEqual(c.nsPids, [81234, 7]);
  assert.equal(c.capEff, '0000000000003000');
  assert.deepEqual(parseStatus('Uid:\t1\tx\n').uids, []);
});

test('cmdline: NUL-separated, one trailing NUL dropped, empty arguments and newlines kept', () => {
  const args = splitCmdline(saved(`${weirdPid}/cmdline`));
  assert.equal(args.length, 5);
  assert.equal(args[3]!.toString(), 'arg with\nnewline');
  assert.deepEqual([...args[4]!], [0xff, 0xfe, 0x62, 0x61, 0x64]);
  assert.deepEqual(splitCmdline(Buffer.from('sleep\x00\x005\x00')).map(String), ['sleep', '', '5']);
  assert.deepEqual(splitCmdline(Buffer.from('nginx: worker process')).map(String), ['nginx: worker process']); // rewritten argv
  assert.deepEqual(splitCmdline(Buffer.alloc(0)), []);
  assert.deepEqual(splitCmdline(Buffer.from('\0')).map(String), ['']);
});

test('environ: only LD_PRELOAD and LD_LIBRARY_PATH, every occurrence, raw', () => {
  const deleted = savedPids.find((p) => p > 2 && readlinkSync(path.join(SAVED, `${p}/exe`), { encoding: 'utf8' }).endsWith('(deleted)'))!;
  const pick = pickEnviron(saved(`${deleted}/environ`), ['LD_PRELOAD', 'LD_LIBRARY_PATH']);
  assert.deepEqual(pick.values.get('LD_PRELOAD')!.map(String), ['/usr/lib/x86_64-linux-gnu/libc.so.6']);
  assert.deepEqual(pick.values.get('LD_LIBRARY_PATH')!.map(String), ['/opt/evil/lib']);
  const twice = pickEnviron(Buffer.from('A=1\0LD_PRELOAD=/a.so\0LD_PRELOADX=no\0XLD_PRELOAD=no\0LD_PRELOAD=/b\xff.so\0LD_PRELOAD', 'latin1'), ['LD_PRELOAD']);
  assert.deepEqual(twice.values.get('LD_PRELOAD')!.map((b) => b.toString('latin1')), ['/a.so', '/b\xff.so']);
  assert.equal(twice.entries.length, 2);
  assert.equal(pickEnviron(Buffer.from('LD_PRELOAD='), ['LD_PRELOAD']).values.get('LD_PRELOAD')![0]!.length, 0);
});

test('environ: a variable pushed past megabytes of padding is still found; a huge value is cut and flagged', () => {
  const pad = Buffer.alloc(3 * 1024 * 1024, 0x41);
  const data = Buffer.concat([Buffer.from('PAD='), pad, Buffer.from('\0LD_PRELOAD=/dev/shm/.x.so\0')]);
  const s = new EnvironScanner(['LD_PRELOAD']);
  for (let i = 0; i < data.length; i += 65536) s.feed(data.subarray(i, i + 65536));
  assert.deepEqual(s.end().values.get('LD_PRELOAD')!.map(String), ['/dev/shm/.x.so']);
  const big = new EnvironScanner(['LD_PRELOAD'], 100);
  big.feed(Buffer.concat([Buffer.from('LD_PRELOAD='), Buffer.alloc(500, 0x61)]));
  const r = big.end();
  assert.equal(r.truncated, true);
  assert.equal(r.values.get('LD_PRELOAD')![0]!.length, 100 - 'LD_PRELOAD='.length);
});

test('links: exe deleted and memfd, ns and socket ids', () => {
  const del = parseExeLink(Buffer.from('/tmp/x (deleted)'));
  assert.equal(del.path.toString(), '/tmp/x');
  assert.equal(del.deletedSuffix, true);
  // a file really named "x (deleted)" that still exists keeps its name when the link count says so
  assert.equal(parseExeLink(Buffer.from('/tmp/x (deleted)'), 1).path.toString(), '/tmp/x (deleted)');
  const memfd = parseExeLink(Buffer.from('/memfd:payload (deleted)'), 0);
  assert.equal(memfd.memfd, true);
  assert.equal(memfd.path.toString(), '/memfd:payload');
  assert.equal(parseExeLink(Buffer.from('/usr/bin/sleep')).deletedSuffix, false);
  assert.equal(parseNsLink('net:[4026531840]', 'net'), 4026531840);
  assert.equal(parseNsLink('net:[4026531840]', 'pid'), null);
  assert.equal(parseNsLink('pid_for_children:[4026531836]'), 4026531836);
  assert.equal(parseNsLink('garbage'), null);
  assert.equal(socketInode('socket:[406923]'), 406923);
  assert.equal(socketInode('pipe:[406923]'), null);
  assert.equal(socketInode('/tmp/socket:[1]'), null);
});

test('cgroup: v2, hybrid and v1 hierarchies', () => {
  assert.equal(parseCgroup('0::/system.slice/ssh.service\n').path, '/system.slice/ssh.service');
  const v1 = '12:pids:/docker/abc\n1:name=systemd:/docker/abc\n0::/\n';
  assert.equal(parseCgroup(v1).path, '/docker/abc');
  assert.equal(parseCgroup(v1).lines.length, 3);
  assert.equal(parseCgroup('4:memory:/x\n').path, '/x');
  assert.equal(parseCgroup('0::/a:b\n').path, '/a:b');
  assert.equal(parseCgroup('').path, null);
});

test('system files: loadavg, btime, maps, pid names', () => {
  assert.deepEqual(parseLoadavg('0.42 0.30 0.25 3/412 98765\n'), { running: 3, tasks: 412, lastPid: 98765 });
  assert.equal(parseLoadavg('junk'), null);
  assert.equal(parseBtime(saved('stat').toString()), Number(saved('stat').toString().match(/^btime (\d+)/m)![1]));
  assert.deepEqual(
    mappedFiles(
      '55d0-55d1 r--p 00000000 fe:01 1234 /usr/bin/node\n7f00-7f01 r-xp 00000000 fe:01 99 /usr/lib/x86_64-linux-gnu/libc.so.6\n7f02-7f03 rw-p 00000000 00:00 0 \n7f04-7f05 r-xp 00000000 00:01 77 /dev/shm/my lib.so (deleted)\n7f06-7f07 r-xp 00000000 fe:01 99 /usr/lib/x86_64-linux-gnu/libc.so.6\n7ffd-7ffe rw-p 00000000 00:00 0 [stack]\n',
    ),
    ['/usr/bin/node', '/usr/lib/x86_64-linux-gnu/libc.so.6', '/dev/shm/my lib.so (deleted)'],
  );
  assert.ok(isPidName('1') && isPidName('4194304'));
  assert.ok(!isPidName('0') && !isPidName('01') && !isPidName('self') && !isPidName('1a'));
});

test('ld.so.preload: separated by white space or colons, # comments to the end of the line', () => {
  const names = parseLdSoPreload(Buffer.from('# hooks\n/lib/a.so:/lib/b.so\t/usr/local/lib/c.so # trailing\n\n  /d.so#x\n'));
  assert.deepEqual(names.map(String), ['/lib/a.so', '/lib/b.so', '/usr/local/lib/c.so', '/d.so']);
  assert.deepEqual(parseLdSoPreload(Buffer.from('   \n# only a comment\n')), []);
});

test('ancestry: parent first, stops at unknown parents and loops', () => {
  const parents = new Map([
    [1, 0],
    [100, 1],
    [200, 100],
    [300, 999],
    [7, 8],
    [8, 7],
  ]);
  assert.deepEqual(ancestry(200, parents), [100, 1]);
  assert.deepEqual(ancestry(1, parents), []);
  assert.deepEqual(ancestry(300, parents), [999]);
  assert.deepEqual(ancestry(7, parents), [8]);
});

test('property: parsers never throw on any bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
      const b = Buffer.from(bytes);
      const st = parseStat(b);
      if (st) assert.ok(Number.isInteger(st.pid) && st.comm.length <= b.length);
      parseStatus(b.toString('latin1'));
      const args = splitCmdline(b);
      assert.equal(args.reduce((n, a) => n + a.length, 0) + Math.max(0, args.length - 1) + (b.length > 0 && b[b.length - 1] === 0 ? 1 : 0), b.length);
      parseExeLink(b);
      parseCgroup(b.toString('latin1'));
      parseLoadavg(b.toString('latin1'));
      parseBtime(b.toString('latin1'));
      mappedFiles(b.toString('latin1'));
      parseNsLink(b.toString('latin1'));
      socketInode(b.toString('latin1'));
      for (const n of parseLdSoPreload(b)) assert.ok(n.length > 0);
    }),
  );
});

test('property: stat fields are found whatever the comm holds', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 16 }).filter((c) => !c.includes(0)), fc.integer({ min: 1, max: 4194304 }), (comm, pid) => {
      const line = Buffer.concat([Buffer.from(`${pid} (`), Buffer.from(comm), Buffer.from(') S 1 1 1 0 -1 4194304 0 0 0 0 7 3 0 0 20 0 1 0 1234 0 0\n')]);
      const st = parseStat(line)!;
      assert.equal(st.pid, pid);
      assert.deepEqual([...st.comm], [...comm]);
      assert.equal(st.ppid, 1);
      assert.equal(st.utime + st.stime, 10);
      assert.equal(st.startTicks, 1234);
    }),
  );
});

test('property: the environ scanner gives the same answer however the bytes are chunked', () => {
  const entry = fc.oneof(fc.constantFrom('LD_PRELOAD=/x.so', 'LD_LIBRARY_PATH=/a:/b', 'LD_PRELOA', 'LD_', 'PATH=/bin', '', 'LD_PRELOAD='), fc.string({ maxLength: 12 }));
  fc.assert(
    fc.property(fc.array(entry, { maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 10 }), (entries, cuts) => {
      const data = Buffer.from(entries.join('\0'));
      const naive = (name: string) =>
        splitCmdline(data)
          .filter((e) => e.toString('latin1').startsWith(`${name}=`))
          .map((e) => e.subarray(name.length + 1).toString('latin1'));
      const s = new EnvironScanner(['LD_PRELOAD', 'LD_LIBRARY_PATH']);
      let i = 0;
      for (let k = 0; i < data.length; k++) {
        const n = cuts[k % cuts.length]!;
        s.feed(data.subarray(i, i + n));
        i += n;
      }
      const r = s.end();
      assert.deepEqual(r.values.get('LD_PRELOAD')!.map((b) => b.toString('latin1')), naive('LD_PRELOAD'));
      assert.deepEqual(r.values.get('LD_LIBRARY_PATH')!.map((b) => b.toString('latin1')), naive('LD_LIBRARY_PATH'));
    }),
  );
});

// ---------------------------------------------------------------------------
// Discovery, against a /proc that lies in its listing the way a readdir hook does.

interface FakeProc {
  pid: number;
  tgid?: number;
  ppid: number;
  start: number;
  threads?: number[];
  children?: number[];
}

function fakeProc(procs: FakeProc[], opts: { hide: number[]; uptime?: number; lateListing?: number[] }): ProcView {
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const tasks = new Map<number, FakeProc>();
  for (const p of procs) for (const t of p.threads ?? [p.pid]) tasks.set(t, p);
  let listings = 0;
  const ok = <T,>(value: T): Outcome<T> => ({ ok: true, value });
  const no = { ok: false as const, code: 'ENOENT' };
  return {
    live: true,
    answers: (pid) => tasks.has(pid),
    readdir: async (rel) => {
      if (rel === '') {
        listings++;
        const late = listings > 1 ? (opts.lateListing ?? []) : [];
        return ok([...procs.map((p) => String(p.pid)).filter((p) => !opts.hide.includes(Number(p)) || late.includes(Number(p))), 'self', 'sys']);
      }
      const m = rel.match(/^(\d+)\/task$/);
      const p = m ? byPid.get(Number(m[1])) : undefined;
      return p ? ok((p.threads ?? [p.pid]).map(String)) : no;
    },
    read: async (rel) => {
      const buf = (s: string) => ok({ data: Buffer.from(s), truncated: false });
      if (rel === 'uptime') return buf(`${opts.uptime ?? 1000}.00 1.00\n`);
      if (rel === 'loadavg') return buf(`0.1 0.1 0.1 1/${tasks.size} ${Math.max(...tasks.keys())}\n`);
      if (rel === 'sys/kernel/pid_max') return buf('400\n');
      let m = rel.match(/^(\d+)\/task\/(\d+)\/children$/);
      if (m) {
        const p = byPid.get(Number(m[1]));
        return p && Number(m[2]) === p.pid ? buf((p.children ?? []).join(' ')) : no;
      }
      m = rel.match(/^(\d+)\/(status|stat)$/);
      const t = m ? tasks.get(Number(m[1])) : undefined;
      if (!m || !t) return no;
      return m[2] === 'status' ? buf(`Name:\tx\nTgid:\t${t.pid}\nPid:\t${m[1]}\nPPid:\t${t.ppid}\n`) : buf(`${m[1]} (x) S ${t.ppid} 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 ${t.start} 0 0\n`);
    },
  };
}

const never = new AbortController().signal;

test('discovery: a process hidden from the listing is found by its parent\'s children file and by a direct probe', async () => {
  const procs: FakeProc[] = [
    { pid: 1, ppid: 0, start: 1, children: [50, 60] },
    { pid: 50, ppid: 1, start: 10, threads: [50, 51, 52] },
    { pid: 60, ppid: 1, start: 20, children: [61] }, // 60 hidden: found in 1's children
    { pid: 61, ppid: 60, start: 30 }, // hidden child of a hidden parent: found down the tree
    { pid: 300, ppid: 999, start: 40 }, // hidden orphan with an unknown parent: only the probe finds it
  ];
  const d = (await discoverProcesses(fakeProc(procs, { hide: [60, 61, 300] }), { probeAll: false, signal: never }))!;
  assert.deepEqual(d.hidden, [60, 61, 300]);
  assert.deepEqual(d.pids, [1, 50, 60, 61, 300]);
  assert.deepEqual([...d.foundBy.get(60)!].sort(), ['children', 'probe']);
  assert.deepEqual([...d.foundBy.get(300)!], ['probe']);
  assert.equal(d.tasksSeen, 7);
  assert.equal(d.kernelTasks, 7);
  assert.deepEqual(d.probe && [d.probe.from, d.probe.upTo, d.probe.complete], [1, 400, true]);
});

test('discovery: threads, processes born while looking, and late listings are not hidden', async () => {
  const procs: FakeProc[] = [
    { pid: 1, ppid: 0, start: 1, children: [70, 80] },
    { pid: 70, ppid: 1, start: 10, threads: [70, 71] },
    { pid: 80, ppid: 1, start: 999_999 }, // started after the first listing (uptime 1000 s = 100000 ticks)
    { pid: 90, ppid: 1, start: 50 }, // missing from the first listing only
  ];
  const view = fakeProc(procs, { hide: [80, 90], lateListing: [90] });
  const d = (await discoverProcesses(view, { probeAll: false, signal: never }))!;
  assert.deepEqual(d.hidden, []);
  assert.deepEqual(d.pids, [1, 70]);
});

test('discovery: a saved /proc is taken as listed (nothing to probe)', async () => {
  const view = { ...fakeProc([{ pid: 1, ppid: 0, start: 1 }], { hide: [] }), live: false };
  const d = (await discoverProcesses(view, { probeAll: false, signal: never }))!;
  assert.deepEqual(d.pids, [1]);
  assert.equal(d.probe, null);
});
