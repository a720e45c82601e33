// [LEASE-4] the default lease id: 128 random bits, base64url. Split from engine.ts (issue 12).
import { randomFillSync } from 'node:crypto'

// drawn from the system CSPRNG a page at a time: one call per 256 leases instead of one
// each, which showed in profiles of a busy server
const randomPool = Buffer.alloc(4096)
let randomAt = randomPool.length

export function randomLeaseId(): string {
  if (randomAt === randomPool.length) {
    randomFillSync(randomPool)
    randomAt = 0
  }
  randomAt += 16
  return randomPool.toString('base64url', randomAt - 16, randomAt)
}
