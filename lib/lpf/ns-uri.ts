// [LPF-4] [LPF-6] Namespace names as libxml2 2.9.14 reads them: the one port of its RFC 3986
// parser (uri.c), used by the screen (ns-scope.ts: what libxml2 *parses*) and by c14n's policy
// (namespace-uri.ts: what libxml2 *canonicalizes*, absolute URIs only, plus flr's own refusals).
// libxml2 reports a namespace declaration whose value it cannot parse as a namespace error
// (`xmlns: '…' is not a valid URI`), so such a file is not namespace well-formed and flr refuses
// it too. This is a transcription of xmlParse3986URIReference / xmlParse3986URI, quirks included
// (a bracketed host takes anything up to `]`, an IPv4 test that never matches, an empty or
// over-long port fails, a fragment may hold `[` and `]`), since the point is to agree with
// libxml2, not with the RFC. Only ASCII is accepted: libxml2 looks at UTF-8 bytes and none above
// 0x7F is in any of its classes.

export const XML_NS = 'http://www.w3.org/XML/1998/namespace'
export const XMLNS_NS = 'http://www.w3.org/2000/xmlns/'

type Cursor = { s: string; i: number }

const code = (c: Cursor, k = 0): number => c.s.charCodeAt(c.i + k) // NaN past the end, like libxml2's NUL
const isDigit = (x: number): boolean => x >= 0x30 && x <= 0x39
const isAlpha = (x: number): boolean => (x >= 0x61 && x <= 0x7a) || (x >= 0x41 && x <= 0x5a)
const isHex = (x: number): boolean => isDigit(x) || (x >= 0x61 && x <= 0x66) || (x >= 0x41 && x <= 0x46)
const SUB_DELIMS = new Set([...`!$&()*+,;='`].map((ch) => ch.charCodeAt(0)))
const isUnreserved = (x: number): boolean => isAlpha(x) || isDigit(x) || x === 0x2d || x === 0x2e || x === 0x5f || x === 0x7e
const isPct = (c: Cursor): boolean => code(c) === 0x25 && isHex(code(c, 1)) && isHex(code(c, 2))
const isPchar = (c: Cursor): boolean => {
  const x = code(c)
  return isUnreserved(x) || isPct(c) || SUB_DELIMS.has(x) || x === 0x3a || x === 0x40
}
const next = (c: Cursor): void => {
  c.i += code(c) === 0x25 ? 3 : 1
}

/** libxml2's xmlParseURI(value) !== NULL: an absolute URI or a relative reference */
export function isLibxml2Uri(value: string): boolean {
  return parseUri({ s: value, i: 0 }) || parseRelativeRef({ s: value, i: 0 })
}

/** libxml2's xmlParse3986URI: `scheme ":" hier-part ["?" query] ["#" fragment]`, absolute only */
export function isAbsoluteLibxml2Uri(value: string): boolean {
  return parseUri({ s: value, i: 0 })
}

function parseUri(c: Cursor): boolean {
  if (!isAlpha(code(c))) return false
  c.i++
  for (let x = code(c); isAlpha(x) || isDigit(x) || x === 0x2b || x === 0x2d || x === 0x2e; x = code(c)) c.i++
  if (code(c) !== 0x3a) return false
  c.i++
  return hierPart(c, NaN)
}

function parseRelativeRef(c: Cursor): boolean {
  return hierPart(c, 0x3a)
}

/**
 * What follows the scheme (or starts a relative reference): an authority and a path, an
 * absolute path, or a rootless one, then query and fragment. A relative reference's first
 * segment may not hold a colon (`stop`), as in libxml2.
 */
function hierPart(c: Cursor, stop: number): boolean {
  if (code(c) === 0x2f && code(c, 1) === 0x2f) {
    c.i += 2
    if (!authority(c) || !pathAbEmpty(c)) return false
  } else if (code(c) === 0x2f) {
    if (!pathAbsolute(c)) return false
  } else if (isPchar(c)) {
    if (!segment(c, stop, false) || !moreSegments(c)) return false
  }
  return queryAndFragment(c)
}

function queryAndFragment(c: Cursor): boolean {
  if (code(c) === 0x3f) {
    c.i++
    while (isPchar(c) || code(c) === 0x2f || code(c) === 0x3f) next(c)
  }
  if (code(c) === 0x23) {
    c.i++
    for (let x = code(c); isPchar(c) || x === 0x2f || x === 0x3f || x === 0x5b || x === 0x5d; x = code(c)) next(c)
  }
  return c.i >= c.s.length
}

/** xmlParse3986Segment: at least one pchar unless `empty`; stops at `forbid` */
function segment(c: Cursor, forbid: number, empty: boolean): boolean {
  if (!isPchar(c)) return empty
  while (isPchar(c) && code(c) !== forbid) next(c)
  return true
}

function moreSegments(c: Cursor): boolean {
  while (code(c) === 0x2f) {
    c.i++
    segment(c, NaN, true)
  }
  return true
}

const pathAbEmpty = moreSegments

function pathAbsolute(c: Cursor): boolean {
  c.i++ // the '/'
  if (segment(c, NaN, false)) moreSegments(c)
  return true
}

function authority(c: Cursor): boolean {
  const start = c.i
  while (isUnreserved(code(c)) || isPct(c) || SUB_DELIMS.has(code(c)) || code(c) === 0x3a) next(c)
  if (code(c) === 0x40) c.i++
  else c.i = start
  if (!host(c)) return false
  if (code(c) === 0x3a) {
    c.i++
    if (!isDigit(code(c))) return false
    let port = 0
    for (; isDigit(code(c)); c.i++) {
      port = port * 10 + code(c) - 0x30
      if (port > 0x7fffffff) return false // libxml2 refuses a port past INT_MAX
    }
  }
  return true
}

function host(c: Cursor): boolean {
  if (code(c) === 0x5b) {
    const close = c.s.indexOf(']', c.i + 1)
    if (close < 0) return false
    c.i = close + 1
    return true
  }
  // libxml2's IPv4 branch never matches (it steps over only the first '.'), so a dotted quad is
  // read as a reg-name, which takes the same characters
  while (isUnreserved(code(c)) || isPct(c) || SUB_DELIMS.has(code(c))) next(c)
  return true
}
