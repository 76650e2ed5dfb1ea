import { z } from 'zod';
import { CaptureStats } from './tool-stats.js';

/**
 * acquired/pcap/capture.json: how the capture was made and what became of each
 * file, written once the capture has ended (also after an interruption).
 */
export const PCAP_SIDECAR_SCHEMA = 'goldhour.pcap/1';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const isoTime = z.string().datetime({ offset: true });

export const PcapFileEntry = z.object({
  path: z.string().describe('the file\'s path inside the bundle (for a file the ring dropped, the path it would have had)'),
  status: z.enum(['in-bundle', 'dropped-by-ring', 'not-written']).describe('dropped-by-ring: an older file deleted from staging to keep the newest --files; not-written: the bundle refused it (see errors)'),
  sha256: sha256Hex.nullable().describe('SHA-256 of the bytes as they arrived from the capture tool (null if staging the file failed)'),
  size: z.number().int().nonnegative(),
  packets: z.number().int().nonnegative(),
  firstPacket: isoTime.nullable().describe('timestamp of the first packet, as the capture tool stamped it'),
  lastPacket: isoTime.nullable(),
  opened: isoTime.describe('when this file\'s stretch of the capture began (goldhour\'s clock)'),
  closed: isoTime,
  cutBy: z.enum(['time', 'size', 'end']).describe('what ended the file: the --rotate timer, the --size limit, or the end of the capture'),
  error: z.string().optional(),
});
export type PcapFileEntry = z.infer<typeof PcapFileEntry>;

export const StopReason = z.enum(['duration', 'stop-request', 'signal', 'tool-exited', 'no-header', 'staging-failed']);
export type StopReason = z.infer<typeof StopReason>;

export const PcapSidecar = z.object({
  schema: z.literal(PCAP_SIDECAR_SCHEMA),
  tool: z.object({
    name: z.enum(['tcpdump', 'dumpcap']),
    path: z.string(),
    sha256: sha256Hex.nullable(),
    argv: z.array(z.string()).describe('the whole command run, setpriv included'),
    pid: z.number().int().nullable(),
    diesWithGoldhour: z.enum(['setpriv-pdeathsig', 'pipe-only']).describe('how the tool is kept from outliving goldhour: the kernel kills it when goldhour dies, or it dies at its next write into the closed pipe'),
  }),
  iface: z.string(),
  filter: z.string().nullable(),
  snaplen: z.number().int().describe('bytes kept of each packet, as asked for'),
  stream: z
    .object({
      linktype: z.number().int(),
      snaplen: z.number().int(),
      timestamps: z.enum(['microseconds', 'nanoseconds']),
      byteOrder: z.enum(['little-endian', 'big-endian']),
      version: z.string(),
    })
    .nullable()
    .describe('the pcap global header the tool wrote; null if it wrote none'),
  started: isoTime.describe('when the tool started'),
  capturing: isoTime.nullable().describe('when its pcap header arrived: the capture was running'),
  ended: isoTime,
  plan: z.object({
    durationSeconds: z.number().nullable(),
    rotateSeconds: z.number().nullable(),
    maxFileBytes: z.number().int().nullable(),
    ringFiles: z.number().int().nullable(),
  }),
  stop: z.object({
    reason: StopReason,
    requested: isoTime.nullable().describe('when the stop was asked for (timer, --stop or signal); null if the tool ended by itself'),
    drainMs: z.number().int().describe('how long the tool ran on after that, so packets still in the kernel\'s capture buffer reach the file'),
    signal: z.string().nullable().describe('the signal goldhour received, when one ended the capture'),
    signalsSent: z.array(z.string()).describe('what goldhour sent the tool, in order (SIGINT, then SIGTERM, then SIGKILL after grace periods)'),
    exitCode: z.number().int().nullable(),
    exitSignal: z.string().nullable(),
  }),
  stats: CaptureStats.describe('as the tool reported them at exit'),
  toolStderr: z.string(),
  totals: z.object({
    packets: z.number().int().nonnegative().describe('whole records goldhour received'),
    bytes: z.number().int().nonnegative().describe('bytes of the pcap stream received'),
    files: z.number().int().nonnegative(),
    inBundle: z.number().int().nonnegative(),
    droppedByRing: z.number().int().nonnegative(),
  }),
  unparsed: z
    .object({ path: z.string(), offset: z.number().int(), reason: z.string(), size: z.number().int(), sha256: sha256Hex.nullable() })
    .nullable()
    .describe('bytes of the stream that were not whole pcap records, kept as they came'),
  files: z.array(PcapFileEntry),
});
export type PcapSidecar = z.infer<typeof PcapSidecar>;
