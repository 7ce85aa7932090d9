import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { binPath, repoRoot } from './cli.js';

export interface EmulatorProcess {
  /** The base URL, the emulator's first stdout line. */
  url: string;
  child: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then wait for it to exit. */
  stop(): Promise<void>;
}

/** Spawns `invrecon emulator ARGS` as a user would and resolves once it prints its URL. */
export function spawnEmulatorProcess(args: string[]): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, [binPath, 'emulator', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (url) =>
      resolve({
        url,
        child,
        stderr: () => stderr,
        exited,
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      }),
    );
    child.once('close', (code) => reject(new Error(`emulator exited (${code}) before printing its URL: ${stderr}`)));
  });
}
