// [OBS-1] The daemon's Prometheus metrics, made with prom-client on a registry of its own (two
// daemons in one process, as in the tests, never share a series). What is true at an instant
// (packs, serving, the LPF's expiry, connections, the leader) is read from the daemon when
// scraped, in collect(): the lease path does nothing for them. What happens (grants, denials,
// ends, request and commit durations) is counted where it happens, as an observer of the
// engine, a timer around the store's writes, and a timer the fronts call per request.
// No label carries a holder, a client or an address: only pack names (bounded by the LPF),
// error codes, how a lease ended and the op.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Denial, DenialCode, EngineObserver, LeaseEndHow, LeaseRecord, LeaseStore } from '../engine/types.js'
import type { PackRow } from '../protocol/replies.js'
import { VERSION } from '../version.js'

/** What the scrape reads of the daemon, at scrape time only. */
export interface MetricsSources {
  packs(): readonly PackRow[]
  /** leases are granted now: an LPF in force and a store that can write ([HTTP-1] health's 200) */
  serving(): boolean
  /** the LPF in force expires at (epoch ms); null when it never does, undefined with no LPF */
  lpfExpiresAt(): number | null | undefined
  /** open TCP lease connections */
  connections(): number
  /** [HA-*] the cluster role, when the daemon is in a cluster; undefined for a single node */
  cluster?(): { leader: boolean; term?: string } | undefined
}

/** Every denial code the engine reports, so each pack's series start at 0 ([OBS-1] rate() needs a first sample). */
const DENIAL_CODES: readonly DenialCode[] = ['PACK_EXHAUSTED', 'WAIT_TIMEOUT']
const END_HOWS: readonly LeaseEndHow[] = ['released', 'expired', 'revoked', 'pack-removed']

/**
 * A request takes from well under a millisecond (a renew) to a minute (a lease that waits for a
 * seat, [LEASE-5]); a commit is one fsync, from a millisecond to seconds on a struggling disk.
 */
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

export type Transport = 'tcp' | 'http'


export class FlrMetrics {
  readonly registry = new Registry()
  private readonly grants: Counter<'pack'>
  private readonly denials: Counter<'pack' | 'code'>
  private readonly ends: Counter<'pack' | 'how'>
  private readonly requests: Histogram<'op' | 'transport'>
  private readonly commits: Histogram
  /** one prom-client child per op and transport, made once: a label lookup per request costs more */
  private readonly timers = new Map<string, { observe(seconds: number): void }>()
  private sources: MetricsSources | undefined
  /** the packs as read by the scrape in progress: one read serves every per-pack metric */
  private rows: readonly PackRow[] = []
  /** packs whose counters' series exist (zeroCounters) */
  private readonly zeroed = new Set<string>()

  constructor() {
    const registers = [this.registry]
    const self = this
    collectDefaultMetrics({ register: this.registry })
    new Gauge({ name: 'flr_build_info', help: 'Always 1; the labels say which flr and Node run.', labelNames: ['version', 'node'], registers }).set(
      { version: VERSION, node: process.version },
      1,
    )
    this.grants = new Counter({
      name: 'flr_grants_total',
      help: 'Leases granted, by pack.',
      labelNames: ['pack'],
      registers,
      // the first per-pack metric a scrape collects (prom-client collects in the order of
      // registration, each collect() before the next): it reads the packs for all of them
      collect() {
        self.rows = self.sources?.packs() ?? []
        self.zeroCounters()
      },
    })
    this.denials = new Counter({
      name: 'flr_denials_total',
      help: 'Lease requests turned away for want of a seat, by pack and code (PACK_EXHAUSTED, WAIT_TIMEOUT).',
      labelNames: ['pack', 'code'],
      registers,
    })
    this.ends = new Counter({
      name: 'flr_lease_ends_total',
      help: 'Leases ended, by pack and how (released, expired, revoked, pack-removed).',
      labelNames: ['pack', 'how'],
      registers,
    })
    this.requests = new Histogram({
      name: 'flr_request_duration_seconds',
      help: 'Time from a request read to its answer written, by op and transport (tcp, http); a lease that waits for a seat includes the wait.',
      labelNames: ['op', 'transport'],
      buckets: REQUEST_BUCKETS,
      registers,
    })
    this.commits = new Histogram({
      name: 'flr_store_commit_seconds',
      help: 'Time from a lease store write (grant or end) issued to durable on disk.',
      buckets: COMMIT_BUCKETS,
      registers,
    })
    this.pointInTime(registers)
  }

  /** The daemon, read at each scrape; until it is given, the point-in-time gauges have no samples. */
  watch(sources: MetricsSources): void {
    this.sources = sources
  }

  /** The engine observer that counts grants, denials and ends ([OBS-1]). */
  readonly observer: EngineObserver = {
    granted: (lease: LeaseRecord) => this.grants.inc({ pack: lease.pack }),
    ended: (lease: LeaseRecord, how: LeaseEndHow) => this.ends.inc({ pack: lease.pack, how }),
    denied: (denial: Denial) => this.denials.inc({ pack: denial.pack, code: denial.code }),
  }

  /** [OBS-1] a request of `op` answered, `started` being performance.now() when it was read. */
  requestDone(transport: Transport, op: string, started: number): void {
    const key = `${transport} ${op}`
    let timer = this.timers.get(key)
    if (!timer) this.timers.set(key, (timer = this.requests.labels({ op, transport })))
    timer.observe((performance.now() - started) / 1000)
  }

  /**
   * [OBS-1] flr_store_commit_seconds: every put and remove of `store` timed from issue to
   * durable. The store's own methods are wrapped on the instance, so everything else it offers
   * (health, faults, history) stays as it is, with its private state.
   */
  timeWrites<S extends LeaseStore>(store: S): S {
    const timed = <A extends unknown[]>(write: (...args: A) => Promise<void>) => (...args: A): Promise<void> => {
      const started = performance.now()
      const durable = write(...args)
      // a failed write is not a commit: it is seen in the store's fault and the log
      durable.then(() => this.commits.observe((performance.now() - started) / 1000), () => {})
      return durable
    }
    store.put = timed(store.put.bind(store))
    store.remove = timed(store.remove.bind(store))
    return store
  }

  /** The scrape: the text format, and its content type. */
  async scrape(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() }
  }

  /**
   * Every pack in force has its counters' series from the start, at 0: rate() and increase() need
   * a first sample. Once per pack: a counter's series never goes away, and nine label lookups per
   * pack at every scrape were most of a scrape's cost.
   */
  private zeroCounters(): void {
    for (const { name: pack } of this.rows) {
      if (this.zeroed.has(pack)) continue
      this.zeroed.add(pack)
      this.grants.inc({ pack }, 0)
      for (const code of DENIAL_CODES) this.denials.inc({ pack, code }, 0)
      for (const how of END_HOWS) this.ends.inc({ pack, how }, 0)
    }
  }

  /** Gauges whose collect() reads the daemon: the lease path never touches them. */
  private pointInTime(registers: Registry[]): void {
    const self = this
    new Gauge({
      name: 'flr_serving',
      help: '1 while leases are granted (an LPF in force and a store that can write), else 0.',
      registers,
      collect() {
        if (self.sources) this.set(self.sources.serving() ? 1 : 0)
      },
    })
    new Gauge({
      name: 'flr_lpf_expiry_timestamp_seconds',
      help: 'When the LPF in force expires (Unix time); absent when no LPF is loaded or it never expires.',
      registers,
      collect() {
        // remove(), not reset(): a gauge without labels reset to 0 would say "expired in 1970"
        this.remove()
        const at = self.sources?.lpfExpiresAt()
        if (typeof at === 'number') this.set(at / 1000)
      },
    })
    new Gauge({
      name: 'flr_connections',
      help: 'Open TCP lease connections.',
      registers,
      collect() {
        if (self.sources) this.set(self.sources.connections())
      },
    })
    this.packGauges(registers)
    this.clusterGauges(registers)
  }

  /** Per pack, from the rows the grants counter's collect() read; a pack gone from the LPF leaves them at the next scrape. */
  private packGauges(registers: Registry[]): void {
    const self = this
    const perPack = (name: string, help: string, value: (row: PackRow) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['pack'],
        registers,
        collect() {
          this.reset()
          for (const row of self.rows) this.set({ pack: row.name }, value(row))
        },
      })
    perPack('flr_pack_limit', 'Seats the LPF gives the pack.', (row) => row.limit)
    perPack('flr_pack_in_use', 'Seats of the pack held now.', (row) => row.inUse)
    perPack('flr_pack_waiting', 'Lease requests waiting for a seat of the pack now.', (row) => row.waiting)
  }

  /** [HA-*] only in a cluster: a single node has no leader to count. */
  private clusterGauges(registers: Registry[]): void {
    const self = this
    new Gauge({
      name: 'flr_leader',
      help: 'In a cluster: 1 while this node leads (grants leases), else 0. Absent on a single node.',
      registers,
      collect() {
        this.remove()
        const role = self.sources?.cluster?.()
        if (role) this.set(role.leader ? 1 : 0)
      },
    })
    new Gauge({
      name: 'flr_leader_term',
      help: 'In a cluster: the leadership term this node knows (it grows with every change of leader). Absent on a single node.',
      registers,
      collect() {
        this.remove()
        const term = self.sources?.cluster?.()?.term
        if (term !== undefined && Number.isFinite(Number(term))) this.set(Number(term))
      },
    })
  }
}
