// The Shopify token lives in the environment only; never let it reach output, files or errors.
export const TOKEN_ENV = 'SHOPIFY_ADMIN_TOKEN';

const extraSecrets = new Set<string>();
/** origin + path of URLs that are secret as a whole (webhook URLs carry their secret in the path). */
const secretUrls = new Set<string>();

/** Registers another secret value (for example an ERP API key read from the environment) for redaction. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) extraSecrets.add(value);
}

/** Query parameters whose value is a credential: `?token=…`, `?api_key=…`, `&sig=…`. */
const SECRET_PARAM = /^(?:.*[-_.])?(?:key|apikey|token|secret|password|passwd|pwd|pass|sig|signature|auth|authorization|credentials?|session|sessionid|code)$/i;

export function isSecretParam(name: string): boolean {
  return SECRET_PARAM.test(name);
}

/** What in a URL is a credential: its user:password@, and query parameters named like secrets. */
export function urlCredentials(url: URL): string[] {
  const found: string[] = [];
  if (url.username || url.password) found.push('user:password@');
  for (const name of new Set(url.searchParams.keys())) if (isSecretParam(name)) found.push(`query parameter ${JSON.stringify(name)}`);
  return found;
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** Registers a URL whose every part but the host is secret, in all its spellings (HTTP://, /a/../). */
export function registerSecretUrl(text: string | undefined): void {
  if (!text) return;
  registerSecret(text);
  const url = parseUrl(text.trim());
  if (!url) return;
  secretUrls.add(url.origin + url.pathname);
  registerSecret(url.href);
  registerSecret(url.password);
  registerSecret(decodeURIComponent(url.password));
  if (url.pathname.length >= 8) registerSecret(url.pathname);
}

/**
 * The URL as it may be printed or stored: normalised, without user:password@, secret query values
 * replaced; a URL registered as secret keeps only its origin.
 */
export function redactUrl(text: string): string {
  const url = parseUrl(text);
  if (!url || !/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text;
  if (secretUrls.has(url.origin + url.pathname)) return `${url.origin}/[redacted]`;
  const credentials = urlCredentials(url);
  if (credentials.length === 0) return text;
  url.username = '';
  url.password = '';
  for (const name of [...new Set(url.searchParams.keys())]) if (isSecretParam(name)) url.searchParams.set(name, 'REDACTED');
  return url.href.replace(/=REDACTED\b/g, '=[redacted]');
}

// Anything URL-shaped in a message: scheme://, then up to whitespace, quotes or brackets.
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`{}[\]]+/gi;

export function redactSecrets(text: string): string {
  let out = text;
  const token = process.env[TOKEN_ENV];
  for (const secret of [token, ...extraSecrets]) {
    if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out.replace(URL_IN_TEXT, (match) => {
    // Sentence punctuation after a URL is not part of it.
    const trailing = /[.,;:!?)]+$/.exec(match)?.[0] ?? '';
    const url = match.slice(0, match.length - trailing.length);
    return redactUrl(url) + trailing;
  });
}
