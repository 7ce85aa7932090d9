import { resolve } from 'node:path';
import type { LoadedConfig } from '../../config/load.js';
import { UsageError } from '../../errors.js';
import type { Db } from '../../store/db.js';
import { csvErpSource } from './csv.js';
import { ingestErp, type ErpPullResult, type ErpSource } from './ingest.js';

export interface PullErpOptions {
  csvPath?: string;
  api?: boolean;
}

function chooseSource(config: LoadedConfig, options: PullErpOptions): ErpSource {
  if (options.csvPath && options.api) throw new UsageError('--csv and --api: choose one source');
  if (options.csvPath) return csvErpSource(resolve(options.csvPath), { columns: config.erp.csv?.columns, delimiter: config.erp.csv?.delimiter });
  if (options.api || !config.erp.csv) {
    throw new UsageError('the ERP API source is not available yet; set erp.csv.path or pass --csv FILE');
  }
  return csvErpSource(config.erp.csv.path, { columns: config.erp.csv.columns, delimiter: config.erp.csv.delimiter });
}

export function mappedWarehouses(config: LoadedConfig): Set<string> {
  return new Set(config.locations.flatMap((location) => location.warehouses));
}

export function pullErp(db: Db, config: LoadedConfig, options: PullErpOptions = {}): Promise<ErpPullResult> {
  return ingestErp(db, chooseSource(config, options), { mappedWarehouses: mappedWarehouses(config) });
}
