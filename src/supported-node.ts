/** undici, which makes every token request and call, needs this release; older ones fail deep inside it. */
export const MINIMUM_NODE_VERSION = '22.19';

/** Says why this Node.js cannot run temporal-oauth, or undefined when it can. */
export function unsupportedNodeMessage(version: string = process.versions.node): string | undefined {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const [neededMajor = 0, neededMinor = 0] = MINIMUM_NODE_VERSION.split('.').map(Number);
  if (major > neededMajor || (major === neededMajor && minor >= neededMinor)) return undefined;
  return `temporal-oauth needs Node.js ${MINIMUM_NODE_VERSION} or later; this is Node.js ${version}. Install a newer Node.js and run again.`;
}

/** Fails at load, before any dependency can fail less clearly. */
export function requireSupportedNode(): void {
  const message = unsupportedNodeMessage();
  if (message !== undefined) throw new Error(message);
}
