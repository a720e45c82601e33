// The composition root: lpf → engine → store → listeners, and the LPF's life in a running
// server (reload, removal, expiry, port moves, shutdown).
import { open } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import type { KeyObject } from 'node:crypto'
import type { Socket } from 'node:net'
import { FlrError, isFlrError, type ErrorCode } from '../errors.js'
import { encodeFrame } from '../protocol/frame.js'
import { fail } from '../protocol/messages.js'
import type { HelloAnswer, StatusAnswer } from '../protocol/replies.js'
import { judgeLpf } from '../lpf/judge.js'
import type { LicensePlan } from '../lpf/plan.js'
import { SeatEngine, type Lease, type RevokeReason } from '../engine/engine.js'
import type { Clock } from '../engine/types.js'
import { openLeaseStore, type LmdbLeaseStore } from '../store/lease-store.js'
import { lockStateDir, type StateLock } from '../store/state-lock.js'
import type { StoreScreen } from '../store/store-screen.js'
import { AdminGate } from '../admin/lockout.js'
import { AccessLog } from './access-log.js'
import { createHttpShim, startHttp } from './http.js'
import { Connection, type ConnectionLimits, type ConnectionServices } from './connection.js'
import { Admission } from './admission.js'
import { Listener } from './listener.js'
import { watchLicenseDir, WRITE_QUIET_MS, type LicenseWatcher } from './watcher.js'
import type { Logger } from './logger.js'
import { systemClock } from '../util/clock.js'
import { VERSION } from '../version.js'
import type { Server } from 'node:http'

export interface DaemonConfig {
  licenseDir: string
  stateDir: string
  vendorKeys: KeyObject[]
  hostId: string
  log: Logger
  /** address the lease port binds to */
  bind?: string
  leaseTtlMs?: number
  graceMs?: number
  /** null turns the HTTP shim off ([SEC 7] --no-http) */
  httpPort?: number | null
  httpsPort?: number | null
  tls?: { cert: string; key: string }
  httpPack?: string
  maxConnections?: number
  /** [WIRE-10] --max-connections-per-address */
  maxConnectionsPerAddress?: number
  /** [WIRE-10] per-connection timeouts and reply bound; not a CLI option: tests shorten them */
  connectionLimits?: Partial<ConnectionLimits>
  logDir?: string
  clock?: Clock
  /** [SRV-3] how long a removed file must stay removed */
  removalGraceMs?: number
  /** [SRV-2] the periodic re-check */
  recheckMs?: number
  /** [SRV-5] how long old connections live after `moving` */
  moveCloseMs?: number
  /** [LEASE-9] the store's screen, started early (screenStore) to overlap start-up; used once the lock is held */
  storeScreen?: Promise<StoreScreen>
}

interface PendingError {
  code: ErrorCode
  message: string
  at: string
}

export interface ReloadResult {
  applied: boolean
  error?: { code: ErrorCode; message: string }
  /** the file fails now but was written moments ago: it is judged again once quiet ([SRV-2]) */
  settling?: boolean
}

interface LpfFile {
  data: Buffer
  digest: string
  mtimeMs: number
}

const DEFAULTS = {
  bind: '0.0.0.0',
  leaseTtlMs: 30_000,
  graceMs: 7 * 86_400_000,
  httpPort: 7070 as number | null,
  httpsPort: null as number | null,
  httpPack: 'Agent-Session',
  maxConnections: 10_000,
  maxConnectionsPerAddress: 1_000,
  removalGraceMs: 5_000,
  recheckMs: 60_000,
  moveCloseMs: 5_000,
}

export class Daemon {
  private readonly cfg: DaemonConfig & typeof DEFAULTS
  private readonly log: Logger
  private readonly clock: Clock
  private readonly engine: SeatEngine
  /** what connections see of the daemon */
  private readonly services: ConnectionServices
  private readonly connections = new Map<Socket, Connection>()
  private readonly admission: Admission
  private plan: LicensePlan | undefined
  /** the plan's pack names, for every hello: built once per plan, not once per connection */
  private packNames: readonly string[] = []
  private loadedAt: string | undefined
  private notServing: { code: ErrorCode; message: string } | undefined = { code: 'LPF_MISSING', message: 'no LPF loaded yet' }
  private pendingError: PendingError | undefined
  private portError: PendingError | undefined
  private listener: Listener | undefined
  private http: Server[] = []
  private watcher: LicenseWatcher | undefined
  /** digest of the file behind pendingError */
  private rejectedDigest: string | undefined
  /** [SRV-3] when the removed file's grace ends */
  private removalDeadline: number | undefined
  private removalTimer: unknown
  private expiryTimer: unknown
  private recheckTimer: NodeJS.Timeout | undefined
  private settleTimer: NodeJS.Timeout | undefined
  private reloading: Promise<ReloadResult> | undefined
  /** aborted at stop: ends an LPF judging in flight (lpf/judge.ts) instead of waiting up to its deadline */
  private readonly judging = new AbortController()
  private queuedReload: Promise<ReloadResult> | undefined
  private stopping: Promise<void> | undefined
  readonly restored: number
  httpPort: number | null = null
  httpsPort: number | null = null

  private constructor(
    cfg: DaemonConfig,
    private readonly lock: StateLock,
    private readonly store: LmdbLeaseStore,
    private readonly admin: AdminGate,
    private readonly accessLog: AccessLog,
  ) {
    this.cfg = { ...DEFAULTS, ...(stripUndefined(cfg) as DaemonConfig) }
    this.log = cfg.log
    this.clock = cfg.clock ?? systemClock()
    this.engine = new SeatEngine({
      clock: this.clock,
      store,
      ttlMs: this.cfg.leaseTtlMs,
      onRevoked: (lease, reason) => this.pushRevoked(lease, reason),
      // expiry, revoke and cleanup writes are not awaited by a client: a failure must still be
      // seen, once: a store that cannot write says so itself ([LEASE-10], observeStore)
      onStoreError: (err, op, lease) => {
        if (!isFlrError(err, 'STORE_UNAVAILABLE')) this.log.error({ err, op, lease }, 'lease store write failed')
      },
    })
    observeStore(store, this.log)
    this.services = {
      engine: this.engine,
      log: this.log,
      hello: () => this.hello(),
      status: () => this.status(),
      auth: (password) => this.admin.auth(password),
      reload: async () => ({ ...(await this.reload()) }),
      limits: this.cfg.connectionLimits,
    }
    this.admission = new Admission(this.cfg.maxConnections, this.cfg.maxConnectionsPerAddress)
    // [LEASE-8] every stored lease comes back with a fresh TTL before anything is served
    this.restored = this.engine.restore(store.load())
  }

  /** Starts the daemon. [SRV-1] it starts without a valid LPF; it refuses only for [SRV-7] and [LEASE-9]. */
  static async start(cfg: DaemonConfig): Promise<Daemon> {
    const lock = lockStateDir(cfg.stateDir)
    if (lock.staleFrom) cfg.log.warn({ pid: lock.staleFrom }, 'took over a stale state-directory lock from a process that is gone')
    let store: LmdbLeaseStore | undefined
    try {
      store = await openLeaseStore({ stateDir: cfg.stateDir, hostId: cfg.hostId, screened: cfg.storeScreen })
      const clock = cfg.clock ?? systemClock()
      const logDir = cfg.logDir ?? join(cfg.stateDir, 'logs')
      const daemon = new Daemon(
        { ...cfg, clock, logDir },
        lock,
        store,
        new AdminGate({ stateDir: cfg.stateDir, clock, log: cfg.log }),
        new AccessLog({ dir: logDir, clock, log: cfg.log }),
      )
      await daemon.boot()
      return daemon
    } catch (e) {
      await store?.close()
      lock.release()
      throw e
    }
  }

  private async boot(): Promise<void> {
    this.log.info({ restored: this.restored, stateDir: this.cfg.stateDir }, `restored ${this.restored} lease(s) from the store`)
    const result = await this.reload()
    // [SRV-7] a valid LPF whose port another process holds: refuse to start, clearly
    if (!result.applied && result.error?.code === 'PORT_IN_USE') throw new FlrError('PORT_IN_USE', result.error.message)
    await this.startHttp()
    this.watcher = watchLicenseDir(this.cfg.licenseDir, this.fileName, () => void this.reload(), this.log)
    await this.watcher.ready
    // a file written between the first read and the watcher being ready would wait for the re-check
    void this.reload()
    this.recheckTimer = setInterval(() => void this.reload(), this.cfg.recheckMs)
    this.recheckTimer.unref()
  }

  private get fileName(): string {
    return `${this.cfg.hostId}.lp`
  }

  get leasePort(): number | undefined {
    return this.listener?.port
  }

  // ---- the LPF: reload as named steps [read, load (screen → verify → parse → check), apply] ----

  /**
   * [SRV-2] Re-reads `<hostId>.lp`. One run at a time; a call made during a run gets the run
   * after it (shared by every such call), so its answer always reflects the file as it was
   * when it called. Never rejects: a failure is logged and answered as INTERNAL.
   */
  reload(): Promise<ReloadResult> {
    if (this.stopping) return Promise.resolve({ applied: false })
    if (!this.reloading) return this.runReload()
    this.queuedReload ??= this.reloading.then(() => {
      this.queuedReload = undefined
      return this.reload()
    })
    return this.queuedReload
  }

  private runReload(): Promise<ReloadResult> {
    const run: Promise<ReloadResult> = this.reloadOnce()
      .catch((e: unknown) => {
        this.log.error({ err: e, file: this.fileName }, 'LPF reload failed')
        return { applied: false, error: { code: 'INTERNAL' as const, message: e instanceof Error ? e.message : String(e) } }
      })
      .finally(() => {
        if (this.reloading === run) this.reloading = undefined
      })
    this.reloading = run
    return run
  }

  private async reloadOnce(): Promise<ReloadResult> {
    let file: LpfFile | undefined
    try {
      file = await this.readLpf()
    } catch (e) {
      // there, but unreadable: a bad file, not a removed one ([SRV-2], not [SRV-3])
      this.cancelRemoval()
      return this.rejected(e)
    }
    if (!file) return this.fileMissing()
    this.cancelRemoval()
    if (this.plan && file.digest === this.plan.digest && this.engine.serving) return this.unchanged()
    // a file already judged is not judged (and logged) again at every re-check
    if (file.digest === this.rejectedDigest && this.pendingError) return { applied: false, error: errorOf(this.pendingError) }
    let plan: LicensePlan
    // [LPF-6] on a worker thread with a deadline: a heavy file within the screen's bounds still
    // costs xmldom and verify seconds, and clients are served meanwhile
    this.log.info({ file: this.fileName, bytes: file.data.length }, 'judging the LPF off the event loop')
    try {
      plan = await judgeLpf(file.data, {
        vendorKeys: this.cfg.vendorKeys,
        hostId: this.cfg.hostId,
        fileName: this.fileName,
        now: this.clock.now(),
      }, { signal: this.judging.signal })
    } catch (e) {
      if (this.judging.signal.aborted) return { applied: false } // stopping: the file is judged at the next start
      return this.rejected(e, file)
    }
    return this.apply(plan)
  }

  /** The file's bytes and when they were last written; undefined when there is no file. */
  private async readLpf(): Promise<LpfFile | undefined> {
    const path = join(this.cfg.licenseDir, this.fileName)
    let handle
    try {
      handle = await open(path, 'r')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw unreadable(path, e)
    }
    try {
      // one handle for both: the time and the bytes are those of the same file
      const { mtimeMs } = await handle.stat()
      const data = await handle.readFile()
      return { data, mtimeMs, digest: createHash('sha256').update(data).digest('hex') }
    } catch (e) {
      throw unreadable(path, e)
    } finally {
      await handle.close()
    }
  }

  /** The file in force is on disk again: nothing to apply, a pending error is gone, a failed port move is retried. */
  private async unchanged(): Promise<ReloadResult> {
    this.clearPending()
    if (!this.plan || this.listener?.port === this.plan.port) return { applied: false }
    const { error } = await this.usePort(this.plan.port)
    return error ? { applied: false, error } : { applied: true }
  }

  private rejected(e: unknown, file?: LpfFile): ReloadResult {
    if (!isFlrError(e)) throw e
    const error = { code: e.code, message: e.message }
    // [SRV-2] "once the write has finished": a file written moments ago may be half of one (a slow
    // copy pauses longer than the watcher's settle time), so it is judged again once it is quiet
    const age = file ? Date.now() - file.mtimeMs : Infinity
    if (age >= 0 && age < WRITE_QUIET_MS) {
      this.judgeAgainAfter(WRITE_QUIET_MS - age)
      this.log.debug({ code: e.code, file: this.fileName, ageMs: Math.round(age) }, 'LPF not valid yet; it changed moments ago and may still be being written')
      return { applied: false, error, settling: true }
    }
    // [SRV-2] the last valid LPF stays in force; the error shows in status until a good file arrives
    this.pendingError = { ...error, at: new Date(this.clock.now()).toISOString() }
    this.rejectedDigest = file?.digest
    if (!this.engine.serving) this.notServing = error
    this.log.warn({ code: e.code, file: this.fileName }, `LPF rejected: ${e.message}`)
    return { applied: false, error }
  }

  private judgeAgainAfter(ms: number): void {
    clearTimeout(this.settleTimer)
    this.settleTimer = setTimeout(() => void this.reload(), Math.ceil(ms) + 20)
    this.settleTimer.unref()
  }

  private clearPending(): void {
    this.pendingError = undefined
    this.rejectedDigest = undefined
  }

  private async apply(plan: LicensePlan): Promise<ReloadResult> {
    const portResult = await this.usePort(plan.port)
    if (!this.listener) {
      // nothing to serve on: the very first port could not be bound; every re-check tries again
      this.notServing = portResult.error
      return { applied: false, error: portResult.error }
    }
    const previous = this.plan
    this.plan = plan
    this.loadedAt = new Date(this.clock.now()).toISOString()
    this.clearPending()
    this.notServing = undefined
    this.engine.applyPlan(plan.packs)
    this.packNames = plan.packs.map((p) => p.name)
    this.armExpiry(plan)
    this.log.info(
      { vendor: plan.vendor, port: plan.port, packs: plan.packs.length, expiration: plan.expiration, previousPort: previous?.port },
      previous ? 'new LPF applied' : 'LPF loaded: serving',
    )
    return portResult.error ? { applied: true, error: portResult.error } : { applied: true }
  }

  // ---- [SRV-5] ports ----

  private async usePort(port: number): Promise<{ error?: { code: ErrorCode; message: string } }> {
    if (this.listener?.port === port) {
      // an LPF back on the port in use ends a failed move
      this.portError = undefined
      return {}
    }
    let next: Listener
    try {
      next = await Listener.listen(port, this.cfg.bind, (socket) => this.accept(socket))
    } catch (e) {
      if (!isFlrError(e)) throw e
      const error = { code: e.code, message: e.message }
      this.portError = { ...error, at: new Date(this.clock.now()).toISOString() }
      this.log.error({ port, code: e.code }, `cannot bind the LPF's port: ${e.message}`)
      return { error }
    }
    this.portError = undefined
    const old = this.listener
    this.listener = next
    this.log.info({ port: next.port, previousPort: old?.port }, `listening for leases on port ${next.port}`)
    if (old) this.retire(old, next.port)
    return {}
  }

  /** Old port: `moving` to everyone on it, stop accepting, close what is left after moveCloseMs. */
  private retire(old: Listener, port: number): void {
    for (const socket of old.sockets) this.connections.get(socket)?.push('moving', { port })
    void old.close()
    const timer = setTimeout(() => {
      for (const socket of old.sockets) socket.destroy()
    }, this.cfg.moveCloseMs)
    timer.unref()
  }

  // ---- [SRV-3] removal and [SRV-6] expiry ----

  /**
   * [SRV-3] A removed file starts the grace; the timer ends it through reload(), so the decision to
   * stop serving is taken in the same serialized run that would see a returning file.
   */
  private fileMissing(): ReloadResult {
    const error = { code: 'LPF_MISSING' as const, message: `no ${this.fileName} in ${this.cfg.licenseDir}` }
    if (!this.plan) {
      this.notServing = error
      return { applied: false, error }
    }
    if (!this.engine.serving) return { applied: false, error }
    if (this.removalDeadline === undefined) {
      this.log.warn({ file: this.fileName }, `LPF removed; leases are revoked if it stays removed for ${this.cfg.removalGraceMs} ms`)
      this.removalDeadline = this.clock.now() + this.cfg.removalGraceMs
    }
    const left = this.removalDeadline - this.clock.now()
    if (left > 0) {
      // a timer may fire a little early: it then comes back here and waits for what is left
      this.removalTimer ??= this.clock.setTimeout(() => {
        this.removalTimer = undefined
        void this.reload()
      }, left)
      return { applied: false, error }
    }
    this.cancelRemoval()
    this.stopServing('lpf-removed', { code: 'LPF_MISSING', message: `${this.fileName} was removed from ${this.cfg.licenseDir}` })
    return { applied: false, error }
  }

  private cancelRemoval(): void {
    this.removalDeadline = undefined
    if (this.removalTimer === undefined) return
    this.clock.clearTimeout(this.removalTimer)
    this.removalTimer = undefined
  }

  private disarmExpiry(): void {
    if (this.expiryTimer !== undefined) this.clock.clearTimeout(this.expiryTimer)
    this.expiryTimer = undefined
  }

  private armExpiry(plan: LicensePlan): void {
    this.disarmExpiry()
    if (plan.expiresAt === null) return
    // timers cap at ~24.8 days: re-arm in steps until the instant comes
    const wait = Math.min(plan.expiresAt - this.clock.now(), 2 ** 31 - 1)
    this.expiryTimer = this.clock.setTimeout(() => {
      if (this.plan !== plan) return
      if (this.clock.now() < plan.expiresAt!) return this.armExpiry(plan)
      this.stopServing('lpf-expired', { code: 'LPF_EXPIRED', message: `the LPF expired at ${new Date(plan.expiresAt!).toISOString()}` })
    }, Math.max(0, wait))
  }

  private stopServing(reason: 'lpf-removed' | 'lpf-expired', why: { code: ErrorCode; message: string }): void {
    if (!this.engine.serving) return
    this.notServing = why
    this.log.warn({ reason, code: why.code }, `stopped serving: ${why.message}; every lease is revoked`)
    this.engine.stopServing(reason)
  }

  // ---- connections ----

  private accept(socket: Socket): void {
    // [WIRE-10] over --max-connections or --max-connections-per-address: SERVER_BUSY, then closed
    const admitted = this.stopping ? new FlrError('SERVER_BUSY', 'the server is shutting down') : this.admission.admit(socket)
    if (admitted instanceof FlrError) {
      refuse(socket, admitted)
      return
    }
    const conn = new Connection(socket, this.services, () => {
      admitted()
      this.connections.delete(socket)
    })
    this.connections.set(socket, conn)
  }

  /** [WIRE-9] revoked goes to the connection that last granted or renewed the lease, if still open */
  private pushRevoked(lease: Lease, reason: RevokeReason): void {
    const conn = lease.owner
    if (conn instanceof Connection && conn.isOpen) conn.push('revoked', { lease: lease.lease, pack: lease.pack, reason })
    this.log.info({ lease: lease.lease, pack: lease.pack, holder: lease.holder, reason }, 'lease revoked')
  }

  private hello(): HelloAnswer {
    return {
      protocol: 1,
      server: `flr/${VERSION}`,
      vendor: this.plan?.vendor ?? '',
      hostId: this.cfg.hostId,
      serverTime: Date.now(),
      leaseTtlMs: this.cfg.leaseTtlMs,
      graceMs: this.cfg.graceMs,
      // a port move sends every client here at once ([SRV-5]): no per-hello walk over the packs
      packs: this.engine.serving ? this.packNames : [],
    }
  }

  /** [WIRE-7] plus what an admin needs: when the LPF was loaded, the port in use, restored leases */
  status(): StatusAnswer {
    const plan = this.plan
    return {
      serving: this.engine.serving,
      ...(this.engine.serving ? {} : { reason: this.notServing ?? { code: 'NOT_SERVING', message: 'not serving' } }),
      ...(plan
        ? {
            lpf: {
              vendor: plan.vendor,
              generated: plan.generated,
              expiration: plan.expiration,
              hostId: plan.hostId,
              port: plan.port,
              loadedAt: this.loadedAt,
            },
          }
        : {}),
      ...(this.pendingError ? { pendingError: this.pendingError } : {}),
      ...(this.portError ? { portError: this.portError } : {}),
      ...storeError(this.store),
      listeningPort: this.listener?.port ?? null,
      restored: this.restored,
      packs: this.engine.serving ? this.engine.packs() : [],
    }
  }

  // ---- HTTP shim ----

  private async startHttp(): Promise<void> {
    const handler = createHttpShim({
      engine: this.engine,
      httpPack: this.cfg.httpPack,
      store: this.store,
      // [HTTP-1] why health answers 503 when no LPF is in force
      notServing: () => (this.engine.serving ? undefined : (this.notServing ?? { code: 'NOT_SERVING', message: 'not serving' })),
      accessLog: this.accessLog,
      version: { version: VERSION },
      log: this.log,
    })
    const host = this.cfg.bind
    if (this.cfg.httpPort !== null) {
      const { server, port } = await startHttp({ port: this.cfg.httpPort, host }, handler)
      this.http.push(server)
      this.httpPort = port
      this.log.info({ port }, `HTTP shim listening on port ${port}`)
    }
    if (this.cfg.httpsPort !== null && this.cfg.tls) {
      const { server, port } = await startHttp({ port: this.cfg.httpsPort, host, tls: this.cfg.tls }, handler)
      this.http.push(server)
      this.httpsPort = port
      this.log.info({ port }, `HTTPS shim listening on port ${port}`)
    }
  }

  // ---- [SRV-8] shutdown ----

  /** `shutdown` to every connection, stop accepting, make the store durable, release the lock. */
  stop(): Promise<void> {
    this.stopping ??= this.stopOnce()
    return this.stopping
  }

  private async stopOnce(): Promise<void> {
    clearInterval(this.recheckTimer)
    clearTimeout(this.settleTimer)
    this.disarmExpiry()
    await this.watcher?.close()
    this.judging.abort(new Error('the daemon is stopping'))
    // a run in flight may still bind a listener or arm a timer: let it finish, then undo both below
    await this.reloading
    this.cancelRemoval()
    this.disarmExpiry()
    clearTimeout(this.settleTimer)
    for (const conn of this.connections.values()) {
      conn.push('shutdown')
      conn.end()
    }
    const closing = [this.listener?.close(), ...this.http.map((s) => new Promise<void>((r) => s.close(() => r())))]
    for (const s of this.http) s.closeAllConnections()
    this.engine.close()
    // connections that do not close on their own within 1 s are cut: exit stays within 5 s
    const cut = setTimeout(() => {
      for (const socket of this.connections.keys()) socket.destroy()
    }, 1_000)
    await Promise.all(closing)
    clearTimeout(cut)
    await this.accessLog.close()
    await this.store.close()
    this.lock.release()
    this.log.info('stopped; leases are stored and come back on the next start')
  }

}

/** How long a refused peer has to read its error and close, before the socket is cut. */
const REFUSED_LINGER_MS = 1_000

/**
 * [WIRE-10] One error frame, then closed. What the peer sends is read and dropped: a socket
 * never read never sees the peer's FIN and would stay open (a descriptor leaked per refusal,
 * and a listener that never finishes closing, [SRV-8]); closing with its bytes unread would
 * reset the connection and could lose the error frame. A peer that does not close is cut.
 */
function refuse(socket: Socket, error: FlrError): void {
  socket.on('error', () => {})
  socket.resume()
  socket.end(encodeFrame(fail(0, error)))
  setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref()
}

function errorOf(e: { code: ErrorCode; message: string }): { code: ErrorCode; message: string } {
  return { code: e.code, message: e.message }
}

/** A file that is there but cannot be read: rejected like a bad file, the LPF in force stays ([SRV-2]). */
function unreadable(path: string, e: unknown): FlrError {
  const why = (e as NodeJS.ErrnoException).code ?? String(e)
  return new FlrError('LPF_MISSING', `${path} cannot be read (${why}); make it a regular file readable by the user flr serve runs as`)
}

/** [LEASE-10] the log says it once when the store stops writing, and once when it writes again. */
function observeStore(store: LmdbLeaseStore, log: Logger): void {
  store.observe({
    fault: (f) =>
      log.error({ store: store.file, fault: f.kind, errno: f.errno }, `lease store cannot write; grants and releases are refused until it can: ${f.message}`),
    recovered: (f) => log.info({ store: store.file, fault: f.kind, since: f.since }, 'lease store writes again; grants and releases resume'),
  })
}

/** [LEASE-10] status shows a store that cannot write: what the refusals say, and since when. */
function storeError(store: LmdbLeaseStore): { storeError?: { code: ErrorCode; message: string; since: string } } {
  const fault = store.fault()
  return fault ? { storeError: { code: 'STORE_UNAVAILABLE', message: fault.message, since: fault.since } } : {}
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
