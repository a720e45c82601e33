// [WIRE-2] every integer the server sends is a MessagePack integer, never a float: proven with a
// second, independent MessagePack implementation (@msgpack/msgpack, not flr's codec) reading the
// server's real replies off a raw socket, with int64 decoded as bigint so that a float64 (which
// it would hand back as a number) cannot pass for an integer, and the raw type byte checked too.
import t from 'tap'
import { connect, type Socket } from 'node:net'
import { Decoder, Encoder } from '@msgpack/msgpack'
import { servePacks } from '../helpers/server.js'

/** frames off a socket, each body kept raw for the type-byte check */
class Frames {
  private buf = Buffer.alloc(0)
  private readonly bodies: Buffer[] = []
  private waiter: (() => void) | undefined
  constructor(socket: Socket) {
    socket.on('data', (chunk) => {
      this.buf = Buffer.concat([this.buf, chunk])
      while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readUInt32BE(0)) {
        const n = this.buf.readUInt32BE(0)
        this.bodies.push(this.buf.subarray(4, 4 + n))
        this.buf = this.buf.subarray(4 + n)
      }
      this.waiter?.()
    })
  }

  async next(): Promise<Buffer> {
    const deadline = Date.now() + 20_000
    while (this.bodies.length === 0) {
      if (Date.now() > deadline) throw new Error('no frame from the server')
      await new Promise<void>((resolve) => {
        this.waiter = resolve
        setTimeout(resolve, 500).unref()
      })
    }
    return this.bodies.shift()!
  }
}

const encoder = new Encoder()
// int64/uint64 come back as bigint; a float64 would come back as a number
const decoder = new Decoder({ useBigInt64: true })

function frame(value: unknown): Buffer {
  const body = Buffer.from(encoder.encode(value))
  const head = Buffer.alloc(4)
  head.writeUInt32BE(body.length)
  return Buffer.concat([head, body])
}

/** the MessagePack type byte right after the string key `key` in `body` */
function typeByteAfter(body: Buffer, key: string): number {
  const header = Buffer.from([0xa0 | key.length])
  const at = body.indexOf(Buffer.concat([header, Buffer.from(key)]))
  if (at < 0) throw new Error(`no key ${key} in the reply`)
  return body[at + 1 + key.length]!
}

t.test('[WIRE-2] expiresAt and serverTime reach an independent decoder as integers (int64), never float64', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 2 }], { leaseTtlMs: 3_600_000 })
  const socket = connect({ host: '127.0.0.1', port })
  t.teardown(() => socket.destroy())
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const frames = new Frames(socket)

  socket.write(frame({ id: 1, op: 'hello', protocol: 1, client: 'strict-peer' }))
  const helloBody = await frames.next()
  const hello = decoder.decode(helloBody) as Record<string, unknown>
  t.equal(hello.ok, true, 'hello answered')
  t.equal(typeof hello.serverTime, 'bigint', 'serverTime decodes as a 64-bit integer')
  t.ok(Number(hello.serverTime) > 2 ** 32, 'and is beyond 32 bits (so it cannot hide in a 32-bit form)')
  t.ok([0xcf, 0xd3].includes(typeByteAfter(helloBody, 'serverTime')), 'serverTime type byte is uint64/int64, not float64 0xcb')

  socket.write(frame({ id: 2, op: 'lease', pack: 'station' }))
  const leaseBody = await frames.next()
  const lease = decoder.decode(leaseBody) as Record<string, unknown>
  t.equal(lease.ok, true, 'lease granted')
  t.equal(typeof lease.expiresAt, 'bigint', 'expiresAt decodes as a 64-bit integer')
  t.ok([0xcf, 0xd3].includes(typeByteAfter(leaseBody, 'expiresAt')), 'expiresAt type byte is an integer type')
  t.equal(typeof lease.ttlMs, 'number', 'ttlMs (fits 32 bits) is a plain integer')
  t.ok(Number.isInteger(lease.ttlMs), 'ttlMs is whole')

  socket.write(frame({ id: 3, op: 'renew', lease: lease.lease }))
  const renewBody = await frames.next()
  t.equal(typeof (decoder.decode(renewBody) as Record<string, unknown>).expiresAt, 'bigint', 'a renewed expiresAt too')

  // every number anywhere in these replies is whole, and every timestamp a 64-bit integer
  for (const body of [helloBody, leaseBody, renewBody]) {
    JSON.stringify(decoder.decode(body), (key, v: unknown) => {
      if (typeof v === 'number') t.ok(Number.isInteger(v), `${key}: ${v} is whole`)
      if (/At$|Time$/.test(key)) t.equal(typeof v, 'bigint', `${key} is a 64-bit integer`)
      return typeof v === 'bigint' ? Number(v) : v
    })
  }
})

t.test('[WIRE-2] the codec writes safe integers beyond 32 bits as int64 and reads them back', async (t) => {
  const { encode, decode } = await import('../../lib/protocol/msgpack.js')
  t.equal(encode(2 ** 32).toString('hex'), 'd30000000100000000')
  t.equal(encode(1_796_395_030_012).toString('hex'), 'd3000001a2417cd5fc')
  t.equal(encode(2 ** 53 - 1).toString('hex'), 'd3001fffffffffffff')
  t.equal(encode(-(2 ** 31) - 1).toString('hex'), 'd3ffffffff7fffffff')
  t.equal(encode(-(2 ** 53 - 1)).toString('hex'), 'd3ffe0000000000001')
  for (const n of [2 ** 32, 2 ** 53 - 1, -(2 ** 31) - 1, -(2 ** 53 - 1), 1_796_395_030_012]) {
    t.equal(decode(encode(n)), n, `${n} round-trips`)
    t.equal(new Decoder({ useBigInt64: true }).decode(encode(n)), BigInt(n), `${n} reads as the same integer elsewhere`)
  }
  t.equal(encode(0.5).toString('hex'), 'cb3fe0000000000000', 'a fraction stays a float64')
})
