// lib/protocol/msgpack.ts writes plain values only (objects, arrays, strings, numbers,
// booleans, null) and throws a TypeError for anything else: msgpackr's fallback for other
// values is gone. This session makes a real daemon send every kind of reply and push
// ([WIRE-2], [WIRE-9]) and checks that each came as a well-formed frame: had any of them
// held a value the codec no longer writes, the reply would be missing or INTERNAL.
import t from 'tap'
import { setPassword } from '../../lib/admin/password.js'
import { PASSWORD } from '../helpers/admin.js'
import { servePacks } from '../helpers/server.js'
import { RawPeer, type Frame } from '../helpers/wire.js'

t.test('[WIRE-2] [WIRE-9] every op answers and every push arrives with the plain-value codec', async (t) => {
  const { port, dirs, daemon } = await servePacks(t, [{ name: 'station', limit: 1 }])
  await setPassword(dirs.stateDir, PASSWORD)
  const holder = await RawPeer.hello(t, port, 'holder')
  const admin = await RawPeer.hello(t, port, 'admin')
  const replies: Array<[string, Frame]> = []
  const call = async (peer: RawPeer, op: string, body: Record<string, unknown> = {}): Promise<Frame> => {
    const reply = await peer.call(op, body)
    replies.push([op, reply])
    return reply
  }
  const granted = await call(holder, 'lease', { pack: 'station' })
  await call(holder, 'renew', { lease: granted.lease })
  await call(holder, 'status')
  await call(holder, 'ping')
  await call(holder, 'lease', { pack: 'station', holder: 'someone else' }) // PACK_EXHAUSTED, with limit and inUse
  await call(holder, 'lease', { pack: 'nope' }) // PACK_UNKNOWN
  await call(holder, 'renew', { lease: 'never-granted' }) // LEASE_UNKNOWN
  await call(holder, 'leases') // AUTH_REQUIRED
  await call(holder, 'lease', { pack: '' }) // BAD_REQUEST, with field
  await call(admin, 'auth', { password: 'Wr0ng-Horse!' }) // AUTH_FAILED
  await call(admin, 'auth', { password: PASSWORD })
  await call(admin, 'leases')
  await call(admin, 'reload')
  await call(admin, 'revoke', { lease: granted.lease })
  const revoked = await holder.waitFor((f) => f.push === 'revoked', 'the revoked push')
  const again = await call(holder, 'lease', { pack: 'station' })
  await call(holder, 'release', { lease: again.lease })
  await daemon.stop()
  const shutdown = await holder.waitFor((f) => f.push === 'shutdown', 'the shutdown push')

  for (const [op, reply] of replies) {
    t.not((reply.error as { code?: string } | undefined)?.code, 'INTERNAL', `${op}: answered, not INTERNAL`)
  }
  t.same(replies.map(([op, r]) => [op, r.ok === true ? 'ok' : (r.error as { code: string }).code]), [
    ['lease', 'ok'], ['renew', 'ok'], ['status', 'ok'], ['ping', 'ok'], ['lease', 'PACK_EXHAUSTED'], ['lease', 'PACK_UNKNOWN'],
    ['renew', 'LEASE_UNKNOWN'], ['leases', 'AUTH_REQUIRED'], ['lease', 'BAD_REQUEST'], ['auth', 'AUTH_FAILED'], ['auth', 'ok'],
    ['leases', 'ok'], ['reload', 'ok'], ['revoke', 'ok'], ['lease', 'ok'], ['release', 'ok'],
  ])
  t.match(revoked, { push: 'revoked', lease: granted.lease, pack: 'station', reason: 'admin' })
  t.same(shutdown, { push: 'shutdown' })
  t.equal(holder.decodeFault, undefined, 'every frame the server sent decoded')
})
