import { rowRule, type Rule } from '../rule.js';
import type { RowOf } from '../rows.js';
import { tsOf } from './evidence.js';

/** Host paths that, bound into a container, give the host away (its root, its configuration, the runtime's socket, /proc). */
const ESCAPE_SOURCES = new Set(['/', '/etc', '/root', '/proc', '/var/run/docker.sock', '/run/docker.sock', '/run/containerd/containerd.sock', '/var/run/containerd/containerd.sock']);

/** Container rules: what the runtimes' own state files say a container may do to the host. */
export const CONTAINER_RULES: Rule[] = [
  rowRule({
    id: 'containers.host-access',
    title: 'container that can take over the host',
    severity: 'medium',
    attack: ['T1611', 'T1610'],
    description:
      'A container is privileged, holds a capability that reaches the host (CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_SYS_PTRACE…), or has the host\'s /, /etc, /root, /proc or the runtime\'s socket bound in: whoever runs code inside it is root on the host. TeamTNT and Kinsing start such containers through an exposed Docker API (port 2375) to escape onto the host. Check who created it and when (created, image, command), whether the image is one the team runs, and what its writable layer holds; an unknown image with / bound in is an intruder\'s foothold.',
    falsepositives: ['monitoring and storage agents (cAdvisor, node-exporter, CSI drivers) that need the host, run from known images'],
    references: ['https://attack.mitre.org/techniques/T1611/', 'https://docs.docker.com/engine/containers/run/#runtime-privilege-and-linux-capabilities'],
    reads: ['containers'],
    match: (r: RowOf<'containers'>) => {
      if (r.kind !== 'container') return null;
      const bound = r.mounts.filter((m) => ESCAPE_SOURCES.has(m.source)).map((m) => `${m.source}:${m.destination}${m.readOnly ? ':ro' : ''}`);
      if (!r.privileged && r.dangerousCaps.length === 0 && bound.length === 0) return null;
      return {
        evidence: { path: r.source, runtime: r.runtime, id: r.id, name: r.name, image: r.image, privileged: r.privileged, dangerousCaps: r.dangerousCaps, hostMounts: bound, hostNamespaces: r.hostNamespaces },
        pid: r.pidAlive ? r.pid : null,
        ts: tsOf(r.created),
      };
    },
  }),
];
