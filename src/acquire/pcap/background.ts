import { spawn } from 'node:child_process';
import { constants as C, promises as fsp, closeSync, writeSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UserError, errnoCode } from '../../lib/user-error.js';
import { STOP_REQUEST_SIGNAL } from './stop-signals.js';

/**
 * `pcap --background`: a detached goldhour (its own session, no terminal, no
 * stdio) runs the capture and keeps a state file beside the bundle,
 * `BUNDLE.goldhour-pcap.json`. It sits beside the bundle, not in it, because a
 * file inside a directory bundle that the manifest does not list is what
 * `verify` calls tampering; beside it, it can also carry the seal's result for
 * `pcap --stop`, which removes it.
 */
export const STATE_SUFFIX = '.goldhour-pcap.json';

/** The detached child tells its parent on this fd that it is capturing (or why not), then closes it. */
export const READY_FD = 3;

export const BackgroundState = z.object({
  pid: z.number().int().positive(),
  /** /proc/PID/stat start time, so a recycled pid is never signalled. */
  procStart: z.string(),
  location: z.string(),
  caseId: z.string(),
  startedAt: z.string(),
  status: z.enum(['capturing', 'sealed', 'failed']),
  result: z
    .object({ status: z.enum(['complete', 'partial']), statusReason: z.string().nullable(), manifestSha256: z.string(), archiveSha256: z.string().nullable(), packets: z.number().int(), files: z.number().int(), exitCode: z.number().int() })
    .optional(),
  error: z.string().optional(),
});
export type BackgroundState = z.infer<typeof BackgroundState>;

const Ready = z.union([z.object({ ok: z.literal(true), pid: z.number().int(), location: z.string(), stateFile: z.string() }), z.object({ ok: z.literal(false), error: z.string(), exitCode: z.number().int() })]);
export type Ready = z.infer<typeof Ready>;

export function stateFileFor(location: string): string {
  return `${path.resolve(location)}${STATE_SUFFIX}`;
}

/** Replaces the state file in one step (a new file renamed over the old: readers never see half of it). */
export async function writeState(file: string, state: BackgroundState): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await fsp.open(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600);
  try {
    await fh.writeFile(`${JSON.stringify(state, null, 2)}\n`);
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, file);
}

async function readState(file: string): Promise<BackgroundState> {
  let text: string;
  try {
    const st = await fsp.lstat(file);
    if (!st.isFile()) throw new UserError(`${file}: not a regular file`);
    if (st.uid !== process.getuid?.()) throw new UserError(`${file}: owned by uid ${st.uid}, not by us`);
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof UserError) throw err;
    if (errnoCode(err) === 'ENOENT') throw new UserError(`no background capture here: ${file} does not exist`);
    throw new UserError(`cannot read ${file}: ${errnoCode(err) ?? String(err)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UserError(`${file}: not a goldhour state file`);
  }
  const r = BackgroundState.safeParse(parsed);
  if (!r.success) throw new UserError(`${file}: not a goldhour state file`);
  return r.data;
}

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot), read after the command name, which may hold spaces or ')'. */
export async function procStart(pid: number): Promise<string | null> {
  try {
    const stat = await fsp.readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return null;
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** Sends the ready (or failure) message on READY_FD and closes it; the parent is then free to leave. */
export function reportReady(msg: Ready): void {
  try {
    writeSync(READY_FD, `${JSON.stringify(msg)}\n`);
    closeSync(READY_FD);
  } catch {
    // the parent is gone already: nobody to tell
  }
}

/**
 * Starts the detached child and waits until it says it is capturing (or why
 * it is not). `argv` is the whole command line for the child, program first.
 */
export async function startDetached(argv: string[]): Promise<Ready> {
  const [cmd, ...args] = argv;
  const child = spawn(cmd!, args, { detached: true, stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  const channel = child.stdio[READY_FD] as NodeJS.ReadableStream;
  let text = '';
  channel.setEncoding('utf8');
  channel.on('data', (d: string) => (text += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve) => {
    channel.on('end', resolve);
    channel.on('error', () => resolve());
    child.on('error', () => resolve());
  });
  child.unref();
  const line = text.split('\n')[0] ?? '';
  try {
    return Ready.parse(JSON.parse(line));
  } catch {
    const code = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 1000).unref())]);
    return { ok: false, error: `the background capture ended before it started capturing (exit code ${code ?? 'unknown'})`, exitCode: 1 };
  }
}

/**
 * `pcap --stop BUNDLE`: asks the background capture to stop (a planned stop:
 * the bundle is sealed complete), waits until it has sealed, and returns what
 * it sealed. The state file is removed once its result has been read.
 */
export async function stopBackground(bundle: string, onWait: (pid: number) => void): Promise<BackgroundState> {
  const file = stateFileFor(bundle);
  let state = await readState(file);
  if (state.status === 'capturing') {
    const start = await procStart(state.pid);
    if (start === state.procStart) {
      process.kill(state.pid, STOP_REQUEST_SIGNAL);
      onWait(state.pid);
      while ((await procStart(state.pid)) === state.procStart) await new Promise((r) => setTimeout(r, 200));
    }
    state = await readState(file);
  }
  if (state.status === 'capturing') {
    throw new UserError(`the background capture (pid ${state.pid}) ended without sealing ${state.location}: the bundle is incomplete`, 1);
  }
  await fsp.rm(file, { force: true });
  return state;
}
