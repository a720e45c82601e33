// [LPF-6] Raw-byte screening: the checks that must happen before any XML library sees the
// file, so that no parser ever gets the chance to expand an entity, fetch a DTD or act on a
// processing instruction, and no file that libxml2 would refuse reaches xmldom at all. The
// policy part is lexical on purpose: a `<!DOCTYPE`, `<!ENTITY` or `<?` inside a comment or
// CDATA section is refused too, since no LPF needs one. Then wellformed.ts judges the rest as
// libxml2 does, in time linear in the file's size and with bounded nesting, so that what
// xmldom, c14n and parse do afterwards is bounded too.
import { FlrError } from '../errors.js'
import { checkWellFormed } from './wellformed.js'

export const MAX_LPF_BYTES = 4 * 1024 * 1024

const FIX = 'ask the vendor for a new file; an LPF is UTF-8 XML with no DOCTYPE and no processing instructions'

// XML 1.0 `Char`: xmldom lets some of these through, and a NUL in a "UTF-8" file usually means UTF-16
const FORBIDDEN_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u
const XML_DECLARATION = /^<\?xml[ \t\r\n][^?]*\?>/

/** Returns the file as text, or throws LPF_TOO_LARGE / LPF_MALFORMED ([LPF-6]). */
export function screenLpf(bytes: Uint8Array): string {
  if (bytes.length > MAX_LPF_BYTES) {
    throw new FlrError(
      'LPF_TOO_LARGE',
      `the license pack file is ${bytes.length} bytes, over the 4 MiB limit: a real LPF is far smaller, so this is not one; ${FIX}`,
      { size: bytes.length, limit: MAX_LPF_BYTES },
    )
  }
  const text = decodeUtf8(bytes)
  rejectForbiddenChars(text)
  rejectDoctypeAndEntities(text)
  rejectProcessingInstructions(text)
  checkWellFormed(text)
  return text
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    // a leading BOM is dropped by the decoder, as the XML spec allows
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new FlrError('LPF_MALFORMED', `the license pack file is not valid UTF-8 text; ${FIX}`)
  }
}

function rejectForbiddenChars(text: string): void {
  const m = FORBIDDEN_CHAR.exec(text)
  if (m) {
    const code = m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')
    throw new FlrError(
      'LPF_MALFORMED',
      `the license pack file contains the character U+${code} at offset ${m.index}, which XML does not allow (is it binary or UTF-16?); ${FIX}`,
    )
  }
}

function rejectDoctypeAndEntities(text: string): void {
  for (const [pattern, what] of [
    [/<!DOCTYPE/i, 'a DOCTYPE'],
    [/<!ENTITY/i, 'an entity declaration'],
  ] as const) {
    const m = pattern.exec(text)
    if (m) {
      throw new FlrError('LPF_MALFORMED', `the license pack file contains ${what} at offset ${m.index}, which an LPF never has; ${FIX}`)
    }
  }
}

function rejectProcessingInstructions(text: string): void {
  const declaration = XML_DECLARATION.exec(text)
  const from = declaration ? declaration[0].length : 0
  const at = text.indexOf('<?', from)
  if (at >= 0) {
    const target = /^<\?([^\s?]*)/.exec(text.slice(at))![1]
    const hint = target.toLowerCase() === 'xml' ? ' (an XML declaration is allowed only as the very first thing in the file)' : ''
    throw new FlrError(
      'LPF_MALFORMED',
      `the license pack file contains the processing instruction <?${target} at offset ${at}${hint}; only one leading XML declaration is allowed; ${FIX}`,
    )
  }
}
