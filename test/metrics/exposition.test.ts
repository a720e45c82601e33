// The tests' exposition reader (exposition.ts) must refuse what Prometheus refuses, or the
// metrics tests would pass on text a scraper rejects. Cross-checked with promtool when present.
import t from 'tap'
import { parseExposition, valueOf } from './exposition.js'
import { hasPromtool, NEEDS_PROMTOOL, promtool } from './scrape.js'

const GOOD = [
  '# HELP flr_x_total A counter with "quotes" and a \\\\ backslash.',
  '# TYPE flr_x_total counter',
  'flr_x_total{pack="a,b}",code="q\\"x\\\\y\\nz"} 3',
  'flr_x_total{pack="c"} 1e3',
  '# HELP flr_wait_seconds A histogram.',
  '# TYPE flr_wait_seconds histogram',
  'flr_wait_seconds_bucket{le="0.1"} 1',
  'flr_wait_seconds_bucket{le="+Inf"} 2',
  'flr_wait_seconds_sum 0.5',
  'flr_wait_seconds_count 2',
  '# HELP flr_g A gauge.',
  '# TYPE flr_g gauge',
  'flr_g Nan',
  '',
].join('\n')

/** Malformed: promtool refuses these too (exit 1). */
const MALFORMED: [string, string][] = [
  ['an unterminated label value', '# TYPE flr_g gauge\nflr_g{pack="a} 1\n'],
  ['a bad escape', '# TYPE flr_g gauge\nflr_g{pack="a\\t"} 1\n'],
  ['a label twice', '# TYPE flr_g gauge\nflr_g{pack="a",pack="b"} 1\n'],
  ['a bad value', '# TYPE flr_g gauge\nflr_g 1,5\n'],
  ['an unknown type', '# TYPE flr_g meter\nflr_g 1\n'],
]

/** Stricter than promtool's parser, which takes untyped samples and does not check series or buckets: flr never writes these. */
const BAD: [string, string][] = [
  ...MALFORMED,
  ['a sample before its TYPE', 'flr_g 1\n'],
  ['a duplicate series', '# TYPE flr_g gauge\nflr_g{pack="a"} 1\nflr_g{pack="a"} 2\n'],
  ['buckets not cumulative', '# TYPE flr_h histogram\nflr_h_bucket{le="1"} 2\nflr_h_bucket{le="+Inf"} 1\nflr_h_sum 1\nflr_h_count 1\n'],
  ['_count not the +Inf bucket', '# TYPE flr_h histogram\nflr_h_bucket{le="+Inf"} 2\nflr_h_sum 1\nflr_h_count 1\n'],
  ['no final newline', '# TYPE flr_g gauge\nflr_g 1'],
]

t.test('[OBS-1] the reader takes escapes, commas and braces inside values, histograms and NaN', async (t) => {
  const families = parseExposition(GOOD)
  t.equal(valueOf(families, 'flr_x_total', { pack: 'a,b}', code: 'q"x\\y\nz' }), 3)
  t.equal(valueOf(families, 'flr_x_total', { pack: 'c' }), 1000)
  t.equal(families.get('flr_x_total')!.help, 'A counter with "quotes" and a \\ backslash.')
  t.equal(valueOf(families, 'flr_wait_seconds_count'), 2)
  t.ok(Number.isNaN(valueOf(families, 'flr_g')))
  if (hasPromtool()) t.equal((await promtool(['check', 'metrics'], GOOD)).code, 0, 'promtool reads it too, without a complaint')
})

t.test('[OBS-1] the reader refuses what a scraper refuses', async (t) => {
  for (const [what, text] of BAD) t.throws(() => parseExposition(text), `${what} is refused`)
})

t.test('[OBS-1] promtool refuses the malformed ones too', { skip: hasPromtool() ? false : NEEDS_PROMTOOL }, async (t) => {
  for (const [what, text] of MALFORMED) t.equal((await promtool(['check', 'metrics'], text)).code, 1, `${what}: promtool exits 1`)
})
