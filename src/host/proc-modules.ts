/**
 * /proc/modules: one loaded module a line,
 *   name size refcount deps state address [(taint flags)]
 * e.g. `vboxdrv 700416 2 vboxnetadp,vboxnetflt, Live 0x0000000000000000 (OE)`.
 * The address reads as 0 without CAP_SYSLOG. Refcount is '-' on kernels
 * without module unloading. Lines that do not fit come back as bad line numbers.
 */
export interface ProcModule {
  line: number;
  name: string;
  size: number;
  /** null when the kernel prints '-' (no unload support). */
  refcount: number | null;
  deps: string[];
  state: string;
  address: string | null;
  /** Module taint letters without parentheses (O out-of-tree, E unsigned, P proprietary, F forced…), '' when none. */
  taint: string;
}

export function parseProcModules(text: string): { modules: ProcModule[]; bad: number[] } {
  const modules: ProcModule[] = [];
  const bad: number[] = [];
  text.split('\n').forEach((l, i) => {
    if (l.trim() === '') return;
    const f = l.trim().split(/[ \t]+/);
    const [name, size, ref, deps, state, address, ...rest] = f;
    const safe = (x: string) => /^\d+$/.test(x) && Number.isSafeInteger(Number(x));
    if (!name || !size || !safe(size) || !ref || !(ref === '-' || safe(ref)) || deps === undefined || state === undefined) {
      bad.push(i + 1);
      return;
    }
    const taint = rest.join('').replace(/^\((.*)\)$/, '$1');
    modules.push({
      line: i + 1,
      name,
      size: Number(size),
      refcount: ref === '-' ? null : Number(ref),
      deps: deps === '-' ? [] : deps.split(',').filter(Boolean),
      state,
      address: address ?? null,
      taint,
    });
  });
  return { modules, bad };
}

/** The kernel's taint bits (Documentation/admin-guide/tainted-kernels.rst), letter and meaning. */
export const TAINT_FLAGS: readonly [string, string][] = [
  ['P', 'proprietary module loaded'],
  ['F', 'module force-loaded'],
  ['S', 'kernel running on an out-of-spec system'],
  ['R', 'module force-unloaded'],
  ['M', 'machine check exception'],
  ['B', 'bad page referenced or unexpected page flags'],
  ['U', 'taint requested by user space'],
  ['D', 'kernel died recently (OOPS or BUG)'],
  ['A', 'ACPI table overridden by user'],
  ['W', 'kernel issued a warning'],
  ['C', 'staging driver loaded'],
  ['I', 'workaround for platform firmware bug applied'],
  ['O', 'externally-built (out-of-tree) module loaded'],
  ['E', 'unsigned module loaded'],
  ['L', 'soft lockup occurred'],
  ['K', 'kernel live patched'],
  ['X', 'auxiliary taint (distribution-defined)'],
  ['T', 'kernel built with the struct randomization plugin'],
  ['N', 'in-kernel test run'],
];

/** /proc/sys/kernel/tainted → the letters of the bits set (unknown high bits as "bitN"). */
export function decodeTaint(value: bigint): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if (((value >> BigInt(bit)) & 1n) === 0n) continue;
    out.push(TAINT_FLAGS[bit]?.[0] ?? `bit${bit}`);
  }
  return out;
}

/** The module name a file under /lib/modules gives (dashes become underscores, as the kernel names modules). */
export function moduleNameOfFile(file: string): string | null {
  const m = /^(.+)\.ko(?:\.(?:xz|zst|gz))?$/.exec(file);
  return m ? m[1]!.replace(/-/g, '_') : null;
}
