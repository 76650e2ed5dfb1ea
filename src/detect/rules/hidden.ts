import { rowRule, type Hit, type Rule } from '../rule.js';
import type { RowOf } from '../rows.js';
import { tsOf } from './evidence.js';

type H = RowOf<'hidden-processes'>;

export const HIDDEN_RULES: Rule[] = [
  rowRule({
    id: 'process.hidden',
    title: 'process hidden from the /proc listing',
    severity: 'critical',
    attack: ['T1014'],
    description:
      'A process answers a direct lookup of /proc/PID, or is listed in its parent\'s children, yet is missing when /proc is listed: something filters directory listings, which is what kernel rootkits (Diamorphine, Reptile) and LD_PRELOAD rootkits do. Nothing on this host can be trusted to report truthfully any more. Acquire memory (goldhour memory) before anything else, look at kernel modules and /etc/ld.so.preload, and plan to rebuild the host rather than clean it.',
    falsepositives: ['a process that started or exited during the listing (the collector re-checks, but a fast fork storm can still race)'],
    references: ['https://attack.mitre.org/techniques/T1014/', 'https://github.com/m0nad/Diamorphine'],
    reads: ['hidden-processes'],
    match: (r: H) =>
      r.kind === 'unlisted-process'
        ? { evidence: { path: r.exe, comm: r.comm, uid: r.uid, ppid: r.ppid, foundBy: r.foundBy, text: r.detail }, pid: r.pid, ts: tsOf(r.startTime) }
        : null,
  }),
  rowRule({
    id: 'process.proc-mount',
    title: 'something is mounted over a /proc/PID directory',
    severity: 'critical',
    attack: ['T1014', 'T1564'],
    description:
      'A filesystem is mounted on /proc/PID: tools that read that directory see an empty one, or another (decoy) process\'s files, so the real process vanishes from ps and top. This needs root and has no ordinary use. Note the pid and mount source, read the real process through the collector\'s unlisted or probe results and the sockets it holds, and treat the host as rooted.',
    falsepositives: ['none known'],
    references: ['https://attack.mitre.org/techniques/T1564/', 'https://www.sandflysecurity.com/blog/detecting-linux-kernel-process-masquerading-with-command-line-forensics/'],
    reads: ['hidden-processes'],
    match: (r: H) =>
      r.kind === 'proc-mount' ? { evidence: { path: r.path, mountSource: r.mountSource, fsType: r.fsType, mountRoot: r.mountRoot, text: r.detail }, pid: r.pid } : null,
  }),
  rowRule({
    id: 'process.preload-in-goldhour',
    title: 'a preloaded library is loaded into goldhour itself',
    severity: 'critical',
    attack: ['T1014', 'T1574.006'],
    description:
      'A library named by /etc/ld.so.preload or LD_PRELOAD is mapped into goldhour\'s own process: whatever goldhour read through the C library may have been filtered by it (userland rootkits such as Azazel, Jynx and libprocesshider hide files, processes and connections this way). goldhour reads /proc and files directly, but treat every absence in this bundle with suspicion, copy the library, and re-run from a trusted boot medium or with the library removed.',
    falsepositives: ['performance or debugging libraries set in ld.so.preload by the administrator (rare on servers)'],
    references: ['https://attack.mitre.org/techniques/T1574/006/', 'https://github.com/gianlucaborello/libprocesshider'],
    reads: ['hidden-processes'],
    match: (r: H): Hit | null => {
      if (r.kind === 'ld-so-preload' && r.loadedIntoGoldhour === true) return { evidence: { path: r.path, libraries: r.entries, text: r.detail } };
      if (r.kind === 'goldhour-library' && r.entries.length > 0) return { evidence: { path: r.path, namedBy: r.entries, text: r.detail } };
      return null;
    },
  }),
];
