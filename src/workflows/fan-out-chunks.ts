/**
 * How a server splits its dependents between fan-out activities. Each activity is a few events in the
 * server's history, so the fewer the better; its input, the dependents' IDs as JSON, must fit in one
 * Temporal payload (FACTS: 2 MiB). The budget leaves room for the message (its disabled reason), the
 * payload's metadata and the codec's salt and tag. A server's dependents travel in one payload
 * across continue-as-new too, so a server never holds more than about one budget of them: a disable
 * costs one activity, or two near the limit, whatever their number.
 */
export const FAN_OUT_INPUT_BUDGET_BYTES = 1.5 * 1024 * 1024;

/** What runs recorded before the byte budget did: 1,000 dependents per activity, whatever their IDs' length. */
export const LEGACY_FAN_OUT_CHUNK = 1_000;

/** Consecutive runs of `workflowIds` whose JSON takes at most `budgetBytes` each; an ID is never split, and a run is never empty. */
export function chunksWithinBytes(workflowIds: readonly string[], budgetBytes = FAN_OUT_INPUT_BUDGET_BYTES): string[][] {
  const chunks: string[][] = [];
  let chunk: string[] = [];
  let bytes = 0;
  for (const workflowId of workflowIds) {
    const cost = jsonUtf8Bytes(workflowId) + 1;
    if (chunk.length > 0 && bytes + cost > budgetBytes) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(workflowId);
    bytes += cost;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

export function chunksOfCount(workflowIds: readonly string[], count: number): string[][] {
  const chunks: string[][] = [];
  for (let start = 0; start < workflowIds.length; start += count) chunks.push(workflowIds.slice(start, start + count));
  return chunks;
}

/** The bytes of `value` as a JSON string in UTF-8, escapes included; counted here because the workflow sandbox is no place for Buffer. */
export function jsonUtf8Bytes(value: string): number {
  const json = JSON.stringify(value);
  let bytes = 0;
  for (let index = 0; index < json.length; index += 1) {
    const unit = json.charCodeAt(index);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < json.length && isLowSurrogate(json.charCodeAt(index + 1))) {
      bytes += 4;
      index += 1;
    } else bytes += 3;
  }
  return bytes;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}
