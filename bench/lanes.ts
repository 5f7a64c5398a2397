/** Runs `each` over `items` with at most `lanes` in flight, and returns the results in the items' order. */
export async function inLanes<T, R>(items: readonly T[], lanes: number, each: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await each(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, items.length) }, lane));
  return results;
}

/** `count` numbers from 0, for `inLanes` over a count rather than a list. */
export function range(count: number): number[] {
  return Array.from({ length: count }, (_item, index) => index);
}
