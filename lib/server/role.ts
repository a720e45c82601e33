// [HA-3]..[HA-5] [HA-8] A cluster node's role, as a room of its own: it runs leadership on the
// shared store (lib/cluster/), and tells the fronts whether this node serves or redirects. On a
// new term it restores every lease from the database into a fresh engine ([LEASE-8]); on a lost
// one it drops that engine without writing, and tells connected clients to go ([WIRE-9]).
import { FlrError } from '../errors.js'
import { Leadership, type LeaderInfo, type LeadershipState } from '../cluster/leadership.js'
import { PgLeadership, type NodeRow } from '../cluster/pg-leadership.js'
import type { SeatEngine } from '../engine/engine.js'
import type { LeaseRecord, LeaseStore } from '../engine/types.js'
import type { ClusterStatus, Problem } from '../protocol/replies.js'
import { every, type Cancel, type Clock } from '../util/clock.js'
import type { Logger } from './logger.js'
import { RoleEngine, notLeader } from './role-engine.js'

/** [WIRE-9] what the role asks of the TCP front when leadership moves */
export interface RoleFront {
  /** `moving {host, port}` to every connection */
  moveAll(host: string, port: number): void
  /** `shutdown` to every connection: the leader is not known yet */
  shutdownAll(): void
}

export interface ClusterRoleOptions {
  /** the store's URL: leadership keeps a pool of its own on the same database */
  url: string
  /** the shared store; load() re-reads every lease ([LEASE-8]) */
  store: LeaseStore & { load(): Promise<LeaseRecord[]> }
  hostId: string
  /** [HA-4] --advertise HOST */
  advertise: string
  /** [HA-3] --leader-ttl, --leader-renew */
  ttlMs: number
  renewMs: number
  clock: Clock
  log: Logger
  /** a fresh engine over a term's store */
  makeEngine(store: LeaseStore): SeatEngine
  leasePort(): number | undefined
  httpPort(): number | null
  /** [HA-8] the digest of the LPF in force */
  lpfDigest(): string | undefined
  /** a node without an LPF in force and a bound port cannot serve: it does not try to lead */
  canLead(): boolean
  front: RoleFront
}

/** [HA-5] how long a leader stopping on SIGTERM waits to learn who took over, to send clients there */
const HANDOVER_WAIT_MS = 1_500
/** [HA-5] how long a stopping leader lets the writes in flight commit before it gives the term up */
const HANDOVER_DRAIN_MS = 500

export class ClusterRole {
  readonly engine: RoleEngine
  private readonly leadership: Leadership
  private readonly db: PgLeadership
  private leader: LeaderInfo | undefined
  private nodes: NodeRow[] = []
  private stopped = false
  private stopRefresh: Cancel | undefined

  constructor(private readonly opts: ClusterRoleOptions) {
    this.db = new PgLeadership(opts.url, {
      node: opts.hostId,
      address: () => this.address(),
      http: () => {
        const port = opts.httpPort()
        return port === null ? undefined : `${opts.advertise}:${port}`
      },
      lpfDigest: () => opts.lpfDigest(),
    }, opts.ttlMs)
    this.leadership = new Leadership({
      db: {
        // a node that cannot serve leaves the row to one that can
        acquire: (ttl) => (opts.canLead() ? this.db.acquire(ttl) : Promise.resolve({})),
        renew: (term, ttl) => this.db.renew(term, ttl),
        resign: (term) => this.db.resign(term),
      },
      clock: opts.clock,
      ttlMs: opts.ttlMs,
      renewMs: opts.renewMs,
      onChange: (state, previous) => this.changed(state, previous),
      onError: (err, attempt) => opts.log.warn({ attempt, error: errorText(err) }, `leadership: the database did not answer the ${attempt}`),
    })
    this.engine = new RoleEngine({
      make: opts.makeEngine,
      store: opts.store,
      leading: () => this.leadership.leading(),
      refusal: () => notLeader(this.leaderNow()),
    })
  }

  /** The fence the store checks in every write transaction ([HA-3]). */
  get fence(): { term(): string | undefined; node: string } {
    return { term: () => (this.engine.leads ? this.leadership.term() : undefined), node: this.opts.hostId }
  }

  start(): void {
    this.leadership.start()
    // [HA-5] a resign elsewhere wakes this node at once
    void this.db.listen(() => this.leadership.tick())
    this.refreshNodes()
    this.stopRefresh = every(this.opts.clock, this.opts.renewMs, () => {
      this.refreshNodes()
      // a listener lost with its connection is opened again
      void this.db.listen(() => this.leadership.tick())
    })
  }

  /** [HA-3] the store's fence saw the term gone: stop serving now. */
  lost(): void {
    if (this.engine.leads) this.opts.log.warn('the database refused a write of this term: stepping down')
    this.leadership.stepDown()
  }

  get role(): 'leader' | 'standby' {
    return this.engine.leads && this.leadership.leading() ? 'leader' : 'standby'
  }

  /** [WIRE-4] hello's cluster fields */
  hello(): { role: 'leader' | 'standby'; leader?: string; servers: string[] } {
    const leader = this.leaderNow()?.address
    return { role: this.role, ...(leader ? { leader } : {}), servers: this.servers() }
  }

  /** [HA-4] every op but hello, ping and status is refused on a standby */
  standbyRefusal(): FlrError | undefined {
    return this.role === 'leader' ? undefined : notLeader(this.leaderNow())
  }

  /** [HTTP-1] [HA-4] why health is 503 on a standby */
  whyNotServing(): Problem | undefined {
    if (this.role === 'leader') return undefined
    const e = notLeader(this.leaderNow())
    return { code: e.code, message: e.message }
  }

  /** [HA-8] */
  status(): ClusterStatus {
    const term = this.leadership.term()
    const leader = this.leaderNow()?.address
    const seen = this.nodes.filter((n) => n.lastSeenAgoMs < 10 * this.opts.ttlMs)
    const digests = new Set(seen.map((n) => n.lpfDigest).filter((d) => d !== undefined))
    return {
      role: this.role,
      node: this.opts.hostId,
      ...(term ? { term } : {}),
      ...(leader ? { leader } : {}),
      nodes: this.nodes,
      ...(digests.size > 1 ? { warning: `the nodes serve different LPFs (${digests.size} digests): give every node the same signed file` } : {}),
    }
  }

  /** [HA-5] SIGTERM: stop serving, give the term up, send clients to the node that took over. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.stopRefresh?.()
    const led = this.engine.leads
    await this.engine.finish(HANDOVER_DRAIN_MS)
    await this.leadership.resign()
    if (led) {
      const next = await this.waitForLeader(HANDOVER_WAIT_MS)
      const at = next ? hostPort(next.address) : undefined
      if (at) {
        this.opts.log.info({ leader: next!.address }, 'handed leadership over')
        this.opts.front.moveAll(at.host, at.port)
      }
    }
    await this.db.close()
  }

  private address(): string {
    return `${this.opts.advertise}:${this.opts.leasePort() ?? 0}`
  }

  private leaderNow(): LeaderInfo | undefined {
    if (this.role === 'leader') {
      const port = this.opts.httpPort()
      return { node: this.opts.hostId, address: this.address(), ...(port !== null ? { http: `${this.opts.advertise}:${port}` } : {}) }
    }
    return this.leader
  }

  private servers(): string[] {
    const all = new Set(this.nodes.filter((n) => n.lastSeenAgoMs < 10 * this.opts.ttlMs).map((n) => n.address))
    all.add(this.address())
    return [...all].sort()
  }

  private changed(state: LeadershipState, previous: LeadershipState): void {
    const log = this.opts.log
    if (state.kind === 'follower' || state.kind === 'candidate') this.leader = state.leader
    this.refreshNodes()
    if (previous.kind === 'leader' && state.kind !== 'leader') {
      const led = this.engine.leads
      this.engine.drop()
      if (!led) return
      log.warn({ term: previous.term }, 'lost leadership: leases dropped from memory, nothing written; the next leader restores them')
      // [WIRE-9] clients go elsewhere; the new leader is not known at this instant
      if (!this.stopped) this.opts.front.shutdownAll()
      return
    }
    if (state.kind === 'leader') void this.take(state.term)
    else if (state.kind === 'follower' && state.leader) log.info({ leader: state.leader.address, node: state.leader.node }, 'standing by')
  }

  /** [LEASE-8] [HA-5] a new term: every acknowledged lease from the database, a fresh TTL each. */
  private async take(term: string): Promise<void> {
    const started = this.opts.clock.now()
    let records: LeaseRecord[]
    try {
      records = await this.opts.store.load()
    } catch (err) {
      this.opts.log.error({ term, error: errorText(err) }, 'leadership taken but the leases could not be read: stepping down')
      this.leadership.stepDown()
      return
    }
    const now = this.leadership.state
    if (now.kind !== 'leader' || now.term !== term || this.stopped) return
    const restored = this.engine.lead(records)
    this.opts.log.info({ term, restored, ms: this.opts.clock.now() - started }, `leading (term ${term}): restored ${restored} lease(s)`)
  }

  private refreshNodes(): void {
    this.db.nodes().then(
      (nodes) => {
        this.nodes = nodes
      },
      () => {},
    )
  }

  private async waitForLeader(ms: number): Promise<LeaderInfo | undefined> {
    const until = this.opts.clock.now() + ms
    while (this.opts.clock.now() < until) {
      const leader = await this.db.leader().catch(() => undefined)
      if (leader && leader.node !== this.opts.hostId) return leader
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    return undefined
  }
}

function hostPort(address: string): { host: string; port: number } | undefined {
  const at = address.lastIndexOf(':')
  const port = Number(address.slice(at + 1))
  if (at <= 0 || !Number.isInteger(port) || port <= 0) return undefined
  return { host: address.slice(0, at), port }
}

/** a database error's message only: never its connection string ([HA-1] no password in a log) */
function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
