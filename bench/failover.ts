// Benchmark: failover of a two-node cluster on PostgreSQL (issue 14 (a) and (b), [HA-5]).
//  (a) unplanned: 1,000 client connections hold 10,000 leases on the leader; the leader is
//      killed (kill -9); every connection goes to the other node as a client library would
//      (it retries while the node still stands by), and renews its 10 leases by id. Measured:
//      kill → the new leader's first grant-ready hello, and kill → the LAST of the 10,000 leases
//      renewed on it. Target: under --leader-ttl + 2 s with the default TTL of 5 s.
//  (b) planned: SIGTERM of the leader holding those leases; SIGTERM → the other node renewing a
//      lease, three times. Target: under 1 s.
// (d), a new leader restoring 100,000 leases, is bench/pg-store.ts's.
// Run: npm run build && node dist/bench/failover.js
import { spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { launchPostgres } from './embedded-pg.js'
import { RawConnection, fmt, freePort, log, percentile, serveDirs, sleep, sortedCopy, tempDir, type ServeDirs } from './common.js'
import { lpfText, serveArgs, watchServeLog, type ServeLog } from './harness.js'

const CONNECTIONS = 1_000
const LEASES_PER_CONNECTION = 10
const LEADER_TTL_MS = 5_000
const PLANNED_RUNS = 3

interface Node {
  name: string
  hostId: string
  port: number
  dirs: ServeDirs
  child?: ChildProcess
  log?: ServeLog
}

export async function benchFailover(): Promise<string> {
  const pg = await launchPostgres()
  const root = tempDir('failover')
  try {
    const url = await pg.database('flr_failover')
    const nodes = await makeNodes(root)
    for (const node of nodes) await start(node, url)
    const first = await leaderOf(nodes)
    log(`failover: ${fmt.int(CONNECTIONS)} connections taking ${fmt.int(CONNECTIONS * LEASES_PER_CONNECTION)} leases on ${first.name}`)
    const leases = await takeLeases(first)
    const unplanned = await killAndFollow(nodes, first, leases)
    await start(first, url)
    const planned: { leadingMs: number; renewedMs: number }[] = []
    for (let run = 0; run < PLANNED_RUNS; run++) {
      const leader = await leaderOf(nodes)
      planned.push(await terminateAndFollow(nodes, leader, leases))
      await start(leader, url)
    }
    for (const node of nodes) node.child?.kill('SIGKILL')
    return render(unplanned, planned)
  } finally {
    await pg.destroy()
  }
}

async function makeNodes(root: string): Promise<Node[]> {
  const nodes: Node[] = []
  for (const name of ['a', 'b']) {
    const hostId = `Lnx-BNCH-${name.toUpperCase()}AAA-TEST-TEST`
    const dirs = serveDirs(join(root, name))
    const port = await freePort()
    writeFileSync(join(dirs.licenseDir, `${hostId}.lp`), lpfText({ port, hostId, packs: [{ name: 'station', limit: CONNECTIONS * LEASES_PER_CONNECTION }] }))
    nodes.push({ name, hostId, port, dirs })
  }
  return nodes
}

async function start(node: Node, url: string): Promise<void> {
  const args = serveArgs(node.dirs, ['--store', url, '--advertise', '127.0.0.1', '--max-connections-per-address', '10000', '--lease-ttl', '600s', '--leader-ttl', `${LEADER_TTL_MS}ms`], node.hostId)
  node.child = spawn('sh', ['-c', 'ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  node.log = watchServeLog(node.child, 60_000)
  await node.log.waitForLog(/^LPF loaded: serving/)
}

async function hello(port: number): Promise<{ conn: RawConnection; role?: unknown } | undefined> {
  try {
    const conn = await RawConnection.open(port)
    const reply = await conn.request('hello', { protocol: 1, client: 'bench' })
    return { conn, role: reply.role }
  } catch {
    return undefined
  }
}

async function leaderOf(nodes: Node[]): Promise<Node> {
  for (;;) {
    for (const node of nodes) {
      const got = await hello(node.port)
      void got?.conn.destroy()
      if (got?.role === 'leader') return node
    }
    await sleep(20)
  }
}

async function takeLeases(leader: Node): Promise<string[][]> {
  const leases: string[][] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < CONNECTIONS) {
      const i = next++
      const conn = await RawConnection.open(leader.port, `ws-${i}`)
      const mine = await Promise.all(Array.from({ length: LEASES_PER_CONNECTION }, (_, j) => conn.request('lease', { pack: 'station', holder: `ws-${i}-${j}` })))
      leases[i] = mine.map((r) => {
        if (!r.ok) throw new Error(`lease refused: ${JSON.stringify(r.error)}`)
        return r.lease as string
      })
      void conn.destroy()
    }
  }
  await Promise.all(Array.from({ length: 64 }, worker))
  return leases
}

/**
 * Every connection at once, as clients that saw their server go: connect to `to`, hello, renew
 * its leases; a standby's NOT_LEADER or a refused connection is tried again with the client
 * library's backoff (100 ms doubling to 1 s, with jitter). Resolves with each lease's time of
 * renewal (performance.now()).
 */
async function renewAllOn(to: Node, leases: string[][]): Promise<number[]> {
  const renewedAt: number[] = []
  await Promise.all(
    leases.map(async (mine, i) => {
      let backoff = 100
      const pause = async (): Promise<void> => {
        await sleep(backoff * (0.5 + Math.random() / 2))
        backoff = Math.min(backoff * 2, 1_000)
      }
      for (;;) {
        const conn = await RawConnection.open(to.port, `ws-${i}`).catch(() => undefined)
        if (!conn) {
          await pause()
          continue
        }
        const left = [...mine]
        while (left.length > 0 && conn.isOpen) {
          const replies = await Promise.all(left.map((lease) => conn.request('renew', { lease })))
          for (let k = replies.length - 1; k >= 0; k--) {
            if (replies[k]!.ok) {
              renewedAt.push(performance.now())
              left.splice(k, 1)
            } else if (replies[k]!.error?.code === 'LEASE_UNKNOWN') throw new Error(`lease ${left[k]} lost in the failover`)
          }
          if (left.length > 0) await pause()
        }
        void conn.destroy()
        if (left.length === 0) return
        mine = left
      }
    }),
  )
  return renewedAt
}

interface Unplanned {
  leaderMs: number
  /** the new leader's own figure: load() and restore, from its log */
  restoreMs: number
  allRenewedMs: number
  p50Ms: number
}

async function killAndFollow(nodes: Node[], leader: Node, leases: string[][]): Promise<Unplanned> {
  const other = nodes.find((n) => n !== leader)!
  log(`failover (a): kill -9 of ${leader.name}`)
  const killedAt = performance.now()
  leader.child!.kill('SIGKILL')
  let restoreMs = NaN
  const leading = other.log!.waitForLog(/^leading/, 60_000).then(
    (l) => ((restoreMs = Number(l.ms)), l.seenAt - killedAt),
    (e: unknown) => {
      log(`the standby did not lead: ${(e as Error).message}; its last log lines: ${JSON.stringify(other.log!.logs.slice(-15))}`)
      return NaN
    },
  )
  const renewedAt = await renewAllOn(other, leases)
  const sorted = sortedCopy(renewedAt.map((t) => t - killedAt))
  return { leaderMs: await leading, restoreMs, allRenewedMs: sorted[sorted.length - 1]!, p50Ms: percentile(sorted, 0.5) }
}

async function terminateAndFollow(nodes: Node[], leader: Node, leases: string[][]): Promise<{ leadingMs: number; renewedMs: number }> {
  const other = nodes.find((n) => n !== leader)!
  log(`failover (b): SIGTERM of ${leader.name}`)
  const sample = leases.slice(0, 1)
  const exited = leader.log!.exited
  const seen = other.log!.logs.length
  const sentAt = performance.now()
  leader.child!.kill('SIGTERM')
  const renewedAt = await renewAllOn(other, sample)
  await exited
  const leading = other.log!.logs.slice(seen).find((l) => /^leading/.test(String(l.msg)))
  return { leadingMs: leading ? leading.seenAt - sentAt : NaN, renewedMs: Math.min(...renewedAt) - sentAt }
}

function render(a: Unplanned, planned: { leadingMs: number; renewedMs: number }[]): string {
  const target = LEADER_TTL_MS + 2_000
  return [
    `### (a) Unplanned failover: kill -9 of the leader holding ${fmt.int(CONNECTIONS * LEASES_PER_CONNECTION)} leases of ${fmt.int(CONNECTIONS)} connections (--leader-ttl ${LEADER_TTL_MS / 1000} s, --leader-renew 1 s)`,
    '',
    '| from the kill to | time |',
    '|---|---|',
    `| the standby logging "leading" (restore done) | ${fmt.ms(a.leaderMs)} |`,
    `| of which: its restore of every lease (load() and the engine's restore, its own log) | ${fmt.ms(a.restoreMs)} |`,
    `| half of the leases renewed on it | ${fmt.ms(a.p50Ms)} |`,
    `| every lease renewed on it | ${fmt.ms(a.allRenewedMs)} |`,
    '',
    `Target: every lease renewed within --leader-ttl + 2 s (${fmt.ms(target)}): ${fmt.verdict(a.allRenewedMs < target)} (${fmt.ms(a.allRenewedMs)}). FlexNet's triad needs 79 s, RLM 2–4 min.`,
    '',
    `### (b) Planned handover: SIGTERM of the leader, ${PLANNED_RUNS} runs`,
    '',
    '| run | SIGTERM → the other node logging "leading" (restore done) | SIGTERM → a client (library backoff) renewing there |',
    '|---|---|---|',
    ...planned.map((p, i) => `| ${i + 1} | ${fmt.ms(p.leadingMs)} | ${fmt.ms(p.renewedMs)} |`),
    '',
    `Target: the new leader serving under 1 s after SIGTERM: ${fmt.verdict(planned.every((p) => p.leadingMs < 1_000))} (worst ${fmt.ms(Math.max(...planned.map((p) => p.leadingMs)))}).`,
  ].join('\n')
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  benchFailover().then(
    (md) => process.stdout.write(md + '\n'),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`)
      process.exit(1)
    },
  )
}
