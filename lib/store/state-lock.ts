// [SRV-7] one daemon per state directory: a pid file created atomically (link(2) fails if
// the name exists, like O_EXCL, but the file already holds its pid when it appears). A lock
// whose process is gone — killed, or from before a reboot — is stale and taken over.
import fs from 'node:fs'
import path from 'node:path'
import { FlrError } from '../errors.js'

export const LOCK_FILE = 'serve.pid'

export interface StateLock {
  readonly file: string
  /** pid of the dead process whose lock was taken over (worth a log line) */
  readonly staleFrom?: number
  /** removes the pid file if it is still ours; safe to call twice */
  release(): void
}

interface Holder {
  pid: number
  bootId?: string
  text?: string // the pid file as read, to recognise the same file again
}

/** Takes the state directory (creating it 0700 if missing) or throws STATE_LOCKED. */
export function lockStateDir(stateDir: string): StateLock {
  const dir = path.resolve(stateDir)
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  const file = path.join(dir, LOCK_FILE)
  const me: Holder = { pid: process.pid, bootId: currentBootId() }
  let staleFrom: number | undefined
  // Each round either creates the file or removes one stale holder; a newcomer that wins a
  // race makes the next round fail with STATE_LOCKED.
  for (let round = 0; round < 5; round++) {
    if (tryCreate(file, me)) return heldLock(file, me, staleFrom)
    const holder = readHolder(file)
    if (holder === undefined) continue // released meanwhile
    if (isAlive(holder)) throw locked(dir, holder.pid)
    staleFrom = removeStale(file, holder) ?? staleFrom
  }
  throw locked(dir, readHolder(file)?.pid)
}

function tryCreate(file: string, me: Holder): boolean {
  const temp = `${file}.${me.pid}.tmp`
  fs.writeFileSync(temp, formatHolder(me), { mode: 0o600 })
  try {
    fs.linkSync(temp, file)
    return true
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw e
  } finally {
    fs.rmSync(temp, { force: true })
  }
}

function heldLock(file: string, me: Holder, staleFrom: number | undefined): StateLock {
  let held = true
  return {
    file,
    staleFrom,
    release() {
      if (!held) return
      held = false
      const holder = readHolder(file)
      if (holder?.pid === me.pid && holder.bootId === me.bootId) fs.rmSync(file, { force: true })
    },
  }
}

// Renaming first makes the removal atomic: only one contender gets the stale file, and if
// what it got is not the stale holder it read (a newcomer's fresh lock), it puts it back.
function removeStale(file: string, stale: Holder): number | undefined {
  const aside = `${file}.${process.pid}.stale`
  try {
    fs.renameSync(file, aside)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
  const got = readHolder(aside)
  if (got && got.text !== stale.text) {
    try {
      fs.linkSync(aside, file)
    } catch {
      // someone else holds it now; the next round reports them
    }
    fs.rmSync(aside, { force: true })
    return undefined
  }
  fs.rmSync(aside, { force: true })
  return Number.isSafeInteger(stale.pid) && stale.pid > 0 ? stale.pid : undefined
}

function formatHolder(h: Holder): string {
  return h.bootId ? `${h.pid}\n${h.bootId}\n` : `${h.pid}\n`
}

/** undefined: no file; pid NaN: unreadable (treated as stale, it cannot name a live process). */
function readHolder(file: string): Holder | undefined {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
  const [pidLine = '', bootId] = text.split('\n')
  const pid = /^\d+$/.test(pidLine.trim()) ? Number(pidLine.trim()) : NaN
  return { pid, bootId: bootId?.trim() || undefined, text }
}

// A pid recorded before a reboot may now belong to an unrelated process: the boot id
// (Linux) tells them apart. Signal 0 probes without touching the process; EPERM means it
// exists under another user.
function isAlive(holder: Holder): boolean {
  if (!Number.isSafeInteger(holder.pid) || holder.pid <= 0) return false
  const bootId = currentBootId()
  if (holder.bootId && bootId && holder.bootId !== bootId) return false
  if (holder.pid === process.pid) return true
  try {
    process.kill(holder.pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function currentBootId(): string | undefined {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined
  } catch {
    return undefined
  }
}

function locked(dir: string, pid: number | undefined): FlrError {
  const who = pid !== undefined && Number.isSafeInteger(pid) ? `flr serve (pid ${pid})` : 'flr serve'
  return new FlrError(
    'STATE_LOCKED',
    `another ${who} is using the state directory ${dir} (${path.join(dir, LOCK_FILE)}): ` +
      `stop it first, or give this one its own --state-dir.`,
    { stateDir: dir, pid },
  )
}
