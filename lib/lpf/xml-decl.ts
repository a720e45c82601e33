// [LPF-1] [LPF-6] The XML declaration, read as libxml2 2.9 reads it (parser.c xmlParseXMLDecl):
// version first and required ("1.0"; "1.x" is only a warning there, so it is accepted here),
// then an optional encoding, then an optional standalone, in that order. flr adds one rule of
// its own: the encoding, when declared, must be UTF-8 ([LPF-1]).
import { FlrError } from '../errors.js'
import { isSpace } from './xml-chars.js'
import type { XmlReader } from './xml-reader.js'

const FIX = 'ask the vendor for a new file; an LPF is UTF-8 XML with no DOCTYPE and no processing instructions'

/** Reads the declaration if the text starts with one (`<?xml` and white space). */
export function readXmlDeclaration(r: XmlReader): void {
  if (!r.startsWith('<?xml') || !isSpace(r.s.charCodeAt(5))) return
  r.i = 5
  r.skipSpace()
  if (!r.startsWith('version')) r.fail('a version in the XML declaration')
  const version = pseudoAttribute(r, 'version', /[0-9]\.[0-9]*/y)
  if (version !== '1.0' && !version.startsWith('1.')) r.fail(`XML version "${version}", which is not 1.x`)
  if (declarationEnds(r)) return
  if (!r.skipSpace()) r.fail('white space after the version')
  if (r.startsWith('encoding')) {
    const encoding = pseudoAttribute(r, 'encoding', /[A-Za-z][A-Za-z0-9._-]*/y)
    const upper = encoding.toUpperCase()
    if (upper !== 'UTF-8' && upper !== 'UTF8') {
      throw new FlrError('LPF_MALFORMED', `the license pack file declares encoding "${encoding}"; an LPF must be UTF-8; ${FIX}`)
    }
  }
  // libxml2 needs no white space between a UTF-8 encoding and standalone (a quirk of its own)
  r.skipSpace()
  if (r.startsWith('standalone')) pseudoAttribute(r, 'standalone', /yes|no/y)
  r.skipSpace()
  if (!declarationEnds(r)) r.fail('the end of the XML declaration "?>"')
}

function declarationEnds(r: XmlReader): boolean {
  if (!r.startsWith('?>')) return false
  r.i += 2
  return true
}

/** `name S? = S? quote value quote`, the value matching `pattern` (sticky) exactly */
function pseudoAttribute(r: XmlReader, name: string, pattern: RegExp): string {
  r.i += name.length
  r.skipSpace()
  r.expect('=', `"=" after ${name} in the XML declaration`)
  r.skipSpace()
  const quote = r.s[r.i]
  if (quote !== '"' && quote !== "'") r.fail(`a quoted ${name} in the XML declaration`)
  pattern.lastIndex = ++r.i
  const value = pattern.exec(r.s)?.[0] ?? ''
  r.i += value.length
  if (value === '' || r.s[r.i] !== quote) r.fail(`a valid ${name} in the XML declaration`)
  r.i++
  return value
}
