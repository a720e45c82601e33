// The field rules of lib/protocol/fields.ts, which TCP validation and the HTTP shim share.
import t from 'tap'
import { CLIENT, codePoints, cutToCodePoints, describeRule, fitsText, PACK, PASSWORD } from '../../lib/protocol/fields.js'

const EMOJI = '😀'

t.test('[WIRE-2] lengths count code points: an astral character is one, a lone surrogate is one', async (t) => {
  t.equal(codePoints(''), 0)
  t.equal(codePoints('abc'), 3)
  t.equal(codePoints(EMOJI.repeat(5)), 5)
  t.equal(codePoints('a\u{10ffff}b'), 3)
  t.equal(codePoints('\ud800'), 1, 'a lone high surrogate')
  t.equal(codePoints('\udc00\ud800'), 2, 'a low then a high surrogate are two')
  t.equal(codePoints('\ud800a'), 2)
})

t.test('[WIRE-2] [WIRE-4] fitsText: the bounds are inclusive, in code points, for strings only', async (t) => {
  t.notOk(fitsText('', CLIENT))
  t.ok(fitsText('a', CLIENT))
  t.ok(fitsText(EMOJI.repeat(CLIENT.max), CLIENT), '128 emoji (256 UTF-16 units)')
  t.notOk(fitsText(EMOJI.repeat(CLIENT.max + 1), CLIENT))
  t.notOk(fitsText('x'.repeat(2 * CLIENT.max + 1), CLIENT), 'more units than twice the maximum')
  t.ok(fitsText('', PASSWORD), 'a minimum of 0 takes the empty string')
  t.ok(fitsText(EMOJI.repeat(PACK.max), PACK))
  t.notOk(fitsText(EMOJI.repeat(PACK.max) + 'x', PACK))
  for (const v of [undefined, null, 5, ['a'], { a: 1 }]) t.notOk(fitsText(v, CLIENT), `not a string: ${JSON.stringify(v)}`)
  t.equal(describeRule(CLIENT), '1–128')
  t.equal(describeRule(PASSWORD), 'at most 256')
})

t.test('[HTTP-5] a cut for the log keeps whole code points: it never splits a surrogate pair', async (t) => {
  t.equal(cutToCodePoints('abc', 5), 'abc')
  t.equal(cutToCodePoints(EMOJI.repeat(130), 128), EMOJI.repeat(128))
  t.equal(cutToCodePoints('a' + EMOJI.repeat(3), 2), 'a' + EMOJI)
  t.equal(cutToCodePoints('x'.repeat(200), 128), 'x'.repeat(128))
  t.equal(cutToCodePoints('\ud800'.repeat(3), 2), '\ud800\ud800', 'lone surrogates count one each')
})
