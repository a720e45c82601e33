// Child for the crash test ([LEASE-7], [LEASE-8]): writes leases through the compiled store
// and logs a line to <ack-file> only after each write has been acknowledged, until it is
// SIGKILLed. The log is a file written with writeSync, not stdout: a pipe write can sit in
// the child's buffer and die with it, and the parent would miss acknowledgements.
//   put <lease> <released-before>  the put of <lease> resolved; <released-before> (or "-")
//                                  is a lease whose remove was issued just before that put
//   rel <lease>                    logged just before the remove of <lease> is issued
//   del <lease>                    the remove of <lease> resolved
import fs from 'node:fs'
import { openLeaseStore } from '../../dist/lib/store/lease-store.js'

// Run by tap directly (`npx tap test/store`), it is not a test: say so in TAP and stop.
if (process.argv.length < 3) {
  console.log('1..0 # SKIP child process of the store tests')
  process.exit(0)
}

const [stateDir, hostId, prefix, ackFile] = process.argv.slice(2)
const store = await openLeaseStore({ stateDir, hostId })
const ackFd = fs.openSync(ackFile, 'a')
const say = (line) => fs.writeSync(ackFd, line + '\n')
say('ready')

let seq = 0
const record = (lease) => ({ lease, pack: 'cad', holder: lease, client: 'crash-test', address: '127.0.0.1', grantedAt: Date.now() })

async function worker(w) {
  let held
  for (;;) {
    const next = `${prefix}-${w}-${seq++}`
    // the release of the seat and the grant that reuses it are issued back to back, as the engine does
    if (held !== undefined) say(`rel ${held}`)
    const removal = held === undefined ? undefined : store.remove(held)
    const grant = store.put(record(next))
    const released = held
    removal?.then(() => say(`del ${released}`))
    await grant
    say(`put ${next} ${released ?? '-'}`)
    held = next
    if (removal) await removal
  }
}

for (let w = 0; w < 16; w++) worker(w)
