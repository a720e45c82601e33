// libxml2 as the outside reference for [LPF-6]: `xmllint --noout` on many files per process,
// each file judged refused when xmllint reports a parser or namespace *error* for it (namespace
// errors leave its exit status 0; warnings such as a relative namespace URI are not refusals).
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** why the tests cannot run, or undefined when xmllint is there */
export function xmllintMissing(): string | undefined {
  try {
    execFileSync('xmllint', ['--version'], { stdio: 'pipe' })
    return undefined
  } catch {
    return 'xmllint (libxml2) is not installed, so [LPF-6] cannot be checked against it: apt-get install libxml2-utils'
  }
}

/** for each document, the first error xmllint reports for it, or null when it accepts it */
export function xmllintJudge(docs: readonly (string | Buffer)[], batch = 400): (string | null)[] {
  const dir = mkdtempSync(join(tmpdir(), 'flr-xmllint-'))
  try {
    const verdicts: (string | null)[] = []
    for (let from = 0; from < docs.length; from += batch) {
      const names = docs.slice(from, from + batch).map((doc, k) => {
        const name = `d${from + k}.xml`
        writeFileSync(join(dir, name), doc)
        return name
      })
      const run = spawnSync('xmllint', ['--noout', ...names], { cwd: dir, encoding: 'latin1', maxBuffer: 1 << 28 })
      if (run.error) throw run.error
      const errors = new Map<string, string>()
      for (const line of run.stderr.split('\n')) {
        const m = /^(d\d+\.xml):\d+: ([a-z ]*error) : (.*)$/.exec(line)
        if (m && !errors.has(m[1]!)) errors.set(m[1]!, `${m[2]}: ${m[3]}`)
      }
      for (const name of names) verdicts.push(errors.get(name) ?? null)
    }
    return verdicts
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
