// Helpers for the restart tests ([LEASE-7]..[LEASE-9], [SRV-7], [SRV-8]): a raw protocol
// client that knows which requests were answered before the server died, a ledger of what
// the server acknowledged, and `flr` child processes run to completion.
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { RawConnection, serveArgs as serveCommand } from '../../bench/harness.js'
import { FLR_BIN, HOST_ID, spawnServe, type Dirs, type ServeProcess, type TestContext } from './server.js'

export type Message = Record<string, unknown>

/** The reply never came: the connection ended first. The request may or may not have taken effect. */
export class ReplyLost extends Error {
  constructor(readonly op: string) {
    super(`no reply to ${op}: the connection ended`)
  }
}

/**
 * A protocol client with no retries and no reconnect (bench/harness.ts RawConnection): a
 * reply in hand is what the server acknowledged; a request without one when the socket
 * closes is rejected with ReplyLost.
 */
export class RawClient {
  private constructor(private readonly conn: RawConnection) {}

  /** Connects and says hello ([WIRE-4]). */
  static async connect(port: number, client: string): Promise<RawClient> {
    return new RawClient(await RawConnection.open(port, client))
  }

  get pushes(): Message[] {
    return this.conn.pushes
  }

  /** resolves once the socket is closed, by either side */
  get closed(): Promise<void> {
    return this.conn.closed
  }

  get isOpen(): boolean {
    return this.conn.isOpen
  }

  /** Sends one request; resolves with the reply, ok or not. */
  async request(op: string, fields: Message = {}): Promise<Message> {
    const reply = await this.conn.request(op, fields)
    if (reply.lost) throw new ReplyLost(op)
    return reply
  }

  /** Like request, but a refusal rejects with its code in the message. */
  async call(op: string, fields: Message = {}): Promise<Message> {
    const reply = await this.request(op, fields)
    if (!reply.ok) throw new Error(`${op} refused: ${JSON.stringify(reply.error)}`)
    return reply
  }

  /** The first push of that name, already received or still to come. */
  waitForPush(name: string): Promise<Message> {
    return this.conn.nextPush(name)
  }

  close(): Promise<void> {
    return this.conn.destroy()
  }
}

/** Connects a RawClient that is closed at teardown. */
export async function rawClient(t: TestContext, port: number, client: string): Promise<RawClient> {
  const raw = await RawClient.connect(port, client)
  t.teardown(() => raw.close())
  return raw
}

export function errorCode(reply: Message): string | undefined {
  return reply.ok ? undefined : ((reply.error as Message | undefined)?.code as string | undefined)
}

// ---- the daemon as a child process ----

/** Servers the test itself signalled or killed: any other exit is worth a word. */
const signalledByTest = new WeakSet<ServeProcess>()

/** `flr serve` as a child, resolved once it serves the LPF in the license directory. */
export async function startServing(t: TestContext, dirs: Dirs, args: string[] = []): Promise<ServeProcess> {
  const serve = spawnServe(t, dirs, args)
  const stderr = reportUnexpectedExit(serve)
  try {
    await serve.waitForLog(/^LPF loaded: serving/, 30_000)
  } catch (e) {
    throw new Error(`${(e as Error).message}; stderr: ${stderr()}; log: ${JSON.stringify(serve.logs.slice(-8))}`)
  }
  return serve
}

/** Sends a signal the test means to send (no "unexpected exit" report follows). */
export function signalServe(serve: ServeProcess, signal: NodeJS.Signals): void {
  signalledByTest.add(serve)
  serve.child.kill(signal)
}

/** kill -9, and wait until the process is reaped (a zombie would still hold the state lock's pid). */
export async function killHard(serve: ServeProcess): Promise<void> {
  if (serve.child.exitCode === null && serve.child.signalCode === null) signalServe(serve, 'SIGKILL')
  await serve.exited
}

// A server that dies on its own shows up in a test as a refused connection; say why here.
function reportUnexpectedExit(serve: ServeProcess): () => string {
  let stderr = ''
  serve.child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s))
  void serve.exited.then(({ code, signal }) => {
    if (signalledByTest.has(serve) || signal === 'SIGKILL') return
    const last = serve.logs.slice(-5).map((l) => l.msg)
    console.error(`flr serve (pid ${serve.child.pid}) exited on its own with ${code ?? signal}; stderr: ${stderr}; last log lines: ${JSON.stringify(last)}`)
  })
  return () => stderr
}

export interface FlrRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs `flr ARGS` to completion (killed after timeoutMs: a refusal must not hang). */
export function runFlr(args: string[], timeoutMs = 30_000): Promise<FlrRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FLR_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('error', reject)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

/** The arguments spawnServe uses (the harness's, without the script runFlr adds), for a `flr serve` run to completion with runFlr. */
export function serveArgs(dirs: Dirs, extra: string[] = [], hostId = HOST_ID): string[] {
  return serveCommand(dirs, extra, hostId).slice(1)
}

/** name → sha256 of every file directly in dir (for "never touched" checks). */
export function fileDigests(dir: string): Record<string, string> {
  const digests: Record<string, string> = {}
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (!statSync(path).isFile()) continue
    digests[name] = createHash('sha256').update(readFileSync(path)).digest('hex')
  }
  return digests
}

// ---- what the server acknowledged, for the crash loop ----

export interface LeaseFacts {
  lease: string
  pack: string
  holder: string
}

/**
 * [LEASE-7]/[LEASE-8] bookkeeping. `held`: grants replied ok and not released. `released`:
 * releases replied ok (plus maybes later found gone). A request whose reply was lost to a
 * kill is a "maybe": a grant by its holder (its id was never seen), a release by its lease.
 */
export class LeaseLedger {
  readonly held = new Map<string, LeaseFacts>()
  readonly released = new Set<string>()
  /** release sent to a server that died before replying */
  readonly maybeReleased = new Map<string, LeaseFacts>()
  /** holder → pack of lease requests that died without a reply */
  readonly maybeGranted = new Map<string, string>()
  /** leases some worker is releasing right now (not to be picked twice) */
  private readonly releasing = new Set<string>()
  /** how the maybes turned out, over all restarts (both ways must be possible) */
  readonly maybes = { grantsKept: 0, grantsGone: 0, releasesUndone: 0, releasesDone: 0 }

  /** A held lease nobody is releasing, to release next. */
  pickToRelease(random: () => number): LeaseFacts | undefined {
    const free = [...this.held.values()].filter((l) => !this.releasing.has(l.lease))
    if (free.length === 0) return undefined
    const facts = free[Math.floor(random() * free.length)]!
    this.releasing.add(facts.lease)
    return facts
  }

  granted(facts: LeaseFacts): void {
    this.held.set(facts.lease, facts)
  }

  grantLost(holder: string, pack: string): void {
    this.maybeGranted.set(holder, pack)
  }

  releaseAcked(facts: LeaseFacts): void {
    this.releasing.delete(facts.lease)
    this.held.delete(facts.lease)
    this.released.add(facts.lease)
  }

  releaseLost(facts: LeaseFacts): void {
    this.releasing.delete(facts.lease)
    this.held.delete(facts.lease)
    this.maybeReleased.set(facts.lease, facts)
  }

  /** A release that came back refused: the lease stays where it was, for the checks to judge. */
  releaseRefused(facts: LeaseFacts): void {
    this.releasing.delete(facts.lease)
  }

  /**
   * Compares what a restarted server holds with what it acknowledged, settles every maybe
   * one way or the other, and returns what is wrong (empty when [LEASE-8] held).
   */
  reconcile(stored: readonly LeaseFacts[]): string[] {
    const problems: string[] = []
    const seen = new Set<string>()
    for (const s of stored) {
      seen.add(s.lease)
      const held = this.held.get(s.lease)
      if (held) {
        if (held.pack !== s.pack || held.holder !== s.holder) problems.push(`lease ${s.lease} came back as ${s.pack}/${s.holder}, granted as ${held.pack}/${held.holder}`)
      } else if (this.maybeReleased.has(s.lease)) {
        this.maybeReleased.delete(s.lease)
        this.held.set(s.lease, s)
        this.maybes.releasesUndone++
      } else if (this.maybeGranted.get(s.holder) === s.pack) {
        this.maybeGranted.delete(s.holder)
        this.held.set(s.lease, s)
        this.maybes.grantsKept++
      } else if (this.released.has(s.lease)) {
        problems.push(`lease ${s.lease} (${s.pack}/${s.holder}) came back after its release was acknowledged`)
      } else {
        problems.push(`lease ${s.lease} (${s.pack}/${s.holder}) came back but was never requested`)
      }
    }
    for (const held of this.held.values()) {
      if (!seen.has(held.lease)) problems.push(`acknowledged lease ${held.lease} (${held.pack}/${held.holder}) was not restored`)
    }
    for (const gone of this.maybeReleased.keys()) this.released.add(gone)
    this.maybes.releasesDone += this.maybeReleased.size
    this.maybes.grantsGone += this.maybeGranted.size
    this.maybeReleased.clear()
    this.maybeGranted.clear()
    return problems
  }
}

/** Polls until check() is true; false if it is still not after ms (the caller asserts). */
export async function eventually(check: () => boolean | Promise<boolean>, ms: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + ms
  for (;;) {
    if (await check()) return true
    if (Date.now() >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

/** A second set of directories beside `dirs` (t.testdir() gives one directory per test). */
export function siblingDirs(dirs: Dirs, name: string): Dirs {
  const root = join(dirs.root, name)
  const sibling = { root, licenseDir: join(root, 'licenses'), stateDir: join(root, 'state'), logDir: join(root, 'logs') }
  for (const dir of [sibling.licenseDir, sibling.stateDir, sibling.logDir]) mkdirSync(dir, { recursive: true })
  return sibling
}
