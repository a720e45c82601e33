import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { openLeaseStore } from '../../lib/store/lease-store.js'
import { exited, startChild } from './fixtures.js'

const HOST = 'crash-host'
const ROUNDS = 8

interface Acks {
  mustExist: Set<string> // put acknowledged, remove never issued
  maybe: Set<string> // put acknowledged, remove issued but not acknowledged: either is right
  mustNotExist: Set<string> // remove acknowledged, or issued before a put that was acknowledged
}

// [LEASE-7] an acknowledged write is durable; [LEASE-8] what was acknowledged comes back;
// the engine's order (release issued before the grant reusing the seat) survives a crash.
t.test('[LEASE-7] [LEASE-8] every acknowledged write survives SIGKILL at a random moment', async (t) => {
  const stateDir = t.testdir()
  const acks: Acks = { mustExist: new Set(), maybe: new Set(), mustNotExist: new Set() }
  let acknowledged = 0
  for (let round = 0; round < ROUNDS; round++) {
    acknowledged += await killWhileWriting(stateDir, `r${round}`, acks)
    const store = await openLeaseStore({ stateDir, hostId: HOST })
    const stored = new Set(store.load().map((r) => r.lease))
    await store.close()
    const lost = [...acks.mustExist].filter((id) => !stored.has(id))
    const resurrected = [...acks.mustNotExist].filter((id) => stored.has(id))
    t.same(lost, [], `round ${round}: no acknowledged grant is missing`)
    t.same(resurrected, [], `round ${round}: no acknowledged or superseded release came back`)
  }
  t.ok(acknowledged > ROUNDS * 16, `the writer was killed mid-stream (${acknowledged} acknowledged writes)`)
})

async function killWhileWriting(stateDir: string, prefix: string, acks: Acks): Promise<number> {
  const ackFile = path.join(stateDir, `${prefix}.acks`)
  const child = startChild('ack-writer.mjs', [stateDir, HOST, prefix, ackFile])
  await until(() => fs.existsSync(ackFile) && fs.readFileSync(ackFile, 'utf8').startsWith('ready\n'), child)
  await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 300))
  child.kill('SIGKILL')
  await exited(child)
  const lines = fs.readFileSync(ackFile, 'utf8').split('\n')
  lines.pop() // an unterminated last line was being written when the child died
  return lines.reduce((count, line) => count + record(line, acks), 0)
}

async function until(ready: () => boolean, child: ChildProcess): Promise<void> {
  while (!ready()) {
    if (child.exitCode !== null) throw new Error(`the writer exited ${child.exitCode} before it was ready`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

function record(line: string, acks: Acks): number {
  const [kind, lease, releasedBefore] = line.split(' ')
  switch (kind) {
    case 'put':
      acks.mustExist.add(lease)
      if (releasedBefore !== '-') released(releasedBefore, acks)
      return 1
    case 'rel':
      acks.mustExist.delete(lease)
      acks.maybe.add(lease)
      return 0
    case 'del':
      released(lease, acks)
      return 1
    default:
      return 0
  }
}

function released(lease: string, acks: Acks): void {
  acks.mustExist.delete(lease)
  acks.maybe.delete(lease)
  acks.mustNotExist.add(lease)
}
