/** Failed logins allowed per address within the window; then every attempt waits for the window to pass. */
const MAX_FAILURES = 5;
const WINDOW_MS = 60_000;

/** Slows password guessing to a handful of tries a minute from any one address. */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Milliseconds until `address` may try again; 0 when it may now. */
  waitMs(address: string): number {
    const recent = this.recent(address);
    if (recent.length < MAX_FAILURES) return 0;
    return (recent[recent.length - MAX_FAILURES] ?? 0) + WINDOW_MS - this.now();
  }

  fail(address: string): void {
    this.failures.set(address, [...this.recent(address), this.now()]);
  }

  succeed(address: string): void {
    this.failures.delete(address);
  }

  private recent(address: string): number[] {
    const since = this.now() - WINDOW_MS;
    const recent = (this.failures.get(address) ?? []).filter((at) => at > since);
    if (recent.length === 0) this.failures.delete(address);
    return recent;
  }
}
