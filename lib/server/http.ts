// The HTTP compatibility shim (section 7): PCoIP-style session authorization over the same seat
// engine as TCP, so one pack's limit holds across both ([LEASE-1]).
import type { IncomingMessage, ServerResponse } from 'node:http'
import { statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ERRORS, FlrError, isFlrError, type ErrorCode } from '../errors.js'
import { CLIENT, cutToCodePoints, describeRule, fitsText, PACK } from '../protocol/fields.js'
import type { PackRow, Problem } from '../protocol/replies.js'
import type { AccessLog } from './access-log.js'
import { readJsonBody, send, type Reply } from './http-body.js'
import type { HttpHandler } from './http-listen.js'

// the plumbing lives beside this file (issue 12): reading a body and answering (http-body.ts),
// listening (http-listen.ts); this file keeps the routes. Importers see one module, as before.
export { MAX_BODY_BYTES } from './http-body.js'
export { HTTP_TIMEOUTS, startHttp, type HttpHandler, type HttpListenOptions, type HttpTimeouts } from './http-listen.js'

/** What the shim needs of the SeatEngine (lib/engine/engine.ts); the engine is passed as is. */
export interface ShimEngine {
  readonly serving: boolean
  lease(req: { pack: string; holder: string; client: string; address: string }): Promise<{
    lease: string
    pack: string
    expiresAt: number
    ttlMs: number
    licenses: string
  }>
  release(leaseId: string): Promise<void>
  packs(): PackRow[]
}

/** The part of a pino logger the shim uses. */
export interface ShimLog {
  error(obj: object, msg?: string): void
  debug(obj: object, msg?: string): void
}

/** [HTTP-1] the GLS block of the health answer; fields not given are derived from `version`. */
export interface VersionInfo {
  version: string
  buildDate?: string
  buildVersion?: string
  branch?: string
  patch?: string
}

export interface HttpShimOptions {
  engine: ShimEngine
  /** [HTTP-2] the pack of a /request that names none (--http-pack) */
  httpPack: string
  /** [HTTP-1] the lease store; health answers 503 when it is not usable, saying why ([LEASE-10]) */
  store?: { healthy(): boolean; fault?(): { message: string } | undefined }
  /** [HTTP-1] why the server does not serve leases (no valid LPF…), or undefined while it does */
  notServing?: () => Problem | undefined
  /** [HA-4] on a cluster node: 'leader' or 'standby', shown in health (a standby's is 503) */
  role?: () => 'leader' | 'standby' | undefined
  accessLog?: AccessLog
  /** [OBS-5] whole days until the LPF in force expires; undefined without one, or when it never expires */
  expiresInDays?: () => number | undefined
  /** more read-only routes by path (GET, HEAD): [OBS-3] /api/1.0/report (report-route.ts) */
  routes?: Readonly<Record<string, (req: IncomingMessage) => Promise<Reply> | Reply>>
  version: VersionInfo
  log: ShimLog
}

/** What the access log records of one /request call ([HTTP-5]); never a body, never a password. */
interface Call {
  method: string
  path: string
  address: string
  client?: string
  pack?: string
  lease?: string
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  BAD_REQUEST: 400,
  NOT_FOUND: 404,
  PACK_UNKNOWN: 404,
  LEASE_UNKNOWN: 404,
  METHOD_NOT_ALLOWED: 405,
  PACK_EXHAUSTED: 409,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  NOT_SERVING: 503,
  NOT_LEADER: 503,
  STORE_UNAVAILABLE: 503,
}


export function createHttpShim(opts: HttpShimOptions): HttpHandler {
  const shim = new HttpShim(opts)
  // handle() answers every failure of a route itself; what is left (an answer that cannot be
  // sent or logged) must not become an unhandled rejection that ends the daemon (issue 13)
  return (req, res) =>
    void shim.handle(req, res).catch((err: unknown) => {
      opts.log.error({ err, method: req.method, path: pathOf(req.url).slice(0, 256) }, 'HTTP request could not be answered')
      res.destroy()
    })
}

class HttpShim {
  private readonly engine: ShimEngine
  private readonly httpPack: string
  private readonly store: HttpShimOptions['store']
  private readonly notServing: HttpShimOptions['notServing']
  private readonly role: HttpShimOptions['role']
  private readonly expiresInDays: HttpShimOptions['expiresInDays']
  private readonly accessLog: AccessLog | undefined
  private readonly log: ShimLog
  private readonly gls: Record<string, string>
  private readonly routes: NonNullable<HttpShimOptions['routes']>

  constructor(opts: HttpShimOptions) {
    this.routes = opts.routes ?? {}
    this.engine = opts.engine
    this.httpPack = opts.httpPack
    this.store = opts.store
    this.notServing = opts.notServing
    this.role = opts.role
    this.expiresInDays = opts.expiresInDays
    this.accessLog = opts.accessLog
    this.log = opts.log
    this.gls = glsVersion(opts.version)
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const call: Call = { method: req.method ?? '', path: pathOf(req.url), address: req.socket.remoteAddress ?? '' }
    const onRequestRoute = call.path === '/request' || call.path.startsWith('/request/')
    let reply: Reply
    try {
      reply = await this.route(req, call)
    } catch (e) {
      reply = this.failure(e, call)
    }
    if (onRequestRoute && reply.status >= 400 && reply.body !== undefined) reply.body = { authorized: false, ...(reply.body as object) }
    send(req, res, reply)
    if (onRequestRoute) this.writeAccessLog(call, reply)
  }

  private route(req: IncomingMessage, call: Call): Promise<Reply> | Reply {
    const { path, method } = call
    if (path === '/api/1.0/health') return isRead(method) ? this.health() : notAllowed('GET, HEAD')
    if (path === '/api/1.0/packs') return isRead(method) ? this.packs() : notAllowed('GET, HEAD')
    const extra = Object.hasOwn(this.routes, path) ? this.routes[path] : undefined
    if (extra) return isRead(method) ? extra(req) : notAllowed('GET, HEAD')
    if (path === '/request') return method === 'POST' ? this.authorize(req, call) : notAllowed('POST')
    const lease = leaseInPath(path)
    if (lease !== undefined) return method === 'DELETE' ? this.release(lease, call) : notAllowed('DELETE')
    throw new FlrError('NOT_FOUND', `no route ${path.slice(0, 200)}: the shim serves /api/1.0/health, /api/1.0/packs, /request, /metrics and the dashboard at /`)
  }

  /**
   * [HTTP-1] 200 while leases are served; otherwise 503 with the reason, so that a load
   * balancer needs no JSON. A store that cannot write serves no grant ([LEASE-10]): its
   * connectionCheck says what is wrong, and it is the reason.
   */
  private health(): Reply {
    const storeProblem = this.storeProblem()
    const GLS = { ...this.gls, database: { connectionCheck: storeProblem === undefined ? 'success' : `failure: ${storeProblem}` } }
    const reason = storeProblem !== undefined ? { code: 'STORE_UNAVAILABLE', message: storeProblem } : this.notServingReason()
    // [HA-4] a load balancer's check sends traffic to the leader: a standby's health is 503
    const role = this.role?.()
    const cluster = role ? { role } : {}
    const days = this.expiresInDays?.()
    const expiry = days === undefined ? {} : { expiresInDays: days }
    if (reason === undefined) return { status: 200, body: { GLS, serving: true, ...cluster, ...expiry } }
    return { status: 503, body: { GLS, serving: false, ...cluster, reason, ...expiry } }
  }

  /** undefined while the store answers and can write; otherwise what is wrong */
  private storeProblem(): string | undefined {
    if (!this.store) return undefined
    try {
      const fault = this.store.fault?.()
      if (fault) return fault.message
      return this.store.healthy() ? undefined : 'the lease store does not answer'
    } catch (e) {
      return `the lease store does not answer (${e instanceof Error ? e.message : String(e)})`
    }
  }

  private notServingReason(): Problem | undefined {
    const reason = this.notServing?.()
    if (reason) return reason
    return this.engine.serving ? undefined : { code: 'NOT_SERVING', message: ERRORS.NOT_SERVING }
  }

  /** [HTTP-4] */
  private packs(): Reply {
    const packs = this.engine.packs().map(({ name, limit, inUse, waiting }) => ({ name, limit, inUse, waiting }))
    return { status: 200, body: { packs } }
  }

  /** [HTTP-2] a grant, or the same lease renewed when this client already holds the pack ([LEASE-2]) */
  private async authorize(req: IncomingMessage, call: Call): Promise<Reply> {
    const body = await readJsonBody(req)
    const { client, pack = this.httpPack } = readAuthorization(body, call)
    call.pack = pack
    const grant = await this.engine.lease({ pack, holder: client, client, address: call.address })
    call.pack = grant.pack
    call.lease = grant.lease
    const { lease, expiresAt, ttlMs, licenses } = grant
    return { status: 200, body: { authorized: true, lease, pack: grant.pack, expiresAt, ttlMs, licenses } }
  }

  /** [HTTP-3] [LEASE-4] the lease id is the bearer credential: any caller holding it may release it */
  private async release(lease: string, call: Call): Promise<Reply> {
    call.lease = lease
    await this.engine.release(lease)
    return { status: 204 }
  }

  private failure(e: unknown, call: Call): Reply {
    if (isFlrError(e) && STATUS[e.code] !== undefined) {
      this.log.debug({ code: e.code, method: call.method, path: call.path, address: call.address }, 'HTTP request refused')
      return { status: STATUS[e.code]!, body: { error: e.toWire() } }
    }
    this.log.error({ err: e, method: call.method, path: call.path }, 'HTTP request failed')
    return { status: 500, body: { error: { code: 'INTERNAL', message: ERRORS.INTERNAL } } }
  }

  private writeAccessLog(call: Call, reply: Reply): void {
    if (!this.accessLog) return
    const error = (reply.body as { error?: { code?: string } } | undefined)?.error
    const { method, path, client, pack, lease, address } = call
    // no route is longer than 256: the cut keeps a junk URL from bloating the log
    this.accessLog.write({ method, path: path.slice(0, 256), client, pack, status: reply.status, code: error?.code, lease, address })
  }
}

function isRead(method: string): boolean {
  return method === 'GET' || method === 'HEAD'
}

function notAllowed(allow: string): Reply {
  const error = new FlrError('METHOD_NOT_ALLOWED', `this route accepts ${allow}`)
  return { status: 405, allow, body: { error: error.toWire() } }
}

/** The path without the query; `new URL` would read `//host/x` as a host, so split by hand. */
function pathOf(url: string | undefined): string {
  const u = url ?? '/'
  const q = u.indexOf('?')
  return q === -1 ? u : u.slice(0, q)
}

function leaseInPath(path: string): string | undefined {
  if (!path.startsWith('/request/')) return undefined
  const segment = path.slice('/request/'.length)
  if (segment === '' || segment.includes('/')) return undefined
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment // not a lease the engine ever issued: it answers LEASE_UNKNOWN
  }
}

/** [HTTP-2] `{client: string, pack?: string}`; other fields are ignored, as agents may send more. */
function readAuthorization(body: unknown, call: Call): { client: string; pack?: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new FlrError('BAD_REQUEST', 'the body must be a JSON object such as {"client": "host-42"}')
  }
  const { client, pack } = body as { client?: unknown; pack?: unknown }
  // the rules and the count (code points) of TCP's hello and lease ([WIRE-2], protocol/fields.ts)
  if (typeof pack === 'string') call.pack = cutToCodePoints(pack, PACK.max)
  if (typeof client === 'string') call.client = cutToCodePoints(client, CLIENT.max)
  if (!fitsText(client, CLIENT)) {
    throw new FlrError('BAD_REQUEST', `"client" must be a string of ${describeRule(CLIENT)} characters`)
  }
  if (pack === undefined || pack === null) return { client }
  if (!fitsText(pack, PACK)) {
    throw new FlrError('BAD_REQUEST', `"pack" must be a string of ${describeRule(PACK)} characters, or absent for the default pack`)
  }
  return { client, pack }
}

/** [HTTP-1] PCoIP's GLS fields; what the build does not say is derived from the version. */
function glsVersion(v: VersionInfo): Record<string, string> {
  return {
    version: v.version,
    buildDate: v.buildDate ?? moduleDate(),
    buildVersion: v.buildVersion ?? v.version,
    branch: v.branch ?? 'release',
    patch: v.patch ?? (v.version.split(/[.+-]/)[2] ?? '0'),
  }
}

/** The day this module was built (its file's mtime), as YYYY-MM-DD. */
function moduleDate(): string {
  try {
    return statSync(fileURLToPath(import.meta.url)).mtime.toISOString().slice(0, 10)
  } catch {
    return 'unknown'
  }
}
