import { z } from 'zod';
import { parseContainersJson, summarizeDocker } from '../host/docker-config.js';
import { walk } from '../host/fs-walk.js';
import { HostReadError } from '../host/host.js';
import { DANGEROUS_CAPS, parseJson, summarizeOciConfig, type OciSummary } from '../host/oci-config.js';
import { readOwners } from '../host/owners.js';
import { encodeHostPath } from '../lib/host-path.js';
import type { CollectorContext } from './collector.js';
import { defineCollector } from './collector.js';
import { shown } from './walked-file.js';

/** How many entries of a container's writable layer are listed. */
const LAYER_ENTRIES = 200;
const STORE_COPY_BYTES = 64 * 1024 * 1024;

const Mount = z.object({
  source: z.string().describe('host path (or volume name)'),
  destination: z.string().describe('path inside the container'),
  type: z.string().nullable().describe('bind, volume, tmpfs, proc…'),
  readOnly: z.boolean().describe('mounted read-only'),
});

const Row = z.object({
  kind: z.enum(['container', 'layer-file', 'store']).describe('container: one container; layer-file: an entry of its writable layer (what it changed or added); store: a runtime database, recorded and copied'),
  runtime: z.enum(['docker', 'containerd', 'podman']).describe('which runtime\'s state files the row comes from'),
  id: z.string().nullable().describe('container id'),
  name: z.string().nullable().describe('container name (docker, podman) or Kubernetes pod/container from annotations'),
  namespace: z.string().nullable().describe('containerd namespace (moby = docker, k8s.io = Kubernetes), or the rootless user for podman/docker'),
  image: z.string().nullable().describe('image reference the container was created from'),
  command: z.array(z.string()).describe('entrypoint followed by command (docker), or the OCI process args'),
  created: z.string().nullable().describe('creation time as the runtime recorded it'),
  running: z.boolean().nullable().describe('state the runtime last recorded (on a dead box: at shutdown); containerd tasks under /run exist only while running'),
  pid: z.number().int().nullable().describe('host pid of the container\'s first process, when recorded'),
  pidAlive: z.boolean().nullable().describe('whether that pid exists now (live host only)'),
  privileged: z.boolean().nullable().describe('docker --privileged: every capability, every device, no seccomp/AppArmor; a way to root on the host'),
  capAdd: z.array(z.string()).describe('docker: capabilities added with --cap-add'),
  capabilities: z.array(z.string()).describe('OCI: effective capabilities the process got'),
  dangerousCaps: z.array(z.string()).describe('of the above, the ones that give the host away (CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_SYS_PTRACE…)'),
  networkMode: z.string().nullable().describe('docker network mode (host = shares the host\'s network stack)'),
  pidMode: z.string().nullable().describe('docker pid mode (host = sees and can signal every host process)'),
  hostNamespaces: z.array(z.string()).describe('namespaces shared with the host (OCI: types absent from linux.namespaces; docker: host network/pid/ipc/userns modes)'),
  mounts: z.array(Mount).describe('bind mounts and volumes; a source of /, /etc, /root, /var/run/docker.sock or /proc is a container escape'),
  ports: z.array(z.string()).describe('docker published ports, host address:port->container port'),
  user: z.string().nullable().describe('user the process runs as inside the container'),
  layerPath: z.string().nullable().describe('container/layer-file rows: host path of the writable layer (overlay upper dir)'),
  path: z.string().nullable().describe('layer-file rows: path inside the container; store rows: the database file'),
  type: z.string().nullable().describe('layer-file rows: file type; a character device 0:0 is an overlay whiteout (a deletion)'),
  size: z.number().nullable().describe('layer-file and store rows: size in bytes'),
  mtime: z.string().nullable().describe('layer-file rows: modification time (UTC)'),
  source: z.string().describe('the state file the row was read from'),
});

type Row = z.infer<typeof Row>;

const blank = {
  id: null, name: null, namespace: null, image: null, command: [], created: null, running: null, pid: null, pidAlive: null,
  privileged: null, capAdd: [], capabilities: [], dangerousCaps: [], networkMode: null, pidMode: null, hostNamespaces: [],
  mounts: [], ports: [], user: null, layerPath: null, path: null, type: null, size: null, mtime: null,
} satisfies Omit<Row, 'kind' | 'runtime' | 'source'>;

export const containersCollector = defineCollector({
  name: 'containers',
  title: 'Containers (docker, containerd, podman)',
  description:
    'Containers read from the runtimes\' own state files, no daemon needed (an intruder may have stopped or replaced it): ' +
    'docker\'s config.v2.json and hostconfig.json (data-root from /etc/docker/daemon.json, rootless docker under each ' +
    'home), containerd\'s running tasks (/run/containerd/…/config.json, the OCI spec runc was given) and its metadata ' +
    'database (copied, not parsed), podman\'s containers.json and per-container config.json (root and rootless). For ' +
    'each: image, command, state, pid, privileged, added and effective capabilities, host namespaces, mounts and ' +
    'published ports, and the first entries of its writable layer (overlay diff: files it created or changed). Look for ' +
    'privileged containers, a bind of /, /etc, /root or docker.sock, host pid/network, CAP_SYS_ADMIN, unknown images, ' +
    'and miners or shells in the command. Raw state files are kept.',
  preconditions: 'Root (runtime state is 0700). Docker and podman state work on --root; containerd tasks live under /run and exist only on a live host.',
  timeoutMs: 30_000,
  row: Row,
  async *collect(ctx) {
    const owners = await readOwners(ctx.host);
    const byHome = new Map<string, string>();
    for (const u of owners.passwd) if (u.home.startsWith('/') && u.home !== '/' && !byHome.has(u.home)) byHome.set(u.home, u.name);
    const homes = [...byHome].map(([home, name]) => ({ home: home.replace(/\/+$/, ''), name }));
    yield* docker(ctx, await dockerRoot(ctx), null);
    for (const u of homes) yield* docker(ctx, `${u.home}/.local/share/docker`, u.name);
    yield* containerd(ctx);
    yield* podman(ctx, '/var/lib/containers/storage', null);
    for (const u of homes) yield* podman(ctx, `${u.home}/.local/share/containers/storage`, u.name);
  },
});

async function dockerRoot(ctx: CollectorContext): Promise<string> {
  const r = await ctx.read('/etc/docker/daemon.json', { maxBytes: 1024 * 1024 });
  if (r) {
    const { value } = parseJson(r.data.toString('utf8'));
    const v = value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
    const root = v['data-root'] ?? v.graph;
    if (typeof root === 'string' && root.startsWith('/')) return root.replace(/\/+$/, '');
  }
  return '/var/lib/docker';
}

async function list(ctx: CollectorContext, dir: string): Promise<string[]> {
  try {
    return (await ctx.host.readdir(dir)).sort();
  } catch (err) {
    if (!(err instanceof HostReadError)) throw err;
    if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') ctx.error(dir, err.code, err.message);
    return [];
  }
}

async function readJson(ctx: CollectorContext, path: string): Promise<unknown> {
  const r = await ctx.read(path, { maxBytes: 16 * 1024 * 1024 });
  if (!r) return undefined;
  const { value, error } = parseJson(r.data.toString('utf8'));
  if (error) ctx.error(path, 'EPARSE', `not JSON: ${error}`);
  return value;
}

function pidAlive(ctx: CollectorContext, pid: number | null): boolean | null {
  if (!ctx.host.live || pid === null || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const dangerous = (caps: string[]) => caps.map((c) => (c.startsWith('CAP_') ? c : `CAP_${c.toUpperCase()}`)).filter((c) => DANGEROUS_CAPS.includes(c) || c === 'CAP_ALL');

async function* docker(ctx: CollectorContext, root: string, rootlessUser: string | null): AsyncGenerator<Row> {
  const dir = `${root}/containers`;
  for (const id of await list(ctx, dir)) {
    if (ctx.signal.aborted) return;
    const cfgPath = `${dir}/${id}/config.v2.json`;
    const config = await readJson(ctx, cfgPath);
    const host = await readJson(ctx, `${dir}/${id}/hostconfig.json`);
    if (config === undefined && host === undefined) continue;
    const d = summarizeDocker(config, host);
    const hostNs = [
      d.networkMode === 'host' ? 'network' : null,
      d.pidMode === 'host' ? 'pid' : null,
      d.ipcMode === 'host' ? 'ipc' : null,
      d.usernsMode === 'host' ? 'user' : null,
    ].filter((x): x is string => x !== null);
    const bindMounts = d.binds.map((b) => {
      const [source = '', destination = '', opts = ''] = b.split(':');
      return { source, destination, type: 'bind', readOnly: opts.split(',').includes('ro') };
    });
    const mounts = [...d.mounts];
    for (const b of bindMounts) if (!mounts.some((m) => m.destination === b.destination)) mounts.push(b);
    const layer = d.driver === 'overlay2' || d.driver === null ? await dockerLayer(ctx, root, d.id ?? id) : null;
    yield {
      ...blank,
      kind: 'container',
      runtime: 'docker',
      id: d.id ?? id,
      name: d.name,
      namespace: rootlessUser,
      image: d.image,
      command: [...d.entrypoint, ...d.command],
      created: d.created,
      running: d.running,
      pid: d.pid && d.pid > 0 ? d.pid : null,
      pidAlive: d.running ? pidAlive(ctx, d.pid) : null,
      privileged: d.privileged,
      capAdd: d.capAdd,
      dangerousCaps: d.privileged ? ['CAP_ALL'] : dangerous(d.capAdd),
      networkMode: d.networkMode,
      pidMode: d.pidMode,
      hostNamespaces: hostNs,
      mounts,
      ports: d.ports,
      user: d.user || null,
      layerPath: layer,
      source: cfgPath,
    };
    if (layer) yield* layerFiles(ctx, 'docker', d.id ?? id, layer, cfgPath);
  }
}

async function dockerLayer(ctx: CollectorContext, root: string, id: string): Promise<string | null> {
  const r = await ctx.read(`${root}/image/overlay2/layerdb/mounts/${id}/mount-id`, { maxBytes: 4096 });
  if (!r) return null;
  const mountId = r.data.toString('utf8').trim();
  if (!/^[0-9a-zA-Z_-]+$/.test(mountId)) {
    ctx.error(r.hostPath, 'EPARSE', 'mount-id is not a layer id');
    return null;
  }
  return `${root}/overlay2/${mountId}/diff`;
}

async function* layerFiles(ctx: CollectorContext, runtime: Row['runtime'], id: string, layer: string, source: string): AsyncGenerator<Row> {
  let n = 0;
  const entries = walk(ctx.host, {
    roots: [layer],
    signal: ctx.signal,
    onError: (p, code, message) => ctx.error(shown(p), code, message),
  });
  const prefix = Buffer.from(layer.replace(/\/+$/, ''));
  for await (const e of entries) {
    if (e.depth === 0 || !e.stat) continue;
    if (++n > LAYER_ENTRIES) {
      ctx.error(layer, 'ETRUNCATED', `writable layer of ${id} has more than ${LAYER_ENTRIES} entries; only the first are listed`);
      break;
    }
    const inside = e.hostPath.subarray(e.hostPath.subarray(0, prefix.length).equals(prefix) ? prefix.length : 0);
    const whiteout = e.type === 'char' && Number(e.stat.rdev) === 0;
    yield {
      ...blank,
      kind: 'layer-file',
      runtime,
      id,
      layerPath: layer,
      path: encodeHostPath(inside.length > 0 ? inside : Buffer.from('/')).text,
      type: whiteout ? 'whiteout' : e.type,
      size: Number(e.stat.size),
      mtime: new Date(Number(e.stat.mtimeMs)).toISOString(),
      source,
    };
  }
}

async function* containerd(ctx: CollectorContext): AsyncGenerator<Row> {
  for (const base of ['/run/containerd/io.containerd.runtime.v2.task', '/run/containerd/io.containerd.runtime.v1.linux']) {
    for (const ns of await list(ctx, base)) {
      for (const id of await list(ctx, `${base}/${ns}`)) {
        if (ctx.signal.aborted) return;
        const cfgPath = `${base}/${ns}/${id}/config.json`;
        const spec = await readJson(ctx, cfgPath);
        if (spec === undefined) continue;
        const o = summarizeOciConfig(spec);
        const pidRead = await ctx.read(`${base}/${ns}/${id}/init.pid`, { maxBytes: 64 });
        const pid = pidRead && /^\d+\s*$/.test(pidRead.data.toString()) ? Number(pidRead.data.toString().trim()) : null;
        yield { ...ociRow(o), kind: 'container', runtime: 'containerd', id, namespace: ns, running: true, pid, pidAlive: pidAlive(ctx, pid), source: cfgPath };
      }
    }
  }
  const db = '/var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db';
  try {
    const st = await ctx.host.lstat(db);
    const copied = st.isFile() && st.size <= STORE_COPY_BYTES ? await ctx.copyFile(db, { maxBytes: STORE_COPY_BYTES }) : false;
    if (!copied && st.isFile()) ctx.error(db, 'ETOOBIG', `containerd metadata database of ${st.size} bytes not copied (limit ${STORE_COPY_BYTES})`);
    yield { ...blank, kind: 'store', runtime: 'containerd', path: db, type: 'bolt', size: st.size, source: db };
  } catch (err) {
    if (!(err instanceof HostReadError)) throw err;
    if (err.code !== 'ENOENT') ctx.error(db, err.code, err.message);
  }
}

function ociRow(o: OciSummary): Omit<Row, 'kind' | 'runtime' | 'source'> {
  const a = o.annotations;
  const k8sName = a['io.kubernetes.pod.name'] ? `${a['io.kubernetes.pod.namespace'] ?? ''}/${a['io.kubernetes.pod.name']}/${a['io.kubernetes.cri.container-name'] ?? a['io.kubernetes.container.name'] ?? ''}` : null;
  const all = ['pid', 'network', 'ipc', 'uts', 'mount', 'user', 'cgroup'];
  return {
    ...blank,
    name: k8sName,
    image: a['io.kubernetes.cri.image-name'] ?? null,
    command: o.args,
    capabilities: o.capabilities,
    dangerousCaps: dangerous(o.capabilities),
    hostNamespaces: all.filter((t) => t !== 'user' && !o.namespaces.includes(t)).concat(o.joinedNamespaces),
    mounts: o.mounts.filter((m) => m.type === 'bind' || m.source.startsWith('/')).filter((m) => !['proc', 'sysfs', 'devpts', 'mqueue', 'cgroup', 'tmpfs'].includes(m.type ?? '')),
    user: o.uid === null ? null : `${o.uid}:${o.gid ?? ''}`,
  };
}

async function* podman(ctx: CollectorContext, storage: string, rootlessUser: string | null): AsyncGenerator<Row> {
  const listPath = `${storage}/overlay-containers/containers.json`;
  const value = await readJson(ctx, listPath);
  if (value === undefined) return;
  for (const c of parseContainersJson(value)) {
    if (ctx.signal.aborted) return;
    const cfgPath = `${storage}/overlay-containers/${c.id}/userdata/config.json`;
    const spec = await readJson(ctx, cfgPath);
    const o = spec === undefined ? null : summarizeOciConfig(spec);
    const pidRead = await ctx.read(`${storage}/overlay-containers/${c.id}/userdata/pidfile`, { maxBytes: 64 });
    const pid = pidRead && /^\d+\s*$/.test(pidRead.data.toString()) ? Number(pidRead.data.toString().trim()) : null;
    const layer = c.layer && /^[0-9a-f]+$/.test(c.layer) ? `${storage}/overlay/${c.layer}/diff` : null;
    yield {
      ...(o ? ociRow(o) : blank),
      kind: 'container',
      runtime: 'podman',
      id: c.id,
      name: c.names[0] ?? null,
      namespace: rootlessUser,
      image: c.imageName ?? c.image,
      created: c.created,
      pid,
      pidAlive: pidAlive(ctx, pid),
      layerPath: layer,
      source: listPath,
    };
    if (layer) yield* layerFiles(ctx, 'podman', c.id, layer, listPath);
  }
}
