/**
 * A dependency loaded on first use instead of at start, for what the embedded default does not need
 * until some request does (see docs/performance.md, "Memory"). The first call starts the import and
 * returns its promise; once it has loaded, every call returns the module itself, so a caller on the
 * request path can continue synchronously (`loaded ?? await load()` costs no turn of the event loop).
 * A module that fails to load rejects with an error that names it, and the next call tries again:
 * callers refuse what needed it (fail closed) rather than act without it.
 */
export type Lazy<M> = () => M | Promise<M>;

export function lazyModule<M>(what: string, load: () => Promise<M>): Lazy<M> {
  let loaded: M | undefined;
  let loading: Promise<M> | undefined;
  return () =>
    loaded ??
    (loading ??= load().then(
      (module) => (loaded = module),
      (error: unknown) => {
        loading = undefined;
        throw new Error(`${what} could not be loaded: ${(error as Error).message}`);
      },
    ));
}
