// Shared by the store tests: lease records, and running the plain .mjs children of this
// folder (they import the compiled dist/, so `npx tsc -p .` must have run).
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { LeaseRecord } from '../../lib/engine/types.js'

export function leaseRecord(i: number, over: Partial<LeaseRecord> = {}): LeaseRecord {
  return {
    lease: `lease-${String(i).padStart(16, '0')}`,
    pack: i % 2 ? 'cad' : 'cam',
    holder: `holder-${i}`,
    client: `ws-${i}.example.com`,
    address: `10.0.0.${i % 250}`,
    grantedAt: 1_700_000_000_000 + i,
    ...over,
  }
}

export function childScript(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url))
}

export function startChild(name: string, args: string[]): ChildProcess {
  return spawn(process.execPath, [childScript(name), ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
}

/** Runs a child to the end; rejects with its stderr if it fails. */
export function runChild(name: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = startChild(name, args)
    let out = ''
    let err = ''
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s))
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${name} exited ${code}: ${err}`))))
  })
}

/** What another process finds in the store file, read with LMDB directly. */
export async function readFromOtherProcess(file: string): Promise<{ lastTxnId: number; leases: string[] }> {
  return JSON.parse(await runChild('read-store.mjs', [file]))
}

/** Resolves once the child has printed a line starting with `prefix`. */
export function waitForLine(child: ChildProcess, prefix: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = ''
    const onData = (s: string) => {
      buffered += s
      const line = buffered.split('\n').find((l) => l.startsWith(prefix))
      if (line !== undefined) {
        child.stdout!.off('data', onData)
        resolve(line)
      }
    }
    child.stdout!.setEncoding('utf8').on('data', onData)
    child.once('exit', (code) => reject(new Error(`child exited ${code} before printing ${prefix}`)))
  })
}

export function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once('exit', () => resolve())
  })
}
