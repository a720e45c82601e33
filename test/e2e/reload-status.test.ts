// `flr status` after reloads (issue 5, [SRV-2], [WIRE-7]): the LPF in force, when it was loaded,
// and the pending error of a rejected file, through the real CLI run in-process.
import t from 'tap'
import { readFileSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { run } from '../../lib/cli/main.js'
import { terminal } from '../helpers/terminal.js'
import { lpfText, ROOT } from '../helpers/server.js'
import { cpOver, renameOver, serveLpf, statusOf, until } from '../helpers/reload.js'

async function flr(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const term = terminal()
  const code = await run(argv, term.io)
  return { code, out: term.stdout(), err: term.stderr() }
}

t.test('[SRV-2] [SRV-3] [WIRE-7] flr status shows the LPF in force, when it was loaded, a pending error until a good file arrives, and why it stopped once the file is removed', async (t) => {
  const { daemon, port, path } = await serveLpf(t, { packs: [{ name: 'station', limit: 4 }], vendor: 'Acme', expiration: '2099-12-31' }, { removalGraceMs: 200 })
  const server = ['--server', `127.0.0.1:${port}`]
  const loadedAt = statusOf(daemon).lpf!.loadedAt

  const healthy = await flr(['status', ...server])
  t.equal(healthy.code, 0, healthy.err)
  t.match(healthy.out, new RegExp(`LPF: Acme, port ${port}, expires 2099-12-31 \\(in \\d+ days\\), loaded ${loadedAt!.replace(/[.]/g, '\\.')}`), 'the LPF in force, its days left [OBS-5] and when it was loaded')
  t.match(healthy.out, /^Serving\.$/m)
  t.notMatch(healthy.out, /Pending error/)
  t.match(healthy.out, /station\s+4\s+0\s+4\s+0\s+2099-12-31/, 'the packs table')

  await cpOver(path, readFileSync(join(ROOT, 'fixtures/lpf/hostile/tampered-limit.lp')))
  const pending = await until(() => statusOf(daemon).pendingError, 'the rejection')
  const rejected = await flr(['status', ...server])
  t.equal(rejected.code, 0, 'a pending error is not a failure of status')
  t.match(rejected.out, `Pending error: LPF_SIGNATURE_INVALID: ${pending.message} (since ${pending.at}); the LPF above stays in force`)
  t.match(rejected.out, `loaded ${loadedAt}`, 'the LPF in force is still the one loaded before')

  const asJson = await flr(['status', ...server, '--json'])
  t.match(JSON.parse(asJson.out), { serving: true, lpf: { vendor: 'Acme', port, loadedAt }, pendingError: { code: 'LPF_SIGNATURE_INVALID' } }, '--json carries the same')

  await renameOver(path, lpfText({ port, packs: [{ name: 'station', limit: 5 }], vendor: 'Acme', expiration: '2099-12-31' }))
  await until(() => !statusOf(daemon).pendingError, 'the good file to clear the error')
  const cleared = await flr(['status', ...server])
  const newLoadedAt = statusOf(daemon).lpf!.loadedAt
  t.not(newLoadedAt, loadedAt)
  t.match(cleared.out, `loaded ${newLoadedAt}`, 'the new load time')
  t.notMatch(cleared.out, /Pending error/, 'the pending error is gone')
  t.match(cleared.out, /station\s+5\s+0\s+5/)

  // [SRV-3] the file removed for longer than the grace: status says why the server stopped
  unlinkSync(path)
  await until(() => !statusOf(daemon).serving, 'the removal to take effect')
  const stopped = await flr(['status', ...server])
  t.equal(stopped.code, 3, '[SRV-1] not serving: exit 3, so that a monitor needs no parsing')
  t.match(stopped.out, /NOT serving: LPF_MISSING: .*was removed/)
})
