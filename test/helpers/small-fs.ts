// [LEASE-10] File systems the tests can break on purpose: a small tmpfs to fill, and an ext4
// image on a loop device that the kernel makes read-only ("errors=remount-ro") or shuts
// down (I/O errors). Mounting needs root; where it is not allowed the test is skipped with
// the reason, printed so that a skip is never silent.
import { execFileSync } from 'node:child_process'
import { closeSync, mkdirSync, openSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs'
import { join } from 'node:path'

export interface Mounted {
  dir: string
  /** unmounts (also done at teardown); safe to call twice */
  unmount(): void
}

/** What these helpers need of a tap test. */
interface TestLike {
  testdir(): string
  teardown(fn: () => void | Promise<void>): void
  comment(...args: unknown[]): void
  pass(message: string, extra: { skip: string }): unknown
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

function why(e: unknown): string {
  const err = e as { stderr?: string; message?: string }
  return (err.stderr || err.message || String(e)).trim().split('\n')[0]!
}

/** Skips `t` (printing why) and returns undefined when this machine cannot mount. */
/** `root`: a directory to mount in (default: the test's testdir, which must not be made again after). */
export function mountTmpfs(t: TestLike, sizeBytes: number, root?: string): Mounted | undefined {
  t.teardown(() => {}) // teardowns run before tap removes the testdir (see makeDirs in server.ts)
  const dir = join(root ?? t.testdir(), 'small-fs')
  mkdirSync(dir, { recursive: true })
  try {
    run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', dir])
  } catch (e) {
    return skip(t, `cannot mount a tmpfs here (needs root and mount permission): ${why(e)}`)
  }
  return unmountAtTeardown(t, dir)
}

/**
 * An ext4 file system in an image file on a loop device, mounted with errors=remount-ro.
 * `breakIt('read-only')` makes the kernel remount it read-only as it does after an error;
 * `breakIt('io')` shuts it down (every write fails with EIO), as a dying disk does.
 */
export interface LoopFs extends Mounted {
  image: string
  breakIt(how: 'read-only' | 'io'): void
  /** unmount, check and mount again, as the admin does to repair it */
  repair(): void
}

export function mountExt4(t: TestLike, sizeBytes: number, where?: string): LoopFs | undefined {
  t.teardown(() => {})
  const root = where ?? t.testdir()
  const image = join(root, 'disk.img')
  const dir = join(root, 'disk')
  mkdirSync(dir, { recursive: true })
  try {
    closeSync(openSync(image, 'w'))
    run('truncate', ['-s', String(sizeBytes), image])
    run('mkfs.ext4', ['-q', '-F', image])
    run('mount', ['-o', 'loop,errors=remount-ro', image, dir])
  } catch (e) {
    return skip(t, `cannot mount an ext4 image on a loop device here (needs root, mkfs.ext4 and a free loop device): ${why(e)}`)
  }
  const mounted = unmountAtTeardown(t, dir)
  const device = (): string => run('findmnt', ['-n', '-o', 'SOURCE', '--target', dir]).trim()
  return {
    ...mounted,
    image,
    breakIt(how) {
      const name = device().replace('/dev/', '')
      if (how === 'read-only') return void run('sh', ['-c', `echo 1 > /sys/fs/ext4/${name}/trigger_fs_error`])
      // FS_IOC_SHUTDOWN with "no log flush", as xfs_io -c 'shutdown' does: every later write is EIO
      run('python3', ['-c', `import fcntl,os,struct; fd=os.open(${JSON.stringify(dir)}, os.O_RDONLY); fcntl.ioctl(fd, 0x8004587D, struct.pack('I', 2))`])
    },
    repair() {
      if (isMounted(dir)) run('umount', [dir])
      try {
        run('e2fsck', ['-f', '-y', image])
      } catch (e) {
        // 1 and 2: errors were found and corrected
        if ((e as { status?: number }).status! > 2) throw e
      }
      run('mount', ['-o', 'loop,errors=remount-ro', image, dir])
    },
  }
}

/**
 * Fills what is left of the file system at `dir` with one file, then gives `leaveBytes` of it
 * back (for writes that are to fill the rest); returns its path (delete it to free the space).
 */
export function fillUp(dir: string, leaveBytes = 0, name = 'filler'): string {
  const path = join(dir, name)
  const fd = openSync(path, 'w')
  const chunk = Buffer.alloc(64 * 1024, 0x5a)
  try {
    for (;;) writeSync(fd, chunk)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e
  } finally {
    closeSync(fd)
  }
  // the last chunk may not have fit: fill the few bytes left too
  const small = openSync(join(dir, `${name}.tail`), 'w')
  try {
    for (;;) writeSync(small, chunk, 0, 512)
  } catch {
    // ENOSPC: full
  } finally {
    closeSync(small)
  }
  if (leaveBytes > 0) {
    rmSync(join(dir, `${name}.tail`), { force: true })
    truncateSync(path, Math.max(0, statSync(path).size - leaveBytes))
  }
  return path
}

export function removeFiller(path: string): void {
  rmSync(path, { force: true })
  rmSync(`${path}.tail`, { force: true })
}

function unmountAtTeardown(t: TestLike, dir: string): Mounted {
  let mounted = true
  const unmount = (): void => {
    if (!mounted) return
    mounted = false
    if (!isMounted(dir)) return
    try {
      run('umount', [dir])
    } catch {
      // a process still holding a file there (a test that failed early): detach it anyway
      run('umount', ['-l', dir])
    }
  }
  t.teardown(unmount)
  return { dir, unmount }
}

function isMounted(dir: string): boolean {
  try {
    run('mountpoint', ['-q', dir])
    return true
  } catch {
    return false
  }
}

function skip(t: TestLike, reason: string): undefined {
  console.log(`# [LEASE-10] skipped: ${reason}`)
  t.pass('file system tests skipped', { skip: reason })
  return undefined
}
