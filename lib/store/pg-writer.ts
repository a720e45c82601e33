// The connections of the PostgreSQL store: a pool (reads, the migration, the history's own
// transactions) and, checked out of it, the ONE connection that writes leases, so that the
// database sees every commit in call order. No error of pg is ever left unhandled: the pool's
// and each checked-out client's 'error' events are listened to, and reported as trouble (the
// store then probes, [LEASE-10]); a connection that failed is dropped and replaced at the next use.
import pg from 'pg'
import { commitBatch, type NetEffect, type PgFence } from './pg-batch.js'
import { FlrError } from '../errors.js'

export interface PgWriterOptions {
  url: string
  hostId: string
  /** connection attempts and statements: longer counts as unreachable */
  timeoutMs: number
  /** [HA-5] see PgStoreOptions.idleInTransactionMs */
  idleInTransactionMs?: number
}

export class PgWriter {
  readonly pool: pg.Pool
  #client: pg.PoolClient | undefined
  /** clients listened to for 'error' (once each: the pool hands the same ones out again) */
  readonly #heard = new WeakSet<pg.PoolClient>()

  constructor(
    opts: PgWriterOptions,
    /** told when a connection fails outside a statement (the server cut it: restart, failover) */
    private readonly onTrouble: () => void,
  ) {
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: 4,
      connectionTimeoutMillis: opts.timeoutMs,
      query_timeout: opts.timeoutMs,
      keepAlive: true,
      application_name: `flr ${opts.hostId}`,
      ...(opts.idleInTransactionMs ? { idle_in_transaction_session_timeout: opts.idleInTransactionMs } : {}),
    })
    this.pool.on('error', () => this.onTrouble())
  }

  /** A client of the pool, listened to; release it. */
  async connect(): Promise<pg.PoolClient> {
    const client = await this.pool.connect()
    // a checked-out client has no listener of the pool's: its 'error' must not go unhandled
    if (!this.#heard.has(client)) {
      this.#heard.add(client)
      client.on('error', (e) => {
        this.#drop(client, e)
        this.onTrouble()
      })
    }
    return client
  }

  /** [LEASE-7] commits `effect` on the writing connection (pg-batch.ts); a driver failure drops that connection. */
  async commit(effect: NetEffect, fence: PgFence | undefined): Promise<void> {
    const client = (this.#client ??= await this.connect())
    try {
      await commitBatch(client, effect, fence)
    } catch (e) {
      if (!(e instanceof FlrError)) this.#drop(client, e)
      throw e
    }
  }

  /** A `SELECT 1` on the writing connection (reconnecting it): can the store write again? */
  async ping(): Promise<void> {
    const client = (this.#client ??= await this.connect())
    try {
      await client.query('SELECT 1')
    } catch (e) {
      this.#drop(client, e)
      throw e
    }
  }

  async end(): Promise<void> {
    this.#client?.release()
    this.#client = undefined
    await this.pool.end().catch(() => {})
  }

  #drop(client: pg.PoolClient, e: unknown): void {
    if (this.#client !== client) return
    this.#client = undefined
    // released with an error: the pool destroys it instead of handing it out again
    client.release(e instanceof Error ? e : new Error(String(e)))
  }
}
