// `flr status` in-process against a real daemon: the packs table of section 9 and --json ([WIRE-7]).
import t, { type Test } from 'tap'
import { dropLpf, freePort, makeDirs, startDaemon } from '../helpers/server.js'
import { RawPeer } from '../helpers/wire.js'
import { run } from '../../lib/cli/main.js'
import { terminal } from '../helpers/terminal.js'
import { render } from '../../lib/cli/commands/status.js'
import type { StatusAnswer } from '../../lib/protocol/replies.js'


/** The example: pack station, limit 10, 3 in use, the LPF expiring 2027-11-01. */
async function exampleServer(t: Test): Promise<number> {
  const dirs = makeDirs(t)
  const port = await freePort()
  dropLpf(dirs.licenseDir, { port, expiration: '2027-11-01', packs: [{ name: 'station', limit: 10 }, { name: 'render-farm', limit: 2 }] })
  await startDaemon(t, dirs)
  const peer = await RawPeer.hello(t, port, 'cli-test')
  for (const holder of ['a', 'b', 'c']) await peer.call('lease', { pack: 'station', holder })
  return port
}

t.test('[WIRE-7] flr status prints the packs table of the issue', async (t) => {
  const port = await exampleServer(t)
  const term = terminal()
  t.equal(await run(['status', '--server', `127.0.0.1:${port}`], term.io), 0)
  const lines = term.out.join('\n').split('\n')
  const header = lines.findIndex((l) => l.startsWith('Pack'))
  t.ok(header >= 0, 'a table with a header')
  t.match(lines[header], /^Pack\s+Limit {2}In use {2}Available {2}Waiting {2}Expires$/, 'the columns of the issue, in order')
  const rows = lines.slice(header + 1)
  t.same(rows.map((r) => r.split(/\s+/)), [
    ['station', '10', '3', '7', '0', '2027-11-01'],
    ['render-farm', '2', '0', '2', '0', '2027-11-01'],
  ], 'one row per pack: limit, in use, available, waiting, expiration')
  // numbers are right-aligned under their header, text left-aligned, as in the issue
  for (const column of ['Limit', 'In use', 'Available', 'Waiting']) {
    const end = lines[header]!.indexOf(column) + column.length
    for (const row of rows) t.match(row[end - 1], /\d/, `${column}: digits end under the header's end`)
    for (const row of rows) t.equal(row[end], ' ', `${column}: nothing right after the header's end`)
  }
  const expires = lines[header]!.indexOf('Expires')
  for (const row of rows) t.equal(row.slice(expires), '2027-11-01', 'Expires: left-aligned under its header')
  t.equal(rows[0]!.indexOf('station'), 0, 'Pack: left-aligned')
  t.same(term.err, [], 'nothing on stderr')
})

t.test('[WIRE-7] flr status --json prints the status for scripts', async (t) => {
  const port = await exampleServer(t)
  const term = terminal({ FLR_SERVER: `127.0.0.1:${port}` })
  t.equal(await run(['status', '--json'], term.io), 0, 'the server comes from FLR_SERVER')
  const status = JSON.parse(term.out.join('\n'))
  t.match(status, {
    serving: true,
    lpf: { vendor: 'Acme', expiration: '2027-11-01', port },
    packs: [
      { name: 'station', limit: 10, inUse: 3, waiting: 0 },
      { name: 'render-farm', limit: 2, inUse: 0, waiting: 0 },
    ],
  })
})

t.test('[SRV-1] flr status with nothing at the address: exit 1 and what to check', async (t) => {
  const port = await freePort()
  const term = terminal()
  t.equal(await run(['status', '--server', `127.0.0.1:${port}`], term.io), 1)
  t.match(term.err.join('\n'), new RegExp(`CONNECTION_LOST.*127\\.0\\.0\\.1:${port}.*flr serve`), 'names the address and what to check')
  t.same(term.out, [])
})

t.test('flr status: usage', async (t) => {
  const help = terminal()
  t.equal(await run(['status', '--help'], help.io), 0, '--help exits 0')
  t.match(help.out.join('\n'), /--server <host:port>[\s\S]*--json/)
  for (const bad of ['nohost', '127.0.0.1:0', '127.0.0.1:70000', 'host:port']) {
    const term = terminal()
    t.equal(await run(['status', '--server', bad], term.io), 2, `--server ${bad}: usage error`)
    t.match(term.err.join('\n'), /HOST:PORT/, 'says the form expected')
  }
  const env = terminal({ FLR_SERVER: 'garbage' })
  t.equal(await run(['status'], env.io), 2, 'a bad FLR_SERVER is a usage error too')
})

t.test('[LEASE-10] flr status names a store that cannot write, with its cause and since when', async (t) => {
  const text = render({
    serving: true,
    lpf: { vendor: 'Acme', generated: '2026-11-01', expiration: '2027-11-01', hostId: 'Lnx-TEST-TEST-TEST-TEST', port: 19110 },
    storeError: { code: 'STORE_UNAVAILABLE', message: 'the file system of /var/lib/flr is full: free space there; flr resumes by itself', since: '2026-12-04T16:00:00.000Z' },
    listeningPort: 19110,
    restored: 0,
    packs: [],
  } satisfies StatusAnswer)
  t.match(text, /^Store error: STORE_UNAVAILABLE: the file system of \/var\/lib\/flr is full: free space there; flr resumes by itself \(since 2026-12-04T16:00:00\.000Z\)$/m)
})
