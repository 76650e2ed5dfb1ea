import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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
 */
interface Timing {
  label: string;
  wall: number[];
  rssMb: number[];
}

const TIME = '/usr/bin/time';

async function timedRun(cmd: string, args: string[], cwd: string): Promise<{ wall: number; rssMb: number }> {
  const r = await run(TIME, ['-f', '%e %M', cmd, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  const last = r.stderr.trim().split('\n').at(-1) ?? '';
  const [wall, rssKb] = last.split(' ').map(Number);
  if (r.code !== 0 && r.code !== 3) throw new Error(`${cmd} exited ${r.code}: ${r.stderr.slice(-500)}`);
  return { wall: wall!, rssMb: (rssKb! * 1024) / 1e6 };
}

async function goldhour(label: string, runs: number): Promise<Timing> {
  const t: Timing = { label, wall: [], rssMb: [] };
  for (let i = 0; i < runs; i++) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gh-bench-triage-'));
    try {
      await waitQuiet();
      const r = await timedRun(process.execPath, [path.join(REPO, 'bin/run.js'), 'triage', '-q', '--out', path.join(dir, 'case')], REPO);
      t.wall.push(r.wall);
      t.rssMb.push(r.rssMb);
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
    const r = await timedRun(c, args, dir);
    return { label, wall: [r.wall], rssMb: [r.rssMb] };
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

export async function triageBench(): Promise<void> {
  const runs = envInt('BENCH_TRIAGE_RUNS', 3);
  const plain = await goldhour('goldhour triage (live, default settings)', runs);
  const loaded = await withLoad(() => goldhour('goldhour triage + 2,000 processes + 20,000 sockets', runs));
  const uac = await external('UAC 3.3 -p ir_triage', process.env.UAC_DIR, (out) => ['./uac', ['-p', 'ir_triage', out]]);
  const catscale = await external('LinuxCatScale', process.env.CATSCALE_DIR, () => ['bash', ['./Cat-Scale.sh']]);
  const base = median(plain.wall);
  const rows = [plain, loaded, uac, catscale].filter((t): t is Timing => t !== null);
  console.log(`\n## triage: full live triage, wall seconds and peak RSS (median of ${runs} for goldhour)`);
  table(
    ['what', 'wall s', 'peak RSS MB', 'vs goldhour'],
    rows.map((t) => [t.label, fmt(median(t.wall), 2), fmt(median(t.rssMb)), t === plain ? '1.0x' : `${fmt(median(t.wall) / base, 1)}x`]),
  );
  if (!process.env.UAC_DIR || !process.env.CATSCALE_DIR) console.log('(set UAC_DIR and CATSCALE_DIR to checkouts of UAC and LinuxCatScale to time them beside goldhour)');
  console.log(`saved ${await saveResult('triage', { rows })}`);
}
