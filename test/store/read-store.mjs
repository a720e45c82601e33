// Child that reads a lease store with LMDB directly, read-only, bypassing lib/store: what
// another process finds in the file. Prints {lastTxnId, leases: [ids]} as JSON.
import { open } from 'lmdb'

// Run by tap directly (`npx tap test/store`), it is not a test: say so in TAP and stop.
if (process.argv.length < 3) {
  console.log('1..0 # SKIP child process of the store tests')
  process.exit(0)
}

const env = open({ path: process.argv[2], noSubdir: true, readOnly: true, maxDbs: 4 })
const leases = env.openDB({ name: 'leases', encoding: 'binary', create: false })
const ids = [...leases.getKeys()]
process.stdout.write(JSON.stringify({ lastTxnId: env.getStats().lastTxnId, leases: ids }))
await env.close()
