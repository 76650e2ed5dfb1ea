/**
 * `journalctl -o export` read as a stream (systemd's Journal Export Format):
 * entries are runs of `FIELD=value` lines ended by an empty line; a value that
 * is not printable text is written as `FIELD\n`, a 64-bit little-endian
 * length, the bytes, and `\n`. Only the fields asked for are kept, each cut
 * at maxValueBytes; the rest are skipped without buffering, so a hostile
 * length costs nothing but skipping. Line numbers count every newline byte of
 * the export, binary payloads included, so they point into the stored file.
 */
export interface ExportEntry {
  fields: Map<string, string>;
  /** 1-based line of the entry's MESSAGE field (of its first field when there is none). */
  line: number;
}

type Mode = 'line' | 'length' | 'data' | 'after-data' | 'skip';

const FIELD_NAME = /^[A-Z0-9_]{1,64}$/;

export class JournalExportParser {
  private mode: Mode = 'line';
  private lineParts: Buffer[] = [];
  private lineLen = 0;
  private lineOverlong = false;
  private newlines = 0;
  private lenBytes: number[] = [];
  private dataLeft = 0;
  private dataName: string | null = null;
  private dataParts: Buffer[] = [];
  private dataLen = 0;
  private fields = new Map<string, string>();
  private entryLine = 0;
  private messageLine = 0;
  /** Binary fields whose framing was broken (length too big, no newline after the data). */
  broken = 0;

  constructor(
    private readonly keep: ReadonlySet<string>,
    private readonly maxValueBytes: number,
    private readonly onEntry: (e: ExportEntry) => void,
  ) {}

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      switch (this.mode) {
        case 'line': {
          const nl = chunk.indexOf(10, i);
          const end = nl === -1 ? chunk.length : nl;
          this.takeLine(chunk, i, end, nl === -1);
          if (nl === -1) return;
          const fieldLine = this.newlines + 1;
          this.newlines++;
          i = nl + 1;
          this.endLine(fieldLine);
          break;
        }
        case 'length': {
          while (i < chunk.length && this.lenBytes.length < 8) this.lenBytes.push(chunk[i++]!);
          if (this.lenBytes.length === 8) this.startData();
          break;
        }
        case 'data': {
          const n = Math.min(this.dataLeft, chunk.length - i);
          const part = chunk.subarray(i, i + n);
          for (let j = part.indexOf(10); j !== -1; j = part.indexOf(10, j + 1)) this.newlines++;
          if (this.dataName !== null && this.dataLen < this.maxValueBytes) {
            const keep = part.subarray(0, this.maxValueBytes - this.dataLen);
            this.dataParts.push(Buffer.from(keep));
            this.dataLen += keep.length;
          }
          this.dataLeft -= n;
          i += n;
          if (this.dataLeft === 0) this.mode = 'after-data';
          break;
        }
        case 'skip': {
          const nl = chunk.indexOf(10, i);
          if (nl === -1) return;
          this.newlines++;
          i = nl + 1;
          this.mode = 'line';
          break;
        }
        case 'after-data': {
          if (this.dataName !== null) this.fields.set(this.dataName, Buffer.concat(this.dataParts).toString('utf8'));
          this.dataParts = [];
          this.dataLen = 0;
          this.dataName = null;
          this.mode = 'line';
          if (chunk[i] === 10) {
            this.newlines++;
            i++;
          } else this.broken++;
          break;
        }
      }
    }
  }

  /** The last entry when the export does not end with an empty line. */
  end(): void {
    if (this.mode === 'line' && (this.lineLen > 0 || this.lineOverlong)) this.endLine(this.newlines + 1);
    else if (this.mode !== 'line' && this.mode !== 'skip') this.broken++;
    this.emit();
  }

  private takeLine(chunk: Buffer, from: number, to: number, unfinished: boolean): void {
    const room = this.maxValueBytes - this.lineLen;
    if (to - from > room) {
      this.lineOverlong = true;
      to = from + room;
    }
    if (to > from) {
      const part = chunk.subarray(from, to);
      this.lineParts.push(unfinished ? Buffer.from(part) : part);
      this.lineLen += to - from;
    }
  }

  private endLine(lineNo: number): void {
    const line = this.lineParts.length === 1 ? this.lineParts[0]! : Buffer.concat(this.lineParts, this.lineLen);
    const overlong = this.lineOverlong;
    this.lineParts = [];
    this.lineLen = 0;
    this.lineOverlong = false;
    if (line.length === 0 && !overlong) {
      this.emit();
      return;
    }
    if (this.entryLine === 0) this.entryLine = lineNo;
    const eq = line.indexOf(61);
    if (eq === -1) {
      // a binary field: its name alone on the line, then the length; anything else is a stray line
      const name = line.toString('latin1');
      if (!FIELD_NAME.test(name)) return;
      this.dataName = this.keep.has(name) ? name : null;
      if (name === 'MESSAGE') this.messageLine = lineNo;
      this.lenBytes = [];
      this.mode = 'length';
      return;
    }
    const name = line.subarray(0, eq).toString('latin1');
    if (name === 'MESSAGE') this.messageLine = lineNo;
    if (this.keep.has(name)) this.fields.set(name, line.subarray(eq + 1).toString('utf8'));
  }

  private startData(): void {
    const b = Buffer.from(this.lenBytes);
    const len = b.readBigUInt64LE(0);
    if (len > BigInt(Number.MAX_SAFE_INTEGER)) {
      // framing cannot be trusted here: skip to the next line and read on
      this.broken++;
      this.dataName = null;
      this.mode = 'skip';
      return;
    }
    this.dataLeft = Number(len);
    this.mode = this.dataLeft === 0 ? 'after-data' : 'data';
  }

  private emit(): void {
    if (this.fields.size > 0 || this.entryLine > 0) {
      this.onEntry({ fields: this.fields, line: this.messageLine || this.entryLine });
    }
    this.fields = new Map();
    this.entryLine = 0;
    this.messageLine = 0;
  }
}
