// Helpers for the admin, HTTP-race and support-bundle tests: a raw protocol client whose socket
// a test can destroy, small HTTP calls, and `flr serve` as a child WITH its HTTP shim (spawnServe
// in server.ts always passes --no-http, and commander lets --no-http win over --http-port).
import { join } from 'node:path'
import { request as httpRequest, type Agent } from 'node:http'
import { RawConnection } from '../../bench/harness.js'
import { setPassword } from '../../lib/admin/password.js'
import type { ConfigSnapshot } from '../../lib/support/config-snapshot.js'
import { HOST_ID, dropLpf, freePort, makeDirs, spawnServe, startDaemon, type Dirs, type PackSpec, type ServeProcess, type TestContext } from './server.js'

/** A valid admin password under [ADM-1]. */
export const PASSWORD = 'Corr3ct-Horse'

export type { Reply } from '../../bench/harness.js'

/** One TCP connection speaking frames by hand (bench/harness.ts RawConnection); replies are returned whole (ok or not). */
export type RawClient = RawConnection
export const RawClient = {
  /** Connects and says hello as `client`; destroyed at teardown. */
  async open(t: TestContext, port: number, client: string): Promise<RawClient> {
    const raw = await RawConnection.open(port, client)
    t.teardown(() => raw.destroy())
    return raw
  },
}

export interface HttpReply {
  status: number
  json: any
}

/** One HTTP call with a JSON body (or none); `agent` keeps connections alive between calls. */
export function httpCall(port: number, method: string, path: string, body?: unknown, agent?: Agent): Promise<HttpReply> {
  const text = body === undefined ? undefined : JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: text === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
      },
      (res) => {
        let data = ''
        res.setEncoding('utf8')
        res.on('data', (d) => (data += d))
        res.on('end', () => resolve({ status: res.statusCode!, json: data ? JSON.parse(data) : undefined }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(text)
  })
}

export interface HttpServeProcess extends ServeProcess {
  /** the HTTP shim's port, as the child logged it */
  httpPort(): Promise<number>
}

/** `flr serve` as a child with the HTTP shim on a port the OS picks (--http-port 0). Killed at teardown. */
export function spawnServeWithHttp(t: TestContext, dirs: Dirs, args: string[] = []): HttpServeProcess {
  const serve = spawnServe(t, dirs, ['--http-port', '0', ...args])
  return { ...serve, httpPort: () => serve.waitForLog(/^HTTP shim listening/).then((l) => Number(l.port)) }
}

/** Polls `check` until it returns true (for files another process writes asynchronously). */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

export interface AdminServer {
  dirs: Dirs
  /** the lease port */
  port: number
  httpPort: number
  /** the port written in the LPF (the same as `port`) */
  lpfPort: number
  /** `--server` for the CLI */
  address: string
}

/** A real in-process daemon with its HTTP shim on a free port, and the admin password set if given. */
export async function startAdminServer(t: TestContext, opts: { password?: string; packs?: PackSpec[] } = {}): Promise<AdminServer> {
  const dirs = makeDirs(t)
  const lpfPort = await freePort()
  dropLpf(dirs.licenseDir, { port: lpfPort, packs: opts.packs ?? [{ name: 'station', limit: 1 }] })
  if (opts.password) await setPassword(dirs.stateDir, opts.password)
  const daemon = await startDaemon(t, dirs, { httpPort: 0 })
  return { dirs, port: daemon.leasePort!, httpPort: daemon.httpPort!, lpfPort, address: `127.0.0.1:${daemon.leasePort}` }
}

export { terminal, type Terminal } from './terminal.js'

/** A `flr serve` configuration snapshot as serve writes it ([section 9] support-bundle reads it). */
export function snapshot(stateDir: string, over: Partial<ConfigSnapshot> = {}): ConfigSnapshot {
  return {
    startedAt: '2026-03-01T12:00:00.000Z',
    pid: 4242,
    hostId: HOST_ID,
    hostIdOverridden: true,
    licenseDir: join(stateDir, '..', 'licenses'),
    stateDir,
    logDir: join(stateDir, 'logs'),
    vendorKeyFiles: ['/etc/flr/acme.pub.pem'],
    bind: '0.0.0.0',
    leaseTtlMs: 30_000,
    graceMs: 7 * 86_400_000,
    httpPort: 7070,
    httpsPort: null,
    httpPack: 'Agent-Session',
    maxConnections: 10_000,
    logLevel: 'info',
    ...over,
  }
}
