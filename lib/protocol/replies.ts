// Replies and pushes ([WIRE-2], [WIRE-4]..[WIRE-9]): the answers' shapes, declared once
// next to the requests (messages.ts). The server builds them, the client library reads
// them, the CLI prints them and the test helpers check them, all against these types.
// The seat engine keeps shapes of its own (engine/contract.ts: Grant, Renewal, PackStatus);
// the server hands them on as replies, so the compiler holds them to these.

import type { ErrorCode } from '../errors.js'
import type { Op } from './messages.js'

/** A fault as status reports it: why the server is not serving, why an LPF was refused. */
export interface Problem {
  code: ErrorCode
  message: string
}

/** A fault that is still in force, with when it was seen (ISO 8601). */
export interface DatedProblem extends Problem {
  at: string
}

/** [WIRE-4] */
export interface HelloAnswer {
  protocol: number
  /** `flr/<version>` */
  server: string
  vendor: string
  hostId: string
  /** epoch ms */
  serverTime: number
  leaseTtlMs: number
  graceMs: number
  /** the packs of the LPF in force; none while not serving */
  packs: readonly string[]
  /** [WIRE-4] [HA-4] in a cluster: this node's role, the leader's `host:port` when known, every node's */
  role?: 'leader' | 'standby'
  leader?: string
  servers?: readonly string[]
}

/** [HA-8] one node of a cluster, as the database last saw it */
export interface ClusterNodeRow {
  hostId: string
  address: string
  http?: string
  role: string
  /** ISO 8601, by the database's clock */
  lastSeen: string
  lastSeenAgoMs: number
  /** SHA-256 hex of the node's LPF, when it has one */
  lpfDigest?: string
}

/** [HA-8] the cluster part of status */
export interface ClusterStatus {
  role: 'leader' | 'standby'
  /** this node's host id */
  node: string
  term?: string
  leader?: string
  nodes: ClusterNodeRow[]
  /** nodes serve different LPFs */
  warning?: string
}

/** [WIRE-5] */
export interface LeaseAnswer {
  lease: string
  pack: string
  holder: string
  /** epoch ms */
  expiresAt: number
  ttlMs: number
  limit: number
  inUse: number
  licenses: string
}

/** [WIRE-6] */
export interface RenewAnswer {
  lease: string
  expiresAt: number
  ttlMs: number
  licenses: string
}

/** One pack in [WIRE-7] status (and in the HTTP shim's /api/1.0/packs, [HTTP-4]). */
export interface PackRow {
  name: string
  limit: number
  inUse: number
  waiting: number
}

/** The LPF in force, as status shows it. */
export interface LpfSummary {
  vendor: string
  /** null when the LPF does not say */
  generated: string | null
  expiration: string
  /** [LPF-7] this server's host id */
  hostId: string
  /** [LPF-2] the port of this host's `<flr>` element */
  port: number
  /** [HA-2] every host the LPF lists, the main first; one for a plain LPF */
  hosts?: { hostId: string; port: number }[]
  /** [LPF-2] the longest grace period the LPF allows, ms (`graceMs` of status is what clients are told) */
  grace?: number
  /** SHA-256 (hex) of the LPF file's bytes (nodes of a cluster serving different files differ here) */
  digest?: string
  /** when this server applied it (ISO 8601) */
  loadedAt?: string
  /** [OBS-5] whole days until it expires (0 on the last day); absent when it never expires */
  expiresInDays?: number
}

/** [WIRE-7] plus what an admin needs: when the LPF was loaded, the port in use, restored leases. */
export interface StatusAnswer {
  serving: boolean
  /** only while not serving */
  reason?: Problem
  lpf?: LpfSummary
  /** [SRV-2] a newer file that was refused; the LPF above stays in force */
  pendingError?: DatedProblem
  /** [SRV-5] the LPF's port could not be bound */
  portError?: DatedProblem
  /** [LEASE-10] the lease store cannot write (STORE_UNAVAILABLE), since when (ISO 8601) */
  storeError?: Problem & { since: string }
  listeningPort: number | null
  /** [LPF-2] [WIRE-4] the grace period hello advertises: the LPF's grace, or --grace if shorter */
  graceMs?: number
  /** [LEASE-8] leases restored from the store at start */
  restored: number
  packs: PackRow[]
  /** [TLS-1] the lease port's certificate, when it speaks TLS: fingerprint as AB:CD:…, dates ISO 8601 */
  tls?: { subject: string; fingerprint: string; validFrom: string; validTo: string }
  /** [HA-8] on a cluster (the PostgreSQL store) */
  cluster?: ClusterStatus
}

/** One row of [WIRE-8] leases. */
export interface LeaseRow {
  lease: string
  pack: string
  holder: string
  client: string
  address: string
  /** epoch ms */
  grantedAt: number
  /** epoch ms */
  expiresAt: number
}

/** [WIRE-8] */
export interface LeasesAnswer {
  leases: LeaseRow[]
}

/** [WIRE-8] [SRV-2] */
export interface ReloadAnswer {
  applied: boolean
  error?: Problem
  /** the file was written moments ago and is judged again once quiet */
  settling?: boolean
}

/** [OBS-3] the report (lib/report/report.ts, holders.ts): rows per pack and period, or per pack and holder */
export interface ReportAnswer {
  from: string
  to: string
  by: 'hour' | 'day' | 'month' | 'holder'
  rows: Record<string, unknown>[]
}

/** release, ping, auth, revoke: nothing besides id and ok. */
export type EmptyAnswer = Record<never, never>

/** Each op's answer: the fields of its ok reply besides id and ok. */
export interface Answers {
  hello: HelloAnswer
  lease: LeaseAnswer
  renew: RenewAnswer
  release: EmptyAnswer
  status: StatusAnswer
  ping: EmptyAnswer
  auth: EmptyAnswer
  leases: LeasesAnswer
  revoke: EmptyAnswer
  reload: ReloadAnswer
  report: ReportAnswer
}

export type Answer<O extends Op = Op> = Answers[O]

/** The `error` of a failed reply ([WIRE-2]): code, message, and details such as `field` or `limit`. */
export interface WireError {
  code: ErrorCode
  message: string
  [detail: string]: unknown
}

export type OkReply<O extends Op = Op> = { id: number; ok: true } & Answers[O]
export interface FailReply {
  id: number
  ok: false
  error: WireError
}
export type Reply<O extends Op = Op> = OkReply<O> | FailReply

// ---- pushes [WIRE-9] ----

/** Why a lease was revoked. */
export type RevokeReason = 'pack-removed' | 'lpf-removed' | 'lpf-expired' | 'admin'

export interface RevokedPush {
  push: 'revoked'
  lease: string
  pack: string
  reason: RevokeReason
}
export interface MovingPush {
  push: 'moving'
  port: number
  /** [HA-5] the move is to another node */
  host?: string
}
export interface ShutdownPush {
  push: 'shutdown'
}
export type Push = RevokedPush | MovingPush | ShutdownPush
export type PushName = Push['push']
/** A push's fields besides its name. */
export type PushBody<N extends PushName> = Omit<Extract<Push, { push: N }>, 'push'>

/** Whether a decoded frame is a push this protocol version defines, with its fields' types. */
export function isPush(msg: Record<string, unknown>): msg is Record<string, unknown> & Push {
  switch (msg.push) {
    case 'revoked': return typeof msg.lease === 'string' && typeof msg.pack === 'string' && typeof msg.reason === 'string'
    case 'moving': return typeof msg.port === 'number'
    case 'shutdown': return true
    default: return false
  }
}
