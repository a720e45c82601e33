// Scraping a real daemon's /metrics over HTTP, and promtool when the machine has it.
import { spawn, spawnSync } from 'node:child_process'
import { parseExposition, type Family } from './exposition.js'

export const PROMTOOL = '/usr/bin/promtool'
/** The exact reason a promtool check is skipped; the test says how to get it. */
export const NEEDS_PROMTOOL = `needs promtool (${PROMTOOL}): apt-get install prometheus`

export function hasPromtool(): boolean {
  return spawnSync(PROMTOOL, ['--version'], { stdio: 'ignore' }).status === 0
}

export async function scrape(httpPort: number): Promise<{ text: string; contentType: string; families: Map<string, Family> }> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`)
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${await res.text()}`)
  const text = await res.text()
  return { text, contentType: res.headers.get('content-type') ?? '', families: parseExposition(text) }
}

/** Runs promtool with `stdin`; its exit code and output. */
export function promtool(args: string[], stdin = ''): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PROMTOOL, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, output }))
    child.stdin.end(stdin)
  })
}
