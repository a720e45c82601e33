// A real `flr serve` child for the [HA-6] tests, on a port the OS picked. Eight engineers'
// tests share this machine: a port found free may be taken before the child binds it, so a
// start that fails with PORT_IN_USE is tried again on another port.
import { dropLpf, freePort, spawnServe, type Dirs, type PackSpec, type ServeProcess, type TestContext } from '../helpers/server.js'

export interface Node {
  proc: ServeProcess
  port: number
  /** `127.0.0.1:port` */
  address: string
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
      if (port !== undefined || attempt >= 5 || !/PORT_IN_USE/.test(String(e))) throw e
      await proc.exited
    }
  }
}
