// The bytes of the lease store, format 1. Decoding never trusts the file: anything that
// is not exactly what format 1 writes comes back as a reason, so the store can refuse to
// start with STORE_DAMAGED ([LEASE-9]) instead of restoring garbage ([LEASE-8]).
import { Packr } from 'msgpackr'
import type { LeaseRecord } from '../engine/types.js'

export const STORE_FORMAT = 1

/** What the store says about itself: written once, when the store is created. */
export interface StoreMeta {
  readonly format: number
  readonly hostId: string
  readonly createdAt: string
}

// Plain MessagePack only: records and extensions would make the file depend on
// encoder state that is not stored with it.
const packr = new Packr({ useRecords: false, moreTypes: false })

/** Why a stored value is not a format 1 lease record. */
export class Undecodable {
  constructor(readonly reason: string) {}
}

/** A stored value as format 1 writes it: the record without its id (the key), in this order. */
export type LeaseTuple = readonly [pack: string, holder: string, client: string, address: string, grantedAt: number]

/**
 * The value codec of the leases table, handed to lmdb-js as its `encoder`: lmdb-js then
 * decodes straight from its read buffer (no copy per record), which keeps loading 100,000
 * leases fast ([LEASE-8] restart). The lease id is the key; the value is a positional tuple.
 * Decoding never throws: a bad value comes back as Undecodable so the caller can name it.
 */
export const leaseValueCodec = {
  encode(tuple: LeaseTuple): Buffer {
    return packr.pack(tuple)
  },
  /** The checked tuple itself, not an object built from it: a restart decodes 100,000 of them. */
  decode(bytes: Uint8Array, end?: number): LeaseTuple | Undecodable {
    let tuple: unknown
    try {
      tuple = packr.unpack(bytes, end)
    } catch (e) {
      return new Undecodable(`is not MessagePack (${(e as Error).message})`)
    }
    const wrong = tupleProblem(tuple)
    return wrong ? new Undecodable(wrong) : (tuple as LeaseTuple)
  },
  /** Why `tuple` would not decode again, or undefined if it would. */
  check(tuple: LeaseTuple): string | undefined {
    return tupleProblem(tuple)
  },
}

/** The record of lease `lease` whose stored value is `tuple`. */
export function recordOf(lease: string, tuple: LeaseTuple): LeaseRecord {
  return { lease, pack: tuple[0], holder: tuple[1], client: tuple[2], address: tuple[3], grantedAt: tuple[4] }
}

/** What the leases table stores for `record`. */
export function tupleOf(record: LeaseRecord): LeaseTuple {
  return [record.pack, record.holder, record.client, record.address, record.grantedAt]
}

function tupleProblem(tuple: unknown): string | undefined {
  if (!Array.isArray(tuple) || tuple.length !== 5) return `is not a format ${STORE_FORMAT} record`
  // indexed, not destructured: destructuring goes through the array iterator, per record
  const fields = tuple as unknown[]
  const grantedAt = fields[4]
  if (
    typeof fields[0] !== 'string' ||
    typeof fields[1] !== 'string' ||
    typeof fields[2] !== 'string' ||
    typeof fields[3] !== 'string' ||
    typeof grantedAt !== 'number' ||
    !Number.isFinite(grantedAt)
  ) {
    return 'has fields of the wrong type'
  }
  return undefined
}

/** JSON, so a person can read it with any LMDB tool (`mdb_dump -s meta`). */
export function encodeMeta(meta: StoreMeta): Buffer {
  return Buffer.from(JSON.stringify(meta))
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string }

export function decodeMeta(bytes: Uint8Array): Decoded<StoreMeta> {
  let meta: unknown
  try {
    meta = JSON.parse(Buffer.from(bytes).toString('utf8'))
  } catch {
    return { ok: false, reason: 'its meta entry is not JSON' }
  }
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    return { ok: false, reason: 'its meta entry is not an object' }
  }
  const { format, hostId, createdAt } = meta as Record<string, unknown>
  if (typeof format !== 'number') return { ok: false, reason: 'its meta entry has no format version' }
  if (format !== STORE_FORMAT) {
    return {
      ok: false,
      reason: `it has format version ${format}, this flr reads only format ${STORE_FORMAT} (was it written by a newer flr?)`,
    }
  }
  if (typeof hostId !== 'string' || hostId === '') return { ok: false, reason: 'its meta entry has no host id' }
  if (typeof createdAt !== 'string') return { ok: false, reason: 'its meta entry has no creation time' }
  return { ok: true, value: { format, hostId, createdAt } }
}
