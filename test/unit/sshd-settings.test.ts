import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { expandSshdConfig, type SshdDirective } from '../../src/host/sshd-config.js';
import { SSHD_SETTINGS, effectiveSshdSettings } from '../../src/host/sshd-settings.js';

async function settings(files: Record<string, string>) {
  const { directives } = await expandSshdConfig('/etc/ssh/sshd_config', {
    read: async (p) => files[p] ?? null,
    glob: async (pattern) => {
      const re = new RegExp(`^${pattern.replace(/[.]/g, '\\.').replace(/\*/g, '[^/]*')}$`);
      return Object.keys(files).filter((f) => re.test(f)).sort();
    },
  });
  return effectiveSshdSettings(directives);
}

const get = (s: Awaited<ReturnType<typeof settings>>, k: string, match: string | null = null) => s.find((x) => x.keyword === k && x.match === match);

test('unset settings take OpenSSH defaults and say so', async () => {
  const s = await settings({ '/etc/ssh/sshd_config': '# nothing\n' });
  assert.equal(s.length, SSHD_SETTINGS.length);
  assert.deepEqual(get(s, 'PermitRootLogin'), { keyword: 'PermitRootLogin', value: 'prohibit-password', isDefault: true, file: null, line: null, match: null });
  assert.equal(get(s, 'AllowUsers')!.value, null);
  assert.equal(get(s, 'AuthorizedKeysFile')!.value, '.ssh/authorized_keys .ssh/authorized_keys2');
});

test('the first value wins, also across Includes (Debian puts the Include first)', async () => {
  const s = await settings({
    '/etc/ssh/sshd_config': 'Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\nPasswordAuthentication no\nUsePAM yes\n',
    '/etc/ssh/sshd_config.d/50-cloud.conf': 'PasswordAuthentication yes\n',
    '/etc/ssh/sshd_config.d/00-evil.conf': 'permitrootlogin=yes\nAuthorizedKeysFile /var/tmp/.k\n',
  });
  assert.deepEqual(get(s, 'PermitRootLogin'), { keyword: 'PermitRootLogin', value: 'yes', isDefault: false, file: '/etc/ssh/sshd_config.d/00-evil.conf', line: 1, match: null });
  assert.equal(get(s, 'PasswordAuthentication')!.file, '/etc/ssh/sshd_config.d/50-cloud.conf');
  assert.equal(get(s, 'AuthorizedKeysFile')!.value, '/var/tmp/.k');
  assert.equal(get(s, 'UsePAM')!.isDefault, false);
});

test('list keywords add up; Match blocks are reported apart with their condition; old spellings count', async () => {
  const s = await settings({
    '/etc/ssh/sshd_config': 'Port 22\nPort 2222\nAllowUsers alice\nAllowUsers bob@10.0.0.0/8\nChallengeResponseAuthentication no\nMatch User backup\n  PermitRootLogin yes\n  ForceCommand /bin/sh\nMatch all\nX11Forwarding yes\n',
  });
  assert.equal(get(s, 'Port')!.value, '22 2222');
  assert.equal(get(s, 'AllowUsers')!.value, 'alice bob@10.0.0.0/8');
  assert.equal(get(s, 'KbdInteractiveAuthentication')!.value, 'no');
  assert.equal(get(s, 'PermitRootLogin')!.isDefault, true);
  assert.equal(get(s, 'PermitRootLogin', 'User backup')!.value, 'yes');
  assert.equal(get(s, 'ForceCommand', 'User backup')!.line, 8);
  assert.equal(get(s, 'X11Forwarding', 'all')!.value, 'yes');
});

test('property: any directives give one global row per known setting', () => {
  const directive = fc.record({
    line: fc.nat(), keyword: fc.constantFrom('PermitRootLogin', 'Port', 'AllowUsers', 'bogus', 'Match'), args: fc.array(fc.string(), { maxLength: 3 }),
    raw: fc.string(), file: fc.constant('/etc/ssh/sshd_config'), match: fc.option(fc.string(), { nil: null }),
  });
  fc.assert(
    fc.property(fc.array(directive, { maxLength: 20 }), (ds) => {
      const out = effectiveSshdSettings(ds.map((d) => ({ ...d, key: d.keyword.toLowerCase() }) as SshdDirective));
      assert.equal(out.filter((x) => x.match === null).length, SSHD_SETTINGS.length);
    }),
  );
});
