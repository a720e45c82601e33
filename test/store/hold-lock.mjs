// Child for [SRV-7]: takes the state-directory lock, says so, and waits to be killed.
import { lockStateDir } from '../../dist/lib/store/state-lock.js'

// Run by tap directly (`npx tap test/store`), it is not a test: say so in TAP and stop.
if (process.argv.length < 3) {
  console.log('1..0 # SKIP child process of the store tests')
  process.exit(0)
}

const lock = lockStateDir(process.argv[2])
process.stdout.write(`locked ${lock.file}\n`)
setInterval(() => {}, 1 << 30)
