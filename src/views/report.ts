import type { ReportData, ReportRun } from '../ops/report.js';
import { formatMs, leftOutLine, num, plural, signed } from './common.js';
import { formatAge, watchLine } from './status.js';

// One self-contained HTML file: inline CSS and SVG, the data as JSON in a script tag, no network.

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON safe inside <script>: no "</script>", no HTML comment openers, no line separators. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const PHASES = [
  { key: 'pullErp', label: 'pull ERP', colour: '#6c8ebf' },
  { key: 'pullShopify', label: 'pull Shopify', colour: '#82b366' },
  { key: 'plan', label: 'plan', colour: '#d6b656' },
  { key: 'apply', label: 'apply', colour: '#b85450' },
] as const;

const OUTCOME_COLOUR: Record<string, string> = {
  ok: '#2e7d32',
  drift: '#b26a00',
  conflicts: '#c62828',
  refused: '#c62828',
  error: '#c62828',
  interrupted: '#6d4c41',
  running: '#1565c0',
};

/** Axis ticks for whole quantities: an integer step of 1, 2 or 5 × 10^n, at most 5 ticks above 0. */
export function integerTicks(max: number): { step: number; top: number } {
  const rough = Math.max(1, max / 4);
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power);
  return { step, top: Math.max(step, Math.ceil(max / step) * step) };
}

/** Drift over time: bars = levels found drifting by each sync, dark bars = still off after it, line = total |drift|. */
function driftChart(runs: ReportRun[]): string {
  const width = 760;
  const height = 260;
  const pad = { left: 48, right: 56, top: 16, bottom: 40 };
  const planned = runs.filter((r) => r.drifting !== null);
  if (planned.length === 0) return '<p class="empty">No sync has planned yet: run <code>invrecon sync</code>.</p>';
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const levelTicks = integerTicks(Math.max(...planned.map((r) => r.drifting ?? 0)));
  const unitTicks = integerTicks(Math.max(...planned.map((r) => r.totalAbsDrift ?? 0)));
  const maxLevels = levelTicks.top;
  const maxUnits = unitTicks.top;
  const slot = innerW / planned.length;
  const barW = Math.max(2, Math.min(36, slot * 0.6));
  const y = (v: number, max: number) => pad.top + innerH - (v / max) * innerH;
  const parts: string[] = [];
  for (let v = 0; v <= maxLevels; v += levelTicks.step) {
    const yy = y(v, maxLevels);
    parts.push(`<line x1="${pad.left}" x2="${width - pad.right}" y1="${yy}" y2="${yy}" class="grid"/>`);
    parts.push(`<text x="${pad.left - 6}" y="${yy + 4}" text-anchor="end" class="axis">${num(v)}</text>`);
  }
  for (let v = 0; v <= maxUnits; v += unitTicks.step) {
    parts.push(`<text x="${width - pad.right + 6}" y="${y(v, maxUnits) + 4}" class="axis units">${num(v)}</text>`);
  }
  const points: string[] = [];
  planned.forEach((run, i) => {
    const cx = pad.left + slot * i + slot / 2;
    const drifting = run.drifting ?? 0;
    const remaining = run.remaining ?? drifting;
    const title = `${run.command} #${run.id} ${run.startedAt} (${run.dryRun ? 'dry run' : 'commit'}, ${run.outcome}): ${drifting} drifting, |drift| ${run.totalAbsDrift ?? 0}, ${remaining} still off after it`;
    parts.push(
      `<g class="run"><title>${escapeHtml(title)}</title>` +
        `<rect x="${cx - barW / 2}" y="${y(drifting, maxLevels)}" width="${barW}" height="${(drifting / maxLevels) * innerH}" class="bar-found"/>` +
        `<rect x="${cx - barW / 4}" y="${y(remaining, maxLevels)}" width="${barW / 2}" height="${(remaining / maxLevels) * innerH}" class="bar-remaining"/></g>`,
    );
    points.push(`${cx},${y(run.totalAbsDrift ?? 0, maxUnits)}`);
    const every = Math.ceil(planned.length / 12);
    if (i % every === 0) parts.push(`<text x="${cx}" y="${height - pad.bottom + 16}" text-anchor="middle" class="axis">#${run.id}</text>`);
  });
  parts.push(`<polyline points="${points.join(' ')}" class="units-line"/>`);
  for (const p of points) {
    const [px, py] = p.split(',');
    parts.push(`<circle cx="${px}" cy="${py}" r="3" class="units-dot"/>`);
  }
  parts.push(`<text x="${pad.left}" y="${height - 6}" class="axis">sync run</text>`);
  parts.push(`<text x="12" y="${pad.top + innerH / 2}" class="axis" transform="rotate(-90 12 ${pad.top + innerH / 2})" text-anchor="middle">levels</text>`);
  parts.push(
    `<text x="${width - 8}" y="${pad.top + innerH / 2}" class="axis units" transform="rotate(90 ${width - 8} ${pad.top + innerH / 2})" text-anchor="middle">units |drift|</text>`,
  );
  return (
    `<svg id="drift-chart" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="Drift over time">${parts.join('')}</svg>` +
    '<p class="legend"><span class="key found"></span>levels drifting found by the sync <span class="key remaining"></span>still off after it <span class="key line"></span>total |drift| in units (right axis)</p>'
  );
}

function locationBars(data: ReportData): string {
  const locations = data.byLocation.locations;
  if (locations.length === 0) return '<p class="empty">No location data yet.</p>';
  const max = Math.max(1, ...locations.map((l) => l.totalAbsDrift));
  // Left-out levels (untracked items, an inactive location) get a column only where there are some.
  const leftOut = locations.some((l) => (l.leftOut ?? 0) > 0);
  const rows = locations
    .map((l) => {
      const w = Math.round((l.totalAbsDrift / max) * 100);
      const left = leftOut ? `<td class="num">${l.leftOut === null ? '–' : num(l.leftOut)}</td>` : '';
      return `<tr><td>${escapeHtml(l.locationName)}</td><td class="num">${l.levelsCompared}</td><td class="num">${l.drifting}</td><td class="num">${l.totalAbsDrift}</td>${left}<td class="barcell"><svg viewBox="0 0 100 10" preserveAspectRatio="none" width="100%" height="12"><rect width="${w}" height="10" class="bar-found"/></svg></td></tr>`;
    })
    .join('');
  const from = data.byLocation.runId !== null ? `found by sync #${data.byLocation.runId}` : 'newest snapshots';
  const leftOutHead = leftOut ? '<th title="untracked items and inactive locations: never written, not compared">left out</th>' : '';
  return `<p class="note">${escapeHtml(from)}</p><table><thead><tr><th>location</th><th>levels compared</th><th>drifting</th><th>|drift| units</th>${leftOutHead}<th></th></tr></thead><tbody>${rows}</tbody></table>`;
}

function topSkus(data: ReportData): string {
  if (data.topDrifting.length === 0) return '<p class="empty">No drifting SKU in the runs shown.</p>';
  const rows = data.topDrifting
    .map(
      (s) =>
        `<tr><td>${escapeHtml(s.sku)}</td><td>${escapeHtml(s.locationName)}</td><td class="num">${s.times}</td><td class="num">${s.totalAbsDelta}</td><td class="num">${signed(s.lastDelta)}</td><td>${escapeHtml(s.lastStatus)}</td></tr>`,
    )
    .join('');
  return `<table><thead><tr><th>SKU</th><th>location</th><th>syncs drifting</th><th>Σ |delta|</th><th>last delta</th><th>last status</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function phaseBar(run: ReportRun, maxMs: number): string {
  let x = 0;
  const rects = PHASES.map((p) => {
    const ms = run.phases[p.key];
    if (ms === undefined) return '';
    const w = (ms / maxMs) * 200;
    const rect = `<rect x="${x}" y="0" width="${Math.max(w, 0.5)}" height="12" fill="${p.colour}"><title>${p.label}: ${formatMs(ms)}</title></rect>`;
    x += w;
    return rect;
  }).join('');
  return `<svg viewBox="0 0 200 12" preserveAspectRatio="none" class="phases">${rects}</svg>`;
}

function runsTable(data: ReportData): string {
  if (data.runs.length === 0) return '<p class="empty">No sync recorded yet.</p>';
  const maxMs = Math.max(1, ...data.runs.map((r) => Object.values(r.phases).reduce((n, v) => n + (v ?? 0), 0)));
  const leftOut = data.runs.some((r) => (r.leftOut ?? 0) > 0);
  const rows = [...data.runs]
    .reverse()
    .map((r) => {
      const phases = PHASES.filter((p) => r.phases[p.key] !== undefined)
        .map((p) => `${p.label} ${formatMs(r.phases[p.key]!)}`)
        .join(', ');
      const dash = (v: number | null) => (v === null ? '–' : num(v));
      const [date, time] = r.startedAt.replace(/\.\d+Z$/, 'Z').split('T');
      return (
        `<tr><td>${r.command === 'apply' ? 'apply ' : ''}#${r.id}<div class="small">${r.dryRun === null ? '–' : r.dryRun ? 'dry run' : 'commit'}</div></td><td>${escapeHtml(date ?? '')} <span class="nowrap">${escapeHtml(time ?? '')}</span></td>` +
        `<td><span class="outcome" style="background:${OUTCOME_COLOUR[r.outcome] ?? '#555'}">${escapeHtml(r.outcome)}</span>${r.alert ? ' <span class="alert">alert</span>' : ''}</td>` +
        `<td class="num">${r.durationMs === null ? '–' : formatMs(r.durationMs)}</td><td class="phasecell">${phaseBar(r, maxMs)}<div class="small">${escapeHtml(phases)}</div></td>` +
        `<td class="num">${dash(r.drifting)}</td>${leftOut ? `<td class="num">${dash(r.leftOut)}</td>` : ''}<td class="num">${dash(r.applied)}</td><td class="num">${dash(r.conflicts)}</td><td class="num">${num(r.retries)} / ${num(r.throttledWaits)}</td>` +
        `<td class="small">${escapeHtml((r.error ?? '').slice(0, 160))}</td></tr>`
      );
    })
    .join('');
  const legend = PHASES.map((p) => `<span class="key" style="background:${p.colour}"></span>${p.label}`).join(' ');
  return `<p class="legend">${legend}</p><table class="runs"><thead><tr><th>run</th><th>started</th><th>outcome</th><th>took</th><th>phases</th><th>drifting</th>${leftOut ? '<th>left out</th>' : ''}<th>applied</th><th>conflicts</th><th>retries / throttle waits</th><th>error</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function cards(data: ReportData): string {
  const d = data.driftNow;
  const items = [
    [
      'Drift now',
      !d
        ? `unknown (${data.driftNote ?? 'no snapshots'})`
        : d.appliedSince
          ? `${d.appliedSince.remaining} left after sync #${d.appliedSince.runId} (${d.shopifyChanges} before it)`
          : `${plural(d.shopifyChanges, 'level')} to change in Shopify`,
    ],
    ['|drift| now', d ? `${plural(d.totalAbsDrift, 'unit')} of ${plural(d.levelsCompared, 'level')}` : '–'],
    ['ERP corrections', d ? String(d.erpCorrections) : '–'],
    // Never written, so never drift: said apart, or a closed store would look reconciled.
    ['Left out', d ? (d.leftOut.levels > 0 ? leftOutLine(d.leftOut) : 'none') : '–'],
    [
      'Last successful sync',
      data.lastSuccess
        ? `${data.lastSuccess.command === 'apply' ? 'apply ' : ''}#${data.lastSuccess.runId} (commit) at ${data.lastSuccess.finishedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}`
        : 'none yet',
    ],
    ['Sync latency', data.syncLatencyMs === null ? 'no committed sync yet' : `${formatAge(data.syncLatencyMs)} since the last commit`],
  ];
  return `<div class="cards">${items.map(([k, v]) => `<div class="card"><div class="k">${escapeHtml(k!)}</div><div class="v">${escapeHtml(v!)}</div></div>`).join('')}</div>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#222;background:#fafafa}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.sub{color:#666;margin:0 0 16px}.note,.empty{color:#666}.small{font-size:11px;color:#666}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:170px}
.card .k{font-size:11px;text-transform:uppercase;color:#777;letter-spacing:.04em}.card .v{font-size:15px;font-weight:600}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border-bottom:1px solid #eee;padding:4px 8px;text-align:left;vertical-align:top}
th{font-size:12px;color:#555;background:#f2f2f2}.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}.nowrap{white-space:nowrap}.barcell{width:35%}
.runs td,.runs th{overflow-wrap:anywhere}.runs .phasecell{width:22%;min-width:60px}svg.phases{display:block;width:100%;max-width:200px;height:12px}
@media (max-width:760px){body{margin:12px auto;padding:0 8px}th,td{padding:3px 4px}.runs th{font-size:11px}}
.outcome{color:#fff;border-radius:3px;padding:0 6px;font-size:12px}.alert{color:#c62828;font-weight:600;font-size:12px}
svg .grid{stroke:#e4e4e4}svg .axis{font-size:11px;fill:#666}svg .units{fill:#8e44ad}
.bar-found{fill:#9ecae1}.bar-remaining{fill:#08519c}.units-line{fill:none;stroke:#8e44ad;stroke-width:2}.units-dot{fill:#8e44ad}
svg .run:hover .bar-found{fill:#6baed6}
.legend{font-size:12px;color:#555}.key{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:-2px;border-radius:2px}
.key.found{background:#9ecae1}.key.remaining{background:#08519c}.key.line{background:#8e44ad;height:3px;vertical-align:3px}
`;

export function renderReportHtml(data: ReportData): string {
  const title = `invrecon report — ${data.shop}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="sub">Generated ${escapeHtml(data.generatedAt)} from the last ${plural(data.runs.length, 'sync run')}.</p>
${cards(data)}
${data.watch ? `<h2>Real-time sync (watch)</h2>\n<p>${escapeHtml(watchLine(data.watch))}</p>` : ''}
<h2>Drift over time</h2>
${driftChart(data.runs)}
<h2>Drift per location</h2>
${locationBars(data)}
<h2>Top drifting SKUs</h2>
${topSkus(data)}
<h2>Recent runs and their phases</h2>
${runsTable(data)}
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>
// Offline only: shows how many runs the embedded data holds, as a check that it parses.
(function () {
  var el = document.getElementById('report-data');
  try { var data = JSON.parse(el.textContent); document.body.setAttribute('data-runs', String(data.runs.length)); } catch (e) { document.body.setAttribute('data-runs', 'error'); }
})();
</script>
</body>
</html>
`;
}
