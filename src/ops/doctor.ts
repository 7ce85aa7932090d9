import { loadConfig, type LoadedConfig } from '../config/load.js';
import { InvreconError, errorMessage } from '../errors.js';
import { resolveLocations, type ShopifyLocation } from '../reconcile/locations.js';
import { TOKEN_ENV } from '../secrets.js';
import { batchesOf, type ErpSource } from '../sources/erp/ingest.js';
import { chooseSource, mappedWarehouses } from '../sources/erp/pull.js';
import { createShopifyClient, type CallEvent, type ShopifyClient } from '../sources/shopify/client.js';
import { ACCESS_SCOPES, LOCATIONS_STATUS_PAGE, type AccessScopesData, type Connection } from '../sources/shopify/documents.js';
import { resolveEndpoint } from '../sources/shopify/endpoint.js';

// `invrecon doctor`: checks a set-up before the first night. Reads only: no snapshot, no write to Shopify.

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface DoctorCheck {
  id: 'config' | 'erp-source' | 'warehouses' | 'token' | 'endpoint' | 'api-version' | 'scopes' | 'location' | 'unfed-locations';
  status: CheckStatus;
  /** What was found, in one line. */
  message: string;
  /** What to do about a failure or a warning. */
  fix?: string;
  /** Further lines (each bad row, each missing scope). */
  details?: string[];
}

export interface DoctorReport {
  ok: boolean;
  configPath: string;
  endpoint: string | null;
  checks: DoctorCheck[];
  failed: number;
  warnings: number;
}

export interface DoctorOptions {
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  /** Per-call timeout for Shopify (default: the config's, at most PROBE_TIMEOUT_MS). */
  timeoutMs?: number;
  onCall?: (event: CallEvent) => void;
}

/** A dead endpoint must fail the doctor within seconds, not after a night's retries. */
export const PROBE_TIMEOUT_MS = 5000;
export const REQUIRED_SCOPES = ['read_inventory', 'write_inventory', 'read_locations'] as const;
/** The oldest API version the tool speaks (changeFromQuantity and @idempotent are required from it). */
export const MIN_API_VERSION = '2026-04';
const SAMPLE = 5;
/** An API source is read up to this many records: enough to see the shape, not the whole ERP. */
const API_SAMPLE_ROWS = 1000;

interface ErpFindings {
  rows: number;
  skus: number;
  warehouses: Map<string, number>;
  /** The whole export was read (a CSV), or only its first records (an API). */
  complete: boolean;
}

async function readErp(config: LoadedConfig, source: ErpSource, isApi: boolean): Promise<{ check: DoctorCheck; findings?: ErpFindings }> {
  const warehouses = new Map<string, number>();
  const skus = new Set<string>();
  const problems: string[] = [];
  let problemCount = 0;
  let rows = 0;
  let complete = true;
  try {
    for await (const batch of batchesOf(source)) {
      for (const row of batch.rows) {
        warehouses.set(row.warehouse, (warehouses.get(row.warehouse) ?? 0) + 1);
        skus.add(row.sku);
      }
      rows += batch.rows.length;
      problemCount += batch.problems.length;
      problems.push(...batch.problems.slice(0, SAMPLE - problems.length));
      if (isApi && rows >= API_SAMPLE_ROWS) {
        complete = false;
        break;
      }
    }
  } catch (error) {
    return {
      check: {
        id: 'erp-source',
        status: 'fail',
        message: errorMessage(error),
        details: error instanceof InvreconError ? error.details.slice(0, SAMPLE) : undefined,
        fix: isApi
          ? 'check erp.api (URL, credentials in the environment) in the config'
          : 'check erp.csv.path, and erp.csv.columns when the header names differ',
      },
    };
  }
  const findings = { rows, skus: skus.size, warehouses, complete };
  if (problemCount > 0) {
    return {
      check: {
        id: 'erp-source',
        status: 'fail',
        message: `${source.name}: ${problemCount} bad row${problemCount === 1 ? '' : 's'} (a pull would store nothing)`,
        details: problems,
        fix: 'fix the rows named above in the export',
      },
      findings,
    };
  }
  const what = `${rows} row${rows === 1 ? '' : 's'}, ${skus.size} SKU${skus.size === 1 ? '' : 's'}, ${warehouses.size} warehouse${warehouses.size === 1 ? '' : 's'}`;
  return {
    check:
      rows === 0
        ? {
            id: 'erp-source',
            status: 'warn',
            message: `${source.name}: readable but empty`,
            fix: 'a plan from an empty export is refused (emptyErp guard): check the export job',
          }
        : { id: 'erp-source', status: 'ok', message: `${source.name}: header and rows readable (${complete ? what : `first ${what}; pull reads the rest`})` },
    findings,
  };
}

function warehouseChecks(config: LoadedConfig, findings: ErpFindings): DoctorCheck[] {
  const mapped = mappedWarehouses(config);
  const unmapped = [...findings.warehouses].filter(([code]) => !mapped.has(code));
  const absent = [...mapped].filter((code) => !findings.warehouses.has(code));
  const checks: DoctorCheck[] = [];
  const scope = findings.complete ? 'the export' : `the first ${findings.rows} records`;
  if (unmapped.length > 0) {
    checks.push({
      id: 'warehouses',
      status: 'warn',
      message: `${unmapped.length === 1 ? '1 warehouse' : `${unmapped.length} warehouses`} in ${scope} ${unmapped.length === 1 ? 'is' : 'are'} mapped to no location: ${unmapped.length === 1 ? 'its' : 'their'} rows are ignored`,
      details: unmapped.map(([code, n]) => `${JSON.stringify(code)} (${n} row${n === 1 ? '' : 's'})`),
      fix: `add ${unmapped.length === 1 ? 'it' : 'each'} to a locations[].warehouses list in the config if its stock should count`,
    });
  }
  if (absent.length > 0 && findings.complete) {
    checks.push({
      id: 'warehouses',
      status: 'warn',
      message: `${absent.length} mapped warehouse${absent.length === 1 ? ' has' : 's have'} no row in the export: the SKUs there count 0 on hand`,
      details: absent.map((code) => JSON.stringify(code)),
      fix: 'check that the export includes every warehouse, or remove the code from locations[].warehouses',
    });
  }
  if (checks.length === 0)
    checks.push({
      id: 'warehouses',
      status: 'ok',
      message: `every warehouse in ${scope} is mapped (${findings.warehouses.size}), and every mapped warehouse has rows`,
    });
  return checks;
}

function compareVersions(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function readAllLocations(client: ShopifyClient): Promise<(ShopifyLocation & { isActive: boolean })[]> {
  const out: (ShopifyLocation & { isActive: boolean })[] = [];
  let after: string | null = null;
  for (;;) {
    const page: { data: { locations: Connection<{ id: string; name: string; isActive: boolean }> } } = await client.request(LOCATIONS_STATUS_PAGE, {
      first: 250,
      after,
    });
    out.push(...page.data.locations.edges.map((e) => e.node));
    if (!page.data.locations.pageInfo.hasNextPage) return out;
    after = page.data.locations.pageInfo.endCursor;
  }
}

const skip = (id: DoctorCheck['id'], why: string): DoctorCheck => ({ id, status: 'skip', message: `not checked: ${why}` });

async function shopifyChecks(
  config: LoadedConfig,
  options: DoctorOptions,
  env: NodeJS.ProcessEnv,
): Promise<{ checks: DoctorCheck[]; endpoint: string | null }> {
  const checks: DoctorCheck[] = [];
  let endpointUrl: string;
  let overridden: boolean;
  try {
    ({ graphqlUrl: endpointUrl, overridden } = resolveEndpoint(config.shopify.shop, config.shopify.apiVersion, env));
  } catch (error) {
    checks.push({ id: 'endpoint', status: 'fail', message: errorMessage(error), fix: 'fix INVRECON_SHOPIFY_ENDPOINT, or unset it to reach the shop itself' });
    return { checks, endpoint: null };
  }
  const token = env[TOKEN_ENV]?.trim();
  if (!token) {
    checks.push({
      id: 'token',
      status: 'fail',
      message: `${TOKEN_ENV} is not set`,
      fix: `export ${TOKEN_ENV}=shpat_… (the app's Admin API access token; never put it in the config)`,
    });
    for (const id of ['endpoint', 'api-version', 'scopes', 'location'] as const) checks.push(skip(id, `needs ${TOKEN_ENV}`));
    return { checks, endpoint: endpointUrl };
  }

  const timeoutMs = options.timeoutMs ?? Math.min(config.shopify.timeoutMs, PROBE_TIMEOUT_MS);
  let last: CallEvent | undefined;
  const client = createShopifyClient(config, {
    env,
    fetch: options.fetch,
    timeoutMs,
    maxRetries: 0,
    onCall: (event) => {
      last = event;
      options.onCall?.(event);
    },
  });

  // One call answers three questions: is the endpoint there, is the token accepted, which scopes it has.
  let scopes: string[] | undefined;
  let scopesError: string | undefined;
  try {
    const answer = await client.request<AccessScopesData>(ACCESS_SCOPES);
    scopes = answer.data.currentAppInstallation.accessScopes.map((s) => s.handle);
  } catch (error) {
    scopesError = errorMessage(error);
  }
  if (last === undefined || last.outcome === 'network' || last.outcome === 'timeout' || last.outcome === 'http-5xx' || last.outcome === 'http-429') {
    checks.push({ id: 'token', status: 'ok', message: `${TOKEN_ENV} is set` });
    checks.push({
      id: 'endpoint',
      status: 'fail',
      message: `${endpointUrl}: ${last?.outcome === 'timeout' ? `no answer within ${timeoutMs / 1000} s` : (last?.message ?? scopesError ?? 'no answer')}${last?.status ? ` (HTTP ${last.status})` : ''}`,
      fix: overridden ? 'check INVRECON_SHOPIFY_ENDPOINT (is the emulator running?) and the network' : 'check shopify.shop and the network (proxy, firewall)',
    });
    for (const id of ['api-version', 'scopes', 'location'] as const) checks.push(skip(id, 'the endpoint did not answer'));
    return { checks, endpoint: endpointUrl };
  }
  if (last.status === 401 || last.status === 403) {
    checks.push({
      id: 'token',
      status: 'fail',
      message: `${TOKEN_ENV} is set but ${endpointUrl} refused it (HTTP ${last.status})`,
      fix: `check ${TOKEN_ENV}: the Admin API access token of an app installed on ${config.shopify.shop}`,
    });
    checks.push({ id: 'endpoint', status: 'ok', message: `${endpointUrl} answers (${Math.round(last.latencyMs)} ms)` });
    for (const id of ['api-version', 'scopes', 'location'] as const) checks.push(skip(id, 'the token was refused'));
    return { checks, endpoint: endpointUrl };
  }
  checks.push({ id: 'token', status: 'ok', message: `${TOKEN_ENV} is set and accepted` });
  checks.push({ id: 'endpoint', status: 'ok', message: `${endpointUrl} answers (${Math.round(last.latencyMs)} ms)` });

  const version = config.shopify.apiVersion;
  const served = client.servedApiVersion();
  if (compareVersions(version, MIN_API_VERSION) < 0) {
    checks.push({
      id: 'api-version',
      status: 'fail',
      message: `shopify.apiVersion ${version} is older than ${MIN_API_VERSION}, the oldest invrecon speaks`,
      fix: `set shopify.apiVersion to ${MIN_API_VERSION} or later (default 2026-10)`,
    });
  } else if (served !== undefined && served !== version) {
    checks.push({
      id: 'api-version',
      status: 'fail',
      message: `asked for ${version}, Shopify served ${served}: ${version} is not (or no longer) supported`,
      fix: `set shopify.apiVersion to a supported version (${served} is)`,
    });
  } else if (client.warnings.length > 0) {
    checks.push({
      id: 'api-version',
      status: 'warn',
      message: client.warnings.join('; '),
      fix: 'set shopify.apiVersion to a version Shopify currently supports',
    });
  } else {
    checks.push({
      id: 'api-version',
      status: 'ok',
      message: served ? `${version} (served as asked)` : `${version} (supported by the client library; the endpoint does not say which version it served)`,
    });
  }

  if (scopes) {
    const missing = REQUIRED_SCOPES.filter((s) => !scopes.includes(s));
    checks.push(
      missing.length === 0
        ? { id: 'scopes', status: 'ok', message: `${REQUIRED_SCOPES.join(', ')} granted` }
        : {
            id: 'scopes',
            status: 'fail',
            message: `missing access scope${missing.length === 1 ? '' : 's'} ${missing.join(', ')} (granted: ${scopes.join(', ') || 'none'})`,
            fix: `add ${missing.join(', ')} to the app's Admin API scopes, reinstall it on the shop and use its new token`,
          },
    );
  } else {
    checks.push({
      id: 'scopes',
      status: 'fail',
      message: `could not read the access scopes: ${scopesError}`,
      fix: 'check that the token belongs to an app installed on the shop',
    });
  }

  let locations: (ShopifyLocation & { isActive: boolean })[];
  try {
    locations = await readAllLocations(client);
  } catch (error) {
    checks.push({
      id: 'location',
      status: 'fail',
      message: `could not read the shop's locations: ${errorMessage(error)}`,
      fix: 'the token needs the read_locations scope (see access scopes above)',
    });
    return { checks, endpoint: endpointUrl };
  }
  const resolution = resolveLocations(config, locations);
  const byId = new Map(locations.map((l) => [l.id, l]));
  for (const problem of resolution.problems) {
    checks.push({
      id: 'location',
      status: 'fail',
      message: problem,
      fix: `use a name or gid of the shop's locations: ${locations.map((l) => `${JSON.stringify(l.name)} (${l.id})`).join(', ')}`,
    });
  }
  for (const r of resolution.resolved) {
    const feeds = `fed by ${r.warehouses.join(', ')}`;
    checks.push(
      byId.get(r.locationId)!.isActive
        ? { id: 'location', status: 'ok', message: `locations[${r.configIndex}] ${JSON.stringify(r.locationName)}: found (${r.locationId}), active, ${feeds}` }
        : {
            id: 'location',
            status: 'fail',
            message: `locations[${r.configIndex}] ${JSON.stringify(r.locationName)} (${r.locationId}) is deactivated: it stocks nothing and takes no writes`,
            fix: 'reactivate it in Shopify, or remove this entry from locations (map its warehouses to another location only if their stock has really moved there)',
          },
    );
  }
  const fed = new Set(resolution.resolved.map((r) => r.locationId));
  const unfed = locations.filter((l) => l.isActive && !fed.has(l.id));
  checks.push(
    unfed.length === 0
      ? { id: 'unfed-locations', status: 'ok', message: 'every active Shopify location is fed by a mapped warehouse' }
      : {
          id: 'unfed-locations',
          status: 'warn',
          message: `${unfed.length} active Shopify location${unfed.length === 1 ? ' is fed by no warehouse: left as it is' : 's are fed by no warehouse: left as they are'}`,
          details: unfed.map((l) => `${JSON.stringify(l.name)} (${l.id})`),
          fix: 'map a warehouse to it in locations[] if invrecon should keep its stock',
        },
  );
  return { checks, endpoint: endpointUrl };
}

/** Runs every check it can; a check that needs an earlier one to pass is reported as skipped. */
export async function runDoctor(configPath: string, options: DoctorOptions = {}): Promise<DoctorReport> {
  const env = options.env ?? process.env;
  const checks: DoctorCheck[] = [];
  let config: LoadedConfig | undefined;
  let endpoint: string | null = null;
  try {
    config = loadConfig(configPath);
    checks.push({ id: 'config', status: 'ok', message: `${config.configPath} is valid` });
  } catch (error) {
    checks.push({
      id: 'config',
      status: 'fail',
      message: errorMessage(error),
      details: error instanceof InvreconError ? error.details : undefined,
      fix: 'fix the key named above (schema/invrecon.config.schema.json describes them all), or run "invrecon init"',
    });
  }
  if (!config) {
    for (const id of ['erp-source', 'token', 'endpoint', 'api-version', 'scopes', 'location'] as const) checks.push(skip(id, 'needs a valid config'));
  } else {
    let source: ErpSource | undefined;
    try {
      source = chooseSource(config, {});
    } catch (error) {
      checks.push({ id: 'erp-source', status: 'fail', message: errorMessage(error), fix: 'configure erp.csv or erp.api (see docs/erp-api.md)' });
    }
    if (source) {
      const erp = await readErp(config, source, !config.erp.csv);
      checks.push(erp.check);
      if (erp.findings && erp.findings.rows > 0) checks.push(...warehouseChecks(config, erp.findings));
    }
    const shopify = await shopifyChecks(config, options, env);
    checks.push(...shopify.checks);
    endpoint = shopify.endpoint;
  }
  const failed = checks.filter((c) => c.status === 'fail').length;
  const warnings = checks.filter((c) => c.status === 'warn').length;
  return { ok: failed === 0, configPath, endpoint, checks, failed, warnings };
}
