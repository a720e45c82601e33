// issue 11: `flr sign … | head` crashed with EPIPE and a stack trace. A reader that goes away is
// no failure of the command: it finishes its work, prints nothing more, and exits with its own
// code. Spawns bin/flr.js with stdout (or stderr) a pipe whose reading end is closed before the
// child writes a byte: every write it makes meets EPIPE, deterministically.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildLpfXml } from '../../lib/lpf/vendor.js'
import { loadLpf } from '../../lib/lpf/load.js'
import { FLR_BIN, HOST_ID, VENDOR_KEY, VENDOR_PUB, lpfText } from '../helpers/server.js'
import { createPublicKey } from 'node:crypto'

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  /** what the stream left open received */
  output: string
}

/** `flr args…` with `closed` ('stdout' or 'stderr') read by nobody; the other one collected. */
function runWithClosed(closed: 'stdout' | 'stderr', args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const child = spawn(process.execPath, [FLR_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  child[closed]!.destroy()
  const open = closed === 'stdout' ? child.stderr! : child.stdout!
  let output = ''
  open.on('data', (d) => (output += d))
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal, output })))
}

const packs = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `pack-${i}`, limit: 1, licenses: `<licenses><license product="p${i}"/></licenses>` }))

t.test('issue 11: flr sign with its stdout closed (| head) still signs, exits 0, no stack trace', async (t) => {
  const dir = t.testdir({ 'customer.xml': buildLpfXml({ vendor: 'Acme', generated: '2026-11-01', expiration: '2099-12-31', hostId: HOST_ID, port: 19110, packs: packs(3) }) })
  const r = await runWithClosed('stdout', ['sign', join(dir, 'customer.xml'), '--key', VENDOR_KEY])
  t.same({ code: r.code, signal: r.signal }, { code: 0, signal: null })
  t.equal(r.output, '', 'nothing on stderr: no EPIPE, no stack trace')
  const out = join(dir, `${HOST_ID}.lp`)
  t.ok(existsSync(out), 'the signed file was written')
  t.equal(loadLpf(readFileSync(out), { vendorKeys: [createPublicKey(readFileSync(VENDOR_PUB))] }).packs.length, 3, 'and it verifies')
})

t.test('issue 11: flr inspect of a big LPF into a closed pipe: many writes after the first EPIPE, exit 0, quiet', async (t) => {
  const dir = t.testdir()
  const lpf = join(dir, `${HOST_ID}.lp`)
  writeFileSync(lpf, lpfText({ port: 19110, packs: packs(2000) }))
  const r = await runWithClosed('stdout', ['inspect', lpf, '--vendor-key', VENDOR_PUB, '--host-id', HOST_ID])
  t.same({ code: r.code, signal: r.signal }, { code: 0, signal: null })
  t.equal(r.output, '')
})

t.test('issue 11: flr host-id with its stdout closed exits 0, quiet', async (t) => {
  const r = await runWithClosed('stdout', ['host-id'])
  t.same({ code: r.code, signal: r.signal, stderr: r.output }, { code: 0, signal: null, stderr: '' })
})

t.test('issue 11: a closed stderr is no failure either: the note is dropped, stdout and the exit code are kept', async (t) => {
  // with FLR_HOST_ID, host-id writes a note to stderr besides the id on stdout
  const r = await runWithClosed('stderr', ['host-id'], { FLR_HOST_ID: HOST_ID })
  t.same({ code: r.code, signal: r.signal }, { code: 0, signal: null })
  t.equal(r.output, `${HOST_ID}\n`)
  // a usage error keeps its code (2) when nobody reads why
  const usage = await runWithClosed('stderr', ['no-such-command'])
  t.same({ code: usage.code, signal: usage.signal }, { code: 2, signal: null })
})
