import { constants as C, promises as fsp } from 'node:fs';
import { UserError, errnoCode, errorMessage } from '../../lib/user-error.js';
import { ElfFormatError } from './elf64.js';
import { readKcoreLayout, type KcoreLayout } from './kcore-layout.js';
import { lockdownClosesDevices } from './preflight.js';
import { fromHandle, type PositionedFile } from './positioned-file.js';

export type SourceKind = 'kcore' | 'crash' | 'mem' | 'file';

export interface PhysicalSource {
  kind: SourceKind;
  path: string;
  file: PositionedFile;
  /** The ELF layout for kcore and kcore-format files; null for /dev/mem and /dev/crash, read by physical address. */
  layout: KcoreLayout | null;
  close(): Promise<void>;
}

const DEVICES: Record<Exclude<SourceKind, 'file'>, string> = { kcore: '/proc/kcore', crash: '/dev/crash', mem: '/dev/mem' };
const DEFAULT_ORDER = ['kcore', 'crash', 'mem'] as const;

/**
 * --source kcore|crash|mem|FILE, or the first of /proc/kcore, /dev/crash,
 * /dev/mem that opens. Every refusal says why in words the responder can act on.
 */
export async function openPhysicalSource(choice: string | undefined): Promise<PhysicalSource> {
  if (choice !== undefined && !(choice in DEVICES)) return openFileSource(choice);
  const kinds = choice === undefined ? DEFAULT_ORDER : [choice as keyof typeof DEVICES];
  const reasons: string[] = [];
  for (const kind of kinds) {
    const attempt = await openDevice(kind);
    if ('source' in attempt) return attempt.source;
    reasons.push(attempt.reason);
  }
  throw new UserError(`no physical memory source: ${reasons.join('; ')}`);
}

async function openDevice(kind: keyof typeof DEVICES): Promise<{ source: PhysicalSource } | { reason: string }> {
  const p = DEVICES[kind];
  let st;
  try {
    st = await fsp.stat(p);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') return { reason: `${p}: ${errorMessage(err)}` };
    return { reason: kind === 'kcore' ? `${p} is absent (a container, or a kernel built without CONFIG_PROC_KCORE)` : `${p} is absent` };
  }
  // Docker and podman mask /proc/kcore by mounting /dev/null over it.
  if (kind === 'kcore' && !st.isFile()) return { reason: `${p} is masked (not a regular file): this looks like a container; run on the host` };
  if (kind !== 'kcore' && !st.isCharacterDevice()) return { reason: `${p} is not a character device` };
  if (kind !== 'kcore' && (await lockdownClosesDevices())) return { reason: `${p} is closed by kernel lockdown` };
  let fh;
  try {
    fh = await fsp.open(p, C.O_RDONLY | C.O_NOFOLLOW);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'EPERM' || code === 'EACCES') return { reason: `${p}: permission denied (${code}; root with CAP_SYS_RAWIO, and no kernel lockdown, are needed)` };
    return { reason: `${p}: ${errorMessage(err)}` };
  }
  const file = fromHandle(fh);
  const close = () => fh.close();
  if (kind !== 'kcore') return { source: { kind, path: p, file, layout: null, close } };
  try {
    return { source: { kind, path: p, file, layout: await readKcoreLayout(file), close } };
  } catch (err) {
    await fh.close();
    return { reason: `${p}: ${errorMessage(err)}` };
  }
}

/** A saved kcore-format file (how the pipeline is tested without a kcore). */
async function openFileSource(p: string): Promise<PhysicalSource> {
  let fh;
  try {
    fh = await fsp.open(p, C.O_RDONLY);
  } catch (err) {
    throw new UserError(`--source ${p}: cannot open (${errnoCode(err) ?? errorMessage(err)})`);
  }
  try {
    if (!(await fh.stat()).isFile()) throw new UserError(`--source ${p}: not a regular file (a kcore-format ELF core is expected)`);
    const file = fromHandle(fh);
    return { kind: 'file', path: p, file, layout: await readKcoreLayout(file), close: () => fh.close() };
  } catch (err) {
    await fh.close();
    if (err instanceof ElfFormatError) throw new UserError(`--source ${p}: not a kcore-format file: ${err.message}`);
    throw err;
  }
}
