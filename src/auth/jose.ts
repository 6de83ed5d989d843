/**
 * jose, the JWT library, loaded on first use rather than at start: a gateway whose clients present API
 * keys (or no token yet) never needs it. The first JWT to verify or revoke loads it; a library that
 * fails to load refuses the token (the callers answer invalid_token, naming what failed).
 */
import { lazyModule } from '../util/lazy-module.ts';

export const jose = lazyModule('the JWT library (jose)', () => import('jose'));
