// libxml2 as the oracle for [LPF-4] and [LPF-6]: `xmllint --exc-c14n`, `xmllint --noout` and
// `xmlsec1` run on the same bytes flr reads. Missing tools fail the test that needs them, naming
// the packages: in CI they are installed.
import { execFile, execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'

export const INSTALL = 'apt-get install xmlsec1 libxml2-utils'

function found(tool: string): boolean {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const available = { xmllint: found('xmllint'), xmlsec1: found('xmlsec1') }

/** true when `tool` is on PATH; otherwise fails `t` with what to install (never a silent pass) */
export function requireTool(t: Test, tool: 'xmllint' | 'xmlsec1'): boolean {
  if (available[tool]) return true
  t.fail(`${tool} is not installed, so libxml2 cannot be the oracle for [LPF-4] and [LPF-6]: run \`${INSTALL}\``)
  return false
}

export interface Run {
  code: number
  stdout: string
  stderr: string
}

export function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { env, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
      resolve({ code, stdout, stderr })
    })
  })
}

/** a scratch directory, removed by `t.teardown` */
export function scratch(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'flr-libxml2-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const SEPARATOR = '<flr-batch-separator></flr-batch-separator>'

/**
 * libxml2's exclusive c14n (without comments) of each document, many per xmllint run: the
 * documents become children of one wrapper element that declares no namespace, under which
 * exclusive c14n renders each exactly as it would alone. Documents are element text, no prolog.
 */
export async function libxml2ExcC14n(dir: string, docs: readonly string[], batchSize = 400, concurrency = 2): Promise<string[]> {
  const batches: string[][] = []
  for (let i = 0; i < docs.length; i += batchSize) batches.push(docs.slice(i, i + batchSize))
  const results: string[][] = new Array(batches.length)
  let next = 0
  const worker = async () => {
    while (next < batches.length) {
      const index = next++
      const file = join(dir, `batch-${index}.xml`)
      writeFileSync(file, `<flr-batch>${batches[index]!.join('<flr-batch-separator/>')}</flr-batch>`)
      const out = await run('xmllint', ['--exc-c14n', file])
      if (out.code !== 0 || out.stderr !== '') throw new Error(`xmllint refused batch ${index}: ${out.stderr.slice(0, 2000)}`)
      const text = withoutComments(out.stdout)
      if (!text.startsWith('<flr-batch>') || !text.endsWith('</flr-batch>')) throw new Error(`unexpected xmllint output for batch ${index}`)
      results[index] = text.slice('<flr-batch>'.length, -'</flr-batch>'.length).split(SEPARATOR)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return results.flat()
}

/** libxml2's exclusive c14n without comments of one whole document (prolog and all) */
export async function libxml2ExcC14nFile(file: string): Promise<Run> {
  const out = await run('xmllint', ['--exc-c14n', file])
  return { ...out, stdout: withoutComments(out.stdout) }
}

/**
 * xmllint's --exc-c14n keeps comments; the canonical form without them is the same text with each
 * comment left out (and, outside the root element, the line break c14n writes beside it). In
 * canonical text every `<` outside a comment or processing instruction is escaped except at a
 * tag, so comments are found exactly: `<!--` up to the first `-->`.
 */
export function withoutComments(c14n: string): string {
  let out = ''
  let depth = 0
  let seenRoot = false
  let i = 0
  while (i < c14n.length) {
    const lt = c14n.indexOf('<', i)
    if (lt < 0) {
      out += c14n.slice(i)
      break
    }
    out += c14n.slice(i, lt)
    if (c14n.startsWith('<!--', lt)) {
      let end = c14n.indexOf('-->', lt + 4) + 3
      if (depth === 0) {
        if (!seenRoot && c14n[end] === '\n') end++
        if (seenRoot && out.endsWith('\n')) out = out.slice(0, -1)
      }
      i = end
    } else if (c14n.startsWith('<?', lt)) {
      const end = c14n.indexOf('?>', lt + 2) + 2
      out += c14n.slice(lt, end)
      i = end
    } else {
      if (c14n[lt + 1] === '/') depth--
      else depth++
      seenRoot = true
      out += '<'
      i = lt + 1
    }
  }
  return out
}

/**
 * [LPF-6] `xmllint --noout` on many files per process: for each document, the first error it
 * reports, or null when it accepts it. A document is refused when xmllint reports a parser or
 * namespace *error* for it (namespace errors leave its exit status 0; warnings such as a relative
 * namespace URI are not refusals).
 */
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
      const out = spawnSync('xmllint', ['--noout', ...names], { cwd: dir, encoding: 'latin1', maxBuffer: 1 << 28 })
      if (out.error) throw out.error
      const errors = new Map<string, string>()
      for (const line of out.stderr.split('\n')) {
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
