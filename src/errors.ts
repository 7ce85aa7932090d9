// Typed errors, caught once in src/cli/main.ts and mapped to an exit code by the table below.
export type ErrorKind = 'usage' | 'input' | 'source' | 'stale' | 'internal';

/** The tool's exit codes, a public contract: scripts and CI gates branch on them. */
export const EXIT = {
  /** Success; for diff and plan with --detailed-exitcode, also: no drift. */
  ok: 0,
  /** An error: bad input or config, a source that failed, a guard that refused the plan. */
  error: 1,
  /** diff or plan with --detailed-exitcode: drift found. */
  drift: 2,
  /** apply (or sync) finished with conflicts, stale or unresolved levels left unapplied. */
  conflicts: 3,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Every kind of error ends the process with this code. Drift and conflicts are results, not errors. */
export const EXIT_CODE_OF_ERROR: Readonly<Record<ErrorKind, ExitCode>> = {
  usage: EXIT.error,
  input: EXIT.error,
  source: EXIT.error,
  stale: EXIT.error,
  internal: EXIT.error,
};

/** The exit code for an error that reached the top: by its kind, and 1 for anything untyped (a bug). */
export function exitCodeOf(error: unknown): ExitCode {
  return error instanceof InvreconError ? EXIT_CODE_OF_ERROR[error.kind] : EXIT.error;
}

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

/** The error class of one kind: `new InputError(message, details)`. */
function ofKind(kind: ErrorKind) {
  return class extends InvreconError {
    constructor(message: string, details: string[] = []) {
      super(kind, message, details);
    }
  };
}

/** A command line that makes no sense (unknown id, flags that exclude each other). */
export class UsageError extends ofKind('usage') {}
/** Bad files or config: names the file, line and column, or the config key. */
export class InputError extends ofKind('input') {}
/** A source (Shopify, an ERP API) failed or answered something unusable. */
export class SourceError extends ofKind('source') {}
/** A plan or snapshot no longer matches the world. */
export class StaleError extends ofKind('stale') {}

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
