/**
 * How many dependents a server carries. Their IDs travel as JSON in one Temporal payload (FACTS: at
 * most 2 MiB): in the state a server carries across continue-as-new, in the answer to the dependents
 * query its fan-out activity asks, and, in runs begun before that query, in the input of each fan-out
 * activity. The budget leaves room for the rest: the configuration, or the message and its disabled
 * reason, and the payload's metadata and the codec's salt and tag. A server refuses registrations
 * past it, so a disable costs one activity, a few events, whatever the number of dependents.
 */
export const DEPENDENTS_BUDGET_BYTES = 1.5 * 1024 * 1024;

/** What runs recorded before the byte budget did: 1,000 dependents per activity, whatever their IDs' length. */
export const LEGACY_FAN_OUT_CHUNK = 1_000;

/**
 * Consecutive runs of `workflowIds` whose IDs take at most `budgetBytes` each, counted as
 * `dependentBytes` (a JSON array of them is one byte more: two brackets, one comma fewer); an ID is never split,
 * and a run is never empty. More than one only for a server whose dependents registered before the
 * budget was enforced.
 */
export function chunksWithinBytes(workflowIds: readonly string[], budgetBytes = DEPENDENTS_BUDGET_BYTES): string[][] {
  const chunks: string[][] = [];
  let chunk: string[] = [];
  let bytes = 0;
  for (const workflowId of workflowIds) {
    const cost = dependentBytes(workflowId);
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

/** What one dependent adds to a JSON list of them: its ID as a JSON string, and a comma. */
export function dependentBytes(workflowId: string): number {
  return jsonUtf8Bytes(workflowId) + 1;
}

/** What `workflowIds` take together, as `dependentBytes` counts each. */
export function dependentsBytes(workflowIds: Iterable<string>): number {
  let bytes = 0;
  for (const workflowId of workflowIds) bytes += dependentBytes(workflowId);
  return bytes;
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
