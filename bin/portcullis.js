#!/usr/bin/env node
// Launcher for `npx portcullis` and the package bin: checks the Node.js version first (one line and
// exit 2 on an old Node), then runs the compiled build (dist/, made by `npm run build`, which `npm ci`
// and `npm start` run) and falls back to the TypeScript sources, which Node >= 22.18 runs directly,
// when there is no build.
import { existsSync } from 'node:fs';
import { nodeProblem } from './check-node.js';

const problem = nodeProblem();
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exit(2);
}
const built = new URL('../dist/main.js', import.meta.url);
await import(existsSync(built) ? built.href : new URL('../src/main.ts', import.meta.url).href);
