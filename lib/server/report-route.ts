// [OBS-3] GET /api/1.0/report on the HTTP shim: the public usage report (no holder names),
// JSON, or CSV for `Accept: text/csv`. The query is ?from=YYYY-MM-DD&to=YYYY-MM-DD&by=hour|day|month&pack=P.
import type { IncomingMessage } from 'node:http'
import { reportCsv } from '../report/csv.js'
import type { UsageService } from '../report/service.js'
import type { Reply } from './http-body.js'

export const REPORT_PATH = '/api/1.0/report'

export function reportRoutes(usage: UsageService): Record<string, (req: IncomingMessage) => Promise<Reply>> {
  return {
    [REPORT_PATH]: async (req) => {
      const url = req.url ?? ''
      const q = url.indexOf('?')
      const params = new URLSearchParams(q === -1 ? '' : url.slice(q + 1))
      const asked = {
        from: params.get('from') ?? undefined,
        to: params.get('to') ?? undefined,
        by: params.get('by') ?? undefined,
        pack: params.get('pack') ?? undefined,
      }
      const report = await usage.report(asked)
      if (wantsCsv(req)) return { status: 200, raw: { type: 'text/csv; charset=utf-8', text: reportCsv(report.rows) } }
      return { status: 200, body: report }
    },
  }
}

function wantsCsv(req: IncomingMessage): boolean {
  return /\btext\/csv\b/i.test(req.headers.accept ?? '')
}
