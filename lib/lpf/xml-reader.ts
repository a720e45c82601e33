// [LPF-6] The cursor the well-formedness checker reads with: one pass over the decoded text,
// each step moving forward, so judging a file costs time linear in its length. A failure
// throws LPF_MALFORMED naming the line and column, computed only then.
import { FlrError } from '../errors.js'
import { isNcNameChar, isNcNameStart, isSpace, utf8Length } from './xml-chars.js'

/** libxml2's XML_MAX_NAME_LENGTH: a longer NCName is refused ("Name too long") */
export const MAX_NAME_BYTES = 50_000

export interface QName {
  readonly qname: string
  /** undefined when the name has no colon */
  readonly prefix: string | undefined
  readonly local: string
  readonly at: number
}

export class XmlReader {
  i = 0
  constructor(readonly s: string) {}

  get atEnd(): boolean {
    return this.i >= this.s.length
  }

  /** the code point at the cursor (NaN at the end); the text is valid UTF-16 from a fatal decoder */
  codePoint(at = this.i): number {
    const c = this.s.charCodeAt(at)
    if (c >= 0xd800 && c <= 0xdbff) return ((c - 0xd800) << 10) + (this.s.charCodeAt(at + 1) - 0xdc00) + 0x10000
    return c
  }

  startsWith(literal: string): boolean {
    return this.s.startsWith(literal, this.i)
  }

  /** skips XML white space; returns whether there was any */
  skipSpace(): boolean {
    const from = this.i
    while (isSpace(this.s.charCodeAt(this.i))) this.i++
    return this.i > from
  }

  expect(literal: string, what: string): void {
    if (!this.startsWith(literal)) this.fail(`expected ${what}`)
    this.i += literal.length
  }

  /** an NCName, or fails; `what` names it in the message */
  ncName(what: string): string {
    const from = this.i
    if (!isNcNameStart(this.codePoint())) this.fail(`expected ${what}`)
    let bytes = 0
    for (let c = this.codePoint(); isNcNameChar(c); c = this.codePoint()) {
      bytes += utf8Length(c)
      this.i += c > 0xffff ? 2 : 1
    }
    if (bytes > MAX_NAME_BYTES) this.fail(`a name longer than ${MAX_NAME_BYTES} bytes (libxml2's limit)`, from)
    return this.s.slice(from, this.i)
  }

  /** Namespaces in XML [7] QName: a Name with more than one colon, or an empty part, is refused */
  qName(what: string): QName {
    const at = this.i
    const first = this.ncName(what)
    if (this.s.charCodeAt(this.i) !== 0x3a) return { qname: first, prefix: undefined, local: first, at }
    this.i++
    const local = this.ncName(`the local part of ${what} "${first}:…"`)
    if (this.s.charCodeAt(this.i) === 0x3a) this.fail(`${what} with more than one colon (not a namespace-valid QName)`)
    return { qname: `${first}:${local}`, prefix: first, local, at }
  }

  fail(what: string, at = this.i): never {
    let line = 1
    let lineStart = 0
    for (let k = this.s.indexOf('\n'); k >= 0 && k < at; k = this.s.indexOf('\n', k + 1)) {
      line++
      lineStart = k + 1
    }
    throw new FlrError(
      'LPF_MALFORMED',
      `the license pack file is not well-formed XML (${what} at line ${line}, column ${at - lineStart + 1}); ask the vendor for a new file`,
      { line, column: at - lineStart + 1 },
    )
  }
}
