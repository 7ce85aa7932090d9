import { readFileSync, writeFileSync } from 'node:fs';

function vmHwmKb(): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Measures this process's peak resident memory over one phase of a run. On Linux, writing 5 to
 * /proc/self/clear_refs resets the peak (VmHWM), so each phase gets its own; elsewhere the figure is the
 * process's peak so far (an upper bound).
 */
export function startPeakMemory(): { peakMb(): number } {
  let reset = false;
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    reset = true;
  } catch {
    // not Linux, or not allowed: fall back to the process's peak so far
  }
  return {
    peakMb() {
      const kb = reset ? vmHwmKb() : undefined;
      return Math.round((kb ?? process.resourceUsage().maxRSS) / 1024);
    },
  };
}
