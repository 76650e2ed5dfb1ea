import { constants as C, promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { CaseWriter } from '../../evidence/case-writer.js';
import { recycledFileChunks } from '../../evidence/file-chunks.js';
import { UserError, errnoCode } from '../../lib/user-error.js';
import { executableAt, execProgram, locateProgram, programSha256 } from '../../pipeline/external-tool.js';
import { LIME_MAGIC } from './image-format.js';
import { LimeFormatError, readLimeRecords } from './lime-reader.js';
import { fromHandle } from './positioned-file.js';
import { checkFreeSpace } from './preflight.js';
import { Progress } from './progress.js';
import { firstLine, type ImageResult } from './physical.js';
import { hexAddr, timing } from './sidecar.js';

/**
 * `goldhour memory --tool`: physical memory taken by an acquirer the
 * responder trusts more than /proc/kcore, or that works where kcore is
 * closed: Microsoft's avml, or a LiME kernel module built for this kernel
 * (the one way past lockdown's confidentiality mode, when it is signed).
 *
 * Both write their image to a file, so it is staged next to the bundle (on
 * the responder's medium, in a new 0700 directory: nothing predictable for
 * an intruder to plant a link at), then streamed into the bundle, hashed as
 * it is written, and removed. The tool runs as a recorded external program;
 * the sidecar says what ran and what the image holds.
 */
export interface ExternalAcquirer {
  kind: 'avml' | 'lime';
  /** avml's executable, or the LiME module (.ko). */
  path: string;
}

/** --tool VALUE: `avml` (system directories, then beside goldhour), a path to avml, or a path to a LiME module. */
export async function resolveAcquirer(spec: string): Promise<ExternalAcquirer> {
  if (spec === 'lime') throw new UserError('--tool lime needs the module built for this kernel: --tool /path/to/lime-$(uname -r).ko');
  if (spec === 'avml') {
    const found = (await locateProgram('avml')) ?? (await executableAt(path.join(path.dirname(process.execPath), 'avml')));
    if (!found) throw new UserError('--tool avml: avml is not in /usr/sbin, /usr/bin, /sbin, /bin or beside goldhour; give its path (--tool ./avml)');
    return { kind: 'avml', path: found };
  }
  if (!spec.includes('/')) throw new UserError(`--tool ${spec}: expected avml, a path to avml, or a path to a LiME module (.ko)`);
  const full = path.resolve(spec);
  if (full.endsWith('.ko')) {
    const st = await fsp.stat(full).catch(() => null);
    if (!st?.isFile()) throw new UserError(`--tool ${spec}: no such module file`);
    return { kind: 'lime', path: full };
  }
  const exe = await executableAt(full);
  if (!exe) throw new UserError(`--tool ${spec}: not an executable file`);
  return { kind: 'avml', path: exe };
}

interface Step {
  program: string;
  args: string[];
  purpose: string;
}

/** The programs to run, in order, for the image to land at `output`. */
export async function acquirerSteps(a: ExternalAcquirer, output: string): Promise<Step[]> {
  if (a.kind === 'avml') return [{ program: a.path, args: [output], purpose: 'acquire physical memory (avml, LiME format)' }];
  const insmod = await locateProgram('insmod');
  const rmmod = await locateProgram('rmmod');
  if (!insmod || !rmmod) throw new UserError('--tool with a LiME module needs insmod and rmmod (kmod) in the system directories');
  return [
    // insmod returns once LiME has written the whole image
    { program: insmod, args: [a.path, `path=${output} format=lime`], purpose: 'acquire physical memory (LiME module)' },
    { program: rmmod, args: ['lime'], purpose: 'unload the LiME module' },
  ];
}

const ToolRunEntry = z.object({ path: z.string(), sha256: z.string().nullable(), args: z.array(z.string()), exitCode: z.number().int().nullable(), stderr: z.string(), timedOut: z.boolean() });

export const ToolSidecar = z.object({
  schema: z.literal('goldhour.memory-tool/1'),
  image: z.object({ path: z.string(), size: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/), format: z.enum(['lime', 'unknown']) }),
  status: z.enum(['complete', 'partial']),
  statusReason: z.string().nullable(),
  tool: z.object({ kind: z.enum(['avml', 'lime']), path: z.string(), sha256: z.string().nullable() }),
  runs: z.array(ToolRunEntry),
  records: z.array(z.object({ start: z.string(), end: z.string().describe('inclusive, as in the LiME header'), bytes: z.number().int() })).nullable().describe('the LiME records the image holds, read back; null when it is not LiME'),
  formatProblem: z.string().nullable().describe('why the image does not read back as LiME'),
  kernel: z.object({ release: z.string().nullable(), version: z.string().nullable() }),
  timing: z.object({ started: z.string(), ended: z.string(), seconds: z.number(), bytesPerSecond: z.number() }),
});
export type ToolSidecar = z.infer<typeof ToolSidecar>;

/** Free space for the staged image and its copy in the bundle: twice the machine's RAM. */
export async function checkToolSpace(out: string): Promise<void> {
  const meminfo = await fsp.readFile('/proc/meminfo', 'latin1').catch(() => '');
  const kb = Number(/^MemTotal:\s+(\d+) kB/m.exec(meminfo)?.[1] ?? 0);
  if (kb > 0) await checkFreeSpace(out, 2 * kb * 1024);
}

/** The tool ran but left no image: the bundle is sealed partial with the reason (its runs are in the manifest). */
export class AcquirerFailed extends Error {}

const TOOL_TIMEOUT_MS = 4 * 3600_000;

export async function acquireWithTool(
  writer: CaseWriter,
  acquirer: ExternalAcquirer,
  stagingParent: string,
  opts: { signal: AbortSignal; progress: NodeJS.WriteStream | null; log: (line: string) => void },
): Promise<ImageResult> {
  const staging = await fsp.mkdtemp(path.join(stagingParent, '.goldhour-staging-'));
  const output = path.join(staging, 'memory.lime');
  const started = new Date();
  try {
    const toolSha = await programSha256(acquirer.path);
    await writer.appendCustody({ event: 'memory-tool-started', tool: acquirer.kind, path: acquirer.path, sha256: toolSha });
    const runs: z.infer<typeof ToolRunEntry>[] = [];
    for (const step of await acquirerSteps(acquirer, output)) {
      opts.log(`  running ${step.program} ${step.args.join(' ')} …`);
      const r = await execProgram(step.program, step.args, { timeoutMs: TOOL_TIMEOUT_MS, maxBytes: 1024 * 1024, signal: opts.signal });
      const sha256 = await programSha256(step.program);
      writer.recordTool({ path: step.program, sha256, args: step.args, purpose: step.purpose, exitCode: r.exitCode });
      runs.push({ path: step.program, sha256, args: step.args, exitCode: r.exitCode, stderr: r.stderr.subarray(0, 4096).toString('utf8'), timedOut: r.timedOut });
    }
    const st = await fsp.lstat(output).catch(() => null);
    if (!st?.isFile() || st.size === 0) {
      const why = runs.find((r) => r.exitCode !== 0);
      throw new AcquirerFailed(`${acquirer.kind} wrote no image${why ? ` (${path.basename(why.path)} exited ${why.exitCode ?? 'on a signal'}: ${why.stderr.trim().split('\n').at(-1) ?? ''})` : ''}`);
    }
    const fh = await fsp.open(output, C.O_RDONLY | C.O_NOFOLLOW);
    try {
      let records: ToolSidecar['records'] = null;
      let formatProblem: string | null = null;
      const head = Buffer.alloc(4);
      await fh.read(head, 0, 4, 0);
      if (head.readUInt32LE(0) === LIME_MAGIC) {
        try {
          records = (await readLimeRecords(fromHandle(fh), st.size)).map((r) => ({ start: hexAddr(r.start), end: hexAddr(r.end), bytes: r.end - r.start + 1 }));
        } catch (err) {
          if (!(err instanceof LimeFormatError)) throw err;
          formatProblem = err.message;
        }
      } else formatProblem = 'no LiME header at the start (avml --compress writes its own compressed format)';
      const format = records ? 'lime' : 'unknown';
      const name = `acquired/memory.${acquirer.kind}.${format === 'lime' ? 'lime' : 'bin'}`;
      const progress = new Progress('memory', st.size, opts.progress);
      const counted = (async function* () {
        for await (const c of recycledFileChunks(fh, st.size)) {
          progress.add(c.length);
          yield c;
        }
      })();
      const artifact = await writer.addStream(name, counted, st.size, { source: null, collector: 'memory' });
      progress.finish();
      const failed = runs.filter((r) => r.exitCode !== 0);
      const statusReason = opts.signal.aborted
        ? 'interrupted while the tool ran'
        : failed.length > 0
          ? `${failed.map((r) => `${path.basename(r.path)} exited ${r.exitCode ?? 'on a signal'}`).join('; ')}: the image may be incomplete`
          : formatProblem && acquirer.kind === 'lime'
            ? `the module's image does not read back as LiME: ${formatProblem}`
            : null;
      const sidecar: ToolSidecar = {
        schema: 'goldhour.memory-tool/1',
        image: { path: artifact.path, size: artifact.size, sha256: artifact.sha256, format },
        status: statusReason ? 'partial' : 'complete',
        statusReason,
        tool: { kind: acquirer.kind, path: acquirer.path, sha256: toolSha },
        runs,
        records,
        formatProblem,
        kernel: { release: await firstLine('/proc/sys/kernel/osrelease'), version: await firstLine('/proc/version') },
        timing: timing(started, new Date(), st.size),
      };
      await writer.addBuffer(`${name}.json`, Buffer.from(`${JSON.stringify(ToolSidecar.parse(sidecar), null, 2)}\n`), { source: null, collector: 'memory' });
      await writer.appendCustody({ event: 'memory-image', path: artifact.path, sha256: artifact.sha256, size: artifact.size, tool: acquirer.kind, status: sidecar.status });
      return { path: artifact.path, sha256: artifact.sha256, size: artifact.size, status: sidecar.status, statusReason, holes: 0, holeBytes: 0 };
    } finally {
      await fh.close();
    }
  } finally {
    // the staged copy is removed whatever happened: the bundle holds the image, hashed
    await fsp.rm(staging, { recursive: true, force: true }).catch((err: unknown) => opts.log(`  could not remove ${staging}: ${errnoCode(err) ?? 'error'}`));
  }
}
