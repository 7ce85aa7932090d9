import { z } from 'zod';

// The public config interface of DESIGN.md. The JSON Schema shipped for editors
// (schema/invrecon.config.schema.json) is generated from this same definition.

const nonEmptyString = z.string().trim().min(1, { error: 'expected a non-empty string' });
const quantity = z.int({ error: 'expected a whole number' }).min(0, { error: 'expected a number ≥ 0' });
const share = z.number({ error: 'expected a number' }).min(0, { error: 'expected a number from 0 to 1' }).max(1, { error: 'expected a number from 0 to 1' });

export const authoritySchema = z.enum(['erp', 'shopify', 'hybrid'], { error: 'expected "erp", "shopify" or "hybrid"' });
export type Authority = z.infer<typeof authoritySchema>;

export const erpColumnKeys = ['sku', 'warehouse', 'on_hand', 'reserved', 'incoming', 'safety_stock', 'category'] as const;
export type ErpColumn = (typeof erpColumnKeys)[number];

const columnsSchema = z
  .strictObject(
    Object.fromEntries(erpColumnKeys.map((key) => [key, nonEmptyString.optional()])) as Record<ErpColumn, z.ZodOptional<typeof nonEmptyString>>,
    { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown column key; expected one of ${erpColumnKeys.join(', ')}` : 'expected an object') },
  )
  .default({});

const erpCsvSchema = z.strictObject({
  path: nonEmptyString.describe('ERP export, relative to the config file'),
  columns: columnsSchema.describe('Header names in the export, when they differ from the defaults'),
  delimiter: z.enum(['auto', ',', ';', '\t'], { error: 'expected "auto", ",", ";" or a tab' }).default('auto'),
});

const secretEnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected the name of an environment variable' });

// The ERP API source (generic JSON-over-HTTP, or a preset). Secrets are named by environment variable only.
const erpApiSchema = z.strictObject({
  preset: z.enum(['generic', 'erpnext', 'odoo'], { error: 'expected "generic", "erpnext" or "odoo"' }).default('generic'),
  url: z.url({ error: 'expected an http(s) URL' }),
  database: nonEmptyString.optional(),
  apiKeyEnv: secretEnvName.optional(),
  apiSecretEnv: secretEnvName.optional(),
  headers: z.record(z.string(), z.string()).default({}).describe('Plain headers (no secrets)'),
  headersFromEnv: z.record(z.string(), secretEnvName).default({}).describe('Header name -> environment variable holding its value'),
  recordsPath: z.string().optional().describe('Dot path to the array of records in each page body'),
  fields: z.partialRecord(z.enum(erpColumnKeys), z.string()).default({}).describe('ERP column -> dot path in a record'),
  pagination: z
    .discriminatedUnion('style', [
      z.strictObject({ style: z.literal('none') }),
      z.strictObject({ style: z.literal('offset'), offsetParam: z.string().default('offset'), limitParam: z.string().default('limit'), pageSize: z.int().min(1).default(500) }),
      z.strictObject({ style: z.literal('page'), pageParam: z.string().default('page'), sizeParam: z.string().default('per_page'), pageSize: z.int().min(1).default(500), firstPage: z.int().min(0).default(1) }),
      z.strictObject({ style: z.literal('cursor'), cursorParam: z.string().default('cursor'), nextCursorPath: z.string() }),
      z.strictObject({ style: z.literal('next-link'), nextLinkPath: z.string() }),
      z.strictObject({ style: z.literal('link-header') }),
    ])
    .default({ style: 'none' }),
  timeoutMs: z.int().min(1).default(30_000),
  retries: z.int().min(0).default(5),
});

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
      apiVersion: z.string().regex(/^\d{4}-(01|04|07|10)$/, { error: 'expected an API version like "2026-10"' }).default('2026-10')
        .refine((v) => v >= '2026-04', { error: 'expected an API version from 2026-04 on' }),
      bulkThreshold: z.int().min(0).default(5000).describe('Inventory items above which pull shopify uses a bulk operation'),
      timeoutMs: z.int().min(1).default(30_000),
    }),
    erp: z
      .strictObject({ csv: erpCsvSchema.optional(), api: erpApiSchema.optional() })
      .refine((erp) => erp.csv !== undefined || erp.api !== undefined, { error: 'expected "csv" or "api"' }),
    locations: z.array(locationSchema, { error: 'expected a list of location mappings' }).min(1, { error: 'expected a non-empty list' }),
    authority: z.strictObject({ default: authoritySchema.default('erp'), byCategory: z.record(z.string(), authoritySchema).default({}) }).default({ default: 'erp', byCategory: {} }),
    safetyStock: z
      .strictObject({
        default: quantity.default(0),
        byLocation: z.record(z.string(), quantity).default({}),
        byCategory: z.record(z.string(), quantity).default({}),
        bySku: z.record(z.string(), quantity).default({}),
      })
      .default({ default: 0, byLocation: {}, byCategory: {}, bySku: {} }),
    // How Shopify's `committed` (orders not yet fulfilled) relates to the ERP's reserved column.
    shopifyCommitted: z
      .enum(['in-erp-reserved', 'subtract'], { error: 'expected "in-erp-reserved" or "subtract"' })
      .default('in-erp-reserved'),
    unknownSkus: z.enum(['ignore', 'report', 'zero'], { error: 'expected "ignore", "report" or "zero"' }).default('ignore'),
    bundles: z.strictObject({ csv: nonEmptyString.optional() }).default({}),
    guards: z
      .strictObject({ maxChanges: z.int().min(0).default(10_000), maxZeroedShare: share.default(0.2), maxRowDrop: share.default(0.5) })
      .default({ maxChanges: 10_000, maxZeroedShare: 0.2, maxRowDrop: 0.5 }),
    snapshot: z.strictObject({ path: nonEmptyString.default('.invrecon/snapshot.db') }).default({ path: '.invrecon/snapshot.db' }),
    alerts: z
      .strictObject({
        maxDeviation: z.int().min(0).optional().describe('Alert when any level drifts by more than this'),
        webhookUrl: z.url().optional(),
        timeoutMs: z.int().min(1).default(5000),
        retries: z.int().min(0).default(2),
      })
      .optional(),
  })
  .superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    config.locations.forEach((location, index) => {
      location.warehouses.forEach((warehouse, w) => {
        const first = seen.get(warehouse);
        if (first !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['locations', index, 'warehouses', w], message: `warehouse "${warehouse}" is already mapped by locations[${first}]` });
        } else seen.set(warehouse, index);
      });
    });
  });

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
