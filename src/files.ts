// The one way invrecon writes a file. Output paths come from flags and config, and invrecon may run as
// root: a path that names a device, a FIFO or a folder must be refused, never replaced by a rename.
import { closeSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError, ioMessage } from './errors.js';

/** What a non-regular path is, for messages. */
export function fileKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new InputError(`${path}: cannot use this path: ${ioMessage(error)}`);
  }
}

/**
 * Refuses a path that exists and is not a regular file (following symlinks: a link to /dev/null is a
 * device). `what` names the file in the message: "plan file", "snapshot.path".
 */
export function assertRegularOrAbsent(path: string, what: string): boolean {
  const stats = statOrUndefined(path);
  if (stats && !stats.isFile()) throw new InputError(`${path}: ${what} is ${fileKind(stats)}; expected a regular file`);
  return stats !== undefined;
}

/** Refuses an input path that is not a regular file (a folder, a FIFO that would block, a device). */
export function assertReadableFile(path: string, what: string): void {
  const stats = statOrUndefined(path);
  if (!stats) throw new InputError(`${path}: ${what} not found`);
  if (!stats.isFile()) throw new InputError(`${path}: ${what} is ${fileKind(stats)}; expected a regular file`);
}

function makeParent(path: string, what: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (error) {
    throw new InputError(`${path}: cannot write the ${what}: cannot create its folder: ${ioMessage(error)}`);
  }
}

/** A file's content: text, bytes, or a function that writes it in pieces (a large plan is never one string). */
export type FileContent = string | Uint8Array | ((write: (bytes: Uint8Array) => void) => void);

function writeTemporary(path: string, text: FileContent, mode: number, what: string): string {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  let fd: number | undefined;
  try {
    // wx: never follow a planted link or write into someone's existing file.
    fd = openSync(temporary, 'wx', mode);
    const write = (bytes: Uint8Array) => {
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(fd!, bytes, offset, bytes.length - offset);
    };
    if (typeof text === 'function') text(write);
    else write(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    return temporary;
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    removeQuietly(temporary);
    throw new InputError(`${path}: cannot write the ${what}: ${ioMessage(error)}`);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Nothing to remove.
  }
}

export interface WriteOptions {
  /** Names the file in error messages ("plan file", "HTML report"). */
  what?: string;
  /** File mode of a new file (default 0600: plans and reports describe the shop's stock). */
  mode?: number;
  /** Refuse when the file exists (init): created atomically, never overwritten. */
  exclusive?: boolean;
}

/**
 * Writes a regular file through a temporary file and a rename, so a reader never sees half of it and
 * a failed write leaves the old file as it was. Refuses devices, FIFOs, sockets and folders.
 */
export function writeFileAtomic(path: string, text: FileContent, options: WriteOptions = {}): void {
  const what = options.what ?? 'file';
  const exists = assertRegularOrAbsent(path, what);
  if (options.exclusive && exists) throw new InputError(`${path}: refusing to overwrite the existing ${what}`);
  makeParent(path, what);
  const temporary = writeTemporary(path, text, options.mode ?? 0o600, what);
  try {
    if (options.exclusive) {
      // link fails if the name appeared meanwhile: created whole, and only if absent.
      linkSync(temporary, path);
      unlinkSync(temporary);
    } else {
      // Checked again just before the rename: the path may have been swapped for a device meanwhile.
      const now = lstatOrUndefined(path);
      if (now && !now.isFile() && !now.isSymbolicLink()) throw Object.assign(new Error(`is ${fileKind(now)}`), { code: 'ENOTREG' });
      renameSync(temporary, path);
    }
  } catch (error) {
    removeQuietly(temporary);
    if (error instanceof InputError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new InputError(`${path}: refusing to overwrite the existing ${what}`);
    throw new InputError(`${path}: cannot write the ${what}: ${ioMessage(error)}`);
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}
