import type { Command } from 'commander';
import { EXIT, InputError, UsageError } from '../../errors.js';
import {
  DEFAULT_IDEMPOTENCY_TTL_S,
  DEFAULT_SCOPES,
  generateSeedSource,
  loadSeed,
  parseGenerateSpec,
  parseScopes,
  SeedError,
  startEmulator,
  type SeedSource,
} from '../../emulator/index.js';
import type { ExitCodeSink } from '../main.js';
import { write } from '../shared.js';

interface EmulatorFlags {
  port: string;
  host: string;
  seed?: string;
  generate?: string;
  generateSeed: string;
  maxAvailable: string;
  restoreRate: string;
  errorRate: string;
  dropRate: string;
  lateErrorRate: string;
  latencyMs: string;
  salesPerSecond: string;
  faultSeed: string;
  token?: string;
  idempotencyTtlS: string;
  scopes: string;
  webhookUrl?: string;
  webhookSecret?: string;
  webhookDuplicateRate: string;
  webhookMaxAttempts: string;
  webhookBackoffMs: string;
}

function number(value: string, flag: string, { min = 0, max = Number.POSITIVE_INFINITY, integer = false } = {}): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < min || parsed > max || (integer && !Number.isInteger(parsed))) {
    throw new UsageError(`${flag}: expected ${integer ? 'a whole number' : 'a number'} between ${min} and ${max}, got ${JSON.stringify(value)}`);
  }
  return parsed;
}

export function registerEmulator(program: Command, setExitCode: ExitCodeSink): Command {
  return program
    .command('emulator')
    .description('a local Shopify Admin GraphQL emulator; prints its base URL first, logs to stderr, runs until Ctrl-C')
    .option('--port <n>', 'port (0 picks a free one)', '0')
    .option('--host <address>', 'loopback address to listen on', '127.0.0.1')
    .option('--seed <file>', 'shop to serve (JSON, see docs/emulator.md)')
    .option('--generate <ITEMSxLOCATIONS>', 'generate a shop instead, e.g. 100000x10')
    .option('--generate-seed <n>', 'RNG seed of --generate', '1')
    .option('--max-available <n>', 'leaky bucket size (points)', '2000')
    .option('--restore-rate <n>', 'leaky bucket restore rate (points per second)', '100')
    .option('--error-rate <f>', 'fraction of GraphQL requests answered 5xx', '0')
    .option('--drop-rate <f>', 'fraction of GraphQL requests whose answer is dropped (the request still runs)', '0')
    .option('--late-error-rate <f>', 'fraction of GraphQL requests answered 502/504 after they ran (the write happened)', '0')
    .option('--latency-ms <n>', 'added latency per GraphQL request', '0')
    .option('--sales-per-second <n>', 'simulated orders per second (available → committed on random levels)', '0')
    .option('--fault-seed <n>', 'RNG seed of faults and sales', '1')
    .option('--token <token>', 'accept only this X-Shopify-Access-Token (default: any non-empty token)')
    .option('--idempotency-ttl-s <n>', 'seconds an idempotency key is remembered after its request (0: forgotten at once)', String(DEFAULT_IDEMPOTENCY_TTL_S))
    .option('--scopes <list>', 'access scopes granted to the app, comma-separated', DEFAULT_SCOPES.join(','))
    .option('--webhook-url <url>', 'POST a signed inventory_levels/update webhook here for every change of available')
    .option('--webhook-secret <secret>', 'the secret webhooks are signed with (X-Shopify-Hmac-Sha256); required with --webhook-url')
    .option('--webhook-duplicate-rate <f>', 'fraction of delivered webhooks sent twice (same X-Shopify-Webhook-Id)', '0')
    .option('--webhook-max-attempts <n>', 'attempts per webhook before giving up (retries on non-2xx or network errors)', '8')
    .option('--webhook-backoff-ms <n>', 'first retry delay, doubled after each failed attempt', '1000')
    .action(async (flags: EmulatorFlags) => {
      try {
        await serve(flags);
      } catch (error) {
        // The emulator imports nothing of the tool: its seed errors become input errors (exit 1) here.
        throw error instanceof SeedError ? new InputError(error.message, error.details) : error;
      }
      setExitCode(EXIT.ok);
    });
}

/** Loads the shop, starts the emulator and serves until SIGINT/SIGTERM. */
async function serve(flags: EmulatorFlags): Promise<void> {
  if (flags.seed && flags.generate) throw new UsageError('give --seed FILE or --generate ITEMSxLOCATIONS, not both');
  if (!flags.seed && !flags.generate) throw new UsageError('give --seed FILE (e.g. fixtures/demo/shop.json) or --generate ITEMSxLOCATIONS (e.g. 1000x3)');
  let seed: SeedSource;
  if (flags.generate) {
    const size = parseGenerateSpec(flags.generate);
    seed = generateSeedSource({ ...size, seed: number(flags.generateSeed, '--generate-seed', { integer: true }) });
  } else {
    seed = loadSeed(flags.seed!);
  }
  let scopes: string[];
  try {
    scopes = parseScopes(flags.scopes);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (flags.webhookUrl && !flags.webhookSecret) throw new UsageError('--webhook-url needs --webhook-secret (webhooks are signed with it)');
  if (flags.webhookSecret && !flags.webhookUrl) throw new UsageError('--webhook-secret is only used with --webhook-url');
  if (flags.webhookUrl && !/^https?:\/\/[^\s/]+/.test(flags.webhookUrl))
    throw new UsageError(`--webhook-url: expected an http:// or https:// URL, got ${JSON.stringify(flags.webhookUrl)}`);
  const webhooks = flags.webhookUrl
    ? {
        url: flags.webhookUrl,
        secret: flags.webhookSecret!,
        duplicateRate: number(flags.webhookDuplicateRate, '--webhook-duplicate-rate', { max: 1 }),
        maxAttempts: number(flags.webhookMaxAttempts, '--webhook-max-attempts', { min: 1, max: 100, integer: true }),
        backoffMs: number(flags.webhookBackoffMs, '--webhook-backoff-ms'),
      }
    : undefined;
  if (Number(flags.dropRate) + Number(flags.lateErrorRate) > 1) throw new UsageError('--drop-rate and --late-error-rate add up to more than 1');
  const started = performance.now();
  const emulator = await startEmulator({
    seed,
    port: number(flags.port, '--port', { max: 65535, integer: true }),
    host: flags.host,
    token: flags.token,
    idempotencyTtlS: number(flags.idempotencyTtlS, '--idempotency-ttl-s'),
    scopes,
    webhooks,
    bucket: {
      maximumAvailable: number(flags.maxAvailable, '--max-available', { min: 1 }),
      restoreRate: number(flags.restoreRate, '--restore-rate'),
    },
    faults: {
      errorRate: number(flags.errorRate, '--error-rate', { max: 1 }),
      dropRate: number(flags.dropRate, '--drop-rate', { max: 1 }),
      lateErrorRate: number(flags.lateErrorRate, '--late-error-rate', { max: 1 }),
      latencyMs: number(flags.latencyMs, '--latency-ms'),
      salesPerSecond: number(flags.salesPerSecond, '--sales-per-second'),
      seed: number(flags.faultSeed, '--fault-seed', { integer: true }),
    },
    log: (line) => write.note(line),
  }).catch((error: unknown) => {
    throw error instanceof Error && /loopback/.test(error.message) ? new UsageError(`--host: ${error.message}`) : error;
  });
  // The first stdout line is the base URL, as INVRECON_SHOPIFY_ENDPOINT takes it.
  write.out(emulator.url);
  const counters = emulator.state.counters;
  write.note(`emulator: serving ${emulator.graphqlUrl('{version}')} (started in ${Math.round(performance.now() - started)} ms); Ctrl-C to stop`);
  if (webhooks) write.note(`emulator: posting inventory_levels/update webhooks to ${webhooks.url}`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      write.note(
        `emulator: ${signal}: stopping after ${counters.requests} requests (${counters.throttled} throttled, ${counters.faults.errors + counters.faults.drops + counters.faults.lateErrors} faults)`,
      );
      void emulator.close().then(resolve);
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
}
