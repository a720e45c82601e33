// [SRV-2] [SRV-3] Reading `<hostId>.lp`: none is "removed" (undefined), one that is there but cannot
// be read is a bad file (LPF_MISSING, cannot be read), a file gives its bytes, digest and mtime.
import t from 'tap'
import { createHash } from 'node:crypto'
import { mkdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { readLpfFile } from '../../lib/server/lpf-file.js'

t.test('[SRV-3] no file: undefined, which the keeper reads as a removal', async (t) => {
  t.equal(await readLpfFile(join(t.testdir(), 'host.lp')), undefined)
})

t.test('[SRV-2] a file: its bytes, their SHA-256 and its mtime', async (t) => {
  const path = join(t.testdir(), 'host.lp')
  writeFileSync(path, '<lpf/>')
  const file = await readLpfFile(path)
  t.same(file, {
    data: Buffer.from('<lpf/>'),
    digest: createHash('sha256').update('<lpf/>').digest('hex'),
    mtimeMs: statSync(path).mtimeMs,
  })
})

t.test('[SRV-2] a directory in its place: there but unreadable, LPF_MISSING naming the reason, not a removal', async (t) => {
  const path = join(t.testdir(), 'host.lp')
  mkdirSync(path)
  await t.rejects(readLpfFile(path), { code: 'LPF_MISSING', message: /host\.lp cannot be read \(EISDIR\); make it a regular file/ })
})
