// The README's TypeScript example compiles under `strict` against the built package: type
// declarations ship (`types` in package.json, tsc's `declaration`), so no TS7016. The example
// is read from README.md itself, so the test follows the README.
import t from 'tap'
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { ROOT } from '../helpers/server.js'

/** every ```ts block of README.md that imports from 'flr' */
function readmeExamples(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((code) => /from 'flr'/.test(code))
}

t.test("the README's TypeScript example compiles under strict against the built package (declarations shipped)", async (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  t.equal(pkg.types, 'dist/lib/index.d.ts', 'package.json names the declarations')
  t.ok(existsSync(join(ROOT, pkg.types)), 'npm run build wrote them (run it before this test)')
  const examples = readmeExamples()
  t.ok(examples.length > 0, "README.md has a ```ts example importing 'flr'")

  // a user's project: flr installed (a link to this package), strict settings, Node 20 types
  const dir = t.testdir({ 'package.json': JSON.stringify({ type: 'module', private: true }) })
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true })
  symlinkSync(ROOT, join(dir, 'node_modules', 'flr'), 'dir')
  symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'), 'dir')
  const files = examples.map((code, i) => {
    const file = `example${i}.ts`
    // each example is a module of its own (top-level await)
    writeFileSync(join(dir, file), `${code}\nexport {}\n`)
    return file
  })
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', noEmit: true, types: ['node'] }, files }),
  )
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8', timeout: 240_000 })
  t.equal(tsc.status, 0, 'tsc --strict passes')
  t.equal(tsc.stdout + tsc.stderr, '', 'no diagnostics (TS7016 was the one a user met)')
})
