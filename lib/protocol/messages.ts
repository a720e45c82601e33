// Requests, replies and pushes ([WIRE-2]..[WIRE-9]). A decoded frame becomes a typed
// request here or a BAD_REQUEST / UNKNOWN_OP that names what to fix ([WIRE-3]); these
// faults keep the connection. Fields not listed for an op are ignored, so a newer client
// can talk to this server. Messages name fields, never echo values (a password may be one).

import { FlrError } from '../errors.js'

/** [WIRE-4] the one protocol version this server speaks. */
export const PROTOCOL = 1

/** [LEASE-5] the longest a lease request may wait for a seat, in ms. */
export const MAX_WAIT_MS = 600_000

export interface HelloRequest { op: 'hello'; id: number; protocol: number; client: string; app?: string }
export interface LeaseRequest { op: 'lease'; id: number; pack: string; holder?: string; wait?: number }
export interface RenewRequest { op: 'renew'; id: number; lease: string }
export interface ReleaseRequest { op: 'release'; id: number; lease: string }
export interface StatusRequest { op: 'status'; id: number }
export interface PingRequest { op: 'ping'; id: number }
export interface AuthRequest { op: 'auth'; id: number; password: string }
export interface LeasesRequest { op: 'leases'; id: number; pack?: string }
export interface RevokeRequest { op: 'revoke'; id: number; lease: string }
export interface ReloadRequest { op: 'reload'; id: number }

export type Request =
  | HelloRequest | LeaseRequest | RenewRequest | ReleaseRequest | StatusRequest
  | PingRequest | AuthRequest | LeasesRequest | RevokeRequest | ReloadRequest

export type Op = Request['op']

export interface OkReply { id: number; ok: true; [field: string]: unknown }
export interface FailReply { id: number; ok: false; error: Record<string, unknown> }
export type Reply = OkReply | FailReply

/** [WIRE-9] */
export type PushName = 'revoked' | 'moving' | 'shutdown'
export interface Push { push: PushName; [field: string]: unknown }

type Fields = Record<string, unknown>

// Lengths in characters (code points). The spec gives client and holder ([WIRE-4],
// [WIRE-5]) and the pack name ([LPF-3]); the others are ours, to keep logs sane.
const NAME = { min: 1, max: 128 }
const PACK = { min: 1, max: 64 }
const LEASE = { min: 1, max: 128 }
const APP = { min: 0, max: 128 }
const PASSWORD = { min: 0, max: 256 }

export const OPS: readonly Op[] = ['hello', 'lease', 'renew', 'release', 'status', 'ping', 'auth', 'leases', 'revoke', 'reload']

/** Turns a decoded frame into a typed request, or throws BAD_REQUEST / UNKNOWN_OP. */
export function parseRequest(m: Fields): Request {
  const id = integer(m, 'request', 'id', 0, Number.MAX_SAFE_INTEGER)
  const op = m.op
  if (typeof op !== 'string') throw badRequest('request', 'op', op === undefined ? 'is required' : 'must be a string')
  switch (op) {
    case 'hello': {
      const r: HelloRequest = { op, id, protocol: integer(m, op, 'protocol', 0, Number.MAX_SAFE_INTEGER), client: text(m, op, 'client', NAME) }
      if (given(m.app)) r.app = text(m, op, 'app', APP)
      return r
    }
    case 'lease': {
      const r: LeaseRequest = { op, id, pack: text(m, op, 'pack', PACK) }
      if (given(m.holder)) r.holder = text(m, op, 'holder', NAME)
      if (given(m.wait)) r.wait = integer(m, op, 'wait', 0, MAX_WAIT_MS)
      return r
    }
    case 'renew': case 'release': case 'revoke':
      return { op, id, lease: text(m, op, 'lease', LEASE) }
    case 'auth':
      return { op, id, password: text(m, op, 'password', PASSWORD) }
    case 'leases': {
      const r: LeasesRequest = { op, id }
      if (given(m.pack)) r.pack = text(m, op, 'pack', PACK)
      return r
    }
    case 'status': case 'ping': case 'reload':
      return { op, id }
    default:
      throw new FlrError('UNKNOWN_OP', `unknown op ${JSON.stringify(op.slice(0, 64))}; known ops: ${OPS.join(', ')}`)
  }
}

/** An optional field: absent or nil (some encoders write a missing value as nil) means not given. */
function given(v: unknown): boolean {
  return v !== undefined && v !== null
}

/** The id to answer with, even for a message that is invalid: 0 when absent or not a uint ([WIRE-3]). */
export function requestId(msg: unknown): number {
  const id = typeof msg === 'object' && msg !== null ? (msg as Fields).id : undefined
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : 0
}

// id and ok (push) lead on the wire, and a body can never override them: set again, they
// keep their places at the front.
export function ok(id: number, body?: object | void): OkReply {
  const reply: OkReply = Object.assign({ id, ok: true as const }, body as object | undefined)
  reply.id = id
  reply.ok = true
  return reply
}

export function fail(id: number, err: FlrError): FailReply {
  return { id, ok: false, error: err.toWire() }
}

export function push(name: PushName, body: object = {}): Push {
  return Object.assign({ push: name }, body, { push: name })
}

function integer(m: Fields, op: string, field: string, min: number, max: number): number {
  const v = m[field]
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw badRequest(op, field, v === undefined ? 'is required' : `must be an integer from ${min} to ${max}`)
  }
  return v
}

function text(m: Fields, op: string, field: string, size: { min: number; max: number }): string {
  const v = m[field]
  if (typeof v !== 'string' || !withinLength(v, size.min, size.max)) {
    const rule = size.min > 0 ? `${size.min}–${size.max}` : `at most ${size.max}`
    throw badRequest(op, field, v === undefined ? 'is required' : `must be a string of ${rule} characters`)
  }
  return v
}

function withinLength(s: string, min: number, max: number): boolean {
  // Code points lie between half the UTF-16 length and the full one, so they are counted
  // only when that range straddles max. Every minimum here is 0 or 1: one unit is one point.
  if (s.length < min) return false
  return s.length <= max || (s.length <= 2 * max && codePoints(s) <= max)
}

function codePoints(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) i++
    }
    n++
  }
  return n
}

function badRequest(op: string, field: string, rule: string): FlrError {
  return new FlrError('BAD_REQUEST', `${op}: field "${field}" ${rule}`, { field })
}
