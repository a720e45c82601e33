// The benchmark runner (`npm run bench`): runs each bench script in a child process of its
// own, one after another (they would skew each other's figures otherwise), and prints their
// markdown under a header naming the machine and the command. `--write` also rewrites
// BENCHMARKS.md from that output. `--only lease,restart` runs a subset (for working on one).
//
// A bench script is dist/bench/<name>.js run as a program: markdown on stdout (without a
// `##` heading: the runner adds it), progress on stderr, exit 0 when it measured.
import { spawn, execFileSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { BENCH_DIST, ROOT, loadAverage } from './common.js'

interface Script {
  name: string
  title: string
}

const SCRIPTS: Script[] = [
  { name: 'lpf', title: 'Loading an LPF' },
  { name: 'hostile-lpf', title: 'Judging a hostile LPF of up to 4 MiB' },
  { name: 'lease', title: 'Leasing over TCP' },
  { name: 'restart', title: 'Restart' },
  { name: 'reload', title: 'Reload' },
  { name: 'http', title: 'HTTP /request' },
  { name: 'hostile', title: 'One hostile peer' },
  { name: 'tls', title: 'TLS on the lease port' },
  { name: 'pg-store', title: 'The PostgreSQL lease store (cluster)' },
  { name: 'failover', title: 'Cluster failover' },
  { name: 'history', title: 'Usage history and reports' },
  { name: 'metrics', title: 'Metrics and the dashboard' },
]
/** A script that has not finished by then is stopped and reported as such (the history bench writes a year of history: about 4 min). */
const SCRIPT_TIMEOUT_MS = 400_000

async function main(argv: string[]): Promise<number> {
  const write = argv.includes('--write')
  const onlyArg = argv.find((a, i) => argv[i - 1] === '--only' || a.startsWith('--only='))
  const only = onlyArg?.replace(/^--only=/, '').split(',')
  const unknown = only?.filter((n) => !SCRIPTS.some((s) => s.name === n))
  if (unknown?.length) {
    process.stderr.write(`unknown bench ${unknown.join(', ')}; the benches are ${SCRIPTS.map((s) => s.name).join(', ')}\n`)
    return 2
  }
  if (write && only) {
    process.stderr.write('--write rewrites all of BENCHMARKS.md: run every bench (drop --only)\n')
    return 2
  }
  const command = commandLine(argv)
  const startedAt = new Date()
  const loadBefore = loadAverage()
  const sections: string[] = []
  let failures = 0
  for (const script of SCRIPTS.filter((s) => !only || only.includes(s.name))) {
    const result = await runScript(script)
    if (!result.ok) failures++
    sections.push(`## ${script.title} (bench/${script.name}.ts)\n\n${result.markdown.trim()}`)
  }
  const minutes = ((Date.now() - startedAt.getTime()) / 60_000).toFixed(1)
  const output = [header(command, startedAt, loadBefore, loadAverage(), minutes), ...sections].join('\n\n') + '\n'
  process.stdout.write(output)
  if (write) {
    writeFileSync(join(ROOT, 'BENCHMARKS.md'), preamble() + output)
    process.stderr.write(`wrote ${join(ROOT, 'BENCHMARKS.md')}\n`)
  }
  return failures > 0 ? 1 : 0
}

function commandLine(argv: string[]): string {
  const args = argv.join(' ')
  if (process.env.npm_lifecycle_event === 'bench') return `npm run bench${args ? ` -- ${args}` : ''}`
  return `node dist/bench/run.js${args ? ` ${args}` : ''}`
}

function header(command: string, startedAt: Date, loadBefore: string, loadAfter: string, minutes: string): string {
  const cpus = os.cpus()
  const rows = [
    ['command', `\`${command}\``],
    ['date', startedAt.toISOString().replace(/\.\d+Z$/, 'Z')],
    ['commit', commit()],
    ['CPU', `${cpus[0]?.model.trim() ?? 'unknown'}, ${cpus.length} cores`],
    ['memory', `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`],
    ['OS', `${os.type()} ${os.release()} ${os.arch()}`],
    ['Node', process.version],
    ['load average (1, 5, 15 min)', `${loadBefore} before, ${loadAfter} after`],
    ['duration', `${minutes} min`],
  ]
  return ['## Machine and command', '', '| | |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n')
}

function commit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    // BENCHMARKS.md itself is what --write changes: a second run is no less at this commit
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', '.', ':!BENCHMARKS.md'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    return dirty ? `${sha} (with uncommitted changes)` : sha
  } catch {
    return 'unknown'
  }
}

function preamble(): string {
  return [
    '# Benchmarks',
    '',
    'Written by `npm run bench -- --write` (bench/run.ts); rerun it on an idle machine to refresh every figure. ' +
      'Each bench runs in its own process, and each server under test in another, on loopback only. ' +
      'Timed targets are checked here, never in tests.',
    '',
    '',
  ].join('\n')
}

async function runScript(script: Script): Promise<{ ok: boolean; markdown: string }> {
  const file = join(BENCH_DIST, `${script.name}.js`)
  if (!existsSync(file)) {
    process.stderr.write(`[bench] ${script.name}: missing (no dist/bench/${script.name}.js)\n`)
    return { ok: true, markdown: `Not run: bench/${script.name}.ts is missing (no compiled dist/bench/${script.name}.js).` }
  }
  process.stderr.write(`[bench] ${script.name}: running\n`)
  const started = performance.now()
  // The many-connections bench needs more open files than a default soft limit: raise it to
  // the hard limit, for the script and the servers it starts.
  const child = spawn('sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', process.execPath, file], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let stdout = ''
  child.stdout!.on('data', (d) => (stdout += d))
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.kill('SIGTERM') // the script kills its servers and removes its temp dirs on SIGTERM
    setTimeout(() => child.kill('SIGKILL'), 5_000).unref()
  }, SCRIPT_TIMEOUT_MS)
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
  clearTimeout(timer)
  const seconds = ((performance.now() - started) / 1000).toFixed(0)
  if (code === 0) return { ok: true, markdown: `${stdout}\n_(${seconds} s)_` }
  const why = timedOut ? `stopped after ${SCRIPT_TIMEOUT_MS / 1000} s` : `exited with code ${code}`
  process.stderr.write(`[bench] ${script.name}: FAILED (${why})\n`)
  return { ok: false, markdown: `**Failed**: \`node dist/bench/${script.name}.js\` ${why}; see its stderr.${stdout ? `\n\nWhat it printed:\n\n${stdout}` : ''}` }
}

process.once('SIGINT', () => process.exit(130))
main(process.argv.slice(2)).then((code) => process.exit(code))
