// How many images go through a phase at once, and the bounded pool that runs them: images build
// side by side where the runner has the cores (each build already uses every core for its
// compile; a second one overlaps what does not: pulls, exports, smoke tests), and push side by
// side whatever the cores. Items start
// in the plan's order; once one fails no new one starts, and every started one settles before the
// pool returns (nothing runs on after the run has failed and cleaned up).
import { availableParallelism } from 'node:os';

/** Builds: at most one image per two cores, at least one, at most four. */
export function imageParallelism(images: number, cores: number = availableParallelism()): number {
  return Math.max(1, Math.min(images, 4, Math.floor(cores / 2)));
}

/** Pushes wait on the network more than on the cores: up to four images at once, whatever the cores. */
export function pushParallelism(images: number): number {
  return Math.max(1, Math.min(images, 4));
}

/** Runs fn for every item, at most `limit` at once; results in the items' order; the first failure (in the items' order) is thrown. */
export async function eachBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const settled: PromiseSettledResult<R>[] = [];
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        settled[i] = { status: 'fulfilled', value: await fn(items[i] as T, i) };
      } catch (reason) {
        failed = true;
        settled[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  const rejected = settled.find((r) => r?.status === 'rejected');
  if (rejected) throw rejected.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<R>).value);
}

/** Waits for every promise; then throws the first failure (in the given order), else returns the values. */
export async function allSettledOrThrow<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(promises);
  const rejected = settled.find((r) => r.status === 'rejected');
  if (rejected) throw rejected.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** A promise with its resolve and reject at hand (Promise.withResolvers, which Node 20 lacks). Its rejection alone is not unhandled. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve: (v: T) => void = () => undefined;
  let reject: (e: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
