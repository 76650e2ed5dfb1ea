import type { ContainerMount } from './oci-config.js';

/**
 * Docker's per-container state files under DATA-ROOT/containers/ID/:
 * config.v2.json (identity, command, state, mount points) and hostconfig.json
 * (what the container may do to the host: privileged, binds, host
 * namespaces, added capabilities, devices). Field names as moby writes them
 * (daemon/container, api/types/container). Parsed defensively.
 */
export interface DockerContainer {
  id: string | null;
  name: string | null;
  image: string | null;
  imageId: string | null;
  command: string[];
  entrypoint: string[];
  user: string | null;
  created: string | null;
  running: boolean | null;
  paused: boolean | null;
  pid: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  driver: string | null;
  privileged: boolean | null;
  networkMode: string | null;
  pidMode: string | null;
  ipcMode: string | null;
  usernsMode: string | null;
  capAdd: string[];
  capDrop: string[];
  securityOpt: string[];
  devices: string[];
  binds: string[];
  mounts: ContainerMount[];
  /** host port → container port, e.g. "0.0.0.0:2375->2375/tcp". */
  ports: string[];
  restartPolicy: string | null;
}

type J = Record<string, unknown>;
const obj = (v: unknown): J => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as J) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const strings = (v: unknown): string[] => (typeof v === 'string' ? [v] : arr(v).filter((x): x is string => typeof x === 'string'));
const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function summarizeDocker(configV2: unknown, hostConfig: unknown): DockerContainer {
  const c = obj(configV2);
  const cfg = obj(c.Config);
  const state = obj(c.State);
  // hostconfig.json is the authority; config.v2.json carries a copy under HostConfig in some versions.
  const h = Object.keys(obj(hostConfig)).length > 0 ? obj(hostConfig) : obj(c.HostConfig);
  const mounts: ContainerMount[] = Object.values(obj(c.MountPoints)).map((v) => {
    const m = obj(v);
    return {
      source: str(m.Source) ?? str(obj(m.Spec).Source) ?? str(m.Name) ?? '',
      destination: str(m.Destination) ?? '',
      type: str(m.Type),
      readOnly: m.RW === false,
    };
  });
  const ports: string[] = [];
  for (const [containerPort, bindings] of Object.entries(obj(h.PortBindings))) {
    for (const b of arr(bindings).map(obj)) ports.push(`${str(b.HostIp) || '0.0.0.0'}:${str(b.HostPort) ?? ''}->${containerPort}`);
  }
  const name = str(c.Name);
  return {
    id: str(c.ID),
    name: name ? name.replace(/^\//, '') : null,
    image: str(cfg.Image),
    imageId: str(c.Image),
    command: strings(cfg.Cmd),
    entrypoint: strings(cfg.Entrypoint),
    user: str(cfg.User),
    created: str(c.Created),
    running: bool(state.Running),
    paused: bool(state.Paused),
    pid: num(state.Pid),
    startedAt: str(state.StartedAt),
    finishedAt: str(state.FinishedAt),
    driver: str(c.Driver),
    privileged: bool(h.Privileged),
    networkMode: str(h.NetworkMode),
    pidMode: str(h.PidMode),
    ipcMode: str(h.IpcMode),
    usernsMode: str(h.UsernsMode),
    capAdd: strings(h.CapAdd),
    capDrop: strings(h.CapDrop),
    securityOpt: strings(h.SecurityOpt),
    devices: arr(h.Devices)
      .map(obj)
      .map((d) => `${str(d.PathOnHost) ?? ''}:${str(d.PathInContainer) ?? ''}`),
    binds: strings(h.Binds),
    mounts,
    ports,
    restartPolicy: str(obj(h.RestartPolicy).Name),
  };
}

/**
 * podman and CRI-O's containers-storage list (storage/overlay-containers/containers.json):
 * [{id, names, image, layer, metadata (a JSON string), created}].
 */
export interface StorageContainer {
  id: string;
  names: string[];
  image: string | null;
  layer: string | null;
  created: string | null;
  /** image-name and name from the metadata string, when it parses. */
  imageName: string | null;
}

export function parseContainersJson(value: unknown): StorageContainer[] {
  return arr(value)
    .map(obj)
    .filter((c) => typeof c.id === 'string')
    .map((c) => {
      let meta: J = {};
      if (typeof c.metadata === 'string') {
        try {
          meta = obj(JSON.parse(c.metadata));
        } catch {
          meta = {};
        }
      }
      return {
        id: c.id as string,
        names: strings(c.names),
        image: str(c.image),
        layer: str(c.layer),
        created: str(c.created),
        imageName: str(meta['image-name']),
      };
    });
}
