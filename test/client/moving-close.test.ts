// issue 13 (the audit): a client that follows `moving` ([SRV-5]) kept the retry's promise where
// nothing awaited it. Closed meanwhile (an app shutting down, `flr lease` on Ctrl-C), the retry
// rejected with nobody to hear it: an unhandled rejection, which ends the embedding process.
import t from 'tap'
import { FlrClient } from '../../lib/client/client.js'
import { dropLpf, freePort, servePacks } from '../helpers/server.js'
import { eventually } from '../helpers/admin.js'

t.test('[SRV-5] a client closed while it follows moving leaves no unhandled rejection', async (t) => {
  const packs = [{ name: 'station', limit: 1 }]
  const { port, dirs } = await servePacks(t, packs)
  const rejections: unknown[] = []
  const onRejection = (reason: unknown) => rejections.push(reason)
  process.on('unhandledRejection', onRejection)
  t.teardown(() => void process.off('unhandledRejection', onRejection))

  const client = await FlrClient.connect({ host: '127.0.0.1', port, client: 'app', backoffMinMs: 10, backoffMaxMs: 50 })
  let moved = false
  // the app shuts down the moment it hears of the move
  client.once('moving', () => {
    moved = true
    client.close()
  })
  dropLpf(dirs.licenseDir, { port: await freePort(), packs })
  const following = () => (client as unknown as { connecting?: Promise<unknown> }).connecting
  await eventually(() => moved && following() === undefined, 'the move heard and its retry settled', 30_000)
  // Node reports an unhandled rejection once the microtasks of the turn it happened in are done
  await new Promise((resolve) => setImmediate(resolve))
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.same(rejections, [], 'no unhandled rejection')
})
