// The engine's refusals, each with the hint the caller shows ([WIRE-10] codes, errors.ts).
// Split from engine.ts (issue 12): the wording of a refusal is not part of deciding one.
import { FlrError } from '../errors.js'
import type { PackSeats } from './pack-seats.js'

export function notServing(): FlrError {
  return new FlrError('NOT_SERVING', 'the server has no valid license pack file in force; flr status says why')
}

export function packUnknown(name: string): FlrError {
  return new FlrError('PACK_UNKNOWN', `no pack named "${name}" in the license pack file in force; flr status lists the packs`)
}

export function exhausted(pack: PackSeats): FlrError {
  return new FlrError(
    'PACK_EXHAUSTED',
    `every seat of pack "${pack.name}" is leased (limit ${pack.limit}); retry later or ask with a wait`,
    { limit: pack.limit, inUse: pack.inUse },
  )
}

export function waitTimeout(pack: string, waitMs: number): FlrError {
  return new FlrError('WAIT_TIMEOUT', `no seat of pack "${pack}" became free within ${waitMs} ms; retry or wait longer`)
}

export function leaseUnknown(): FlrError {
  return new FlrError('LEASE_UNKNOWN', 'no such lease (expired, released, revoked or never granted); request a new lease')
}
