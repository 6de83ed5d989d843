import { createRequire } from 'node:module';

/** The package version, as published. */
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
