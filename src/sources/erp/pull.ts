import { resolve } from 'node:path';
import type { LoadedConfig } from '../../config/load.js';
import { UsageError } from '../../errors.js';
import type { Db } from '../../store/db.js';
import { threadedCsvErpSource } from './csv-threaded.js';
import { apiErpSource } from './api/index.js';
import { ingestErp, type ErpPullResult, type ErpSource } from './ingest.js';

export interface PullErpOptions {
  csvPath?: string;
  api?: boolean;
}

/** The ERP source a pull reads: --csv, --api, or the configured one. */
export function chooseSource(config: LoadedConfig, options: PullErpOptions): ErpSource {
  if (options.csvPath && options.api) throw new UsageError('--csv and --api: choose one source');
  const csv = config.erp.csv;
  const format = { decimal: csv?.decimal, thousands: csv?.thousands };
  if (options.csvPath) return threadedCsvErpSource(resolve(options.csvPath), { columns: csv?.columns, delimiter: csv?.delimiter, ...format });
  // --api reads erp.api even when erp.csv is set; with neither flag, erp.csv wins when both are configured.
  if (options.api || !config.erp.csv) return apiErpSource(config);
  return threadedCsvErpSource(config.erp.csv.path, { columns: config.erp.csv.columns, delimiter: config.erp.csv.delimiter, ...format });
}

export function mappedWarehouses(config: LoadedConfig): Set<string> {
  return new Set(config.locations.flatMap((location) => location.warehouses));
}

export function pullErp(db: Db, config: LoadedConfig, options: PullErpOptions = {}): Promise<ErpPullResult> {
  return ingestErp(db, chooseSource(config, options), { mappedWarehouses: mappedWarehouses(config) });
}
