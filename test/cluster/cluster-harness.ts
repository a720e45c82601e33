// A cluster of real `flr serve` processes on one PostgreSQL ([HA-*] fault tests): each node its
// own host id, lease port, HTTP port and state directory, and a plain LPF of its own (the
// cluster LPF is wt-lpf-vendor's). Nodes are started, killed, paused and resumed with real
// signals; who leads is asked of the nodes themselves (hello's role).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Test } from 'tap'
import { RawConnection, freePort, serveArgs, watchServeLog, type ServeLog } from '../../bench/harness.js'
import { VENDOR_KEY, dropLpf, type PackSpec } from '../helpers/server.js'
import { buildLpfXml, signLpf } from '../../lib/lpf/vendor.js'

export interface ClusterOptions {
  url: string
  nodes: number
  packs: PackSpec[]
  /** [HA-3] short in tests: the suite's time is mostly failovers */
  leaderTtl?: string
  leaderRenew?: string
  leaseTtl?: string
  /** [HA-2] one cluster LPF listing every node, an identical copy per host (else a plain LPF each) */
  clusterLpf?: boolean
}

export class ClusterNode {
  child: ChildProcess | undefined
  log: ServeLog | undefined
  /** every log of every run of this node, for a failure's message */
  readonly runs: ServeLog[] = []

  constructor(
    readonly name: string,
    readonly hostId: string,
    readonly port: number,
    readonly httpPort: number,
    readonly dir: string,
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  get address(): string {
    return `127.0.0.1:${this.port}`
  }
}

/** Opens a connection and says hello within `ms`: a frozen node accepts (the kernel does) but never answers. */
export async function openWithin(port: number, client: string, ms: number): Promise<{ conn: RawConnection; hello: Record<string, unknown> } | undefined> {
  let conn: RawConnection | undefined
  const timer = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms))
  const attempt = (async () => {
    conn = await RawConnection.open(port)
    const hello = await conn.request('hello', { protocol: 1, client })
    return hello.ok ? { conn, hello: hello as Record<string, unknown> } : undefined
  })().catch(() => undefined)
  const got = await Promise.race([attempt, timer])
  if (!got) void conn?.destroy()
  return got
}

export class Cluster {
  readonly nodes: ClusterNode[] = []

  private constructor(
    private readonly t: Test,
    private readonly opts: ClusterOptions,
  ) {}

  static async create(t: Test, opts: ClusterOptions): Promise<Cluster> {
    const cluster = new Cluster(t, opts)
    t.teardown(() => {}) // before testdir: teardowns run before the directory goes (helpers/server.ts)
    const root = t.testdir({})
    for (let i = 0; i < opts.nodes; i++) {
      const name = String.fromCharCode(97 + i)
      const hostId = `Lnx-NODE-${name.toUpperCase()}AAA-TEST-TEST`
      const dir = join(root, name)
      for (const sub of ['licenses', 'state', 'logs']) mkdirSync(join(dir, sub), { recursive: true })
      const node = new ClusterNode(name, hostId, await freePort(), await freePort(), dir)
      if (!opts.clusterLpf) dropLpf(join(dir, 'licenses'), { port: node.port, packs: opts.packs, hostId })
      cluster.nodes.push(node)
    }
    if (opts.clusterLpf) {
      const [main, ...others] = cluster.nodes
      const xml = buildLpfXml({
        vendor: 'Acme',
        expiration: '2099-12-31',
        hostId: main!.hostId,
        port: main!.port,
        otherHosts: others.map((n) => ({ hostId: n.hostId, port: n.port })),
        packs: opts.packs.map((p) => ({ name: p.name, limit: p.limit })),
      })
      const signed = signLpf(xml, readFileSync(VENDOR_KEY, 'utf8'))
      for (const n of cluster.nodes) writeFileSync(join(n.dir, 'licenses', `${n.hostId}.lp`), signed)
    }
    t.teardown(async () => {
      for (const node of cluster.nodes) if (node.running) node.child!.kill('SIGKILL')
      await Promise.all(cluster.nodes.map((n) => n.child && exitOf(n.child)))
    })
    return cluster
  }

  /** Starts a node; resolves once it has bound its port and runs leadership. */
  async start(node: ClusterNode): Promise<void> {
    const dirs = { licenseDir: join(node.dir, 'licenses'), stateDir: join(node.dir, 'state'), logDir: join(node.dir, 'logs') }
    const o = this.opts
    const args = serveArgs(dirs, [
      '--store', o.url, '--advertise', '127.0.0.1',
      '--leader-ttl', o.leaderTtl ?? '2s', '--leader-renew', o.leaderRenew ?? '400ms',
      '--lease-ttl', o.leaseTtl ?? '60s', '--http-port', String(node.httpPort),
    ], node.hostId)
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    node.child = child
    node.log = watchServeLog(child, 30_000)
    node.runs.push(node.log)
    await node.log.waitForLog(/^LPF loaded: serving/, 30_000)
  }

  async startAll(): Promise<void> {
    for (const node of this.nodes) await this.start(node)
  }

  /** kill -9, reaped */
  async kill(node: ClusterNode): Promise<void> {
    if (node.running) node.child!.kill('SIGKILL')
    if (node.child) await exitOf(node.child)
  }

  /** SIGTERM: resolves with the exit */
  async terminate(node: ClusterNode): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    node.child!.kill('SIGTERM')
    return exitOf(node.child!)
  }

  signal(node: ClusterNode, signal: 'SIGSTOP' | 'SIGCONT'): void {
    node.child!.kill(signal)
  }

  /** The node that says it leads, asked of every running node (hello's role); none if none does. */
  async leader(skip?: ClusterNode): Promise<ClusterNode | undefined> {
    for (const node of this.nodes) {
      if (!node.running || node === skip) continue
      const got = await openWithin(node.port, 'probe', 1_000)
      if (!got) continue
      void got.conn.destroy()
      if (got.hello.role === 'leader') return node
    }
    return undefined
  }

  /** Waits (generously: the machine is loaded) until a node other than `skip` leads. */
  async waitForLeader(skip?: ClusterNode, timeoutMs = 60_000): Promise<ClusterNode> {
    const until = performance.now() + timeoutMs
    for (;;) {
      const leader = await this.leader(skip)
      if (leader) return leader
      if (performance.now() > until) throw new Error(`no leader within ${timeoutMs} ms; last logs: ${this.lastLogs()}`)
      await sleep(50)
    }
  }

  nodeAt(address: string): ClusterNode | undefined {
    return this.nodes.find((n) => n.address === address)
  }

  lastLogs(): string {
    return JSON.stringify(this.nodes.map((n) => [n.name, n.log?.logs.slice(-6).map((l) => l.msg)]))
  }
}

export function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode })
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
