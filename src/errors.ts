// Typed errors, caught once in src/cli/main.ts and mapped to the exit codes of DESIGN.md.
export type ErrorKind = 'usage' | 'input' | 'source' | 'stale' | 'internal';

export const EXIT = {
  ok: 0,
  error: 1,
  drift: 2,
  conflicts: 3,
} as const;

export class InvreconError extends Error {
  readonly kind: ErrorKind;
  /** Extra lines (for example one per bad input row) shown under the message. */
  readonly details: string[];
  constructor(kind: ErrorKind, message: string, details: string[] = []) {
    super(message);
    this.kind = kind;
    this.details = details;
    this.name = `${kind[0]!.toUpperCase()}${kind.slice(1)}Error`;
  }
}

export class UsageError extends InvreconError {
  constructor(message: string, details: string[] = []) {
    super('usage', message, details);
  }
}

/** Bad files or config: names the file, line and column, or the config key. */
export class InputError extends InvreconError {
  constructor(message: string, details: string[] = []) {
    super('input', message, details);
  }
}

/** A source (Shopify, an ERP API) failed or answered something unusable. */
export class SourceError extends InvreconError {
  constructor(message: string, details: string[] = []) {
    super('source', message, details);
  }
}

/** A plan or snapshot no longer matches the world. */
export class StaleError extends InvreconError {
  constructor(message: string, details: string[] = []) {
    super('stale', message, details);
  }
}


export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** "permission denied" rather than "EACCES: permission denied, open '/x'" (the path is already said). */
export function ioMessage(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  const known: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
    ENOTDIR: 'a part of the path is not a directory',
    EISDIR: 'is a directory',
    ENOENT: 'no such file or directory',
    EEXIST: 'already exists',
    ENAMETOOLONG: 'name too long',
    ELOOP: 'too many symbolic links',
  };
  return (e.code && known[e.code]) ?? (e instanceof Error ? e.message : String(error));
}

/**
 * Errors from below (the file system, SQLite) that reach the top unconverted: one line naming what
 * failed, not a stack trace. Anything else is a bug and keeps its stack.
 */
export function systemErrorLine(error: unknown): string | undefined {
  const e = error as NodeJS.ErrnoException & { code?: unknown };
  if (!(error instanceof Error) || typeof e.code !== 'string') return undefined;
  if (e.code.startsWith('SQLITE_')) return `snapshot database: ${error.message} (${e.code})`;
  if (e.syscall) return `${e.path ?? e.syscall}: ${ioMessage(error)}`;
  return undefined;
}
