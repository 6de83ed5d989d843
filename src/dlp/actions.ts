/**
 * What DLP may do with what it finds, and what it does when the configuration has no `dlp` section:
 * used by the schema (./schema.ts, zod) and by the engine, which does not load the schema.
 */
export const RESULT_ACTIONS = ['mask', 'block', 'alert', 'off'] as const;
export const INJECTION_ACTIONS = ['flag', 'wrap', 'block', 'off'] as const;
export const ARGUMENT_ACTIONS = ['block', 'alert', 'off'] as const;

export type ResultAction = (typeof RESULT_ACTIONS)[number];
export type InjectionAction = (typeof INJECTION_ACTIONS)[number];
export type ArgumentAction = (typeof ARGUMENT_ACTIONS)[number];

export const DLP_DEFAULTS = {
  results: { secrets: 'mask', pii: 'off', injection: 'off' },
  arguments: { secrets: 'block', pii: 'off' },
} as const satisfies { results: { secrets: ResultAction; pii: ResultAction; injection: InjectionAction }; arguments: { secrets: ArgumentAction; pii: ArgumentAction } };
