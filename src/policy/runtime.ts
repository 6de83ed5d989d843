/**
 * The policy in force, and its replacement on reload: a new policy section is compiled completely and
 * swapped in only when it has no problem, so a bad edit leaves the old policy in force. Rate-limit
 * buckets of limits whose definition did not change carry over a reload (changed and new limits start
 * full); calls in flight keep counting against the new concurrency caps.
 */
import { ConcurrencyLimiter, RateLimiter } from '../ratelimit/limiter.ts';
import { compilePolicy, type CompileOptions, type Policy, type PolicyProblem } from './policy.ts';
import type { PolicyConfig } from './schema.ts';

export class PolicyInvalid extends Error {
  readonly problems: PolicyProblem[];
  constructor(problems: PolicyProblem[]) {
    super(`the policy has ${problems.length} problem${problems.length > 1 ? 's' : ''}:\n${problems.map((p) => `  ${p.path.join('.')}: ${p.message}`).join('\n')}`);
    this.name = 'PolicyInvalid';
    this.problems = problems;
  }
}

export interface PolicyState {
  readonly policy: Policy;
  readonly limiter: RateLimiter;
  readonly maxArgumentBytes: number;
}

export class PolicyRuntime {
  readonly concurrency = new ConcurrencyLimiter({});
  #state: PolicyState;
  readonly #options: () => CompileOptions;
  readonly #clock: () => number;

  /** `clock`: monotonic milliseconds for the rate-limit buckets (tests pass a fake). */
  constructor(config: PolicyConfig | undefined, options: () => CompileOptions, clock: () => number = () => performance.now()) {
    this.#options = options;
    this.#clock = clock;
    const { policy, problems } = compilePolicy(config, options());
    if (problems.length > 0) throw new PolicyInvalid(problems);
    this.#state = this.#stateFor(policy, config);
  }

  get current(): PolicyState {
    return this.#state;
  }

  /** Compiles `config`; puts it in force only if it has no problem. Returns the problems. */
  load(config: PolicyConfig | undefined): PolicyProblem[] {
    const { policy, problems } = compilePolicy(config, this.#options());
    if (problems.length > 0) return problems;
    this.#state = this.#stateFor(policy, config);
    return [];
  }

  #stateFor(policy: Policy, config: PolicyConfig | undefined): PolicyState {
    this.concurrency.setCaps(config?.concurrency ?? {});
    return { policy, limiter: new RateLimiter(config?.limits ?? [], this.#clock, this.#state?.limiter), maxArgumentBytes: config?.maxArgumentBytes ?? 1024 * 1024 };
  }
}
