// `flr reload` (the admin op had no command), `flr leases nosuchpack` (said "No leases"), and
// --json that is always an object ([WIRE-8]).
import t from 'tap'
import { run } from '../../lib/cli/main.js'
import { dropLpf } from '../helpers/server.js'
import { PASSWORD, startAdminServer, terminal } from '../helpers/admin.js'

t.test('[WIRE-8] flr reload applies a new LPF at once, says so, and says why not when it cannot', async (t) => {
  const s = await startAdminServer(t, { password: PASSWORD, packs: [{ name: 'station', limit: 1 }] })
  const env = { FLR_ADMIN_PASSWORD: PASSWORD, FLR_SERVER: s.address }
  let term = terminal(env)
  t.equal(await run(['reload'], term.io), 0)
  t.equal(term.stdout(), 'Nothing new: the LPF in force is the one on disk.')
  dropLpf(s.dirs.licenseDir, { port: s.lpfPort, packs: [{ name: 'station', limit: 5 }] })
  term = terminal(env)
  t.equal(await run(['reload', '--json'], term.io), 0)
  // the watcher may have applied it first: either way it is in force now
  t.match(JSON.parse(term.stdout()), { applied: Boolean })
  term = terminal(env)
  t.equal(await run(['status', '--json'], term.io), 0)
  t.match(JSON.parse(term.stdout()), { packs: [{ name: 'station', limit: 5 }] })
})

t.test('[WIRE-8] flr leases nosuchpack: "no such pack", exit 1 (a pack with no leases: "No leases on …", exit 0)', async (t) => {
  const s = await startAdminServer(t, { password: PASSWORD, packs: [{ name: 'station', limit: 1 }] })
  const env = { FLR_ADMIN_PASSWORD: PASSWORD, FLR_SERVER: s.address }
  let term = terminal(env)
  t.equal(await run(['leases', 'nosuchpack'], term.io), 1)
  t.match(term.stderr(), /no such pack: nosuchpack \(the LPF in force has station\)/)
  term = terminal(env)
  t.equal(await run(['leases', 'nosuchpack', '--json'], term.io), 1)
  t.match(JSON.parse(term.stderr()), { error: { code: 'PACK_UNKNOWN', message: /no such pack: nosuchpack/ } })
  term = terminal(env)
  t.equal(await run(['leases', 'station'], term.io), 0)
  t.equal(term.stdout(), 'No leases on station.')
  term = terminal(env)
  t.equal(await run(['leases', '--json'], term.io), 0)
  t.same(JSON.parse(term.stdout()), { leases: [] }, 'an object, the list under its name')
})
