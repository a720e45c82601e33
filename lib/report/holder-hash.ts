// [OBS-3] Distinct holders are counted by a 53-bit hash of the name, not the name: a day's
// rollup then stores 8 bytes per holder that read back as one Float64Array (a year of rollups
// of 100 packs holds millions of them), and names stay out of the public report's cache. Two
// holders share a hash with odds of about n²/2^54 (below one in a million for 100,000
// holders); that would count them as one.

const FNV_PRIME = 16777619

function fnv1a(text: string, seed: number): number {
  let h = seed >>> 0
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, FNV_PRIME) >>> 0
  }
  return h >>> 0
}

/** An integer below 2^53: 32 bits of one FNV-1a and 21 of another (other seed). */
export function holderHash(holder: string): number {
  return fnv1a(holder, 0x811c9dc5) * 2 ** 21 + (fnv1a(holder, 0x01000193 ^ 0x5bd1e995) >>> 11)
}

/** The bytes a rollup stores for a set of hashes. */
export function hashesToBytes(hashes: Float64Array): Uint8Array {
  return new Uint8Array(hashes.buffer, hashes.byteOffset, hashes.byteLength)
}

/** Back from a rollup's bytes (copied: a stored value need not be 8-byte aligned). */
export function bytesToHashes(bytes: Uint8Array | Float64Array): Float64Array {
  if (bytes instanceof Float64Array) return bytes
  const copy = new Uint8Array(bytes.byteLength)
  copy.set(bytes)
  return new Float64Array(copy.buffer)
}
