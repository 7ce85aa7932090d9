import chalk from 'chalk';
import type { DoctorCheck, DoctorReport } from '../ops/doctor.js';
import { plural, renderJson } from './common.js';

const LABEL: Record<DoctorCheck['id'], string> = {
  config: 'config',
  'erp-source': 'ERP source',
  warehouses: 'warehouses',
  token: 'token',
  endpoint: 'endpoint',
  'api-version': 'API version',
  scopes: 'access scopes',
  location: 'location',
  'unfed-locations': 'other locations',
};

function mark(status: DoctorCheck['status']): string {
  switch (status) {
    case 'ok':
      return chalk.green('✓');
    case 'fail':
      return chalk.red('✗');
    case 'warn':
      return chalk.yellow('⚠');
    case 'skip':
      return chalk.dim('-');
  }
}

/** One line per check, ✓ ✗ ⚠ (or - when skipped), then what to do about each ✗ and ⚠. */
export function renderDoctorText(report: DoctorReport): string {
  const out: string[] = [];
  for (const check of report.checks) {
    const line = `${mark(check.status)} ${LABEL[check.id]}: ${check.message}`;
    out.push(check.status === 'skip' ? chalk.dim(line) : line);
    for (const detail of check.details ?? []) out.push(`    ${detail}`);
    if (check.fix && (check.status === 'fail' || check.status === 'warn')) out.push(`  → ${check.fix}`);
  }
  out.push('');
  const warnings = report.warnings > 0 ? ` (${plural(report.warnings, 'warning')})` : '';
  out.push(
    report.ok
      ? chalk.green(`Ready: no check failed${warnings}.`)
      : chalk.red(`${plural(report.failed, 'check')} failed${warnings}: fix ${report.failed === 1 ? 'it' : 'them'} (→ above) and run "invrecon doctor" again.`),
  );
  return out.join('\n') + '\n';
}

export function renderDoctor(report: DoctorReport, format: string): string {
  return format === 'json' ? renderJson(report) : renderDoctorText(report);
}
