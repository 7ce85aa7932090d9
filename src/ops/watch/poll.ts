import type { LoadedConfig } from '../../config/load.js';
import { errorMessage, InputError } from '../../errors.js';
import { apiErpSource, type ApiSourceFilter } from '../../sources/erp/api/index.js';
import { addRecordToBatch, emptyBatch } from '../../sources/erp/ingest.js';
import type { ErpRow } from '../../sources/erp/rows.js';
import type { Db } from '../../store/db.js';
import { latestSnapshot } from '../../store/snapshots.js';
import type { Logger } from '../log.js';
import { readMeta, setMeta } from './state.js';

const CURSOR_KEY = 'poll.cursor';

/** ERPNext and Odoo compare `modified` / `write_date` as "YYYY-MM-DD HH:MM:SS" (UTC for Odoo; see docs/watch.md for ERPNext). */
export function formatCursor(preset: 'generic' | 'erpnext' | 'odoo', at: Date): string {
  return preset === 'generic'
    ? at.toISOString()
    : at
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, '');
}

/**
 * Polling for ERPs that cannot post: every interval, the rows changed since the cursor (minus an
 * overlap that absorbs clock skew; rows are absolute, so reading one twice changes nothing). Odoo sums
 * quants per product and location, so a changed product is read again whole.
 */
export class ErpPoller {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly db: Db,
    private readonly config: LoadedConfig,
    private readonly log: Logger,
    private readonly env: NodeJS.ProcessEnv,
    private readonly accept: (rows: ErpRow[], raw: string) => void,
  ) {
    const api = config.erp.api;
    if (!api) throw new InputError(`${config.configPath}: watch --poll reads the ERP API, but erp.api is not configured`);
    if (api.preset === 'generic' && !config.watch.poll?.cursorParam) {
      throw new InputError(`${config.configPath}: watch.poll: the generic ERP API needs watch.poll.cursorParam to ask for changed rows (see docs/watch.md)`);
    }
  }

  start(): void {
    const every = (this.config.watch.poll?.intervalSeconds ?? 30) * 1000;
    void this.pollOnce();
    this.timer = setInterval(() => void this.pollOnce(), every);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async pollOnce(): Promise<number> {
    if (this.busy) return 0;
    this.busy = true;
    const startedAt = new Date();
    try {
      const api = this.config.erp.api!;
      const interval = this.config.watch.poll?.intervalSeconds ?? 30;
      const overlapMs = Math.max(60, 2 * interval) * 1000;
      const last = readMeta(this.db, CURSOR_KEY) ?? latestSnapshot(this.db, 'erp')?.takenAt ?? startedAt.toISOString();
      const since = formatCursor(api.preset, new Date(Date.parse(last) - overlapMs));
      let rows = await this.read({ kind: 'since', value: since, param: this.config.watch.poll?.cursorParam });
      if (api.preset === 'odoo' && rows.length > 0) {
        const skus = [...new Set(rows.map((r) => r.sku))];
        rows = await this.read({ kind: 'skus', skus });
        rows.push(...this.vanished(skus, rows));
      }
      if (rows.length > 0) this.accept(rows, JSON.stringify({ since, rows: rows.length }));
      setMeta(this.db, CURSOR_KEY, startedAt.toISOString());
      return rows.length;
    } catch (error) {
      this.log.error(`ERP poll failed: ${errorMessage(error)}; tried again next interval`, { event: 'poll-error' });
      return 0;
    } finally {
      this.busy = false;
    }
  }

  private async read(filter: ApiSourceFilter): Promise<ErpRow[]> {
    const source = apiErpSource(this.config, { env: this.env }, filter);
    const batch = emptyBatch();
    for await (const record of source.records!()) addRecordToBatch(batch, record);
    for (const problem of batch.problems.slice(0, 20)) this.log.warn(`ERP poll: ${problem} (row skipped)`, { event: 'poll-bad-row' });
    return batch.rows;
  }

  /** Rows of re-read SKUs the ERP no longer lists (all stock moved away): 0 on hand now. */
  private vanished(skus: string[], rows: ErpRow[]): ErpRow[] {
    const present = new Set(rows.map((r) => `${r.sku}\u0000${r.warehouse}`));
    const live = this.db
      .prepare('SELECT sku, warehouse, category FROM watch_erp_levels WHERE sku IN (SELECT value FROM json_each(?))')
      .all(JSON.stringify(skus)) as {
      sku: string;
      warehouse: string;
      category: string | null;
    }[];
    return live
      .filter((l) => !present.has(`${l.sku}\u0000${l.warehouse}`))
      .map((l) => ({ sku: l.sku, warehouse: l.warehouse, onHand: 0, reserved: 0, incoming: 0, safetyStock: null, category: l.category }));
  }
}
