import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';

/**
 * SHA-256 of the parts in order (strings as UTF-8), as lowercase hex: synchronous and the same in Node and
 * browsers, for keys of small data (settings, token ids, fingerprints of fingerprints). Hash large files with
 * WebCrypto instead (`crypto.subtle.digest`), which runs natively.
 */
export function sha256Hex(...parts: Array<string | Uint8Array>): string {
  const h = sha256.create();
  for (const p of parts) h.update(typeof p === 'string' ? new TextEncoder().encode(p) : p);
  return bytesToHex(h.digest());
}
