import type { DiscoveryOptions, IssuerMetadata } from './discovery';

/** Metadata changes rarely; a token endpoint that stops answering makes it be read again sooner. */
export const ISSUER_METADATA_TTL_MS = 60 * 60_000;
/** Far more issuers than a worker serves: the bound only keeps a stream of distinct issuers from growing memory. */
export const MAX_CACHED_ISSUERS = 1_000;

export interface IssuerMetadataCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

export interface KnownMetadata {
  metadata: IssuerMetadata;
  /** True when it was read before this call: it may be out of date. */
  cached: boolean;
}

/**
 * Each issuer's metadata as last read by this worker, kept for a while so that a token request does
 * not cost a metadata request too. Only metadata that passed every check is kept; a failed read is
 * tried again on the next call.
 */
export class IssuerMetadataCache {
  private readonly entries = new Map<string, { metadata: IssuerMetadata; until: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly read: (issuer: string, options: DiscoveryOptions) => Promise<IssuerMetadata>,
    options: IssuerMetadataCacheOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? ISSUER_METADATA_TTL_MS;
    this.maxEntries = options.maxEntries ?? MAX_CACHED_ISSUERS;
    this.now = options.now ?? Date.now;
  }

  /** `fresh` reads the metadata again whatever is kept, e.g. when the kept token endpoint failed. */
  async get(issuer: string, options: DiscoveryOptions, { fresh = false } = {}): Promise<KnownMetadata> {
    const kept = this.entries.get(issuer);
    if (!fresh && kept && this.now() < kept.until) return { metadata: kept.metadata, cached: true };
    const metadata = await this.read(issuer, options);
    // Deleted first so that insertion order is age order and the oldest entry is the first key.
    this.entries.delete(issuer);
    this.entries.set(issuer, { metadata, until: this.now() + this.ttlMs });
    const oldest = this.entries.keys().next().value;
    if (this.entries.size > this.maxEntries && oldest !== undefined) this.entries.delete(oldest);
    return { metadata, cached: false };
  }
}
