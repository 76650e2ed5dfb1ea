import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A small Debian-like image for --root runs. Hostile variants plant what an
 * intruder would: escape sequences and newlines in names and contents, FIFOs
 * where files are expected, symlinks that point out of the image or in loops.
 */
export function buildRoot(dir: string, opts: { hostile?: boolean; utmpBytes?: number } = {}): string {
  const root = path.join(dir, 'root');
  for (const d of ['etc', 'run', 'usr/lib', 'tmp', 'var/log']) mkdirSync(path.join(root, d), { recursive: true });
  writeFileSync(path.join(root, 'usr/lib/os-release'), 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n');
  symlinkSync('../usr/lib/os-release', path.join(root, 'etc/os-release'));
  writeFileSync(path.join(root, 'etc/machine-id'), '0123456789abcdef0123456789abcdef\n');
  writeFileSync(path.join(root, 'etc/fstab'), 'UUID=1234 / ext4 errors=remount-ro 0 1\ntmpfs /tmp tmpfs nosuid,nodev 0 0\n');
  writeFileSync(path.join(root, 'etc/timezone'), 'Etc/UTC\n');
  writeFileSync(path.join(root, 'etc/hostname'), opts.hostile ? 'web01\u001b]0;pwned\u0007\u001b[2J\nEVIL\n' : 'web01\n');
  if (opts.utmpBytes) writeFileSync(path.join(root, 'run/utmp'), Buffer.alloc(opts.utmpBytes));
  if (opts.hostile) {
    mkdirSync(path.join(root, 'usr/share/zoneinfo'), { recursive: true });
    symlinkSync('/etc/localtime', path.join(root, 'etc/localtime'));
    symlinkSync('/../../../../etc/shadow', path.join(root, 'etc/timezone-escape'));
    writeFileSync(path.join(root, `tmp/${'\u001b[31m'}red\nname`), 'x');
  }
  return root;
}
