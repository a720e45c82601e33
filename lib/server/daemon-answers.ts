// The daemon's answers to `hello` ([WIRE-4]) and `status` ([WIRE-7]), assembled from the rooms
// that know each part (the license keeper, the engine, the TCP front, the store). Moved out of
// daemon.ts so that the composition root stays a composition root; behaviour unchanged.
import type { HelloAnswer, Problem, StatusAnswer } from '../protocol/replies.js'
import { VERSION } from '../version.js'
import type { LicenseKeeper } from './license-keeper.js'
import { lpfSummary } from './license-state.js'
import type { ClusterRole } from './role.js'
import type { SeatEngine } from '../engine/engine.js'

export interface AnswerSources {
  hostId: string
  leaseTtlMs: number
  keeper: LicenseKeeper
  engine: Pick<SeatEngine, 'packs'>
  listeningPort(): number | undefined
  /** [LEASE-10] the store's part of status */
  storeError(): Pick<StatusAnswer, 'storeError'>
  /** [LEASE-8] leases restored at start */
  restored(): number
  /** [OBS-5] whole days until the LPF expires */
  expiresInDays?: () => number | undefined
  /** [HA-4] [HA-8] a cluster node's role (the PostgreSQL store) */
  role?: Pick<ClusterRole, 'hello' | 'status' | 'whyNotServing'>
  /** [TLS-1] the lease port's certificate, when it speaks TLS */
  tls?: () => StatusAnswer['tls']
}

export function helloAnswer(src: AnswerSources): HelloAnswer {
  const serving = src.keeper.serving
  return {
    protocol: 1,
    server: `flr/${VERSION}`,
    vendor: src.keeper.plan?.vendor ?? '',
    hostId: src.hostId,
    serverTime: Date.now(),
    leaseTtlMs: src.leaseTtlMs,
    graceMs: src.keeper.graceMs,
    // a port move sends every client here at once ([SRV-5]): no per-hello walk over the packs
    packs: serving ? src.keeper.packNames : [],
    // [WIRE-4] [HA-4] in a cluster: role, leader, servers
    ...src.role?.hello(),
  }
}

/** [SRV-1] [SRV-3] [SRV-6] why no lease is served, or undefined while serving */
export function whyNotServing(keeper: LicenseKeeper): Problem | undefined {
  const state = keeper.state
  return state.kind === 'waiting' || state.kind === 'stopped' ? state.why : undefined
}

/** [WIRE-7] plus what an admin needs: when the LPF was loaded, the port in use, restored leases */
export function statusAnswer(src: AnswerSources): StatusAnswer {
  const { keeper } = src
  const state = keeper.state
  // [HA-4] a standby has its LPF but serves no lease: it says who does
  const reason = whyNotServing(keeper) ?? src.role?.whyNotServing()
  const serving = keeper.serving && reason === undefined
  const { pendingError, portError } = keeper
  return {
    serving,
    ...(reason ? { reason } : {}),
    ...(state.kind !== 'waiting'
      ? { lpf: { ...lpfSummary(state.plan, state.loadedAt), ...(state.plan.expiresAt === null || !src.expiresInDays ? {} : { expiresInDays: src.expiresInDays() }) } }
      : {}),
    ...(pendingError ? { pendingError } : {}),
    ...(portError ? { portError } : {}),
    ...src.storeError(),
    listeningPort: src.listeningPort() ?? null,
    graceMs: keeper.graceMs,
    restored: src.restored(),
    packs: serving ? src.engine.packs() : [],
    ...(src.role ? { cluster: src.role.status() } : {}),
    ...(src.tls?.() ? { tls: src.tls()! } : {}),
  }
}
