// The Shopify token lives in the environment only; never let it reach output, files or errors.
export const TOKEN_ENV = 'SHOPIFY_ADMIN_TOKEN';

const extraSecrets = new Set<string>();

/** Registers another secret value (for example an ERP API key read from the environment) for redaction. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) extraSecrets.add(value);
}

export function redactSecrets(text: string): string {
  let out = text;
  const token = process.env[TOKEN_ENV];
  for (const secret of [token, ...extraSecrets]) {
    if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out;
}
