// Bundle levels: computed from their components' rows in t_diff, decided by the same rules.
import type { LoadedConfig } from '../config/load.js';
import { InputError } from '../errors.js';
import type { Db } from '../store/db.js';
import { bundleAvailable, bundleOrder, type BundleMap } from './bundles.js';
import { type ResolvedLocation } from './locations.js';
import { decideLevel, resolveAuthority } from './rules.js';

/** Bundles: per location, the minimum over components of floor(component available / quantity). */
export function joinBundles(db: Db, config: LoadedConfig, locations: ResolvedLocation[], shopifyId: number, bundles: BundleMap, issues: string[]): void {
  if (bundles.size === 0) return;
  const inErp = db.prepare('SELECT sku FROM t_erp_sku WHERE sku IN (SELECT sku FROM t_bundle) ORDER BY sku').pluck().all() as string[];
  if (inErp.length > 0) {
    throw new InputError(
      `${config.bundles.csv}: bundle SKU${inErp.length > 1 ? 's' : ''} ${inErp.map((s) => JSON.stringify(s)).join(', ')} also in the ERP export; a bundle has no stock of its own (remove it from one of the two)`,
    );
  }
  const components = new Set([...bundles.values()].flatMap((list) => list.map((c) => c.sku)));
  const missing = [...components].filter((sku) => !bundles.has(sku) && !db.prepare('SELECT 1 FROM t_erp_sku WHERE sku = ?').get(sku)).sort();
  // An untracked item the ERP does not list (gift wrap, engraving) is not stock that runs out: counted as 0
  // it would zero its bundles everywhere. One the ERP lists is counted as the ERP says (docs/reconcile.md).
  const untracked = db.prepare('SELECT 1 FROM t_shop_sku WHERE sku = ? AND n_items = 1 AND tracked = 0').pluck();
  const unlimited = new Set(missing.filter((sku) => untracked.get(sku) !== undefined));
  for (const sku of missing) {
    issues.push(
      unlimited.has(sku)
        ? `bundle component ${JSON.stringify(sku)} is not in the ERP export and Shopify does not track its quantities: it does not limit its bundles`
        : `bundle component ${JSON.stringify(sku)} is not in the ERP export: counted as 0 available`,
    );
  }
  const unknown = new Set<string>();

  const componentAvailable = db.prepare('SELECT erp_available FROM t_diff WHERE sku = ? AND location_id = ? AND kind = ?').pluck();
  const level = db.prepare(
    `SELECT sh.item_id, sh.n_items, sh.tracked, sl.available, sl.committed FROM t_shop_sku sh
     LEFT JOIN shopify_levels sl ON sl.snapshot_id = ? AND sl.inventory_item_id = sh.item_id AND sl.location_id = ? WHERE sh.sku = ?`,
  );
  const base = db.prepare(
    `SELECT r.erp_available, r.shopify_available, bs.committed FROM reconciled_levels r
     LEFT JOIN shopify_levels bs ON bs.snapshot_id = r.shopify_snapshot_id AND bs.sku = r.sku AND bs.location_id = r.location_id
     WHERE r.sku = ? AND r.location_id = ?`,
  );
  const insert = db.prepare(
    `INSERT INTO t_diff (sku, location_id, kind, inventory_item_id, safety, safety_source, erp_available, clamped, observed, authority, authority_source,
       base_erp, base_shopify, orders, status, target, limited_by)
     VALUES (@sku, @location, 'bundle', @item, @safety, @safetySource, @available, 0, @observed, @authority, @authoritySource, @baseErp, @baseShopify, @orders, @status, @target, @limitedBy)`,
  );
  for (const location of locations) {
    const computed = new Map<string, number | null>();
    for (const bundle of bundleOrder(bundles)) {
      const safety = Object.hasOwn(config.safetyStock.bySku, bundle) ? config.safetyStock.bySku[bundle]! : 0;
      const { available, limitedBy } = bundleAvailable(
        bundles.get(bundle)!,
        (sku) =>
          unlimited.has(sku)
            ? null
            : computed.has(sku)
              ? computed.get(sku)!
              : ((componentAvailable.get(sku, location.locationId, 'level') as number | undefined) ?? 0),
        safety,
      );
      computed.set(bundle, available);
      if (available === null) {
        unknown.add(bundle);
        continue;
      }
      const shop = level.get(shopifyId, location.locationId, bundle) as
        { item_id: string; n_items: number; tracked: number; available: number | null; committed: number | null } | undefined;
      // A bundle has no category: the location's authority, else the default.
      const { authority, source: authoritySource } = resolveAuthority(config, null, location.authority);
      const prior = base.get(bundle, location.locationId) as { erp_available: number; shopify_available: number; committed: number | null } | undefined;
      const observed = shop?.n_items === 1 ? shop.available : null;
      const { status, target, orders, worth } = decideLevel({
        nItems: shop?.n_items ?? null,
        tracked: shop?.n_items === 1 ? shop.tracked !== 0 : null,
        locationActive: location.isActive,
        observed,
        erpAvailable: available,
        authority,
        committed: shop?.committed ?? null,
        base: prior && { erp: prior.erp_available, shopify: prior.shopify_available, committed: prior.committed },
      });
      if (!worth) continue;
      insert.run({
        sku: bundle,
        location: location.locationId,
        item: shop?.item_id ?? null,
        safety,
        safetySource: safety ? 'bySku' : 'default',
        available,
        observed,
        authority,
        authoritySource,
        baseErp: prior?.erp_available ?? null,
        baseShopify: prior?.shopify_available ?? null,
        orders,
        status,
        target,
        limitedBy,
      });
    }
  }
  for (const bundle of [...unknown].sort())
    issues.push(`bundle ${JSON.stringify(bundle)}: none of its components limits it (each is untracked and not in the ERP export): left as it is in Shopify`);
}
