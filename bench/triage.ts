import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, envInt, fmt, median, run, saveResult, table, waitQuiet } from './lib/measure.js';

/**
 * Issue 3's figures: a full live triage of this machine (every collector, every
 * collected file hashed, default settings as a responder would run it), wall
 * time and peak RSS; the same with 2,000 extra processes and 20,000 extra
 * sockets; and, where they are given, UAC (UAC_DIR=checkout, `-p ir_triage`)
 * and LinuxCatScale (CATSCALE_DIR=checkout) on the same machine for the ratio.
 * The extra sockets live in a network namespace this bench creates and removes.
 *
 * Each round also records goldhour's CPU time and the CPU time everything else
 * on the machine used meanwhile (a round that shared the cores with someone's
 * test suite shows it), and how long each collector took, from the manifest.
 */
interface Round {
  wall: number;
  rssMb: number;
  /** User + system CPU seconds of the measured process and its threads. */
  cpu: number;
  /** CPU seconds the rest of the machine used during the round. */
  othersCpu: number;
  /** Seconds per collector (goldhour rounds only). */
  collectors: Record<string, number>;
}

interface Timing {
  label: string;
  rounds: Round[];
}

const TIME = '/usr/bin/time';
const TICKS_PER_S = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU seconds spent by the whole machine so far (idle and iowait excluded). */
function machineBusySeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (f.reduce((a, b) => a + b, 0) - f[3]! - f[4]!) / TICKS_PER_S;
}

async function timedRun(cmd: string, args: string[], cwd: string): Promise<Omit<Round, 'collectors'>> {
  const before = machineBusySeconds();
  const r = await run(TIME, ['-f', '%e %M %U %S', cmd, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  const busy = machineBusySeconds() - before;
  const last = r.stderr.trim().split('\n').at(-1) ?? '';
  const [wall, rssKb, user, sys] = last.split(' ').map(Number);
  if (r.code !== 0 && r.code !== 3) throw new Error(`${cmd} exited ${r.code}: ${r.stderr.slice(-500)}`);
  const cpu = user! + sys!;
  return { wall: wall!, rssMb: (rssKb! * 1024) / 1e6, cpu, othersCpu: Math.max(0, busy - cpu) };
}

/** Seconds each collector took, from the bundle's manifest. */
function collectorSeconds(bundle: string): Record<string, number> {
  const manifest = JSON.parse(readFileSync(path.join(bundle, 'manifest.json'), 'utf8')) as { collectors: { name: string; started: string; ended: string }[] };
  return Object.fromEntries(manifest.collectors.map((c) => [c.name, (Date.parse(c.ended) - Date.parse(c.started)) / 1000]));
}

async function goldhour(label: string, runs: number): Promise<Timing> {
  const t: Timing = { label, rounds: [] };
  // Round 0 is not counted: it warms the page cache and dentries a run of another bench may have evicted.
  for (let i = -1; i < runs; i++) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-bench-triage-'));
    try {
      await waitQuiet();
      const bundle = path.join(dir, 'case');
      const r = await timedRun(process.execPath, [path.join(REPO, 'bin/run.js'), 'triage', '-q', '--out', bundle], REPO);
      if (i >= 0) t.rounds.push({ ...r, collectors: collectorSeconds(bundle) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return t;
}

async function external(label: string, dir: string | undefined, cmd: (out: string) => [string, string[]]): Promise<Timing | null> {
  if (!dir) return null;
  const out = mkdtempSync(path.join(os.tmpdir(), 'gh-bench-ext-'));
  try {
    await waitQuiet();
    const [c, args] = cmd(out);
    return { label, rounds: [{ ...(await timedRun(c, args, dir)), collectors: {} }] };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** 2,000 sleeping processes and 10,000 loopback connections (20,000 sockets) inside a private namespace. */
async function withLoad<T>(fn: () => Promise<T>): Promise<T> {
  const ns = `gh-bench-${process.pid}`;
  const children: ChildProcess[] = [];
  await run('ip', ['netns', 'add', ns]);
  try {
    await run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    // Two holders of 10,000 sockets each: the descriptor limit here is 20,000 per process.
    for (let h = 0; h < 2; h++) {
      const sockets = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', SOCKET_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(sockets);
      await new Promise<void>((resolve, reject) => {
        sockets.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        sockets.on('exit', (code) => reject(new Error(`socket holder exited ${code}`)));
      });
    }
    for (let i = 0; i < 2000; i++) children.push(spawn('sleep', ['900'], { stdio: 'ignore' }));
    return await fn();
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await run('ip', ['netns', 'del', ns]);
  }
}

const SOCKET_SCRIPT = [
  "const net=require('net');const held=[];",
  "const srv=net.createServer(s=>held.push(s)).listen(0,'127.0.0.1',async()=>{",
  'const port=srv.address().port;',
  'for(let i=0;i<5000;i++){await new Promise(r=>{const c=net.connect(port,"127.0.0.1",r);held.push(c);});}',
  "console.log('ready');});",
].join('');

const med = (t: Timing, pick: (r: Round) => number) => median(t.rounds.map(pick));

export async function triageBench(): Promise<void> {
  const runs = envInt('BENCH_TRIAGE_RUNS', 3);
  const plain = await goldhour('goldhour triage (live, default settings)', runs);
  const loaded = await withLoad(() => goldhour('goldhour triage + 2,000 processes + 20,000 sockets', runs));
  const uac = await external('UAC 3.3 -p ir_triage', process.env.UAC_DIR, (out) => ['./uac', ['-p', 'ir_triage', out]]);
  const catscale = await external('LinuxCatScale', process.env.CATSCALE_DIR, () => ['bash', ['./Cat-Scale.sh']]);
  const base = med(plain, (r) => r.wall);
  const timings = [plain, loaded, uac, catscale].filter((t): t is Timing => t !== null);

  console.log(`\n## triage: full live triage, wall seconds and peak RSS (median of ${runs} for goldhour)`);
  table(
    ['what', 'wall s', 'peak RSS MB', 'CPU s', 'vs goldhour'],
    timings.map((t) => [t.label, fmt(med(t, (r) => r.wall), 2), fmt(med(t, (r) => r.rssMb)), fmt(med(t, (r) => r.cpu), 1), t === plain ? '1.0x' : `${fmt(med(t, (r) => r.wall) / base, 1)}x`]),
  );
  console.log('\nrounds (others CPU s: what the rest of the machine used meanwhile)');
  table(
    ['what', 'round', 'wall s', 'peak RSS MB', 'CPU s', 'others CPU s'],
    timings.flatMap((t) => t.rounds.map((r, i) => [t.label, i + 1, fmt(r.wall, 2), fmt(r.rssMb), fmt(r.cpu, 1), fmt(r.othersCpu, 1)])),
  );
  const names = Object.keys(plain.rounds[0]?.collectors ?? {});
  const slow = names.map((n) => [n, med(plain, (r) => r.collectors[n] ?? 0)] as const).filter(([, s]) => s >= 0.3);
  console.log('\nwhere the time goes (plain triage, median seconds per collector, 0.3 s and more; alongside ones overlap the rest)');
  table(['collector', 's'], slow.sort((a, b) => b[1] - a[1]).map(([n, s]) => [n, fmt(s, 2)]));
  if (!process.env.UAC_DIR || !process.env.CATSCALE_DIR) console.log('(set UAC_DIR and CATSCALE_DIR to checkouts of UAC and LinuxCatScale to time them beside goldhour)');
  console.log(`saved ${await saveResult('triage', { timings })}`);
}
