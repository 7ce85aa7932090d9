import { z } from 'zod';
import { isSecretParam, urlCredentials } from '../secrets.js';

// The config file's keys are a public interface (README "Configuration"): add keys, never rename one. The
// JSON Schema shipped for editors (schema/invrecon.config.schema.json) is generated from this definition.

const nonEmptyString = z.string().trim().min(1, { error: 'expected a non-empty string' });
const quantity = z.int({ error: 'expected a whole number' }).min(0, { error: 'expected a number ≥ 0' });
const share = z.number({ error: 'expected a number' }).min(0, { error: 'expected a number from 0 to 1' }).max(1, { error: 'expected a number from 0 to 1' });

export const authoritySchema = z.enum(['erp', 'shopify', 'hybrid'], { error: 'expected "erp", "shopify" or "hybrid"' });
export type Authority = z.infer<typeof authoritySchema>;

export const erpColumnKeys = ['sku', 'warehouse', 'on_hand', 'reserved', 'incoming', 'safety_stock', 'category'] as const;
export type ErpColumn = (typeof erpColumnKeys)[number];

const columnsSchema = z
  .strictObject(Object.fromEntries(erpColumnKeys.map((key) => [key, nonEmptyString.optional()])) as Record<ErpColumn, z.ZodOptional<typeof nonEmptyString>>, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown column key; expected one of ${erpColumnKeys.join(', ')}` : 'expected an object'),
  })
  .default({});

const erpCsvSchema = z
  .strictObject({
    path: nonEmptyString.describe('ERP export, relative to the config file'),
    columns: columnsSchema.describe('Header names in the export, when they differ from the defaults'),
    delimiter: z.enum(['auto', ',', ';', '\t'], { error: 'expected "auto", ",", ";" or a tab' }).default('auto'),
    decimal: z
      .enum(['.', ','], { error: 'expected "." or ","' })
      .optional()
      .describe('Decimal mark of the quantities; set it for exports that write "1.000" for one thousand (with thousands ".")'),
    thousands: z
      .enum(['none', ',', '.', ' ', "'"], { error: 'expected "none", ",", ".", " " or "\'"' })
      .optional()
      .describe('Thousands separator of the quantities (default none); "1.000" in a ";" file is refused as ambiguous unless set'),
  })
  .refine((csv) => csv.decimal === undefined || csv.decimal !== csv.thousands, { error: 'decimal and thousands must differ', path: ['thousands'] });

const secretEnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected the name of an environment variable' });

// The ERP API source (generic JSON-over-HTTP, or a preset). Secrets are named by environment variable only.
/** Loopback hosts may be reached over plain http (local fakes, SSH tunnels); anything else must be https. */
export function isLoopbackHostname(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
const erpApiUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).refine(
  (text) => {
    const url = new URL(text);
    return url.protocol === 'https:' || isLoopbackHostname(url.hostname);
  },
  { error: 'plain http:// is accepted for loopback addresses only (127.0.0.1, ::1, localhost); use https://' },
);
// Alert webhooks: same rule as the ERP API (plain http only to loopback), and no secret in the config file.
const alertWebhookUrl = erpApiUrl.refine((text) => urlCredentials(new URL(text)).length === 0, {
  error: (issue) =>
    `the URL carries a credential (${urlCredentials(new URL(issue.input as string)).join(', ')}); keep secret URLs out of the config: put it in an environment variable and name that in alerts.webhookUrlEnv`,
});
const paramName = nonEmptyString;
const dotPath = z.string({ error: 'expected a dot path such as "data.items"' }).describe('Dot path into the JSON body, e.g. "data.items" or "meta.next"');
const erpApiPaginationSchema = z.discriminatedUnion(
  'style',
  [
    z.strictObject({ style: z.literal('none') }),
    z.strictObject({ style: z.literal('offset'), offsetParam: paramName.default('offset'), limitParam: paramName.default('limit') }),
    z.strictObject({
      style: z.literal('page'),
      pageParam: paramName.default('page'),
      sizeParam: paramName.default('per_page'),
      firstPage: z.int().min(0).default(1),
    }),
    z.strictObject({ style: z.literal('cursor'), cursorParam: paramName.default('cursor'), nextCursorPath: dotPath, sizeParam: paramName.optional() }),
    z.strictObject({ style: z.literal('next-link'), nextLinkPath: dotPath, sizeParam: paramName.optional() }),
    z.strictObject({ style: z.literal('link-header'), sizeParam: paramName.optional() }),
  ],
  { error: 'expected a pagination style: "none", "offset", "page", "cursor", "next-link" or "link-header"' },
);
export type ErpApiPagination = z.infer<typeof erpApiPaginationSchema>;
const erpApiSchema = z
  .strictObject({
    preset: z.enum(['generic', 'erpnext', 'odoo'], { error: 'expected "generic", "erpnext" or "odoo"' }).default('generic'),
    url: erpApiUrl.describe('generic: the records endpoint; erpnext/odoo: the site root, e.g. https://erp.example.com'),
    database: nonEmptyString.optional().describe('Odoo database name (X-Odoo-Database header)'),
    apiKeyEnv: secretEnvName.optional().describe('Environment variable holding the API key (generic: sent as a bearer token, or Basic with apiSecretEnv)'),
    apiSecretEnv: secretEnvName.optional().describe('Environment variable holding the API secret (ERPNext)'),
    username: nonEmptyString.optional().describe('Odoo login, only needed for the legacy /jsonrpc fallback (Odoo before 19)'),
    query: z.record(z.string(), z.string()).default({}).describe('Extra query parameters sent with every request (generic)'),
    headers: z.record(z.string(), z.string()).default({}).describe('Plain headers (no secrets)'),
    headersFromEnv: z.record(z.string(), secretEnvName).default({}).describe('Header name -> environment variable holding its value'),
    recordsPath: dotPath.optional().describe('Dot path to the array of records in each page body; omitted: the body is the array'),
    fields: z
      .partialRecord(z.enum(erpColumnKeys), dotPath)
      .default({})
      .describe('ERP column -> dot path in a record; a column not listed is read from the key of the same name'),
    pagination: erpApiPaginationSchema.default({ style: 'none' }),
    pageSize: z.int().min(1).max(100_000).default(500).describe('Records asked per page'),
    stopAt: z
      .enum(['short-page', 'empty-page'], { error: 'expected "short-page" or "empty-page"' })
      .default('short-page')
      .describe('offset/page styles: stop after a page shorter than pageSize, or only after an empty page (for servers that cap the page size)'),
    timeoutMs: z.int().min(1).default(30_000).describe('Per request, body included'),
    retries: z.int().min(0).max(20).default(5).describe('Retries on 429, 5xx, timeouts and network errors'),
    retryDelayMs: z.int().min(0).default(500).describe('First backoff delay; doubles on each retry, with jitter'),
    maxRetryDelayMs: z.int().min(0).default(60_000).describe('Cap on any one wait, Retry-After included'),
  })
  .superRefine((api, ctx) => {
    const require = (key: 'apiKeyEnv' | 'apiSecretEnv' | 'database') => {
      if (api[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `required for the ${api.preset} preset` });
    };
    if (api.preset === 'erpnext') ['apiKeyEnv', 'apiSecretEnv'].forEach((key) => require(key as 'apiKeyEnv'));
    if (api.preset === 'odoo') ['apiKeyEnv', 'database'].forEach((key) => require(key as 'apiKeyEnv'));
    if (api.preset !== 'generic') {
      const genericOnly = {
        recordsPath: api.recordsPath !== undefined,
        fields: Object.keys(api.fields).length > 0,
        pagination: api.pagination.style !== 'none',
      };
      for (const [key, set] of Object.entries(genericOnly)) {
        if (set) ctx.addIssue({ code: 'custom', path: [key], message: `only for the generic preset; the ${api.preset} preset sets it itself` });
      }
    }
    const credentials = URL.canParse(api.url) ? urlCredentials(new URL(api.url)) : [];
    if (credentials.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: `the URL carries a credential (${credentials.join(', ')}); name the environment variables that hold it instead: apiKeyEnv (and apiSecretEnv), or a header in headersFromEnv`,
      });
    }
    for (const name of Object.keys(api.query)) {
      if (isSecretParam(name))
        ctx.addIssue({
          code: 'custom',
          path: ['query', name],
          message: 'looks like a secret; name its environment variable (apiKeyEnv, or a header in headersFromEnv) instead',
        });
    }
    for (const name of Object.keys(api.headers)) {
      if (/^(authorization|proxy-authorization|cookie|x-api-key)$/i.test(name)) {
        ctx.addIssue({ code: 'custom', path: ['headers', name], message: 'looks like a secret; name its environment variable in headersFromEnv instead' });
      }
    }
  });
export type ErpApiConfig = z.infer<typeof erpApiSchema>;

const locationSchema = z.strictObject({
  warehouses: z.array(nonEmptyString, { error: 'expected a list of warehouse codes' }).min(1, { error: 'expected a non-empty list' }),
  shopifyLocation: nonEmptyString.describe('Shopify location name or gid://shopify/Location/… id'),
  authority: authoritySchema.optional(),
});

export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    shopify: z.strictObject({
      shop: z
        .string({ error: 'expected the shop domain, e.g. "acme.myshopify.com"' })
        .regex(/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/, { error: 'expected a shop domain like "acme.myshopify.com"' }),
      apiVersion: z
        .string()
        .regex(/^\d{4}-(01|04|07|10)$/, { error: 'expected an API version like "2026-10"' })
        .default('2026-10')
        .refine((v) => v >= '2026-04', { error: 'expected an API version from 2026-04 on' }),
      bulkThreshold: z
        .int()
        .min(0)
        .default(5000)
        .describe(
          'Most inventory items an automatic pull shopify reads paged; below it, the expected time (points per item, bucket, latency) chooses paged or bulk',
        ),
      timeoutMs: z.int().min(1).default(30_000),
    }),
    erp: z
      .strictObject({ csv: erpCsvSchema.optional(), api: erpApiSchema.optional() })
      .refine((erp) => erp.csv !== undefined || erp.api !== undefined, { error: 'expected "csv" or "api"' }),
    locations: z.array(locationSchema, { error: 'expected a list of location mappings' }).min(1, { error: 'expected a non-empty list' }),
    authority: z
      .strictObject({ default: authoritySchema.default('erp'), byCategory: z.record(z.string(), authoritySchema).default({}) })
      .default({ default: 'erp', byCategory: {} }),
    safetyStock: z
      .strictObject({
        default: quantity.default(0),
        byLocation: z.record(z.string(), quantity).default({}),
        byCategory: z.record(z.string(), quantity).default({}),
        bySku: z.record(z.string(), quantity).default({}),
      })
      .default({ default: 0, byLocation: {}, byCategory: {}, bySku: {} }),
    // How Shopify's `committed` (orders not yet fulfilled) relates to the ERP's reserved column.
    shopifyCommitted: z.enum(['in-erp-reserved', 'subtract'], { error: 'expected "in-erp-reserved" or "subtract"' }).default('in-erp-reserved'),
    // SKUs are always compared after Unicode NFC and trimming; case-insensitive also ignores letter case.
    skuMatch: z
      .enum(['exact', 'case-insensitive'], { error: 'expected "exact" or "case-insensitive"' })
      .default('exact')
      .describe('How ERP and Shopify SKUs are matched: exact (after Unicode NFC and trimming), or also ignoring ASCII letter case'),
    unknownSkus: z.enum(['ignore', 'report', 'zero'], { error: 'expected "ignore", "report" or "zero"' }).default('ignore'),
    bundles: z.strictObject({ csv: nonEmptyString.optional() }).default({}),
    guards: z
      .strictObject({ maxChanges: z.int().min(0).default(10_000), maxZeroedShare: share.default(0.2), maxRowDrop: share.default(0.5) })
      .default({ maxChanges: 10_000, maxZeroedShare: 0.2, maxRowDrop: 0.5 }),
    snapshot: z.strictObject({ path: nonEmptyString.default('.invrecon/snapshot.db') }).default({ path: '.invrecon/snapshot.db' }),
    watch: z
      .strictObject({
        host: nonEmptyString
          .default('127.0.0.1')
          .describe('Address the watch HTTP server listens on (loopback by default; put a reverse proxy in front for Shopify)'),
        port: z.int().min(0).max(65535).default(8787).describe('Port of the watch HTTP server (0 picks a free one)'),
        batchWindowMs: z
          .int()
          .min(0)
          .max(60_000)
          .default(50)
          .describe('How long events are gathered before a recompute, so a burst on one SKU makes one write'),
        maxInFlight: z.int().min(1).max(16).default(4).describe('Write calls in flight at once (disjoint SKUs), all paced by one cost bucket'),
        maxBodyBytes: z.int().min(1024).default(5_000_000).describe('Largest request body accepted'),
        fsync: z
          .boolean()
          .default(false)
          .describe('Flush each accepted request to the disk before answering (survives a power cut, not only a killed process; several ms per request)'),
        outbox: z
          .strictObject({
            dir: nonEmptyString.default('.invrecon/outbox').describe('Folder for the ERP correction CSV files, relative to the config file'),
            intervalSeconds: z.int().min(1).default(60).describe('A CSV file of the corrections owed is written this often (none when there are none)'),
            webhookUrl: alertWebhookUrl.optional().describe("Also POST each interval's corrections as JSON here (https, or http for loopback)"),
            webhookUrlEnv: secretEnvName.optional().describe('Environment variable holding that URL, for URLs that carry a secret'),
          })
          .refine((outbox) => !(outbox.webhookUrl && outbox.webhookUrlEnv), { error: 'set webhookUrl or webhookUrlEnv, not both' })
          .default({ dir: '.invrecon/outbox', intervalSeconds: 60 }),
        poll: z
          .strictObject({
            intervalSeconds: z.int().min(1).default(30).describe('How often the ERP API is asked for rows changed since the cursor'),
            cursorParam: paramName
              .optional()
              .describe(
                'generic preset: the query parameter that asks for records modified at or after a time (ISO 8601), e.g. "modified_since"; ERPNext filters on modified, Odoo on write_date',
              ),
          })
          .optional()
          .describe('Poll the ERP API (erp.api) for changed rows instead of (or besides) receiving POST /erp/levels'),
        alerts: z
          .strictObject({
            maxQueueDepth: z.int().min(1).default(5000).describe('Alert when this many SKUs wait for a write for a minute'),
            maxFailedWrites: z.int().min(1).default(5).describe('Alert after this many write calls in a row fail'),
          })
          .default({ maxQueueDepth: 5000, maxFailedWrites: 5 }),
      })
      .default({
        host: '127.0.0.1',
        port: 8787,
        batchWindowMs: 50,
        maxInFlight: 4,
        maxBodyBytes: 5_000_000,
        fsync: false,
        outbox: { dir: '.invrecon/outbox', intervalSeconds: 60 },
        alerts: { maxQueueDepth: 5000, maxFailedWrites: 5 },
      }),
    alerts: z
      .strictObject({
        maxDeviation: z.int().min(0).optional().describe('Alert when, after a sync, any level still differs from its target by more than this many units'),
        onFailure: z.boolean().default(true).describe('Also alert when a sync fails, is refused by a guard, or leaves conflicts'),
        webhookUrl: alertWebhookUrl.optional().describe('JSON POST target (Slack-compatible "text" field); https, or http for loopback hosts only'),
        webhookUrlEnv: secretEnvName.optional().describe('Environment variable holding the webhook URL, for URLs that carry a secret'),
        timeoutMs: z.int().min(1).default(5000).describe('Per webhook attempt'),
        retries: z.int().min(0).max(10).default(2).describe('Webhook retries after the first attempt (5xx, 429, network errors, timeouts)'),
      })
      .refine((alerts) => !(alerts.webhookUrl && alerts.webhookUrlEnv), { error: 'set webhookUrl or webhookUrlEnv, not both' })
      .optional(),
  })
  .superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    config.locations.forEach((location, index) => {
      location.warehouses.forEach((warehouse, w) => {
        const first = seen.get(warehouse);
        if (first !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['locations', index, 'warehouses', w],
            message: `warehouse "${warehouse}" is already mapped by locations[${first}]`,
          });
        } else seen.set(warehouse, index);
      });
    });
  });

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
