// The in-memory figure: flr's own per-request path — a Connection per socket (framing,
// request parsing, dispatch, replies) over the SeatEngine — with the engine's store being
// memoryStore, which acknowledges every grant and release at once. It is `flr serve` minus
// the LMDB store ([LEASE-7] durability) and minus the LPF's life (reload, watcher, HTTP),
// which are not on the request path. Built from public APIs only; production code has no
// toy mode for it.
// Run: node dist/bench/memory-server.js '[{"name":"station","limit":1000}]'   (prints {"port": N})
import { createServer } from 'node:net'
import pino from 'pino'
import { SeatEngine } from '../lib/engine/engine.js'
import { memoryStore } from '../lib/engine/types.js'
import { FlrError } from '../lib/errors.js'
import { Connection, type ConnectionServices } from '../lib/server/connection.js'
import { systemClock } from '../lib/util/clock.js'
import { VERSION } from '../lib/version.js'

const packs = (JSON.parse(process.argv[2] ?? '[]') as { name: string; limit: number }[]).map((p) => ({
  name: p.name,
  limit: p.limit,
  licenses: `<licenses><license product="${p.name}"/></licenses>`,
}))
const ttlMs = Number(process.argv[3] ?? 30_000)

const clock = systemClock()
const engine = new SeatEngine({ clock, store: memoryStore, ttlMs })
engine.applyPlan(packs)

const services: ConnectionServices = {
  engine,
  log: pino({ level: 'silent' }),
  clock,
  hello: () => ({
    protocol: 1,
    server: `flr/${VERSION}`,
    vendor: 'Acme',
    hostId: 'bench',
    serverTime: Date.now(),
    leaseTtlMs: ttlMs,
    graceMs: 0,
    packs: packs.map((p) => p.name),
  }),
  status: () => ({ serving: true, listeningPort: port, restored: 0, packs: engine.packs() }),
  auth: async () => {
    throw new FlrError('ADMIN_PASSWORD_NOT_SET')
  },
  reload: async () => ({ applied: false }),
}

let port: number | null = null
const server = createServer({ noDelay: true }, (socket) => new Connection(socket, services, () => {}))
server.listen(0, '127.0.0.1', () => {
  port = (server.address() as { port: number }).port
  process.stdout.write(JSON.stringify({ port }) + '\n')
})
process.once('SIGTERM', () => process.exit(0))
