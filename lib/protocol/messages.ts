// Requests, replies and pushes ([WIRE-2]..[WIRE-9]). A decoded frame becomes a typed
// request here or a BAD_REQUEST / UNKNOWN_OP that names what to fix ([WIRE-3]); these
// faults keep the connection. Fields not listed for an op are ignored, so a newer client
// can talk to this server. Messages name fields, never echo values (a password may be one).

import { FlrError } from '../errors.js'
import { APP, CLIENT, describeRule, fitsText, HOLDER, LEASE_ID, MAX_WAIT_MS, PACK, PASSWORD, TOKEN, type TextRule } from './fields.js'
import type { Answer, FailReply, OkReply, Push, PushBody, PushName, WireError } from './replies.js'

export { MAX_WAIT_MS, PROTOCOL } from './fields.js'
export type { FailReply, OkReply, Push, PushName, Reply } from './replies.js'

export interface HelloRequest { op: 'hello'; id: number; protocol: number; client: string; app?: string; token?: string }
export interface LeaseRequest { op: 'lease'; id: number; pack: string; holder?: string; wait?: number }
export interface RenewRequest { op: 'renew'; id: number; lease: string }
export interface ReleaseRequest { op: 'release'; id: number; lease: string }
export interface StatusRequest { op: 'status'; id: number }
export interface PingRequest { op: 'ping'; id: number }
export interface AuthRequest { op: 'auth'; id: number; password: string }
export interface LeasesRequest { op: 'leases'; id: number; pack?: string }
export interface RevokeRequest { op: 'revoke'; id: number; lease: string }
export interface ReloadRequest { op: 'reload'; id: number }
/** [OBS-3] dates YYYY-MM-DD (UTC), by hour|day|month|holder (holder: admin only) */
export interface ReportRequest { op: 'report'; id: number; from?: string; to?: string; by?: string; pack?: string }

export type Request =
  | HelloRequest | LeaseRequest | RenewRequest | ReleaseRequest | StatusRequest
  | PingRequest | AuthRequest | LeasesRequest | RevokeRequest | ReloadRequest | ReportRequest

export type Op = Request['op']

/** What a client sends for `op`, besides id and op. */
export type RequestBody<O extends Op> = Omit<Extract<Request, { op: O }>, 'op' | 'id'>

type Fields = Record<string, unknown>

export const OPS: readonly Op[] = ['hello', 'lease', 'renew', 'release', 'status', 'ping', 'auth', 'leases', 'revoke', 'reload', 'report']

/** Turns a decoded frame into a typed request, or throws BAD_REQUEST / UNKNOWN_OP. */
export function parseRequest(m: Fields): Request {
  const id = integer(m, 'request', 'id', 0, Number.MAX_SAFE_INTEGER)
  const op = m.op
  if (typeof op !== 'string') throw badRequest('request', 'op', op === undefined ? 'is required' : 'must be a string')
  switch (op) {
    case 'hello': {
      const r: HelloRequest = { op, id, protocol: integer(m, op, 'protocol', 0, Number.MAX_SAFE_INTEGER), client: text(m, op, 'client', CLIENT) }
      if (given(m.app)) r.app = text(m, op, 'app', APP)
      if (given(m.token)) r.token = text(m, op, 'token', TOKEN)
      return r
    }
    case 'lease': {
      const r: LeaseRequest = { op, id, pack: text(m, op, 'pack', PACK) }
      if (given(m.holder)) r.holder = text(m, op, 'holder', HOLDER)
      if (given(m.wait)) r.wait = integer(m, op, 'wait', 0, MAX_WAIT_MS)
      return r
    }
    case 'renew': case 'release': case 'revoke':
      return { op, id, lease: text(m, op, 'lease', LEASE_ID) }
    case 'auth':
      return { op, id, password: text(m, op, 'password', PASSWORD) }
    case 'leases': {
      const r: LeasesRequest = { op, id }
      if (given(m.pack)) r.pack = text(m, op, 'pack', PACK)
      return r
    }
    case 'status': case 'ping': case 'reload':
      return { op, id }
    case 'report': {
      // [OBS-3] read here as text; the dates and the period are judged by the report (lib/report/query.ts)
      const r: ReportRequest = { op, id }
      for (const field of ['from', 'to', 'by'] as const) if (given(m[field])) r[field] = text(m, op, field, REPORT_FIELD)
      if (given(m.pack)) r.pack = text(m, op, 'pack', PACK)
      return r
    }
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
export function ok<O extends Op = Op>(id: number, body?: Answer<O> | void): OkReply<O> {
  const reply = Object.assign({ id, ok: true as const }, body as Answer<O> | undefined)
  reply.id = id
  reply.ok = true
  return reply as OkReply<O>
}

export function fail(id: number, err: FlrError): FailReply {
  // toWire() is {code, message, ...details}: a WireError by construction
  return { id, ok: false, error: err.toWire() as WireError }
}

/** A push's fields are its name's ([WIRE-9]); a push with none (shutdown) needs no body. */
export type PushArgs<N extends PushName> = {} extends PushBody<N> ? [body?: PushBody<N>] : [body: PushBody<N>]

export function push<N extends PushName>(name: N, ...[body]: PushArgs<N>): Extract<Push, { push: N }> {
  return Object.assign({ push: name }, body, { push: name }) as Extract<Push, { push: N }>
}

const REPORT_FIELD: TextRule = { min: 1, max: 40 }

function integer(m: Fields, op: string, field: string, min: number, max: number): number {
  const v = m[field]
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw badRequest(op, field, v === undefined ? 'is required' : `must be an integer from ${min} to ${max}`)
  }
  return v
}

function text(m: Fields, op: string, field: string, rule: TextRule): string {
  const v = m[field]
  if (!fitsText(v, rule)) {
    throw badRequest(op, field, v === undefined ? 'is required' : `must be a string of ${describeRule(rule)} characters`)
  }
  return v
}

function badRequest(op: string, field: string, rule: string): FlrError {
  return new FlrError('BAD_REQUEST', `${op}: field "${field}" ${rule}`, { field })
}
