// Lease/release load on a cluster that fails over under it, and the invariants checked after
// the fact ([HA-5], [LEASE-1]): every acknowledgement is recorded with the client's time, so
//  - no pack is over its limit at any instant: a lease is surely held from its grant's answer
//    to the sending of its release; more of those at one instant than the limit is a double grant;
//  - every acknowledged lease renews with its id on whichever node leads next;
//  - no released lease comes back (neither renewable nor in flr_leases).
// Workers speak the wire directly (no client library): they follow NOT_LEADER themselves, so
// that what is tested is the servers.
import pg from 'pg'
import type { RawConnection, Reply } from '../../bench/harness.js'
import { openWithin, sleep, type Cluster } from './cluster-harness.js'

/** A request without an answer within this long counts as lost (a frozen node never answers). */
const DEADLINE_MS = 3_000

type Mark = { at: number; delta: 1 | -1; lease: string }

export class Workload {
  /** +1 at a grant's answer, −1 when its release was sent */
  readonly marks: Mark[] = []
  readonly violations: string[] = []
  readonly released = new Set<string>()
  readonly held = new Map<string, string>() // lease → holder
  counts = { grants: 0, releases: 0, renewals: 0, refusals: 0, lost: 0 }
  /** what happened to each lease, for a failure's message */
  readonly trail = new Map<string, string[]>()
  /** leases whose release was sent since their last grant: surely held no more from then */
  private readonly releaseMarked = new Set<string>()
  private stopped = false
  private readonly workers: Promise<void>[] = []

  /**
   * `strict`: NOT_LEADER means "not done" (a planned handover). Otherwise a release refused
   * NOT_LEADER may have been committed before the node found its term gone (a fence that fired
   * between commit and answer): the retry's LEASE_UNKNOWN then means it went through.
   */
  constructor(
    private readonly cluster: Cluster,
    private readonly pack: string,
    readonly limit: number,
    private readonly strict = false,
  ) {}

  start(workers: number): void {
    for (let i = 0; i < workers; i++) this.workers.push(this.worker(`w${i}`))
  }

  async stop(): Promise<void> {
    this.stopped = true
    await Promise.all(this.workers)
  }

  /** Waits until `n` more grants and releases were acknowledged: the cluster serves again. */
  async progress(n: number, timeoutMs = 60_000): Promise<void> {
    const target = this.counts.grants + this.counts.releases + n
    const until = performance.now() + timeoutMs
    while (this.counts.grants + this.counts.releases < target) {
      if (performance.now() > until) throw new Error(`no progress within ${timeoutMs} ms (${JSON.stringify(this.counts)}); ${this.cluster.lastLogs()}`)
      await sleep(20)
    }
  }

  /** The most leases surely held at one instant, by the clients' own acknowledgements. */
  peakHeld(): number {
    return this.peak().count
  }

  /** the peak, and which leases were held then (for a failure's message) */
  peak(): { count: number; at: number; leases: string[] } {
    const sorted = [...this.marks].sort((a, b) => a.at - b.at || a.delta - b.delta)
    const now = new Set<string>()
    let best = { count: 0, at: 0, leases: [] as string[] }
    for (const m of sorted) {
      if (m.delta === 1) now.add(m.lease)
      else now.delete(m.lease)
      if (now.size > best.count) best = { count: now.size, at: m.at, leases: [...now] }
    }
    return best
  }

  private async worker(holder: string): Promise<void> {
    let conn: RawConnection | undefined
    let lease: string | undefined
    let renewalsLeft = 0
    /** a release was sent and its answer lost: LEASE_UNKNOWN on the retry means it went through */
    let releaseInDoubt = false
    while (!this.stopped) {
      conn ??= await this.connect(holder)
      if (!conn) {
        await sleep(50)
        continue
      }
      const reply = lease === undefined ? await this.ask(conn, 'lease', { pack: this.pack, holder }) : renewalsLeft > 0 ? await this.ask(conn, 'renew', { lease }) : await this.release(conn, lease)
      const code = reply.ok ? undefined : reply.error?.code
      if (reply.lost || code === 'NOT_LEADER' || code === 'NOT_SERVING' || code === 'STORE_UNAVAILABLE' || code === 'CONNECTION_LOST') {
        if (lease !== undefined) this.note(lease, `${renewalsLeft > 0 ? 'renew' : 'release'}:${code}@${Math.round(performance.now())}`)
        if (reply.lost) this.counts.lost++
        else this.counts.refusals++
        // a release refused STORE_UNAVAILABLE was taken from memory and is owed to the store: maybe done too
        const maybeDone = reply.lost || (!this.strict && (code === 'NOT_LEADER' || code === 'STORE_UNAVAILABLE'))
        if (maybeDone && lease !== undefined && renewalsLeft === 0) releaseInDoubt = true
        void conn.destroy()
        conn = undefined
        await sleep(30)
        continue
      }
      if (lease === undefined) {
        if (code === 'PACK_EXHAUSTED') {
          await sleep(10)
          continue
        }
        if (!reply.ok) this.violations.push(`${holder}: lease refused ${code}`)
        lease = reply.lease as string
        renewalsLeft = 1 + Math.floor(Math.random() * 3)
        this.held.set(lease, holder)
        // the same id again: a lease restored by a new leader, given back to its holder ([LEASE-2])
        this.released.delete(lease)
        this.releaseMarked.delete(lease)
        this.note(lease, `granted@${Math.round(performance.now())}:${holder}`)
        this.counts.grants++
        this.marks.push({ at: performance.now(), delta: 1, lease })
        continue
      }
      if (renewalsLeft > 0) {
        if (reply.ok) {
          this.counts.renewals++
          renewalsLeft--
          await sleep(Math.random() * 30)
        } else this.violations.push(`${holder}: acknowledged lease ${lease} did not renew: ${code}`)
        if (!reply.ok) lease = undefined
        continue
      }
      // the release's answer
      this.note(lease, `release:${reply.ok ? 'ok' : code}@${Math.round(performance.now())}`)
      if (reply.ok || (code === 'LEASE_UNKNOWN' && releaseInDoubt)) {
        // [HA-5] only an acknowledged release must never come back; one in doubt may, for a TTL
        if (reply.ok && !releaseInDoubt) this.released.add(lease)
        this.held.delete(lease)
        this.counts.releases++
      } else this.violations.push(`${holder}: release of ${lease} refused: ${code}`)
      lease = undefined
      releaseInDoubt = false
    }
    void conn?.destroy()
    // a release whose answer was lost may have gone through: that lease is neither held nor released
    if (lease !== undefined && releaseInDoubt) this.held.delete(lease)
  }

  private note(lease: string, what: string): void {
    const trail = this.trail.get(lease) ?? []
    trail.push(what)
    this.trail.set(lease, trail)
  }

  /** The release of a lease: surely held up to the moment it is first sent. */
  private release(conn: RawConnection, lease: string): Promise<Reply> {
    if (!this.releaseMarked.has(lease)) this.marks.push({ at: performance.now(), delta: -1, lease })
    this.releaseMarked.add(lease)
    return this.ask(conn, 'release', { lease })
  }

  private async ask(conn: RawConnection, op: string, body: Record<string, unknown>): Promise<Reply> {
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<Reply>((resolve) => {
      timer = setTimeout(() => resolve({ id: 0, ok: false, lost: true, error: { code: 'CONNECTION_LOST', message: 'deadline' } }), DEADLINE_MS)
    })
    const reply = await Promise.race([conn.request(op, body), deadline])
    clearTimeout(timer)
    return reply
  }

  /** A connection to the node that leads, following NOT_LEADER's `leader` ([HA-4]). */
  private async connect(holder: string): Promise<RawConnection | undefined> {
    const running = this.cluster.nodes.filter((n) => n.running)
    const start = Math.floor(Math.random() * running.length)
    for (let i = 0; i < running.length; i++) {
      const node = running[(start + i) % running.length]!
      const got = await openWithin(node.port, holder, 1_000)
      if (!got) continue
      if (got.hello.role === 'leader') return got.conn
      void got.conn.destroy()
      const leader = typeof got.hello.leader === 'string' ? this.cluster.nodeAt(got.hello.leader) : undefined
      if (!leader?.running) continue
      const there = await openWithin(leader.port, holder, 1_000)
      if (there?.hello.role === 'leader') return there.conn
      void there?.conn.destroy()
    }
    return undefined
  }

  /**
   * After the run: the peak by the clients' answers, flr_leases per pack, every held lease
   * renewing by id on the leader, no released lease in flr_leases or renewable.
   */
  async check(url: string): Promise<string[]> {
    const problems = [...this.violations]
    const peak = this.peak()
    if (peak.count > this.limit) problems.push(`[LEASE-1] ${peak.count} leases held at one instant (${Math.round(peak.at)}), limit ${this.limit}: ${peak.leases.map((l) => `${l} (${this.trail.get(l)?.join(' ')})`).join(', ')}`)
    const db = new pg.Client({ connectionString: url })
    await db.connect()
    try {
      const { rows } = await db.query<{ lease: string }>('SELECT lease FROM flr_leases WHERE pack = $1', [this.pack])
      if (rows.length > this.limit) problems.push(`[LEASE-1] flr_leases holds ${rows.length} leases of ${this.pack}, limit ${this.limit}`)
      const back = rows.filter((r) => this.released.has(r.lease))
      if (back.length > 0) problems.push(`[HA-5] released leases back in flr_leases: ${back.map((r) => r.lease).join(', ')}`)
      const stored = new Set(rows.map((r) => r.lease))
      for (const lease of this.held.keys()) if (!stored.has(lease)) problems.push(`[HA-5] acknowledged lease ${lease} is not in flr_leases`)
    } finally {
      await db.end()
    }
    const leader = await this.cluster.waitForLeader()
    const got = await openWithin(leader.port, 'checker', 5_000)
    if (!got) return [...problems, 'the leader did not answer the check']
    try {
      for (const lease of this.held.keys()) {
        const r = await got.conn.request('renew', { lease })
        if (!r.ok) problems.push(`[HA-5] acknowledged lease ${lease} does not renew on ${leader.name}: ${r.error?.code}`)
      }
      for (const lease of [...this.released].slice(-200)) {
        const r = await got.conn.request('renew', { lease })
        if (r.ok) problems.push(`[HA-5] released lease ${lease} came back on ${leader.name}`)
      }
    } finally {
      void got.conn.destroy()
    }
    return problems
  }
}
