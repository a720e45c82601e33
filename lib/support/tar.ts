// The support bundle's .tar.gz, written by the `tar` package (npm's own) rather than by hand:
// its entries are staged as files in a private temporary directory (0700, removed at once) and
// archived from there, so names of any length (pax headers), modes and mtimes are tar's to get
// right. A bundle is a few files of at most 10 MiB each, made once: staging costs nothing.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { create } from 'tar'

export interface TarEntry {
  name: string
  data: Buffer
  mtime?: Date
}

export function tarGz(entries: TarEntry[]): Buffer {
  const staging = mkdtempSync(join(tmpdir(), 'flr-bundle-'))
  try {
    const root = join(staging, 'in')
    for (const e of entries) {
      const path = join(root, e.name)
      if (!path.startsWith(root + '/')) throw new Error(`tar entry name escapes the archive: ${e.name}`)
      mkdirSync(dirname(path), { recursive: true })
      writeFileSync(path, e.data)
      chmodSync(path, 0o644) // whatever the umask: support reads it as a plain file
      const mtime = e.mtime ?? new Date()
      utimesSync(path, mtime, mtime)
    }
    const out = join(staging, 'out.tar.gz')
    // portable: no uid, gid, user or group names of this host; only the named files, in order
    create({ gzip: true, sync: true, portable: true, cwd: root, file: out, noDirRecurse: true }, entries.map((e) => e.name))
    return readFileSync(out)
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
}
