import { InputError, SourceError } from '../../../errors.js';
import type { ErpRecord, ErpSource, ErpSourceProblem } from '../ingest.js';
import type { HttpJsonClient } from './http.js';
import { displayUrl, PageIndex, siteUrl } from './support.js';

export interface OdooOptions {
  /** The site root, e.g. https://acme.odoo.com */
  url: string;
  database: string;
  apiKey: string;
  /** Login the key belongs to; only the legacy /jsonrpc endpoint needs it (it wants a user id). */
  username?: string;
  pageSize: number;
  headers?: Record<string, string>;
  http: HttpJsonClient;
  /** For config error messages. */
  configPath: string;
  /** More stock.quant domain terms (watch's polling: changed since a cursor, or some products only). */
  extraDomain?: unknown[];
}

/** Only stock in internal locations counts; customer, supplier and inventory-loss locations hold negative or foreign quants. */
export const ODOO_QUANT_DOMAIN = [['location_id.usage', '=', 'internal']];
export const ODOO_QUANT_FIELDS = ['product_id', 'location_id', 'quantity', 'reserved_quantity'];
/**
 * Ordering by location then product makes all quants of one (product, location) contiguous, so they
 * can be summed with one open group instead of a map of every pair; `id` last keeps offset paging
 * stable. If a server ever broke that order, the pair would come out twice and the ingest would
 * report it as a duplicate row: an error, never a silently wrong sum.
 */
export const ODOO_QUANT_ORDER = 'location_id, product_id, id';
const PRODUCT_BATCH = 1000;

type Many2one = [number, string];

function asMany2one(value: unknown): Many2one | undefined {
  return Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string' ? [value[0], value[1]] : undefined;
}

interface Group {
  locationId: number;
  locationName: string;
  productId: number;
  productName: string;
  onHand: number | string;
  reserved: number | string;
  quants: number;
  /** Running number of its first quant, and where that quant was. */
  ordinal: number;
  at: string;
}

/** Adds quantities (a missing reserved_quantity counts 0); anything but a number is kept as text so the row validation reports it. */
function addQuantity(sum: number | string, value: unknown): number | string {
  if (typeof sum === 'string') return sum;
  if (value === undefined || value === null || value === false) return sum;
  if (typeof value !== 'number') return JSON.stringify(value);
  return sum + value;
}

/** One Odoo call, over JSON-2 (Odoo 19+) or, when that answers 404, the legacy JSON-RPC endpoint. */
class OdooTransport {
  private mode: 'json2' | 'jsonrpc' | undefined;
  private uid: number | undefined;
  private requestId = 0;

  constructor(private readonly options: OdooOptions) {}

  label(model: string, method: string): string {
    return this.mode === 'jsonrpc'
      ? `${displayUrl(siteUrl(this.options.url, '/jsonrpc'))} ${model}.${method}`
      : displayUrl(siteUrl(this.options.url, `/json/2/${model}/${method}`));
  }

  /** `positional` is the method's first argument (a domain, or ids); `named` its keyword arguments. */
  async call(
    model: string,
    method: 'search_read' | 'read',
    positional: unknown,
    named: Record<string, unknown>,
    where: string,
    signal?: AbortSignal,
  ): Promise<unknown> {
    if (this.mode !== 'jsonrpc') {
      const body = { ...(method === 'read' ? { ids: positional } : { domain: positional }), ...named };
      const response = await this.options.http.request(
        {
          url: siteUrl(this.options.url, `/json/2/${model}/${method}`),
          method: 'POST',
          headers: { ...this.options.headers, authorization: `bearer ${this.options.apiKey}`, 'x-odoo-database': this.options.database },
          body,
        },
        where,
        this.mode === undefined ? [404] : [],
        signal,
      );
      if (response.status !== 404) {
        this.mode = 'json2';
        return response.body;
      }
      this.mode = 'jsonrpc';
    }
    const uid = await this.login(signal);
    return this.jsonrpc(
      'object',
      'execute_kw',
      [this.options.database, uid, this.options.apiKey, model, method, [positional], named],
      this.label(model, method) + where.slice(where.indexOf(' page')),
      signal,
    );
  }

  private async login(signal?: AbortSignal): Promise<number> {
    if (this.uid !== undefined) return this.uid;
    const site = displayUrl(siteUrl(this.options.url, '/json/2'));
    if (!this.options.username) {
      throw new InputError(
        `${this.options.configPath}: erp.api.username: ${site} answered 404 (Odoo before 19 has no JSON-2 API, or database ${JSON.stringify(this.options.database)} is not on that server); set erp.api.username to the login the API key belongs to, to use the legacy /jsonrpc endpoint`,
      );
    }
    const where = `${displayUrl(siteUrl(this.options.url, '/jsonrpc'))} common.authenticate`;
    const uid = await this.jsonrpc('common', 'authenticate', [this.options.database, this.options.username, this.options.apiKey, {}], where, signal);
    if (typeof uid !== 'number') {
      throw new SourceError(
        `${where}: Odoo refused the API key for login ${JSON.stringify(this.options.username)} on database ${JSON.stringify(this.options.database)}`,
      );
    }
    this.uid = uid;
    return uid;
  }

  private async jsonrpc(service: string, method: string, args: unknown[], where: string, signal?: AbortSignal): Promise<unknown> {
    const response = await this.options.http.request(
      {
        url: siteUrl(this.options.url, '/jsonrpc'),
        method: 'POST',
        headers: { ...this.options.headers },
        body: { jsonrpc: '2.0', method: 'call', params: { service, method, args }, id: ++this.requestId },
      },
      where,
      [],
      signal,
    );
    const body = response.body as { result?: unknown; error?: { message?: string; data?: { name?: string; message?: string } } } | null;
    if (body && typeof body === 'object' && body.error) {
      const detail = body.error.data?.message ?? body.error.message ?? 'unknown error';
      throw new SourceError(`${where}: Odoo error${body.error.data?.name ? ` ${body.error.data.name}` : ''}: ${detail}`);
    }
    if (!body || typeof body !== 'object' || !('result' in body)) throw new SourceError(`${where}: not a JSON-RPC answer (no "result")`);
    return body.result;
  }
}

/**
 * Odoo stock levels from `stock.quant` in internal locations, summed per (product, location), the
 * product's Internal Reference (default_code) as SKU and the location's full name ("WH/Stock") as
 * the warehouse code. Streams page by page; product codes are read in batches of the ids a page
 * brings and cached (one entry per product, not per quant).
 */
export function odooSource(options: OdooOptions): ErpSource {
  const transport = new OdooTransport(options);
  const index = new PageIndex();
  const quantsLabel = () => transport.label('stock.quant', 'search_read');
  return {
    name: `${displayUrl(siteUrl(options.url, '/json/2/stock.quant/search_read'))} (database ${options.database})`,
    describeOrdinal(ordinal) {
      const { page, index: at } = index.locate(ordinal);
      return `page ${page}, record ${at}`;
    },
    async *records(): AsyncGenerator<ErpRecord | ErpSourceProblem> {
      const codes = new Map<number, string | null>();
      const reportedProducts = new Set<number>();
      const cancel = new AbortController();
      const fetchPage = (offset: number, page: number) => {
        const promise = transport.call(
          'stock.quant',
          'search_read',
          [...ODOO_QUANT_DOMAIN, ...(options.extraDomain ?? [])],
          { fields: ODOO_QUANT_FIELDS, offset, limit: options.pageSize, order: ODOO_QUANT_ORDER },
          `${quantsLabel()} page ${page}`,
          cancel.signal,
        );
        promise.catch(() => {}); // awaited below; keeps an abandoned prefetch from being "unhandled"
        return promise;
      };

      const resolveProducts = async (ids: number[], page: number) => {
        for (let start = 0; start < ids.length; start += PRODUCT_BATCH) {
          const batch = ids.slice(start, start + PRODUCT_BATCH);
          const where = `${transport.label('product.product', 'read')} (products of page ${page})`;
          const products = await transport.call('product.product', 'read', batch, { fields: ['default_code', 'display_name'] }, where, cancel.signal);
          if (!Array.isArray(products)) throw new SourceError(`${where}: expected an array of products`);
          for (const product of products as { id?: unknown; default_code?: unknown }[]) {
            if (typeof product?.id !== 'number') continue;
            const code = typeof product.default_code === 'string' && product.default_code.trim() !== '' ? product.default_code.trim() : null;
            codes.set(product.id, code);
          }
          // Ids that did not come back (deleted, or hidden from the API user) stay unresolved: reported per product.
          for (const id of batch) if (!codes.has(id)) codes.set(id, null);
        }
      };

      const emit = (group: Group): ErpRecord | ErpSourceProblem | undefined => {
        const sku = codes.get(group.productId);
        if (!sku) {
          if (reportedProducts.has(group.productId)) return undefined;
          reportedProducts.add(group.productId);
          return {
            problem: `${group.at}: product ${group.productId} ${JSON.stringify(group.productName)} has no Internal Reference (default_code), so it matches no SKU; set one in Odoo (or archive the product's stock)`,
          };
        }
        const more = group.quants > 1 ? ` (summed with ${group.quants - 1} more quant${group.quants === 2 ? '' : 's'} of that product there)` : '';
        return {
          fields: { sku, warehouse: group.locationName, on_hand: group.onHand, reserved: group.reserved },
          ordinal: group.ordinal,
          locate: () => `${group.at}${more}`,
        };
      };

      let pageNumber = 1;
      let offset = 0;
      let ordinal = 0;
      let open: Group | undefined;
      let pending: Promise<unknown> | null = fetchPage(0, 1);
      try {
        while (pending) {
          const quants: unknown = await pending;
          const where = `${quantsLabel()} page ${pageNumber}`;
          if (!Array.isArray(quants))
            throw new SourceError(`${where}: expected an array of stock.quant records, found ${quants === null ? 'null' : typeof quants}`);
          index.addPage(ordinal + 1);
          offset += quants.length;
          pending = quants.length === options.pageSize ? fetchPage(offset, pageNumber + 1) : null;

          const unknown = new Set<number>();
          for (const quant of quants as Record<string, unknown>[]) {
            const product = asMany2one(quant?.product_id);
            if (product && !codes.has(product[0])) unknown.add(product[0]);
          }
          if (unknown.size > 0) await resolveProducts([...unknown], pageNumber);

          for (let i = 0; i < quants.length; i++) {
            ordinal++;
            const quant = quants[i] as Record<string, unknown> | null;
            const at = `${where}, record ${i + 1}`;
            const product = asMany2one(quant?.product_id);
            const location = asMany2one(quant?.location_id);
            if (!quant || !product || !location) {
              yield { problem: `${at}: expected a stock.quant with product_id and location_id as [id, name] pairs` };
              continue;
            }
            if (typeof quant.quantity !== 'number') {
              yield { problem: `${at}: quantity expected a number, got ${JSON.stringify(quant.quantity) ?? 'nothing'}` };
              continue;
            }
            if (open && open.locationId === location[0] && open.productId === product[0]) {
              open.onHand = addQuantity(open.onHand, quant.quantity);
              open.reserved = addQuantity(open.reserved, quant.reserved_quantity);
              open.quants++;
              continue;
            }
            if (open) {
              const item = emit(open);
              if (item) yield item;
            }
            open = {
              locationId: location[0],
              locationName: location[1],
              productId: product[0],
              productName: product[1],
              onHand: addQuantity(0, quant.quantity),
              reserved: addQuantity(0, quant.reserved_quantity),
              quants: 1,
              ordinal,
              at,
            };
          }
          pageNumber++;
        }
        if (open) {
          const item = emit(open);
          if (item) yield item;
        }
      } finally {
        cancel.abort();
      }
    },
  };
}
