import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { isFlrError } from '../../lib/errors.js'
import { LOCK_FILE, lockStateDir } from '../../lib/store/state-lock.js'
import { exited, startChild, waitForLine } from './fixtures.js'

t.test('[SRV-7] a second lock on the same state directory fails with STATE_LOCKED naming the pid and directory', async (t) => {
  const stateDir = t.testdir()
  const first = lockStateDir(stateDir)
  t.equal(first.staleFrom, undefined, 'nothing was taken over')
  t.equal(fs.readFileSync(path.join(stateDir, LOCK_FILE), 'utf8').split('\n')[0], String(process.pid), 'the pid file holds our pid')
  const error = catching(() => lockStateDir(stateDir))
  t.ok(isFlrError(error, 'STATE_LOCKED'), 'STATE_LOCKED', { found: error })
  t.match((error as Error).message, `pid ${process.pid}`)
  t.match((error as Error).message, path.resolve(stateDir))
  t.match((error as Error).message, /--state-dir/, 'says what to do')
  first.release()
  const second = lockStateDir(stateDir)
  t.pass('after release the directory can be locked again')
  second.release()
  t.notOk(fs.existsSync(path.join(stateDir, LOCK_FILE)), 'release removes the pid file')
})

t.test('[SRV-7] a lock held by another live process is refused', async (t) => {
  const stateDir = t.testdir()
  const child = startChild('hold-lock.mjs', [stateDir])
  t.teardown(() => child.kill('SIGKILL'))
  await waitForLine(child, 'locked')
  const error = catching(() => lockStateDir(stateDir))
  t.ok(isFlrError(error, 'STATE_LOCKED'), 'STATE_LOCKED', { found: error })
  t.match((error as Error).message, `pid ${child.pid}`)
})

t.test('[SRV-7] a stale lock from a SIGKILLed daemon is taken over', async (t) => {
  const stateDir = t.testdir()
  const child = startChild('hold-lock.mjs', [stateDir])
  await waitForLine(child, 'locked')
  child.kill('SIGKILL')
  await exited(child)
  const lock = lockStateDir(stateDir)
  t.equal(lock.staleFrom, child.pid, 'reports whose stale lock it took over')
  t.equal(fs.readFileSync(lock.file, 'utf8').split('\n')[0], String(process.pid), 'the pid file is ours now')
  lock.release()
})

t.test('[SRV-7] a lock written before a reboot is stale even if its pid is alive now', async (t) => {
  const stateDir = t.testdir({ [LOCK_FILE]: `${process.ppid}\nboot-id-of-an-earlier-boot\n` })
  const lock = lockStateDir(stateDir)
  t.equal(lock.staleFrom, process.ppid)
  lock.release()
})

t.test('[SRV-7] an unreadable pid file is taken over', async (t) => {
  const stateDir = t.testdir({ [LOCK_FILE]: 'not a pid' })
  const lock = lockStateDir(stateDir)
  t.equal(lock.staleFrom, undefined, 'no pid to report')
  t.equal(fs.readFileSync(lock.file, 'utf8').split('\n')[0], String(process.pid))
  lock.release()
})

t.test('[SRV-7] release leaves a pid file that is no longer ours', async (t) => {
  const stateDir = t.testdir()
  const lock = lockStateDir(stateDir)
  fs.writeFileSync(lock.file, '999999999\n')
  lock.release()
  t.equal(fs.readFileSync(lock.file, 'utf8'), '999999999\n')
})

t.test('[SRV-7] the state directory is created 0700 when missing', async (t) => {
  const stateDir = path.join(t.testdir(), 'nested', 'state')
  const lock = lockStateDir(stateDir)
  t.equal(fs.statSync(stateDir).mode & 0o777, 0o700)
  lock.release()
})

function catching(fn: () => unknown): unknown {
  try {
    fn()
  } catch (e) {
    return e
  }
  return undefined
}
