import type { RowOf } from '../../src/detect/rows.js';
import { CONTAINER_RULES } from '../../src/detect/rules/containers.js';
import { checkCases, row, type RuleCases } from './detect-cases.js';

const container = (f: Partial<RowOf<'containers'>>) =>
  row('containers', { kind: 'container', runtime: 'docker', id: '5e1f7a9c3b2d', image: 'alpine:3.20', source: '/var/lib/docker/containers/5e1f7a9c3b2d/config.v2.json', privileged: false, ...f });

const CASES: RuleCases[] = [
  {
    rule: 'containers.host-access',
    fires: [
      [container({ privileged: true, dangerousCaps: ['CAP_ALL'] })],
      [container({ mounts: [{ source: '/', destination: '/host', type: 'bind', readOnly: false }] })],
      [container({ mounts: [{ source: '/var/run/docker.sock', destination: '/var/run/docker.sock', type: 'bind', readOnly: true }] })],
      [container({ runtime: 'containerd', dangerousCaps: ['CAP_SYS_ADMIN'] })],
    ],
    quiet: [
      [container({ mounts: [{ source: '/srv/www', destination: '/usr/share/nginx/html', type: 'bind', readOnly: true }] })],
      [container({ kind: 'layer-file', path: '/etc/passwd' })],
    ],
  },
];

checkCases(CONTAINER_RULES, CASES);
