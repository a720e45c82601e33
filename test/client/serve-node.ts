// Real `flr serve` children for the [HA-6] tests, several in one test: each in directories of
// its own (tap's testdir is one per test, so two makeDirs() in one test would share, and the
// second LPF written would move the first node's port), on a free port. A port found free may
// be taken before the child binds it: a start that fails with PORT_IN_USE is tried again.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { dropLpf, freePort, makeDirs, spawnServe, type Dirs, type PackSpec, type ServeProcess, type TestContext } from '../helpers/server.js'

export interface Node {
  proc: ServeProcess
  port: number
  /** `127.0.0.1:port` */
  address: string
}

/** Directories for each named node, under one testdir; `state` of a node may be another's (its store). */
export function nodeDirs(t: TestContext, names: string[]): Record<string, Dirs> {
  const { root } = makeDirs(t)
  return Object.fromEntries(
    names.map((name) => {
      const base = join(root, name)
      const dirs = { root: base, licenseDir: join(base, 'licenses'), stateDir: join(base, 'state'), logDir: join(base, 'logs') }
      for (const dir of [dirs.licenseDir, dirs.stateDir, dirs.logDir]) mkdirSync(dir, { recursive: true })
      return [name, dirs]
    }),
  )
}

/** Serves `packs` on `dirs` on `port` if given (no retry then: the caller's list names it), else on a free port. */
export async function serveNode(t: TestContext, dirs: Dirs, packs: PackSpec[], port?: number): Promise<Node> {
  for (let attempt = 1; ; attempt++) {
    const p = port ?? (await freePort())
    dropLpf(dirs.licenseDir, { port: p, packs })
    const proc = spawnServe(t, dirs)
    try {
      await proc.waitForLog(/listening for leases/, 60_000)
      return { proc, port: p, address: `127.0.0.1:${p}` }
    } catch (e) {
      if (port !== undefined || attempt >= 3 || !/PORT_IN_USE/.test(String(e))) throw new Error(`${(e as Error).message} (attempt ${attempt})`)
      await proc.exited
    }
  }
}
