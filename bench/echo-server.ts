// The ceiling: the least a server can do per request on our wire. Same 4-byte framing and
// the same safe MessagePack decoding (lib/protocol/frame.ts) as flr, one reply {id, ok: true}
// per frame (batched per event-loop turn, as flr's are), and nothing else: no request
// parsing, no engine, no store.
// Run: node dist/bench/echo-server.js   (prints {"port": N} once it listens on 127.0.0.1)
import { createServer } from 'node:net'
import { FrameDecoder } from '../lib/protocol/frame.js'
import { writeFrame } from '../lib/server/socket-writer.js'

const server = createServer({ noDelay: true }, (socket) => {
  socket.setNoDelay(true)
  const decoder = new FrameDecoder({
    frame: (msg) => writeFrame(socket, { id: msg.id, ok: true }),
    fault: () => socket.destroy(),
  })
  socket.on('data', (chunk) => decoder.push(chunk))
  socket.on('error', () => {})
})

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as { port: number }).port }) + '\n')
})
process.once('SIGTERM', () => process.exit(0))
