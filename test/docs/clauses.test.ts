// Every clause id that code or tests cite is defined in the project's own docs, as a heading
// that is the id itself (docs/clauses.md#lease-2 for LEASE-2), so a reader outside can look
// any citation up.
import t, { type Test } from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, docFiles, headings, read } from './markdown.js'

const CITATION = /\[([A-Z]+-[0-9]+)\]/g

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|js|mjs|cjs|json)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
}

/** clause id → the first file that cites it */
function cited(): Map<string, string> {
  const ids = new Map<string, string>()
  for (const dir of ['lib', 'test', 'bench']) {
    for (const file of sources(dir)) {
      for (const m of readFileSync(file, 'utf8').matchAll(CITATION)) if (!ids.has(m[1]!)) ids.set(m[1]!, file.slice(ROOT.length))
    }
  }
  return ids
}

/** clause id → the page that defines it (a heading that is exactly the id) */
function defined(t: Test): Map<string, string> {
  const ids = new Map<string, string>()
  for (const file of docFiles().filter((f) => f.startsWith('docs/'))) {
    for (const h of headings(read(file))) {
      if (!/^[A-Z]+-[0-9]+$/.test(h)) continue
      t.notOk(ids.has(h), `${h} is defined once (${file}${ids.has(h) ? ` and ${ids.get(h)}` : ''})`)
      ids.set(h, file)
    }
  }
  return ids
}

t.test('every clause cited in lib/ and test/ is defined in docs/', async (t) => {
  const citations = cited()
  const definitions = defined(t)
  t.ok(citations.size >= 40, `the code cites clauses (${citations.size} found): the scan reads the right folders`)
  for (const [id, where] of [...citations].sort()) t.ok(definitions.has(id), `${id} (cited in ${where}) is defined in docs/`)
})

t.test('a definition says something', async (t) => {
  const text = read('docs/clauses.md')
  for (const m of text.matchAll(/^### ([A-Z]+-[0-9]+)\n\n(.*)$/gm)) t.ok(m[2]!.trim().length > 20, `${m[1]} has a definition`)
})
