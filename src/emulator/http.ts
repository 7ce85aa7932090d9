// The emulator's HTTP plumbing: JSON answers and size-capped request bodies.
import type { IncomingMessage, ServerResponse } from 'node:http';

const MAX_BODY = 10 * 1024 * 1024;

export interface Answer {
  status: number;
  body: unknown;
}

export function sendJson(res: ServerResponse, answer: Answer): void {
  // Encoded once: its length and the bytes sent come from the same buffer.
  const bytes = Buffer.from(JSON.stringify(answer.body), 'utf8');
  res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': bytes.length });
  res.end(bytes);
}

/** The request body, or undefined when it is larger than MAX_BODY. */
export async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
