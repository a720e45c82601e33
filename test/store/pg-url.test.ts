// [HA-1] the database password never appears in anything flr says: every mention of the URL
// goes through one redaction.
import t from 'tap'
import { causeText, describeDatabase, redactUrl, scrubSecrets } from '../../lib/store/pg-url.js'

t.test('[HA-1] redactUrl masks the password, and only it', async (t) => {
  t.equal(redactUrl('postgres://flr:s3cr%40t@db.example.com:5433/leases'), 'postgres://flr:***@db.example.com:5433/leases')
  t.equal(redactUrl('postgres://flr@db/leases'), 'postgres://flr@db/leases', 'no password: nothing to mask')
  t.equal(redactUrl('postgres://db/leases?sslmode=require&password=hunter2'), 'postgres://db/leases?sslmode=require&password=***')
  t.notMatch(redactUrl('postgres://u:p@ss@host/db'), 'p@ss')
  t.equal(redactUrl('not a url hunter2'), 'postgres://(a URL that does not parse)')
})

t.test('[HA-1] describeDatabase says where, never who or with what', async (t) => {
  t.equal(describeDatabase('postgres://flr:hunter2@db.example.com:5433/leases'), 'db.example.com:5433/leases')
  t.equal(describeDatabase('postgres://flr:hunter2@db.example.com/leases'), 'db.example.com:5432/leases')
})

t.test('[HA-1] scrubSecrets and causeText take the password out of any text', async (t) => {
  const url = 'postgres://flr:hunter%232@db:5432/leases'
  t.equal(scrubSecrets(`failed: ${url}`, url), 'failed: postgres://flr:***@db:5432/leases')
  t.equal(scrubSecrets('echoed hunter#2 and hunter%232', url), 'echoed *** and ***')
  const e = Object.assign(new Error('auth for hunter#2 failed'), { code: '28P01' })
  t.equal(causeText(e, url), 'auth for *** failed [28P01]')
})
