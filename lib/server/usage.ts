// [OBS-2] [OBS-3] The daemon's usage history, wired in one place so that daemon.ts changes by a
// few lines: the engine's observer, the wire `report` op, the /api/1.0/report route, and
// the start and stop of the background work. A store without a history gets none of them.
import type { IncomingMessage } from 'node:http'
import type { EngineObserver, LeaseHistory } from '../engine/types.js'
import type { ReportRequest } from '../protocol/messages.js'
import type { ReportAnswer } from '../protocol/replies.js'
import { UsageService } from '../report/service.js'
import type { Clock } from '../util/clock.js'
import type { Reply } from './http-body.js'
import type { Logger } from './logger.js'
import { reportRoutes } from './report-route.js'

export interface Usage {
  readonly observers: EngineObserver[]
  readonly wire: ((req: ReportRequest, admin: boolean) => Promise<ReportAnswer>) | undefined
  readonly routes: Record<string, (req: IncomingMessage) => Promise<Reply>>
  readonly service: UsageService | undefined
  start(): void
  close(): Promise<void>
}

export function usageFor(store: { readonly history?: LeaseHistory }, clock: Clock, historyDays: number | undefined, log: Logger): Usage {
  const history = store.history
  if (!history) return { observers: [], wire: undefined, routes: {}, service: undefined, start: () => {}, close: async () => {} }
  const service = new UsageService({ history, clock, historyDays, log })
  return {
    observers: service.observers,
    wire: async ({ from, to, by, pack }, admin) => {
      const asked = { from, to, by, pack }
      const report = admin ? await service.adminReport(asked) : await service.report(asked)
      return report as unknown as ReportAnswer
    },
    routes: reportRoutes(service),
    service,
    start: () => service.start(),
    close: () => service.close(),
  }
}
