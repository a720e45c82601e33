// The support bundle's archive (the `tar` package), read back by the system's GNU tar (what support will use).
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { tarGz } from '../../lib/support/tar.js'

function extract(dir: string, archive: Buffer): string[] {
  const file = join(dir, 'bundle.tar.gz')
  writeFileSync(file, archive)
  const out = join(dir, 'out')
  execFileSync('mkdir', ['-p', out])
  execFileSync('tar', ['-xzf', file, '-C', out])
  return execFileSync('tar', ['-tzf', file], { encoding: 'utf8' }).trim().split('\n')
}

t.test('support bundle: tar -xzf reads back every entry byte for byte, at and around the 512-byte block size', async (t) => {
  const dir = t.testdir()
  const binary = Buffer.from(Array.from({ length: 1500 }, (_, i) => (i * 7) % 256))
  const entries = [
    { name: 'flr-support/empty.txt', data: Buffer.alloc(0) },
    { name: 'flr-support/block.txt', data: Buffer.alloc(512, 'a') },
    { name: 'flr-support/block-plus-one.txt', data: Buffer.alloc(513, 'b') },
    { name: 'flr-support/logs/binary.log', data: binary },
    { name: 'flr-support/ünïcode.json', data: Buffer.from('{"é": 1}\n') },
  ]
  const names = extract(dir, tarGz(entries))
  t.same(names, entries.map((e) => e.name))
  for (const e of entries) t.same(readFileSync(join(dir, 'out', e.name)), e.data, e.name)
})

t.test('support bundle: entries are plain 0644 files with the given mtime, ending with two zero blocks', async (t) => {
  const dir = t.testdir()
  const archive = tarGz([{ name: 'a/b.txt', data: Buffer.from('hi'), mtime: new Date('2026-03-01T12:34:56Z') }])
  const file = join(dir, 'x.tar.gz')
  writeFileSync(file, archive)
  const listing = execFileSync('tar', ['--full-time', '--utc', '-tvzf', file], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } })
  t.match(listing, /^-rw-r--r-- \S+ +2 2026-03-01 12:34:56 a\/b\.txt$/m)
  const raw = gunzipSync(archive)
  t.equal(raw.length % 512, 0, 'whole 512-byte blocks')
  t.ok(raw.subarray(raw.length - 1024).every((b) => b === 0), 'ending with two zero blocks')
})

t.test('support bundle: a name over 99 bytes is kept whole (pax), not refused or cut', async (t) => {
  const dir = t.testdir()
  const name = `flr-support/logs/${'x'.repeat(150)}.log`
  t.same(extract(dir, tarGz([{ name, data: Buffer.from('long') }])), [name])
  t.equal(readFileSync(join(dir, 'out', name), 'utf8'), 'long')
})
