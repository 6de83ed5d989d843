/**
 * `node:http`, loaded with `require`. An ES import of `node:http` reads every export to build the module
 * namespace, and the lazy `WebSocket`/`CloseEvent`/`MessageEvent` getters among them load Node's bundled
 * undici — about 12 MB of resident memory on Node 24 (measured: an idle process importing `node:http`
 * is at 62 MB, one requiring it at 49 MB) for classes the gateway never uses. Types still come from
 * `import type … from 'node:http'`, which is erased.
 */
import { createRequire } from 'node:module';

const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');

export const { createServer } = http;
