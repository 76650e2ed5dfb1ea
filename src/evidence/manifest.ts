import { z } from 'zod';

/**
 * manifest.json — the bundle's table of contents and the one file whose SHA-256
 * the responder copies into the ticket. Declared once here; `verify` parses
 * untrusted manifests with this same schema.
 */
export const MANIFEST_SCHEMA_ID = 'goldhour.manifest/1';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in lowercase hex');
const isoTime = z.string().datetime({ offset: true });

export const Artifact = z.object({
  path: z.string().min(1).describe('where the file sits inside the bundle'),
  sha256: sha256Hex.describe('SHA-256 of the bytes written, computed while writing them'),
  size: z.number().int().nonnegative().describe('bytes written'),
  source: z.string().nullable().describe('the host path it came from, or null for files goldhour produced'),
  sourceBase64: z.string().optional().describe('the source path\'s raw bytes, where they are not valid UTF-8'),
  collector: z.string().describe('the collector or stage that wrote it'),
  collectedAt: isoTime.describe('UTC time the copy was finished'),
  sourceMtime: isoTime.optional().describe('mtime of the source file on the host'),
  sourceMode: z.number().int().optional().describe('st_mode of the source file on the host'),
  sourceUid: z.number().int().optional(),
  sourceGid: z.number().int().optional(),
  truncatedAt: z.number().int().optional().describe('the copy stops at this many bytes (size cap)'),
  sourceSize: z.number().int().optional().describe('size of the source when it differs from what was copied'),
  changedWhileRead: z.boolean().optional().describe('the source changed while it was copied'),
  rows: z.number().int().optional().describe('rows in a collectors/*.jsonl file'),
});
export type Artifact = z.infer<typeof Artifact>;

export const ErrorEntry = z.object({
  at: isoTime,
  collector: z.string().nullable(),
  path: z.string().nullable().describe('host path concerned, if any'),
  code: z.string().describe('short machine-readable cause: ENOENT, EACCES, ENOTREG, TIMEOUT, ENOSPC…'),
  message: z.string(),
});
export type ErrorEntry = z.infer<typeof ErrorEntry>;

export const ExternalTool = z.object({
  path: z.string(),
  sha256: sha256Hex.nullable(),
  args: z.array(z.string()),
  purpose: z.string(),
  exitCode: z.number().int().nullable(),
});
export type ExternalTool = z.infer<typeof ExternalTool>;

export const CollectorRun = z.object({
  name: z.string(),
  status: z.enum(['ok', 'error', 'timeout', 'skipped', 'interrupted']),
  started: isoTime,
  ended: isoTime,
  rows: z.number().int().nonnegative(),
  artifacts: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
});
export type CollectorRun = z.infer<typeof CollectorRun>;

export const Manifest = z.object({
  schema: z.literal(MANIFEST_SCHEMA_ID),
  case: z.object({ id: z.string(), examiner: z.string().nullable() }),
  host: z.object({
    hostname: z.string().nullable(),
    machineId: z.string().nullable(),
    bootId: z.string().nullable(),
    kernel: z.object({ release: z.string().nullable(), version: z.string().nullable() }),
    addresses: z.array(z.object({ iface: z.string(), address: z.string(), family: z.string() })),
    root: z.string().describe('"/" for the live system, else the --root directory'),
    proc: z.string().nullable(),
    live: z.boolean(),
  }),
  tool: z.object({
    name: z.literal('goldhour'),
    version: z.string(),
    executable: z.string(),
    sha256: sha256Hex.nullable().describe('SHA-256 of the running executable (the SEA binary, or node)'),
    codeSha256: sha256Hex.nullable().describe('SHA-256 over goldhour\'s own code when not run as one file'),
    node: z.string(),
    singleFile: z.boolean(),
  }),
  commandLine: z.array(z.string()),
  format: z.enum(['dir', 'tar', 'tgz', 'zip']),
  started: isoTime,
  ended: isoTime,
  clock: z.object({
    utcAtStart: isoTime,
    timezone: z.string().nullable(),
    utcOffsetMinutes: z.number().int(),
    uptimeSeconds: z.number().nullable(),
    bootTime: isoTime.nullable(),
    ntpSynchronized: z.boolean().nullable(),
    ntpSource: z.string().nullable().describe('how synchronisation was judged'),
  }),
  status: z.enum(['complete', 'partial']),
  statusReason: z.string().nullable(),
  artifacts: z.array(Artifact),
  collectors: z.array(CollectorRun),
  errors: z.array(ErrorEntry),
  tools: z.array(ExternalTool),
  custody: z.object({ lines: z.number().int().positive(), head: sha256Hex }),
  signature: z.object({ alg: z.literal('ed25519'), publicKeySha256: sha256Hex }).nullable(),
});
export type Manifest = z.infer<typeof Manifest>;

/** Files of a bundle that the manifest cannot list: itself and its signature. */
export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig';
export const CUSTODY_FILE = 'custody.jsonl';
export const FINDINGS_FILE = 'findings.jsonl';
