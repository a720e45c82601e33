// issue 11: the HTTP shim took bodies that are not UTF-8, reading each bad byte as U+FFFD, so a
// client name nobody sent held a seat. Real HTTP requests against a real daemon.
import t from 'tap'
import { request } from 'node:http'
import { servePacks } from '../helpers/server.js'

/** POST /request with these exact bytes as the body. */
function post(port: number, body: Buffer): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/request', headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length } },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (d: Buffer) => chunks.push(d))
        res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

function get(port: number, path: string): Promise<any> {
  return fetch(`http://127.0.0.1:${port}${path}`).then((r) => r.json())
}

/** A /request body whose client name holds `bytes` between "agent-" and the closing quote. */
const withClientBytes = (bytes: number[]) => Buffer.concat([Buffer.from('{"client":"agent-'), Buffer.from(bytes), Buffer.from('"}')])

const INVALID: [string, number[]][] = [
  ['a lone continuation byte', [0x80]],
  ['a truncated two-byte sequence', [0xc3]],
  ['an overlong encoding of "/"', [0xc0, 0xaf]],
  ['an encoded UTF-16 surrogate', [0xed, 0xa0, 0x80]],
  ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ['a byte never used in UTF-8', [0xff]],
]

t.test('[HTTP-2] a /request body that is not valid UTF-8 is refused 400 BAD_REQUEST, and takes no seat', async (t) => {
  const { daemon } = await servePacks(t, [{ name: 'Agent-Session', limit: 100 }], { httpPort: 0 })
  const port = daemon.httpPort!
  for (const [what, bytes] of INVALID) {
    const reply = await post(port, withClientBytes(bytes))
    t.equal(reply.status, 400, what)
    t.match(reply.json, { authorized: false, error: { code: 'BAD_REQUEST', message: /not valid UTF-8/ } }, what)
  }
  // invalid bytes outside any string, where JSON.parse would not look twice either
  const outside = Buffer.concat([Buffer.from('{"client":"agent-1"}'), Buffer.from([0x20, 0xc3])])
  t.equal((await post(port, outside)).status, 400, 'a bad byte after the object')
  t.same((await get(port, '/api/1.0/packs')).packs, [{ name: 'Agent-Session', limit: 100, inUse: 0, waiting: 0 }], 'no seat was taken')

  // valid UTF-8, multi-byte characters included, is still served, and the name comes back exact
  const name = 'agent-Jürgen-π-😀'
  const ok = await post(port, Buffer.from(JSON.stringify({ client: name }), 'utf8'))
  t.equal(ok.status, 200)
  t.match(ok.json, { authorized: true, lease: String })
  t.same((await get(port, '/api/1.0/packs')).packs, [{ name: 'Agent-Session', limit: 100, inUse: 1, waiting: 0 }])
})
