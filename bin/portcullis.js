#!/usr/bin/env node
// Thin launcher so `npx portcullis` and the package bin work: Node >= 22.18 runs the TypeScript
// sources directly (type stripping), so there is no build step to forget.
import '../src/main.ts';
