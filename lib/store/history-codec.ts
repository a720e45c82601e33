// [OBS-2] The bytes of the usage history in the LMDB store. An event is keyed by one number,
// at × 1024 + seq (time order, then write order within a millisecond; a number key costs
// lmdb-js half what an array key does, and 1.7e12 × 1024 is far below 2^53), and stored as a short
// positional tuple; decoding never trusts the file: a value that is not one of these tuples
// is skipped by the reader and counted, never thrown at the report.
import { Packr } from 'msgpackr'
import type { DenialCode, HistoryEvent, LeaseEndHow, LeaseRecord } from '../engine/types.js'

// plain MessagePack, as for the leases (record-codec.ts): nothing outside the value to decode it
const packr = new Packr({ useRecords: false, moreTypes: false })

const GRANT = 0
const END = 1
const DENIAL = 2
const LIMIT = 3
const HOWS: readonly LeaseEndHow[] = ['released', 'expired', 'revoked', 'pack-removed']
const CODES: readonly DenialCode[] = ['PACK_EXHAUSTED', 'WAIT_TIMEOUT']

export type EventKey = number

/** events one millisecond can hold; a 1025th moves to the next millisecond */
export const PER_MS = 1024

export function eventKey(at: number, seq: number): EventKey {
  return at * PER_MS + seq
}

export function atOf(key: EventKey): number {
  return Math.floor(key / PER_MS)
}

/** The value codec of the events table (lmdb-js `encoder`): a tuple in, a tuple (or undefined when it is not one) out. */
export const eventValueCodec = {
  encode(tuple: unknown[]): Buffer {
    return packr.pack(tuple)
  },
  decode(bytes: Uint8Array, end?: number): unknown[] | undefined {
    try {
      const tuple: unknown = packr.unpack(bytes, end)
      return Array.isArray(tuple) ? tuple : undefined
    } catch {
      return undefined
    }
  },
}

export function grantTuple(record: LeaseRecord, waitedMs: number): unknown[] {
  return [GRANT, record.lease, record.pack, record.holder, record.client, record.address, waitedMs]
}

export function endTuple(record: LeaseRecord, how: LeaseEndHow): unknown[] {
  return [END, record.lease, record.pack, record.holder, HOWS.indexOf(how)]
}

export function noteTuple(event: HistoryEvent): unknown[] {
  switch (event.kind) {
    case 'denial':
      return [DENIAL, event.pack, event.holder, CODES.indexOf(event.code), event.waitedMs]
    case 'limit':
      return [LIMIT, event.pack, event.limit]
    case 'grant':
      return [GRANT, event.lease, event.pack, event.holder, event.client, event.address, event.waitedMs]
    case 'end':
      return [END, event.lease, event.pack, event.holder, HOWS.indexOf(event.how)]
  }
}

const str = (v: unknown): v is string => typeof v === 'string'
const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

/** The event stored at time `at` as `tuple`, or undefined when the tuple is not one flr writes. */
export function eventOf(at: number, tuple: unknown[] | undefined): HistoryEvent | undefined {
  if (!tuple) return undefined
  const [kind, a, b, c, d, e, f] = tuple
  if (kind === GRANT && str(a) && str(b) && str(c) && str(d) && str(e) && num(f)) {
    return { kind: 'grant', at, lease: a, pack: b, holder: c, client: d, address: e, waitedMs: f }
  }
  if (kind === END && str(a) && str(b) && str(c) && num(d) && HOWS[d]) return { kind: 'end', at, lease: a, pack: b, holder: c, how: HOWS[d] }
  if (kind === DENIAL && str(a) && str(b) && num(c) && CODES[c] && num(d)) return { kind: 'denial', at, pack: a, holder: b, code: CODES[c], waitedMs: d }
  if (kind === LIMIT && str(a) && num(b)) return { kind: 'limit', at, pack: a, limit: b }
  return undefined
}
