import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { binPath, repoRoot } from './cli.js';

/** A long-running `invrecon` command (emulator, watch) whose first stdout line is its base URL. */
export interface UrlProcess {
  /** The base URL, the command's first stdout line. */
  url: string;
  child: ChildProcess;
  stderr(): string;
  /** The exit code, or the signal that ended it. */
  exited: Promise<number | string | null>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | string | null>;
  /** kill -9. */
  kill(): Promise<void>;
}

export type EmulatorProcess = UrlProcess;

/** Spawns `invrecon COMMAND ARGS` as a user would and resolves once it prints its URL. */
export function spawnUrlProcess(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<UrlProcess> {
  const child = spawn(process.execPath, [binPath, command, ...args], { cwd: options.cwd ?? repoRoot, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | string | null>((resolve) => child.on('close', (code, signal) => resolve(code ?? signal)));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (url) =>
      resolve({
        url,
        child,
        stderr: () => stderr,
        exited,
        stop: async () => {
          child.kill('SIGTERM');
          return exited;
        },
        kill: async () => {
          child.kill('SIGKILL');
          await exited;
        },
      }),
    );
    child.once('close', (code) => reject(new Error(`${command} exited (${code}) before printing its URL: ${stderr}`)));
  });
}

/** Spawns `invrecon emulator ARGS` as a user would and resolves once it prints its URL. */
export function spawnEmulatorProcess(args: string[]): Promise<EmulatorProcess> {
  return spawnUrlProcess('emulator', args);
}
