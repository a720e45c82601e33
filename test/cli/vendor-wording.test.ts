// Issue 17: `flr sign`, `flr inspect` and `flr keygen` are the vendor's tools; their messages
// never tell the vendor to "ask the vendor". Run over every hostile fixture and over every source
// that can be made of one by removing its signature.
import t from 'tap'
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { run } from '../../lib/cli/main.js'
import { forVendor } from '../../lib/lpf/remedy.js'
import { HOSTILE_DIR, KEYS, TEST_HOST, VENDOR_PUB_PATH, hostileCases, terminal } from '../lpf/helpers.js'

const ASKS = /ask the vendor|the vendor must/i

t.test('flr inspect of every hostile fixture: a remedy for the vendor, never "ask the vendor"', async (t) => {
  const dir = t.testdir()
  let refusals = 0
  for (const c of hostileCases) {
    const path = join(dir, `${TEST_HOST}.lp`)
    copyFileSync(join(HOSTILE_DIR, c.file), path)
    for (const args of [['--host-id', TEST_HOST], ['--json']]) {
      const term = terminal()
      if ((await run(['inspect', path, '--vendor-key', VENDOR_PUB_PATH, ...args], term.io)) !== 0) refusals++
      t.notMatch(`${term.stdout()}\n${term.stderr()}`, ASKS, `${c.file} ${args.join(' ')}`)
    }
  }
  t.ok(refusals >= 2 * hostileCases.length - 4, `${refusals} refusals looked at`)
})

t.test('flr sign of every hostile fixture made a source again: the refusals speak to the vendor', async (t) => {
  const dir = t.testdir()
  let refused = 0
  const codes = new Set<string>()
  for (const c of hostileCases) {
    const text = readFileSync(join(HOSTILE_DIR, c.file), 'latin1')
    // the fixture without its Signature(s): what a vendor would have tried to sign
    const source = text.replace(/<(\w+:)?Signature\b[\s\S]*?<\/(\w+:)?Signature>/g, '')
    const file = join(dir, 'source.xml')
    writeFileSync(file, Buffer.from(source, 'latin1'))
    const term = terminal()
    const code = await run(['sign', file, '--key', join(KEYS, 'vendor.key.pem'), '--out', join(dir, 'out.lp'), '--force'], term.io)
    if (code !== 0) {
      refused++
      codes.add(/flr: ([A-Z_]+)/.exec(term.stderr())?.[1] ?? 'other')
    }
    t.notMatch(`${term.stdout()}\n${term.stderr()}`, ASKS, c.file)
  }
  t.ok(refused >= 25, `${refused} sources refused`)
  t.ok(codes.has('LPF_MALFORMED') && codes.has('LPF_EXPIRED') && codes.has('LPF_TOO_LARGE') === false, `codes: ${[...codes].join(', ')}`)
})

t.test('forVendor turns every admin remedy lib/lpf writes into what the vendor does', async (t) => {
  const admin = [
    'x; ask the vendor for a new file; an LPF is UTF-8 XML with no DOCTYPE and no processing instructions',
    'the vendor must correct the LPF source and sign it again',
    'check that --vendor-key is this vendor\'s public key, or ask the vendor to re-issue the file',
    'never edit an LPF: ask the vendor for a new one',
    'ask the vendor for an LPF issued to Lnx-TEST-TEST-TEST-TEST (`flr host-id` prints it)',
    'expired: ask the vendor for a renewed LPF',
    'this is not a license pack file; check that it is the .lp file the vendor sent',
  ]
  for (const message of admin) t.notMatch(forVendor(message), ASKS, message)
  t.equal(forVendor('expired: ask the vendor for a renewed LPF'), 'expired: sign a renewed LPF with a later expiration (`flr sign`)')
  t.equal(forVendor('no remedy here'), 'no remedy here')
})

t.test('flr keygen says nothing of asking the vendor', async (t) => {
  const dir = t.testdir()
  for (const args of [[], [], ['--force']]) {
    const term = terminal()
    await run(['keygen', '--out', join(dir, 'acme'), ...args], term.io)
    t.notMatch(`${term.stdout()}\n${term.stderr()}`, ASKS)
  }
})
