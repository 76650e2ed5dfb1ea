/** Where nothing installed should run from: world-writable places, often RAM-backed. */
const TEMP_DIRS = ['/tmp', '/var/tmp', '/dev/shm', '/run/shm'] as const;

export function under(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

export function inTempDir(path: string): boolean {
  return TEMP_DIRS.some((d) => under(path, d));
}

export function inHome(path: string): boolean {
  return under(path, '/root') || /^\/home\/[^/]+(\/|$)/.test(path);
}

/** Some component of the path (a directory or the name) starts with a dot. */
export function hasHiddenComponent(path: string): boolean {
  return path.split('/').some((c) => c.startsWith('.') && c !== '.' && c !== '..');
}

export function baseName(path: string): string {
  const i = path.lastIndexOf('/');
  return i === -1 ? path : path.slice(i + 1);
}

/** Directories packages install programs and libraries into. */
const SYSTEM_PREFIXES = ['/usr/', '/bin/', '/sbin/', '/lib/', '/lib32/', '/lib64/', '/libx32/', '/opt/', '/snap/'];

export function inSystemDir(path: string): boolean {
  return SYSTEM_PREFIXES.some((p) => path.startsWith(p));
}

/** The components of a path below a temporary directory or a home directory, or null when it is in neither. */
export function belowPlace(path: string, place?: string): string[] | null {
  const home = /^\/home\/[^/]+|^\/root/.exec(path)?.[0];
  const base = place ?? TEMP_DIRS.find((d) => under(path, d)) ?? home;
  if (base === undefined || !under(path, base)) return null;
  return path.slice(base.length).split('/').filter(Boolean);
}

/** Directories that make a tree below a temporary place a root filesystem (a chroot, an unpacked image); ~/bin alone does not. */
const SYSTEM_TREE_DIRS = new Set(['sbin', 'lib', 'lib32', 'lib64', 'libexec']);

/** The components (below a place) run through a system directory: the file belongs to an unpacked filesystem, not to a drop. */
export function inSystemTree(rel: readonly string[]): boolean {
  const dirs = rel.slice(0, -1);
  return dirs.some((c, i) => SYSTEM_TREE_DIRS.has(c) || (c === 'usr' && /^(?:s?bin|lib(?:32|64|exec)?)$/.test(dirs[i + 1] ?? '')));
}
