/** Where bundle bytes go: a file, stdout, or a compressing/encrypting stage in front of one. */
export interface ByteWriter {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
}
