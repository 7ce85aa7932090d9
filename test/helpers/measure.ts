import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Measured {
  code: number | null;
  wallMs: number;
  /** Peak resident set size of the child in MB (VmHWM from /proc, sampled until exit). */
  peakRssMb: number | null;
  /** CPU time (user + system) of the child in ms, as last sampled from /proc before it exited. */
  cpuMs: number | null;
  stdout: string;
  stderr: string;
}

function readHwmKb(pid: number): number | null {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux
export function readCpuMs(pid: number): number | null {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** Runs a command, measuring wall time and peak RSS (VmHWM only grows, so the last sample is the peak). */
export function measure(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peakKb: number | null = null;
    let cpuMs: number | null = null;
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setInterval(() => {
      const kb = child.pid ? readHwmKb(child.pid) : null;
      if (kb !== null) peakKb = Math.max(peakKb ?? 0, kb);
      cpuMs = (child.pid ? readCpuMs(child.pid) : null) ?? cpuMs;
    }, 10);
    child.on('error', reject);
    child.on('exit', () => {
      const kb = child.pid ? readHwmKb(child.pid) : null;
      if (kb !== null) peakKb = Math.max(peakKb ?? 0, kb);
      cpuMs = (child.pid ? readCpuMs(child.pid) : null) ?? cpuMs;
    });
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ code, wallMs: performance.now() - started, peakRssMb: peakKb === null ? null : peakKb / 1024, cpuMs, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
