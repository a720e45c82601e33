// [OBS-1] [OBS-4] The routes of the HTTP shim that are for people and Prometheus rather than for
// agents: GET /metrics, the dashboard (GET / and its files) and GET /api/1.0/status, which the
// dashboard polls. They sit in front of the shim (http.ts), which answers everything else; every
// request through either is timed for flr_request_duration_seconds{transport="http"}.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { FlrError } from '../errors.js'
import type { StatusAnswer } from '../protocol/replies.js'
import { dashboardAsset, DASHBOARD_CSP, isDashboardPath } from './dashboard-assets.js'
import { send } from './http-body.js'
import type { HttpHandler } from './http-listen.js'
import type { FlrMetrics } from './metrics.js'

export interface ObservabilityRoutesOptions {
  metrics: FlrMetrics
  /** [WIRE-7] the status any client may ask for over TCP: packs, the LPF, serving; no holder */
  status(): StatusAnswer
  log: { error(obj: object, msg?: string): void }
}

/** The shim with the observability routes in front of it. */
export function withObservability(shim: HttpHandler, opts: ObservabilityRoutesOptions): HttpHandler {
  return (req, res) => {
    const started = performance.now()
    const path = pathOf(req.url)
    const op = opOf(req.method, path)
    res.once('finish', () => opts.metrics.requestDone('http', op, started))
    if (op === 'metrics' || op === 'dashboard' || op === 'status') {
      void answer(req, res, path, op, opts).catch((err: unknown) => {
        opts.log.error({ err, path: path.slice(0, 256) }, 'HTTP request could not be answered')
        res.destroy()
      })
      return
    }
    shim(req, res)
  }
}

type OwnOp = 'metrics' | 'dashboard' | 'status'

async function answer(req: IncomingMessage, res: ServerResponse, path: string, op: OwnOp, opts: ObservabilityRoutesOptions): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const error = new FlrError('METHOD_NOT_ALLOWED', 'this route accepts GET, HEAD')
    return send(req, res, { status: 405, allow: 'GET, HEAD', body: { error: error.toWire() } })
  }
  if (op === 'status') return send(req, res, { status: 200, body: opts.status() })
  if (op === 'metrics') {
    const { contentType, text } = await opts.metrics.scrape()
    return write(req, res, contentType, Buffer.from(text), {})
  }
  const asset = dashboardAsset(path)
  write(req, res, asset.contentType, asset.body, { 'content-security-policy': DASHBOARD_CSP, 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' })
}

function write(req: IncomingMessage, res: ServerResponse, contentType: string, body: Buffer, extra: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return
  res.writeHead(200, {
    'content-type': contentType,
    'content-length': body.length,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    ...extra,
  })
  res.end(req.method === 'HEAD' ? undefined : body)
}

/**
 * The op label of a request: a small fixed set, never the path itself (a lease id in
 * DELETE /request/<id>, or any junk URL, would make a series per request).
 */
function opOf(method: string | undefined, path: string): string {
  if (path === '/metrics') return 'metrics'
  if (isDashboardPath(path)) return 'dashboard'
  if (path === '/api/1.0/status') return 'status'
  if (path === '/request') return method === 'POST' ? 'lease' : 'other'
  if (path.startsWith('/request/')) return method === 'DELETE' ? 'release' : 'other'
  if (path === '/api/1.0/health') return 'health'
  if (path === '/api/1.0/packs') return 'packs'
  if (path === '/api/1.0/report') return 'report'
  return 'other'
}

/** The path without the query (http.ts does the same: `new URL` would read `//host/x` as a host). */
function pathOf(url: string | undefined): string {
  const u = url ?? '/'
  const q = u.indexOf('?')
  return q === -1 ? u : u.slice(0, q)
}
