// Runs one call per argument with a bound on how many are in flight, reporting each result in argument
// order as soon as it and every earlier one are done. Docker's CLI does the same for stop/rm of a list
// (50 at a time, output in argument order): a long list must not open one daemon connection per name.

/** How many calls Docker's CLI has in flight at once for a multi-container stop or rm. */
export const DEFAULT_PARALLEL = 50;

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Calls `fn` for each item, at most `limit` at a time; `report` gets each outcome in item order.
 * Resolves when every call has settled and been reported.
 */
export async function inOrderBounded<I, T>(
  items: readonly I[],
  limit: number,
  fn: (item: I) => Promise<T>,
  report: (item: I, outcome: Outcome<T>) => void,
): Promise<void> {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`inOrderBounded: limit must be a positive integer, not ${limit}`);
  const outcomes: (Outcome<T> | undefined)[] = new Array(items.length);
  let next = 0;
  let reported = 0;
  const flush = (): void => {
    while (reported < items.length && outcomes[reported] !== undefined) {
      report(items[reported]!, outcomes[reported]!);
      outcomes[reported] = undefined; // reported: let it go
      reported++;
    }
  };
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        outcomes[i] = { ok: true, value: await fn(items[i]!) };
      } catch (error) {
        outcomes[i] = { ok: false, error };
      }
      flush();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
