// Every relative link in README.md and docs/ leads somewhere: the file exists, and an
// #anchor names a heading of that file, by GitHub's rules. A reader who follows a link
// from the front page never lands on nothing.
import t from 'tap'
import { existsSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { ROOT, anchors, docFiles, links, read } from './markdown.js'

t.test('the anchor rules are GitHub\'s', async (t) => {
  t.same([...anchors('# flr — a server\n## `lease {pack}` → grant\n## Ops\n## Ops\n### LEASE-2\n```\n# not a heading\n```\n')],
    ['flr--a-server', 'lease-pack--grant', 'ops', 'ops-1', 'lease-2'])
  t.same(links('see [a](docs/a.md#x) and `[b](nope.md)`\n```\n[c](nope.md)\n```\n[d](https://example.com)'), ['docs/a.md#x', 'https://example.com'])
})

for (const file of docFiles()) {
  t.test(`links in ${file} resolve`, async (t) => {
    const found = links(read(file)).filter((l) => !/^[a-z][a-z0-9+.-]*:/i.test(l))
    t.ok(file === 'README.md' ? found.length > 0 : true, 'the front page links onwards')
    for (const link of found) {
      const [path, anchor] = link.split('#') as [string, string | undefined]
      const target = path === '' ? join(ROOT, file) : join(ROOT, dirname(file), decodeURIComponent(path))
      const shown = relative(ROOT, target) || '.'
      t.notOk(relative(ROOT, target).startsWith('..'), `${link}: stays inside the repository`)
      if (!existsSync(target)) {
        t.fail(`${link}: ${shown} does not exist`)
        continue
      }
      if (anchor === undefined) {
        t.pass(`${link}: ${shown} exists`)
        continue
      }
      t.ok(statSync(target).isFile() && target.endsWith('.md'), `${link}: an anchor needs a Markdown file`)
      t.ok(anchors(read(relative(ROOT, target))).has(anchor), `${link}: ${shown} has a heading #${anchor}`)
    }
  })
}
