/**
 * A value now, or a promise of it later: what a per-call stage returns when it usually has its inputs
 * cached and only sometimes must wait. Awaiting a plain value still costs a microtask turn, so the hot
 * path continues synchronously on plain values and chains only real promises.
 */
export type Maybe<T> = T | Promise<T>;

/** `next(value)` now when `value` is plain, else once it settles (a rejection passes through). */
export function then<T, R>(value: Maybe<T>, next: (value: T) => Maybe<R>): Maybe<R> {
  return value instanceof Promise ? value.then(next) : next(value);
}

/**
 * Runs a generator that yields what it waits for: synchronously while every yielded value is plain,
 * asynchronously from the first promise on. One piece of logic serves both the cached path and the
 * path that must wait.
 */
export function drive<Y, T>(steps: Generator<Maybe<Y>, T, Y>): Maybe<T> {
  let step = steps.next();
  while (!step.done) {
    const value = step.value;
    if (value instanceof Promise) return driveAsync(steps, value);
    step = steps.next(value);
  }
  return step.value;
}

async function driveAsync<Y, T>(steps: Generator<Maybe<Y>, T, Y>, pending: Promise<Y>): Promise<T> {
  let step = steps.next(await pending);
  while (!step.done) step = steps.next(await step.value);
  return step.value;
}
