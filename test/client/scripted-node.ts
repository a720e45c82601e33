// Peers that stand in for a cluster node the client must cope with, on real sockets with the
// real frame codec: a scripted node that answers from a table (a standby that answers hello
// and NOT_LEADER, SPEC HA-4; a node that pushes `moving {host, port}`, HA-5) and a listener
// that accepts and never answers (a peer that is up but dead to the protocol).
import { createServer, type Server, type Socket } from 'node:net'
import { FrameDecoder, encodeFrame } from '../../lib/protocol/frame.js'
import type { TestContext } from '../helpers/server.js'

export type Frame = Record<string, unknown>

/** The reply's fields for a request (without id), or undefined to leave it unanswered. */
export type Script = (request: Frame, socket: Socket) => Frame | undefined

export interface ScriptedNode {
  port: number
  /** `127.0.0.1:port` */
  address: string
  /** every request received, in order, with the socket it came on */
  requests: { request: Frame; socket: Socket }[]
  /** sockets open now */
  sockets: Set<Socket>
  /** sends a push to every open connection */
  push(frame: Frame): void
  /** closes the listener and every connection */
  stop(): Promise<void>
}

/** A hello answer as a node of a cluster gives it ([WIRE-4] plus role, leader, servers). */
export function helloAnswer(extra: Frame = {}): Frame {
  return { ok: true, protocol: 1, server: 'flr/test', vendor: 'Acme', hostId: 'Lnx-SCRI-PTED-NODE-AAAA', serverTime: Date.now(), leaseTtlMs: 30_000, graceMs: 604_800_000, packs: [], ...extra }
}

/** A standby (SPEC HA-4): hello, ping and status answered; every other op NOT_LEADER naming `leader` when given. */
export function standbyScript(leader: string | undefined, helloExtra: Frame = {}): Script {
  return (req) => {
    switch (req.op) {
      case 'hello':
        return helloAnswer({ role: 'standby', ...(leader ? { leader } : {}), ...helloExtra })
      case 'ping':
        return { ok: true }
      case 'status':
        return { ok: true, serving: false, listeningPort: null, restored: 0, packs: [] }
      default:
        return { ok: false, error: { code: 'NOT_LEADER', message: 'this node is a standby', ...(leader ? { leader } : {}) } }
    }
  }
}

export async function scriptedNode(t: TestContext, script: Script): Promise<ScriptedNode> {
  const sockets = new Set<Socket>()
  const requests: ScriptedNode['requests'] = []
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    const decoder = new FrameDecoder({
      frame: (request) => {
        requests.push({ request, socket })
        const reply = script(request, socket)
        if (reply && !socket.destroyed) socket.write(encodeFrame({ ...reply, id: request.id }))
      },
      fault: () => socket.destroy(),
    })
    socket.on('data', (chunk) => decoder.push(chunk))
  })
  const port = await listen(server)
  const stop = () => close(server, sockets)
  t.teardown(stop)
  return {
    port,
    address: `127.0.0.1:${port}`,
    requests,
    sockets,
    push: (frame) => {
      for (const s of sockets) s.write(encodeFrame(frame))
    },
    stop,
  }
}

/** A TCP listener that accepts every connection and never sends a byte. */
export async function silentListener(t: TestContext): Promise<{ port: number; address: string; accepted: () => number }> {
  const sockets = new Set<Socket>()
  let accepted = 0
  const server = createServer((socket) => {
    accepted++
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  const port = await listen(server)
  t.teardown(() => close(server, sockets))
  return { port, address: `127.0.0.1:${port}`, accepted: () => accepted }
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)))
}

function close(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy()
  return new Promise((resolve) => server.close(() => resolve()))
}
