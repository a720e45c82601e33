// The composition root: lock → store → engine → license keeper → fronts (TCP, HTTP) → watcher.
// It assembles the hello and status answers and owns the order of start-up and shutdown; the
// LPF's life cycle lives in license-keeper.ts, the TCP side in tcp-front.ts, the options and
// their defaults in daemon-config.ts.
import { join } from 'node:path'
import { FlrError, isFlrError } from '../errors.js'
import { judgeLpf } from '../lpf/judge.js'
import { SeatEngine } from '../engine/engine.js'
import { lockStateDir, type StateLock } from '../store/state-lock.js'
import { AdminGate } from '../admin/lockout.js'
import { systemClock } from '../util/clock.js'
import type { HelloAnswer, Problem, ReloadAnswer, StatusAnswer } from '../protocol/replies.js'
import { helloAnswer, statusAnswer, whyNotServing, type AnswerSources } from './daemon-answers.js'
import { VERSION } from '../version.js'
import { AccessLog } from './access-log.js'
import { HttpFront } from './http-front.js'
import { LicenseKeeper } from './license-keeper.js'
import { Observability } from './observability.js'
import { misnamedLpfs, readLpfFile } from './lpf-file.js'
import { observeStore, storeError } from './store-health.js'
import { usageFor, type Usage } from './usage.js'
import { TcpFront } from './tcp-front.js'
import { ServerTls } from './tls-config.js'
import { ClientAuth } from './client-auth.js'
import { makeRole, openDaemonStore, type DaemonStore, type OpenedStore } from './daemon-store.js'
import { PgLeaseStore } from '../store/pg-lease-store.js'
import type { LmdbLeaseStore } from '../store/lease-store.js'
import type { ClusterRole } from './role.js'
import type { FrontEngine } from './role-engine.js'
import type { LeaseStore } from '../engine/types.js'
import { watchLicenseDir, WRITE_QUIET_MS, type LicenseWatcher } from './watcher.js'
import type { Logger } from './logger.js'
import { withDefaults, type DaemonConfig, type ResolvedDaemonConfig } from './daemon-config.js'

export type { DaemonConfig } from './daemon-config.js'

export class Daemon {
  private readonly cfg: ResolvedDaemonConfig
  private readonly log: Logger
  private readonly engine: FrontEngine & { close(): void }
  /** [HA-3] on the PostgreSQL store: leadership, and whether this node serves or redirects */
  private readonly role: ClusterRole | undefined
  private readonly usage: Usage
  private readonly keeper: LicenseKeeper
  private readonly tcp: TcpFront
  private readonly obs: Observability
  private http: HttpFront | undefined
  private watcher: LicenseWatcher | undefined
  private stopping: Promise<void> | undefined
  readonly restored: number
  private readonly store: DaemonStore

  private constructor(
    cfg: DaemonConfig,
    private readonly lock: StateLock,
    opened: OpenedStore,
    private readonly admin: AdminGate,
    private readonly accessLog: AccessLog,
    private readonly tls: ServerTls | undefined,
  ) {
    this.cfg = withDefaults(cfg)
    this.log = cfg.log
    const store = (this.store = opened.store)
    const clock = cfg.clock ?? systemClock()
    this.obs = new Observability({ clock, log: this.log })
    this.usage = usageFor(store, clock, cfg.historyDays, this.log)
    const makeEngine = (store: LeaseStore): SeatEngine => new SeatEngine({
      clock,
      store: this.obs.metrics.timeWrites(store),
      observers: [...this.usage.observers, this.obs.metrics.observer],
      ttlMs: this.cfg.leaseTtlMs,
      onRevoked: (lease, reason) => {
        this.tcp.pushRevoked(lease, reason)
        this.log.info({ lease: lease.lease, pack: lease.pack, holder: lease.holder, reason }, 'lease revoked')
      },
      // expiry, revoke and cleanup writes are not awaited by a client: a failure must still be
      // seen, once: a store that cannot write says so itself ([LEASE-10], observeStore)
      onStoreError: (err, op, lease) => {
        if (!isFlrError(err, 'STORE_UNAVAILABLE') && !isFlrError(err, 'NOT_LEADER')) this.log.error({ err, op, lease }, 'lease store write failed')
      },
    })
    const { hostId } = this.cfg
    // [HA-3] on PostgreSQL the daemon is a cluster node: it serves only while it leads
    this.role = store instanceof PgLeaseStore ? makeRole({ url: cfg.store!, store, hostId, cluster: this.cfg.cluster, clock, log: this.log, makeEngine,
      leasePort: () => this.tcp.port, httpPort: () => this.httpPort, lpfDigest: () => this.keeper.plan?.digest,
      canLead: () => this.keeper.serving && this.tcp.port !== undefined, front: { moveAll: (h, p) => this.tcp.moveAll(h, p), shutdownAll: () => this.tcp.shutdownAll() } }) : undefined
    opened.bindRole(this.role)
    this.engine = this.role?.engine ?? makeEngine(store)
    observeStore(store, this.log)
    this.tcp = new TcpFront({
      bind: this.cfg.bind,
      maxConnections: this.cfg.maxConnections,
      maxConnectionsPerAddress: this.cfg.maxConnectionsPerAddress,
      moveCloseMs: this.cfg.moveCloseMs,
      clock,
      log: this.log,
      tls: tls && { source: tls, handshakeTimeoutMs: cfg.tlsHandshakeTimeoutMs },
      services: {
        engine: this.engine,
        log: this.log,
        clock,
        hello: () => this.hello(),
        status: () => this.status(),
        auth: (password, peer) => this.admin.auth(password, peer),
        reload: async () => ({ ...(await this.reload()) }),
        report: this.usage.wire,
        limits: this.cfg.connectionLimits,
        clientAuth: cfg.clientTokens && new ClientAuth(cfg.clientTokens, this.engine),
        standby: this.role && (() => this.role!.standbyRefusal()),
        requestDone: this.obs.requestDone,
      },
    })
    const { vendorKeys, licenseDir } = this.cfg
    const fileName = `${hostId}.lp`
    this.keeper = new LicenseKeeper({
      clock,
      read: () => readLpfFile(join(licenseDir, fileName)),
      // [LPF-6] on a worker thread with a deadline: a file within the screen's bounds may still
      // cost xmldom and verify seconds, and clients are served meanwhile
      load: (data, now, signal) => {
        this.log.info({ file: fileName, bytes: data.length }, 'judging the LPF off the event loop')
        return judgeLpf(data, { vendorKeys, hostId, fileName, now }, { signal })
      },
      ports: this.tcp,
      engine: this.engine,
      log: this.log,
      fileName,
      licenseDir,
      removalGraceMs: this.cfg.removalGraceMs,
      recheckMs: this.cfg.recheckMs,
      quietMs: WRITE_QUIET_MS,
      misnamed: () => misnamedLpfs(licenseDir, fileName),
      onChange: () => cfg.onChange?.(),
      // [LPF-2] --grace as given: the keeper holds it to the LPF's cap
      graceMs: cfg.graceMs,
      // [HA-2] a cluster LPF needs the store the nodes share
      sharedStore: this.role !== undefined,
    })
    this.obs.watch({ engine: this.engine, keeper: this.keeper, tcp: this.tcp, store, status: () => this.status(),
      // [HA-3] flr_leader, flr_leader_term
      cluster: this.role && (() => ({ leader: this.role!.role === 'leader', term: this.role!.fence.term() })) })
    // [LEASE-8] every stored lease comes back with a fresh TTL before anything is served
    this.restored = this.role ? 0 : (this.engine as SeatEngine).restore((store as LmdbLeaseStore).load())
  }

  /** Starts the daemon. [SRV-1] it starts without a valid LPF; it refuses only for [SRV-7] and [LEASE-9]. */
  static async start(cfg: DaemonConfig): Promise<Daemon> {
    const lock = lockStateDir(cfg.stateDir)
    if (lock.staleFrom) cfg.log.warn({ stalePid: lock.staleFrom }, 'took over a stale state-directory lock from a process that is gone')
    let store: OpenedStore | undefined
    try {
      store = await openDaemonStore(cfg)
      const clock = cfg.clock ?? systemClock()
      const logDir = cfg.logDir ?? join(cfg.stateDir, 'logs')
      const daemon = new Daemon(
        { ...cfg, clock, logDir },
        lock,
        store,
        new AdminGate({ stateDir: cfg.stateDir, clock, log: cfg.log }),
        new AccessLog({ dir: logDir, clock, log: cfg.log }),
        cfg.tls && ServerTls.open({ setting: cfg.tls, stateDir: cfg.stateDir, log: cfg.log }),
      )
      await daemon.boot()
      return daemon
    } catch (e) {
      await store?.store.close()
      lock.release()
      throw e
    }
  }

  private async boot(): Promise<void> {
    this.log.info({ restored: this.restored, stateDir: this.cfg.stateDir }, `restored ${this.restored} lease(s) from the store`)
    const result = await this.reload()
    // [SRV-7] a valid LPF whose port another process holds: refuse to start, clearly
    if (!result.applied && result.error?.code === 'PORT_IN_USE') throw new FlrError('PORT_IN_USE', result.error.message)
    this.http = await HttpFront.start({
      host: this.cfg.bind,
      httpPort: this.cfg.httpPort,
      httpsPort: this.cfg.httpsPort,
      tls: this.tls,
      log: this.log,
      wrap: (shim) => this.obs.http(shim),
      shim: {
        engine: this.engine,
        httpPack: this.cfg.httpPack,
        store: this.store,
        // [HTTP-1] why health answers 503 when no LPF is in force
        notServing: () => this.whyNotServing(),
        role: () => this.role?.role,
        accessLog: this.accessLog,
        expiresInDays: () => this.obs.expiresInDays(),
        routes: this.usage.routes,
        version: { version: VERSION },
        log: this.log,
      },
    })
    this.watcher = watchLicenseDir(this.cfg.licenseDir, `${this.cfg.hostId}.lp`, () => void this.reload(), this.log)
    await this.watcher.ready
    this.usage.start()
    // a file written between the first read and the watcher being ready would wait for the re-check
    void this.reload()
    this.keeper.startRechecks()
    // [HA-3] once the ports are known: they are what this node advertises
    this.role?.start()
    this.obs.start()
  }

  get leasePort(): number | undefined {
    return this.tcp.port
  }

  get httpPort(): number | null {
    return this.http?.httpPort ?? null
  }

  get httpsPort(): number | null {
    return this.http?.httpsPort ?? null
  }

  /**
   * [SRV-2] Re-reads `<hostId>.lp`. One run at a time; a call made during a run gets the run
   * after it (shared by every such call). Never rejects: a failure is answered as INTERNAL.
   */
  reload(): Promise<ReloadAnswer> {
    return this.keeper.reload()
  }

  private hello(): HelloAnswer {
    return helloAnswer(this.answers)
  }

  /** [SRV-1] [SRV-3] [SRV-6] why no lease is served, or undefined while serving */
  private whyNotServing(): Problem | undefined {
    return whyNotServing(this.keeper) ?? this.role?.whyNotServing()
  }

  /** [WIRE-7] plus what an admin needs: when the LPF was loaded, the port in use, restored leases */
  status(): StatusAnswer {
    return statusAnswer(this.answers)
  }

  private get answers(): AnswerSources {
    return {
      hostId: this.cfg.hostId,
      leaseTtlMs: this.cfg.leaseTtlMs,
      keeper: this.keeper,
      engine: this.engine,
      listeningPort: () => this.tcp.port,
      storeError: () => storeError(this.store),
      restored: () => this.restored,
      role: this.role,
      expiresInDays: () => this.obs.expiresInDays(),
      tls: () => this.tls?.certificate,
    }
  }

  // ---- [SRV-8] shutdown ----

  /** `shutdown` to every connection, stop accepting, make the store durable, release the lock. */
  stop(): Promise<void> {
    this.stopping ??= this.stopOnce()
    return this.stopping
  }

  private async stopOnce(): Promise<void> {
    this.tcp.stopAdmitting()
    // [HA-5] first of all: stop serving and give the term up, so that a standby takes over now
    const handedOver = this.role?.stop()
    // no more reloads or timers; a run in flight may still bind a listener: the front closes it below
    const keeperClosed = this.keeper.close()
    this.obs.stop()
    await this.watcher?.close()
    await keeperClosed
    await handedOver
    const closing = [this.tcp.close(), this.http?.close()]
    this.engine.close()
    await Promise.all(closing)
    await this.accessLog.close()
    await this.usage.close()
    await this.store.close()
    this.tls?.close()
    this.lock.release()
    this.log.info('stopped; leases are stored and come back on the next start')
  }
}
