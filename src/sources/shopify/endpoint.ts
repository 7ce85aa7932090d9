import { InputError, type SourceError } from '../../errors.js';
import { TOKEN_ENV, redactUrl } from '../../secrets.js';

export const ENDPOINT_ENV = 'INVRECON_SHOPIFY_ENDPOINT';

/** 127.0.0.0/8, localhost and [::1]: the only hosts plain http may reach (the local emulator). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host === '[::1]' || host === '::1') return true;
  const octets = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return octets !== null && Number(octets[1]) === 127 && octets.slice(2).every((o) => Number(o) <= 255);
}

/** Throws unless the URL is https, or plain http to a loopback host. `what` names where the URL came from. */
export function assertSafeUrl(url: URL, what: string, ErrorType: typeof InputError | typeof SourceError = InputError): void {
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:') {
    if (isLoopbackHost(url.hostname)) return;
    throw new ErrorType(`${what}: plain http is only allowed for loopback hosts (127.0.0.0/8, localhost, [::1]); use https for ${url.host}`);
  }
  throw new ErrorType(`${what}: expected an http(s) URL, got protocol "${url.protocol}"`);
}

/**
 * A URL a person configured, checked: it parses, carries no user:password@ (`credentials` says what to do
 * instead), and is https or plain http to a loopback host. InputError naming `what` otherwise.
 */
export function parseConfiguredUrl(text: string, what: string, credentials: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(`${what}: not a valid URL`);
  }
  if (url.username || url.password) throw new InputError(`${what}: ${credentials}`);
  assertSafeUrl(url, what);
  return url;
}

export interface ShopifyEndpoint {
  /** The GraphQL URL every request goes to. */
  graphqlUrl: string;
  /** True when INVRECON_SHOPIFY_ENDPOINT redirected the requests. */
  overridden: boolean;
}

/**
 * `https://{shop}/admin/api/{version}/graphql.json`, or INVRECON_SHOPIFY_ENDPOINT (taken as it is,
 * e.g. the emulator's base URL) with the same path appended.
 */
export function resolveEndpoint(shop: string, apiVersion: string, env: NodeJS.ProcessEnv = process.env): ShopifyEndpoint {
  const path = `/admin/api/${apiVersion}/graphql.json`;
  const override = env[ENDPOINT_ENV]?.trim();
  if (!override) return { graphqlUrl: `https://${shop}${path}`, overridden: false };
  const base = parseConfiguredUrl(
    override,
    ENDPOINT_ENV,
    `credentials in the URL (user:password@) are not accepted; the access token goes in ${TOKEN_ENV} only`,
  );
  if (base.search || base.hash)
    throw new InputError(`${ENDPOINT_ENV}: expected a base URL without query or fragment, got ${JSON.stringify(redactUrl(override))}`);
  return { graphqlUrl: override.replace(/\/+$/, '') + path, overridden: true };
}
