import type { ErpSource } from '../ingest.js';
import { genericApiSource } from './generic.js';
import type { HttpJsonClient } from './http.js';
import { siteUrl } from './support.js';

export interface ErpnextOptions {
  /** The site root, e.g. https://erp.example.com */
  url: string;
  apiKey: string;
  apiSecret: string;
  pageSize: number;
  /** Extra plain headers from config. */
  headers?: Record<string, string>;
  http: HttpJsonClient;
  /** Frappe filters (watch's polling: `[["modified", ">=", cursor]]`). */
  filters?: unknown[];
}

/** The Bin fields read, and the ERP column each one feeds. */
export const ERPNEXT_BIN_FIELDS = {
  sku: 'item_code',
  warehouse: 'warehouse',
  on_hand: 'actual_qty',
  reserved: 'reserved_qty',
  incoming: 'ordered_qty',
} as const;

/**
 * ERPNext (Frappe) stock levels: one `Bin` per (item, warehouse) over the REST resource API,
 * `GET /api/resource/Bin?fields=[…]&limit_start=N&limit_page_length=M`, answer `{ "data": [...] }`.
 * Ordered by name so that offset paging is stable (the default order, modified desc, shifts while
 * stock moves). Quantities are floats in ERPNext; integral ones (12.0) pass, 12.5 is a bad row.
 */
export function erpnextSource(options: ErpnextOptions): ErpSource {
  const url = siteUrl(options.url, '/api/resource/Bin');
  return genericApiSource({
    url,
    query: {
      fields: JSON.stringify(Object.values(ERPNEXT_BIN_FIELDS)),
      order_by: 'name asc',
      ...(options.filters ? { filters: JSON.stringify(options.filters) } : {}),
    },
    headers: { ...options.headers, authorization: `token ${options.apiKey}:${options.apiSecret}` },
    recordsPath: 'data',
    fields: ERPNEXT_BIN_FIELDS,
    pagination: { style: 'offset', offsetParam: 'limit_start', limitParam: 'limit_page_length' },
    pageSize: options.pageSize,
    stopAt: 'short-page',
    http: options.http,
  });
}
