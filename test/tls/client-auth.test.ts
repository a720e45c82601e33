// The trust model (docs/security.md), tested: without client authentication any peer naming a
// holder gets that holder's lease ([LEASE-2]); with --client-token-file every lease op needs a
// token in hello, and a holder's lease is tied to the identity that took it.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { readClientTokens } from '../../lib/server/client-auth.js'
import { FlrClient } from '../../lib/client/client.js'
import { connectClient, servePacks } from '../helpers/server.js'
import { codeOf } from './helpers.js'

const ALICE = 'alice-0123456789abcdef'
const BOB = 'bob-0123456789abcdefgh'

t.test('[LEASE-2] without client authentication, another peer naming a holder receives its lease', async (t) => {
  const { port } = await servePacks(t, [{ name: 'station', limit: 2 }])
  const a = await connectClient(t, port, { client: 'a' })
  const b = await connectClient(t, port, { client: 'b' })
  const mine = await a.lease('station', { holder: 'ws-1' })
  const theirs = await b.request('lease', { pack: 'station', holder: 'ws-1' })
  t.equal(theirs.lease, mine.id, 'the lease id, the bearer credential, is handed to whoever names the holder')
})

t.test('[LEASE-2] with --client-token-file: a token is required, and a holder is tied to the identity that took its lease', async (t) => {
  const dir = t.testdir({})
  const file = join(dir, 'tokens')
  writeFileSync(file, `# site tokens\nalice ${ALICE}\nbob ${BOB}\n`)
  const { port } = await servePacks(t, [{ name: 'station', limit: 3 }], { clientTokens: readClientTokens(file) })

  const anonymous = await connectClient(t, port, { client: 'anon' })
  t.equal((await anonymous.status()).serving, true, 'status needs no token')
  t.equal((await codeOf(anonymous.lease('station'))).code, 'CLIENT_TOKEN_REQUIRED')
  t.equal((await codeOf(FlrClient.connect({ host: '127.0.0.1', port, client: 'x', reconnect: false, token: 'not-a-token-of-this-site' }))).code, 'AUTH_FAILED', 'an unknown token is refused at hello')

  const alice = await connectClient(t, port, { client: 'alice', token: ALICE })
  const alice2 = await connectClient(t, port, { client: 'alice-laptop', token: ALICE })
  const bob = await connectClient(t, port, { client: 'bob', token: BOB })
  const held = await alice.lease('station', { holder: 'ws-1' })
  const taken = await codeOf(bob.request('lease', { pack: 'station', holder: 'ws-1' }))
  t.equal(taken.code, 'HOLDER_TAKEN', 'another identity naming the holder gets no lease')
  t.notMatch(taken.message, held.id)
  t.equal((await codeOf(bob.request('renew', { lease: held.id }))).code, 'HOLDER_TAKEN', 'nor renews it by its id')
  t.equal((await codeOf(bob.request('release', { lease: held.id }))).code, 'HOLDER_TAKEN', 'nor releases it')
  t.equal((await codeOf(anonymous.request('release', { lease: held.id }))).code, 'CLIENT_TOKEN_REQUIRED')
  t.equal((await alice2.request('lease', { pack: 'station', holder: 'ws-1' })).lease, held.id, 'the same identity on another connection gets it ([LEASE-2])')
  await held.release()
  t.ok((await bob.request('lease', { pack: 'station', holder: 'ws-1' })).lease, 'once released, the holder name is free for another identity')
})

t.test('a token file: NAME TOKEN or TOKEN lines, comments, and short tokens refused', async (t) => {
  const dir = t.testdir({ ok: `# c\n${ALICE}\n\nbob ${BOB}  # bob's\n`, short: 'x shorttoken\n', empty: '# nothing\n' })
  t.same([...readClientTokens(join(dir, 'ok')).values()].sort(), ['bob', 'site'])
  t.throws(() => readClientTokens(join(dir, 'short')), { code: 'USAGE', message: /at least 16/ })
  t.throws(() => readClientTokens(join(dir, 'empty')), { code: 'USAGE', message: /no token/ })
})
