/**
 * An OCI runtime bundle's config.json (runtime-spec config.md), as containerd,
 * CRI-O, podman and docker (through containerd) hand it to runc. It is what
 * the container actually ran with, whatever the orchestrator claims. Parsed
 * defensively: any JSON (or none) gives a summary, never an exception.
 */
export interface ContainerMount {
  source: string;
  destination: string;
  type: string | null;
  readOnly: boolean;
}

export interface OciSummary {
  args: string[];
  cwd: string | null;
  uid: number | null;
  gid: number | null;
  /** Effective capabilities (CAP_… names). */
  capabilities: string[];
  noNewPrivileges: boolean | null;
  rootPath: string | null;
  rootReadOnly: boolean | null;
  hostname: string | null;
  mounts: ContainerMount[];
  /** Namespace types the container gets of its own; a type missing here is shared with the host. */
  namespaces: string[];
  /** Namespaces joined by path (e.g. another container's or the host's /proc/1/ns/net). */
  joinedNamespaces: string[];
  seccomp: boolean;
  /** Paths hidden from the container (/proc/kcore…); docker --privileged empties this list. */
  maskedPaths: number;
  annotations: Record<string, string>;
}

type J = Record<string, unknown>;
const obj = (v: unknown): J => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as J) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);
const strings = (v: unknown): string[] => arr(v).filter((x): x is string => typeof x === 'string');

export function parseJson(text: string): { value: unknown; error: string | null } {
  try {
    return { value: JSON.parse(text) as unknown, error: null };
  } catch (err) {
    return { value: null, error: err instanceof Error ? err.message : String(err) };
  }
}

export function summarizeOciConfig(spec: unknown): OciSummary {
  const s = obj(spec);
  const proc = obj(s.process);
  const user = obj(proc.user);
  const caps = obj(proc.capabilities);
  const root = obj(s.root);
  const linux = obj(s.linux);
  const ns = arr(linux.namespaces).map(obj);
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(s.annotations))) if (typeof v === 'string') annotations[k] = v;
  return {
    args: strings(proc.args),
    cwd: str(proc.cwd),
    uid: num(user.uid),
    gid: num(user.gid),
    capabilities: strings(caps.effective ?? caps.bounding),
    noNewPrivileges: bool(proc.noNewPrivileges),
    rootPath: str(root.path),
    rootReadOnly: bool(root.readonly),
    hostname: str(s.hostname),
    mounts: arr(s.mounts)
      .map(obj)
      .map((m) => {
        const options = strings(m.options);
        return { source: str(m.source) ?? '', destination: str(m.destination) ?? '', type: str(m.type), readOnly: options.includes('ro') };
      }),
    namespaces: ns.filter((n) => !n.path).map((n) => str(n.type) ?? '').filter(Boolean),
    joinedNamespaces: ns.filter((n) => typeof n.path === 'string').map((n) => `${str(n.type) ?? '?'}=${str(n.path)}`),
    seccomp: linux.seccomp !== undefined && linux.seccomp !== null,
    maskedPaths: arr(linux.maskedPaths).length,
    annotations,
  };
}

/** Capabilities that amount to root on the host from inside a container. */
export const DANGEROUS_CAPS = ['CAP_SYS_ADMIN', 'CAP_SYS_MODULE', 'CAP_SYS_PTRACE', 'CAP_SYS_RAWIO', 'CAP_DAC_READ_SEARCH', 'CAP_NET_ADMIN', 'CAP_BPF', 'CAP_SYS_BOOT'];
