// [OBS-1] [OBS-4] [OBS-5] What the daemon shows of itself, assembled here so that the
// composition root (daemon.ts) wires it with a few lines: the metrics (an engine observer, a
// timer around the store's writes and one per request), the HTTP routes for Prometheus and the
// dashboard, and the LPF expiry warning with the days left that status and health carry.
import type { Clock } from '../util/clock.js'
import type { LicensePlan } from '../lpf/plan.js'
import type { PackRow, StatusAnswer } from '../protocol/replies.js'
import { ExpiryWarning, expiresInDays } from './expiry-warning.js'
import { withObservability } from './http-observability.js'
import type { HttpHandler } from './http-listen.js'
import type { Logger } from './logger.js'
import { FlrMetrics, type MetricsSources } from './metrics.js'

/** The daemon's parts the observability reads, once they exist. */
export interface ObservedDaemon {
  readonly engine: { packs(): PackRow[] }
  readonly keeper: { readonly serving: boolean; readonly plan: LicensePlan | undefined }
  readonly tcp: { readonly connectionCount: number }
  readonly store: { fault(): unknown }
  status(): StatusAnswer
  /** [HA-*] in a cluster, whether this node leads and the term; undefined on a single node */
  cluster?(): { leader: boolean; term?: string } | undefined
}

export class Observability {
  readonly metrics = new FlrMetrics()
  private readonly expiry: ExpiryWarning
  private daemon: ObservedDaemon | undefined

  constructor(private readonly opts: { clock: Clock; log: Logger }) {
    this.expiry = new ExpiryWarning({ clock: opts.clock, log: opts.log, plan: () => this.daemon?.keeper.plan })
  }

  /** Reads `daemon` from now on (scrapes, the dashboard, the expiry warning). */
  watch(daemon: ObservedDaemon): void {
    this.daemon = daemon
    const sources: MetricsSources = {
      packs: () => (daemon.keeper.serving ? daemon.engine.packs() : []),
      serving: () => daemon.keeper.serving && !daemon.store.fault(),
      lpfExpiresAt: () => daemon.keeper.plan?.expiresAt,
      connections: () => daemon.tcp.connectionCount,
      cluster: () => daemon.cluster?.(),
    }
    this.metrics.watch(sources)
  }

  /** [OBS-5] starts the daily warning (at start-up, once the first LPF has been read). */
  start(): void {
    this.expiry.start()
  }

  stop(): void {
    this.expiry.stop()
  }

  /** [OBS-5] whole days until the LPF in force expires; undefined without an LPF or when it never expires. */
  expiresInDays(): number | undefined {
    return expiresInDays(this.daemon?.keeper.plan?.expiresAt, this.opts.clock.now())
  }

  /** The shim with /metrics, the dashboard and /api/1.0/status in front of it. */
  http(shim: HttpHandler): HttpHandler {
    return withObservability(shim, {
      metrics: this.metrics,
      status: () => this.daemon!.status(),
      log: this.opts.log,
    })
  }

  /** [OBS-1] for the TCP front: a request of `op` answered. */
  readonly requestDone = (op: string, started: number): void => this.metrics.requestDone('tcp', op, started)
}
