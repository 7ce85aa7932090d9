import type { LoadedConfig } from '../../../config/load.js';
import type { ErpApiConfig } from '../../../config/schema.js';
import { UsageError } from '../../../errors.js';
import { registerSecret } from '../../../secrets.js';
import type { ErpSource } from '../ingest.js';
import { erpnextSource } from './erpnext.js';
import { genericApiSource } from './generic.js';
import { HttpJsonClient, type HttpClientOptions } from './http.js';
import { odooSource } from './odoo.js';
import { secretFromEnv } from './support.js';

export { genericApiSource, type GenericApiSourceOptions } from './generic.js';
export { erpnextSource } from './erpnext.js';
export { odooSource } from './odoo.js';
export { HttpJsonClient, parseRetryAfter, backoffDelay, type HttpClientOptions } from './http.js';

export interface ApiSourceDeps {
  env?: NodeJS.ProcessEnv;
  /** Test hooks: record waits instead of sleeping, capture retry notices. */
  sleep?: HttpClientOptions['sleep'];
  log?: HttpClientOptions['log'];
}

/** Narrows a read to what changed (watch's polling): ERPNext and Odoo filter themselves; generic sends `param`. */
export type ApiSourceFilter =
  | { kind: 'since'; value: string; param?: string }
  /** Odoo: every quant of these SKUs (a changed product's pairs are summed whole). */
  | { kind: 'skus'; skus: string[] };

/** Headers named in headersFromEnv, read from the environment (and registered for redaction). */
function headersFromEnv(api: ErpApiConfig, env: NodeJS.ProcessEnv, configPath: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [header, variable] of Object.entries(api.headersFromEnv)) {
    out[header] = secretFromEnv(env, variable, `erp.api.headersFromEnv[${JSON.stringify(header)}]`, configPath);
  }
  return out;
}

/**
 * The configured ERP API source (erp.api): generic, ERPNext or Odoo. Every secret is read from the
 * environment here, before any request, so a missing variable fails fast as a config error.
 */
export function apiErpSource(config: LoadedConfig, deps: ApiSourceDeps = {}, filter?: ApiSourceFilter): ErpSource {
  const api = config.erp.api;
  if (!api) throw new UsageError(`${config.configPath}: erp.api is not configured; add it (see docs/erp-api.md) or use --csv FILE`);
  const env = deps.env ?? process.env;
  const secret = (key: 'apiKeyEnv' | 'apiSecretEnv') => {
    const variable = api[key];
    return variable === undefined ? undefined : secretFromEnv(env, variable, `erp.api.${key} (${variable})`, config.configPath);
  };
  const http = new HttpJsonClient({
    timeoutMs: api.timeoutMs,
    retries: api.retries,
    retryDelayMs: api.retryDelayMs,
    maxRetryDelayMs: api.maxRetryDelayMs,
    sleep: deps.sleep,
    log: deps.log,
  });
  const headers: Record<string, string> = { 'user-agent': 'invrecon', ...api.headers, ...headersFromEnv(api, env, config.configPath) };
  const apiKey = secret('apiKeyEnv');
  const apiSecret = secret('apiSecretEnv');

  switch (api.preset) {
    case 'erpnext':
      return erpnextSource({
        url: api.url,
        apiKey: apiKey!,
        apiSecret: apiSecret!,
        pageSize: api.pageSize,
        headers,
        http,
        filters: filter?.kind === 'since' ? [['modified', '>=', filter.value]] : filter?.kind === 'skus' ? [['item_code', 'in', filter.skus]] : undefined,
      });
    case 'odoo':
      return odooSource({
        url: api.url,
        database: api.database!,
        apiKey: apiKey!,
        username: api.username,
        pageSize: api.pageSize,
        headers,
        http,
        configPath: config.configPath,
        extraDomain:
          filter?.kind === 'since'
            ? [['write_date', '>=', filter.value]]
            : filter?.kind === 'skus'
              ? [['product_id.default_code', 'in', filter.skus]]
              : undefined,
      });
    case 'generic': {
      // A key alone is a bearer token; with a secret it is HTTP Basic (key:secret).
      if (apiKey !== undefined) {
        const basic = apiSecret !== undefined ? Buffer.from(`${apiKey}:${apiSecret}`).toString('base64') : undefined;
        registerSecret(basic);
        headers['authorization'] = basic !== undefined ? `Basic ${basic}` : `Bearer ${apiKey}`;
      }
      return genericApiSource({
        url: new URL(api.url),
        query: filter?.kind === 'since' && filter.param ? { ...api.query, [filter.param]: filter.value } : api.query,
        headers,
        recordsPath: api.recordsPath,
        fields: api.fields,
        pagination: api.pagination,
        pageSize: api.pageSize,
        stopAt: api.stopAt,
        http,
      });
    }
  }
}
