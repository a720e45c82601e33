// [LPF-1] [LPF-2] [LPF-3] [LPF-6] The signed canonical content of an LPF → a frozen LicensePlan.
//
// Only the text verify.ts returns is read here, never the raw file. That text is exclusive c14n
// output (c14n.ts, byte for byte libxml2's), a far smaller language than XML: no declaration,
// DOCTYPE, comment or CDATA (and no processing instruction: the screen refuses them); no
// empty-element tags; every attribute and namespace declaration written ` name="value"` with
// `&`, `<`, `"` and whitespace escaped; text with `&`, `<` and `>` escaped. This reader is only
// as sound as those escapes: a namespace URI once written unescaped let a signed file show it a
// pack no XML parser sees in the file (test/lpf/xmlsec.test.ts). So it is read by
// one strict pass over its tags (readTree) rather than a general XML parser: anything outside
// that language is refused, never guessed at. This replaced a fast-xml-parser parse plus a
// second scan for the <licenses> slices, which cost a third of loading 1,000 packs;
// test/lpf/parse-equivalence.test.ts proves it gives the same plan and the same refusals as
// that parser (test/lpf/reference-parse.ts) on the fixtures and on generated documents.
// Entities are never expanded: attribute values decode only the references c14n writes.
// Each <licenses> element is kept as its exact canonical text, so holders get the bytes the
// vendor signed.
//
// The structure is strict: an unknown element or attribute is refused rather than ignored, so a
// typo such as <pakcs> fails loudly instead of producing a file with no packs.
import { FlrError } from '../errors.js'
import { HOST_ID_PATTERN } from './host-id.js'
import type { HostPlan, LicensePlan, PackPlan } from './plan.js'
import { checkDistinctHosts, checkHostCount, graceOf } from './plan-rules.js'

/** an element of the signed content, as far as the plan needs it */
interface XmlElement {
  readonly name: string
  /** the attributes as written: ` name="value"`, repeated */
  readonly attributes: string
  readonly children: XmlElement[]
  /** it has text other than whitespace (its own, not its children's) */
  hasText: boolean
  /** a <licenses> below the root is not walked: this is its canonical text, tags and all */
  source?: string
}

const PACK_NAME = /^[A-Za-z0-9._-]{1,64}$/
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?Z$/
const DECIMAL = /^(0|[1-9][0-9]*)$/
const MAX_LIMIT = 1_000_000
const FIX = 'the vendor must correct the LPF source and sign it again'

// a start or end tag of canonical XML; sticky, so it must match exactly where a `<` is
const TAG = /<(\/?)([^\s<>/"=]+)((?: [^\s<>/"=]+="[^"]*")*)>/y
const ATTRIBUTE = / ([^\s<>/"=]+)="([^"]*)"/g
const BLANK = /\s*/y

/** [LPF-6] `signedContent` is verify.ts's output; `digest` the SHA-256 hex of the file's bytes. */
export function parsePlan(signedContent: string, digest: string): LicensePlan {
  const lpf = readTree(signedContent)
  const attrs = attributesOf(lpf, '<lpf>', ['vendor', 'generated', 'expiration', 'grace'])
  onlyChildren(lpf, '<lpf>', ['flr', 'packs'])
  const expiration = required(attrs, 'expiration', '<lpf>', 'use expiration="never" for a license that does not expire')
  const hosts = hostsOf(lpf)
  const plan: LicensePlan = {
    vendor: vendorOf(attrs),
    generated: generatedOf(attrs),
    expiration,
    expiresAt: expiresAtOf(expiration),
    // the main host's until load.ts's checkHost names this server's ([LPF-7])
    hostId: hosts[0]!.hostId,
    port: hosts[0]!.port,
    hosts,
    grace: graceOf(attrs.grace, FIX),
    packs: Object.freeze(packsOf(lpf)),
    digest,
  }
  return Object.freeze(plan)
}

/**
 * The root element of canonical XML, with its structure down to each <licenses>. End tags must
 * match start tags and nothing may follow the root: c14n output always passes, so a failure
 * means the text did not come from the canonicalizer, and it is refused.
 */
function readTree(content: string): XmlElement {
  const open: XmlElement[] = []
  const names: string[] = []
  let root: XmlElement | undefined
  /** depth in `names` of the <licenses> being skipped, and where its start tag is; -1 outside one */
  let opaqueDepth = -1
  let opaqueStart = 0
  let at = 0
  while (at < content.length) {
    const lt = content.indexOf('<', at)
    const textEnd = lt < 0 ? content.length : lt
    if (textEnd > at && opaqueDepth < 0) {
      const parent = open.at(-1)
      if (!parent) throw unreadable('text outside the root element')
      if (!parent.hasText) {
        // \s is the set trim() removes, so this is "the text is not blank" without a copy
        BLANK.lastIndex = at
        BLANK.test(content)
        if (BLANK.lastIndex !== textEnd) parent.hasText = true
      }
    }
    if (lt < 0) break
    TAG.lastIndex = lt
    const tag = TAG.exec(content)
    if (!tag) throw unreadable(`not a canonical tag at offset ${lt}`)
    at = TAG.lastIndex
    const name = tag[2]!
    if (tag[1] === '/') {
      if (names.pop() !== name || tag[3] !== '') throw unreadable(`unexpected </${name}> at offset ${lt}`)
      if (names.length === opaqueDepth) {
        open.at(-1)!.children.at(-1)!.source = content.slice(opaqueStart, at)
        opaqueDepth = -1
      } else if (opaqueDepth < 0) {
        open.pop()
      }
      continue
    }
    if (root && names.length === 0) throw unreadable('a second root element')
    names.push(name)
    if (opaqueDepth >= 0) continue
    const element: XmlElement = { name, attributes: tag[3]!, children: [], hasText: false }
    if (!root) {
      root = element
      open.push(element)
    } else {
      open.at(-1)!.children.push(element)
      if (name === 'licenses') {
        opaqueDepth = names.length - 1
        opaqueStart = lt
      } else {
        open.push(element)
      }
    }
  }
  if (!root || names.length > 0) throw unreadable('the text ends inside an element')
  // an <lpf> with neither attributes nor child elements reads as no <lpf> at all, as it did
  // when fast-xml-parser read this text
  if (root.name !== 'lpf' || (root.attributes === '' && root.children.length === 0)) throw malformed('the signed content has no <lpf> element')
  return root
}

function unreadable(why: string): FlrError {
  return malformed(`the signed content is not readable XML (${why})`)
}

/** [LPF-1] */
function vendorOf(attrs: Record<string, string>): string {
  const vendor = required(attrs, 'vendor', '<lpf>', 'it names the licensor')
  if (vendor.trim() === '') throw malformed(`<lpf> has an empty vendor attribute; ${FIX}`)
  return vendor
}

/** [LPF-1] optional, a date */
function generatedOf(attrs: Record<string, string>): string | null {
  if (attrs.generated === undefined) return null
  checkDate(attrs.generated, 'generated')
  return attrs.generated
}

/** [LPF-1] a date is valid to the end of that UTC day; a timestamp, to that instant */
function expiresAtOf(expiration: string): number | null {
  if (expiration === 'never') return null
  if (DATE.test(expiration)) return checkDate(expiration, 'expiration') + 86_400_000
  const t = TIMESTAMP.exec(expiration)
  if (t) {
    const [, y, mo, d, h, mi, s, ms] = t
    const day = checkDate(`${y}-${mo}-${d}`, 'expiration')
    if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) throw malformed(`expiration "${expiration}" is not a valid time of day; ${FIX}`)
    return day + ((Number(h) * 60 + Number(mi)) * 60 + Number(s)) * 1000 + Number((ms ?? '').padEnd(3, '0'))
  }
  throw malformed(`expiration "${expiration}" is not a date (YYYY-MM-DD), a UTC timestamp (YYYY-MM-DDTHH:MM:SSZ) or "never"; ${FIX}`)
}

/** a real calendar date `YYYY-MM-DD`; returns its start, epoch ms UTC */
function checkDate(value: string, name: string): number {
  const m = DATE.exec(value)
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
    const date = new Date(0)
    // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999
    date.setUTCFullYear(y, mo - 1, d)
    if (date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d) return date.getTime()
  }
  throw malformed(`${name} "${value}" is not a valid calendar date YYYY-MM-DD; ${FIX}`)
}

/** [LPF-2] [HA-2] one <flr hostId port/>, or two to five with distinct host ids; the first is the main */
function hostsOf(lpf: XmlElement): readonly HostPlan[] {
  const all = childrenNamed(lpf, 'flr')
  checkHostCount(all.length, FIX)
  const hosts = all.map(hostOf)
  checkDistinctHosts(hosts, FIX)
  return Object.freeze(hosts)
}

function hostOf(flr: XmlElement): HostPlan {
  onlyChildren(flr, '<flr>', [])
  const attrs = attributesOf(flr, '<flr>', ['hostId', 'port'])
  const hostId = required(attrs, 'hostId', '<flr>', 'it is the customer server\'s `flr host-id`')
  if (!HOST_ID_PATTERN.test(hostId)) {
    throw malformed(`<flr> hostId "${hostId}" is not a host id (like Lnx-7Q2M-K4DA-ZP9W-3HXE, printed by \`flr host-id\` on the customer's server); ${FIX}`)
  }
  const port = integerIn(required(attrs, 'port', '<flr>', 'the TCP port clients connect to'), 1, 65_535)
  if (port === null) throw malformed(`<flr> port "${attrs.port}" is not an integer from 1 to 65535; ${FIX}`)
  return Object.freeze({ hostId, port })
}

/** [LPF-3] */
function packsOf(lpf: XmlElement): PackPlan[] {
  const containers = childrenNamed(lpf, 'packs')
  if (containers.length !== 1) throw malformed(`an LPF has exactly one <packs> element (it may be empty), this one has ${containers.length}; ${FIX}`)
  const packs = containers[0]!
  attributesOf(packs, '<packs>', [])
  onlyChildren(packs, '<packs>', ['pack'])
  const seen = new Set<string>()
  return packs.children.map((p) => {
    const pack = packOf(p)
    if (seen.has(pack.name)) throw malformed(`pack name "${pack.name}" appears more than once; pack names are unique in an LPF; ${FIX}`)
    seen.add(pack.name)
    return pack
  })
}

function packOf(node: XmlElement): PackPlan {
  const attrs = attributesOf(node, '<pack>', ['name', 'limit'])
  onlyChildren(node, '<pack>', ['licenses'])
  const name = required(attrs, 'name', '<pack>', 'clients lease a pack by its name')
  if (!PACK_NAME.test(name)) {
    throw malformed(`pack name "${name}" must be 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-'; ${FIX}`)
  }
  const limit = integerIn(required(attrs, 'limit', `pack "${name}"`, 'it is the number of seats'), 0, MAX_LIMIT)
  if (limit === null) throw malformed(`pack "${name}": limit "${attrs.limit}" is not an integer from 0 to 1,000,000; ${FIX}`)
  // onlyChildren let nothing but <licenses> through
  if (node.children.length !== 1) {
    throw malformed(`pack "${name}" has ${node.children.length} <licenses> elements; each pack has exactly one; ${FIX}`)
  }
  return Object.freeze({ name, limit, licenses: node.children[0]!.source! })
}

function childrenNamed(node: XmlElement, name: string): XmlElement[] {
  return node.children.filter((c) => c.name === name)
}

function attributesOf(node: XmlElement, where: string, allowed: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [, name, value] of node.attributes.matchAll(ATTRIBUTE)) {
    if (!allowed.includes(name!)) {
      throw malformed(`${where} has an unknown attribute "${name}"${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}; ${FIX}`)
    }
    out[name!] = value!.includes('&') ? decodeEntities(value!) : value!
  }
  return out
}

/** only `allowed` elements and whitespace; the first unknown element is named before any text */
function onlyChildren(node: XmlElement, where: string, allowed: readonly string[]): void {
  for (const child of node.children) {
    if (!allowed.includes(child.name)) {
      throw malformed(`${where} has an unknown element <${child.name}>${allowed.length ? ` (allowed: ${allowed.map((a) => `<${a}>`).join(', ')})` : ''}; ${FIX}`)
    }
  }
  if (node.hasText) throw malformed(`${where} contains text; only elements belong there; ${FIX}`)
}

function required(attrs: Record<string, string>, name: string, where: string, why: string): string {
  const value = attrs[name]
  if (value === undefined) throw malformed(`${where} has no ${name} attribute (${why}); ${FIX}`)
  return value
}

function integerIn(text: string, min: number, max: number): number | null {
  if (!DECIMAL.test(text) || text.length > 9) return null
  const n = Number(text)
  return n >= min && n <= max ? n : null
}

/** the entity and character references exclusive c14n writes in attribute values */
function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos|#x[0-9A-Fa-f]+|#[0-9]+);/g, (_, ref: string) => {
    switch (ref) {
      case 'amp': return '&'
      case 'lt': return '<'
      case 'gt': return '>'
      case 'quot': return '"'
      case 'apos': return "'"
      default: return String.fromCodePoint(ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10))
    }
  })
}

function malformed(message: string): FlrError {
  return new FlrError('LPF_MALFORMED', message)
}
