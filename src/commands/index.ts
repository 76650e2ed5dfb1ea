import Memory from './memory.js';
import Pcap from './pcap.js';
import Triage from './triage.js';
import Verify from './verify.js';

/** Explicit command map: oclif needs no directory scan, so the CLI bundles into one file. */
export const COMMANDS = {
  triage: Triage,
  verify: Verify,
  memory: Memory,
  pcap: Pcap,
};
