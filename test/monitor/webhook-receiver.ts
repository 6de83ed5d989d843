/**
 * A webhook receiver on loopback for the monitor tests: keeps every delivery and checks its
 * X-Portcullis-Signature the way a receiver should (HMAC-SHA256 over "<t>.<raw body>", constant-time
 * compare, a fresh timestamp).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Delivery {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  raw: string;
  signature: string | undefined;
  /** Whether the signature verifies with the receiver's key and its timestamp is within 5 minutes. */
  verified: boolean;
}

export interface Receiver {
  url: string;
  deliveries: Delivery[];
  /** Status codes to answer with, in order, before answering 200 (to exercise retries). */
  failFirst: number[];
  close(): Promise<void>;
}

export function verifySignature(key: string, raw: string, header: string | undefined, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return false;
  if (Math.abs(nowSeconds - Number(m[1])) > 300) return false;
  const expected = createHmac('sha256', key).update(`${m[1]}.${raw}`).digest();
  return timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'));
}

export async function startReceiver(key: string): Promise<Receiver> {
  const deliveries: Delivery[] = [];
  const failFirst: number[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const fail = failFirst.shift();
      if (fail !== undefined) {
        res.writeHead(fail).end();
        return;
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      const signature = req.headers['x-portcullis-signature'] as string | undefined;
      deliveries.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(raw), raw, signature, verified: verifySignature(key, raw, signature) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    deliveries,
    failFirst,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
