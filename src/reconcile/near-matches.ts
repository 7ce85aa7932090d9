// SKUs that are the same code spelt differently on the two sides: reported, never matched.
import type { Db } from '../store/db.js';

/** One spelling of a SKU for near-match hints: no case, no leading zeros, Excel's 1.23E+11 written out. */
function nearKey(sku: string): string {
  const lower = sku.toLowerCase();
  const excel = /^(\d+)(?:\.(\d+))?e\+(\d+)$/.exec(lower);
  if (excel) {
    const [, whole, fraction = '', exponent] = excel;
    const digits = whole! + fraction;
    const zeros = Number(exponent) - fraction.length;
    if (zeros >= 0 && zeros < 30) return (digits + '0'.repeat(zeros)).replace(/^0+(?=\d)/, '');
  }
  return /^\d+$/.test(lower) ? lower.replace(/^0+(?=\d)/, '') : lower;
}

function nearReason(erp: string, shop: string): string {
  if (erp.toLowerCase() === shop.toLowerCase()) return 'differ only by letter case (skuMatch: "case-insensitive" matches them)';
  if (/e\+/i.test(erp + shop)) return "are the same number, one in Excel's scientific notation (was the export opened and saved in Excel?)";
  return 'differ only by leading zeros (was the export opened in a spreadsheet?)';
}

/**
 * ERP SKUs with no Shopify item and Shopify SKUs not in the ERP that are the same code spelt differently:
 * issues, and the Shopify side is not zeroed by unknownSkus "zero" until a person has looked.
 */
export function nearMatches(db: Db, issues: string[]): void {
  db.exec('DROP TABLE IF EXISTS temp.t_near_shop; CREATE TEMP TABLE t_near_shop (sku TEXT PRIMARY KEY) WITHOUT ROWID');
  const erpOnly = db.prepare('SELECT sku FROM t_erp_sku WHERE n_items IS NULL').pluck().all() as string[];
  if (erpOnly.length === 0) return;
  const shopByKey = new Map<string, string>();
  for (const sku of db.prepare('SELECT sku FROM t_shop_sku WHERE sku NOT IN (SELECT sku FROM t_erp_sku)').pluck().iterate() as IterableIterator<string>) {
    shopByKey.set(nearKey(sku), sku);
  }
  const found: string[] = [];
  const mark = db.prepare('INSERT OR IGNORE INTO t_near_shop VALUES (?)');
  for (const erp of erpOnly) {
    const shop = shopByKey.get(nearKey(erp));
    if (shop === undefined) continue;
    mark.run(shop);
    found.push(`ERP SKU ${JSON.stringify(erp)} and Shopify SKU ${JSON.stringify(shop)} ${nearReason(erp, shop)}; they are not matched: fix one side`);
  }
  issues.push(...found.slice(0, 20));
  if (found.length > 20) issues.push(`… and ${found.length - 20} more SKUs that match only when spelt alike`);
}
