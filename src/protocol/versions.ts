/**
 * Protocol revisions the gateway speaks, and the `_meta` keys of the modern era.
 * Sources: spec `2026-07-28/basic/versioning.mdx` (dual-era servers) and `…/basic/index.mdx` (`_meta` keys).
 */

export const MODERN_VERSION = '2026-07-28';
/** Legacy revisions, newest first. A legacy request without `MCP-Protocol-Version` is `2025-03-26`. */
export const LEGACY_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'] as const;
export const LATEST_LEGACY_VERSION = '2025-11-25';
export const DEFAULT_LEGACY_HEADER_VERSION = '2025-03-26';
export const SUPPORTED_VERSIONS: readonly string[] = [MODERN_VERSION, ...LEGACY_VERSIONS];

export type Era = 'modern' | 'legacy';

export const META_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';
export const META_CLIENT_INFO = 'io.modelcontextprotocol/clientInfo';
export const META_CLIENT_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';
export const META_SERVER_INFO = 'io.modelcontextprotocol/serverInfo';
export const META_SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';
export const META_LOG_LEVEL = 'io.modelcontextprotocol/logLevel';

/** The envelope keys a modern client puts on every request; a legacy upstream must not see them. */
export const MODERN_ENVELOPE_KEYS: readonly string[] = [
  META_PROTOCOL_VERSION,
  META_CLIENT_INFO,
  META_CLIENT_CAPABILITIES,
  META_LOG_LEVEL,
];

export function isLegacyVersion(version: string): boolean {
  return (LEGACY_VERSIONS as readonly string[]).includes(version);
}

export function isSupportedVersion(version: string): boolean {
  return SUPPORTED_VERSIONS.includes(version);
}

/** Batches: 2025-03-26 MUST accept them; 2025-06-18 and later (and 2024-11-05 here) reject arrays. */
export function allowsBatch(version: string): boolean {
  return version === '2025-03-26';
}
