/**
 * Output of `getcap FILE…` (libcap): one line "PATH CAPS" for each file that
 * carries a security.capability attribute, in the order the files were given.
 * libcap 2.4x prints "/usr/bin/ping cap_net_raw=ep"; older versions
 * "/usr/bin/ping = cap_net_raw+ep". Node has no getxattr, so this is how file
 * capabilities are read on a live host.
 *
 * Paths may hold spaces or newlines, so lines are not split blindly: the
 * output is matched against the argument list, in order, and whatever is
 * left unmatched is returned in `unmatched`.
 */
export interface GetcapEntry {
  path: Buffer;
  caps: string;
}

const CAPS = /^(?:= )?(?:cap_[a-z0-9_]+|all|=)[^\n]*/;

export function parseGetcap(out: Buffer, args: Buffer[]): { entries: GetcapEntry[]; unmatched: string[] } {
  const entries: GetcapEntry[] = [];
  const unmatched: string[] = [];
  let pos = 0;
  for (const p of args) {
    if (pos >= out.length) break;
    const after = pos + p.length;
    if (out.length > after && out[after] === 0x20 && out.subarray(pos, after).equals(p)) {
      let end = out.indexOf(0x0a, after + 1);
      if (end === -1) end = out.length;
      const caps = out.subarray(after + 1, end).toString('utf8');
      if (CAPS.test(caps)) {
        entries.push({ path: p, caps: caps.replace(/^= /, '').trim() });
        pos = end + 1;
      }
    }
  }
  if (pos < out.length) {
    for (const l of out.subarray(pos).toString('utf8').split('\n')) if (l.trim() !== '') unmatched.push(l.slice(0, 300));
  }
  return { entries, unmatched };
}
