import { z } from 'zod';

/** The packet statistics a capture tool prints on stderr when it exits; null where it printed none (killed, or crashed). */
export const CaptureStats = z.object({
  captured: z.number().int().nullable().describe('packets the tool wrote out'),
  receivedByFilter: z.number().int().nullable().describe('packets that passed the BPF filter (tcpdump), or that the interface received (dumpcap)'),
  droppedByKernel: z.number().int().nullable().describe('packets the kernel dropped because the capture buffer was full'),
  droppedByInterface: z.number().int().nullable().describe('packets the network interface or its driver dropped, where reported'),
  droppedByTool: z.number().int().nullable().describe('packets dumpcap itself dropped or flushed (dumpcap only)'),
});
export type CaptureStats = z.infer<typeof CaptureStats>;

export type ToolName = 'tcpdump' | 'dumpcap';

/**
 * tcpdump 4.x: "12 packets captured" / "12 packets received by filter" /
 * "0 packets dropped by kernel" (and "… dropped by interface" where libpcap
 * knows). dumpcap: "Packets captured: 12" and "Packets received/dropped on
 * interface 'eth0': 12/0 (pcap:0/dumpcap:0/flushed:0/ps_ifdrop:0) (100.0%)".
 */
export function parseToolStats(tool: ToolName, stderr: string): CaptureStats {
  const num = (re: RegExp, group = 1): number | null => {
    const m = re.exec(stderr);
    return m ? Number(m[group]) : null;
  };
  if (tool === 'tcpdump') {
    return {
      captured: num(/^(\d+) packets? captured$/m),
      receivedByFilter: num(/^(\d+) packets? received by filter$/m),
      droppedByKernel: num(/^(\d+) packets? dropped by kernel$/m),
      droppedByInterface: num(/^(\d+) packets? dropped by interface$/m),
      droppedByTool: null,
    };
  }
  const iface = /^\r?Packets received\/dropped on interface '.*': (\d+)\/(\d+) \(pcap:(\d+)\/dumpcap:(\d+)\/flushed:(\d+)\/ps_ifdrop:(\d+)\)/m.exec(stderr);
  const at = (i: number) => (iface ? Number(iface[i]) : null);
  const own = iface ? Number(iface[4]) + Number(iface[5]) : null;
  return {
    captured: num(/^\r?Packets captured: (\d+)$/m),
    receivedByFilter: at(1),
    droppedByKernel: at(3),
    droppedByInterface: at(6),
    droppedByTool: own,
  };
}
