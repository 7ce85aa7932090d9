// Webhook delivery of the emulator: a generated shop with a sales stream of RATE orders per second for SECONDS
// seconds, every change of available posted to a local receiver that checks the signature. Prints webhooks
// delivered per second and the delay from the change (X-Shopify-Triggered-At) to its arrival.
// Usage: npx tsx bench/emulator-webhooks.ts [RATE=1000] [SECONDS=5]
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateSeedSource, startEmulator } from '../src/emulator/index.js';

const rate = Number(process.argv[2] ?? 1000);
const seconds = Number(process.argv[3] ?? 5);
const secret = 'bench-secret';
const delays: number[] = [];
let badSignatures = 0;
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (req.headers['x-shopify-hmac-sha256'] !== createHmac('sha256', secret).update(body).digest('base64')) badSignatures++;
    delays.push(Date.now() - Date.parse(String(req.headers['x-shopify-triggered-at'])));
    res.writeHead(200);
    res.end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/shopify`;
const emulator = await startEmulator({ seed: generateSeedSource({ items: 10_000, locations: 3, seed: 1 }), webhooks: { url, secret } });
const started = performance.now();
emulator.state.setFaults({ salesPerSecond: rate });
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
emulator.state.setFaults({ salesPerSecond: 0 });
await emulator.state.webhooksIdle();
const elapsed = (performance.now() - started) / 1000;
const counters = emulator.state.counters.webhooks;
delays.sort((a, b) => a - b);
const at = (q: number) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))] ?? 0;
console.log(
  `${counters.delivered} webhooks delivered of ${counters.created} changes (${emulator.state.counters.sales} orders at ${rate}/s for ${seconds} s) in ${elapsed.toFixed(1)} s: ` +
    `${(counters.delivered / elapsed).toFixed(0)}/s; change → arrival p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${delays[delays.length - 1] ?? 0} ms; ` +
    `${counters.attempts} attempts, ${counters.retries} retries, ${counters.failed} given up, ${badSignatures} bad signatures`,
);
await emulator.close();
receiver.close();
