// Every code in the registry is documented in the one error table, docs/errors.md, and the
// table names no other (fastify's practice: one registry, checked against the docs).
import t from 'tap'
import { readFileSync } from 'node:fs'
import { ERRORS, FlrError } from '../lib/errors.js'

const page = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8')
const documented = [...page.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1])

t.test('every registry code is in the docs/errors.md table', async (t) => {
  t.ok(documented.length > 0, 'docs/errors.md has the table')
  for (const code of Object.keys(ERRORS)) t.ok(documented.includes(code), `${code} documented`)
})

t.test('the docs/errors.md table names no code the registry lacks', async (t) => {
  for (const code of documented) t.ok(code! in ERRORS, `${code} exists in lib/errors.ts`)
  t.equal(new Set(documented).size, documented.length, 'no code listed twice')
})

t.test('[WIRE-2] an error travels as {code, message, ...details}', async (t) => {
  const e = new FlrError('PACK_EXHAUSTED', undefined, { limit: 2, inUse: 2 })
  t.same(e.toWire(), { code: 'PACK_EXHAUSTED', message: ERRORS.PACK_EXHAUSTED, limit: 2, inUse: 2 })
})
