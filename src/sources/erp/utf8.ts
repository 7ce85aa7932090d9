// Exports that are not UTF-8 (Latin-1 from an old ERP, a binary file given by mistake) must be refused
// where they go wrong, not decoded into U+FFFD and stored as SKUs that match nothing.
import { closeSync, openSync, readSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { Transform, type TransformCallback } from 'node:stream';
import { InputError } from '../../errors.js';

/** Bytes at the end of a chunk that start a character the next chunk completes (0 to 3). */
function incompleteTail(chunk: Buffer): number {
  for (let back = 1; back <= Math.min(3, chunk.length); back++) {
    const byte = chunk[chunk.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

/** Offset of the first byte that breaks UTF-8 in a buffer known to be invalid. */
function firstInvalid(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const need = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    if (need === 0 || i + need > bytes.length || !isUtf8(bytes.subarray(i, i + need))) return i;
    i += need;
  }
  return bytes.length;
}

/** Line and column (in characters) of a byte offset, reading the file from its start. */
function locate(path: string, offset: number): { line: number; column: number; byte: number } {
  const fd = openSync(path, 'r');
  try {
    const bytes = Buffer.alloc(offset + 1);
    readSync(fd, bytes, 0, offset + 1, 0);
    const lineStart = bytes.lastIndexOf(0x0a, offset - 1) + 1;
    let line = 1;
    for (let at = bytes.indexOf(0x0a); at !== -1 && at < offset; at = bytes.indexOf(0x0a, at + 1)) line++;
    const column = bytes.subarray(lineStart, offset).toString('utf8').length + 1;
    return { line, column, byte: bytes[offset]! };
  } finally {
    closeSync(fd);
  }
}

/** Passes the bytes through unchanged, failing at the first one that is not UTF-8 with file:line:column. */
export function utf8Validator(path: string): Transform {
  let carry: Buffer = Buffer.alloc(0);
  let offset = 0;
  const fail = (bytes: Buffer): InputError => {
    const where = locate(path, offset + firstInvalid(bytes));
    return new InputError(
      `${path}:${where.line}:${where.column}: not valid UTF-8 (byte 0x${where.byte.toString(16).toUpperCase().padStart(2, '0')}); save the export as UTF-8 (it looks like another encoding, such as Latin-1 or Windows-1252)`,
    );
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      const bytes = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      const tail = incompleteTail(bytes);
      const whole = bytes.subarray(0, bytes.length - tail);
      if (!isUtf8(whole)) {
        callback(fail(whole));
        return;
      }
      offset += whole.length;
      carry = Buffer.from(bytes.subarray(bytes.length - tail));
      callback(null, whole);
    },
    flush(callback: TransformCallback) {
      if (carry.length > 0) callback(fail(carry));
      else callback();
    },
  });
}
