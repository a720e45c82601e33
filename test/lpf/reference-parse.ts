// The fast-xml-parser reader of the signed content that lib/lpf/parse.ts replaced, kept only as
// the oracle of parse-equivalence.test.ts: same checks, same messages, different reader.
// It pins the migration only (see the head of parse-equivalence.test.ts); what the spec
// requires of the reader is tested without it in parse.test.ts.
import { XMLParser } from 'fast-xml-parser'
import { FlrError } from '../../lib/errors.js'
import { HOST_ID_PATTERN } from '../../lib/lpf/host-id.js'
import type { HostPlan, LicensePlan, PackPlan } from '../../lib/lpf/plan.js'
import { checkDistinctHosts, checkHostCount, graceOf } from '../../lib/lpf/plan-rules.js'

type XmlNode = Record<string, unknown>

const PACK_NAME = /^[A-Za-z0-9._-]{1,64}$/
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?Z$/
const DECIMAL = /^(0|[1-9][0-9]*)$/
const MAX_LIMIT = 1_000_000
const FIX = 'the vendor must correct the LPF source and sign it again'

// by name rather than by path (cheaper: no path strings); the structure checks below refuse any
// of these in the wrong place
const ARRAYS = new Set(['flr', 'packs', 'pack', 'licenses'])
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  // values are exactly what was signed: " 19110" is not a port
  trimValues: false,
  ignoreDeclaration: true,
  // the opaque <licenses> content is not walked: it is sliced verbatim instead
  stopNodes: ['*.licenses'],
  isArray: (name: string) => ARRAYS.has(name),
  jPath: false,
})

/** [LPF-6] `signedContent` is verify.ts's output; `digest` the SHA-256 hex of the file's bytes. */
export function parsePlan(signedContent: string, digest: string): LicensePlan {
  const lpf = parseTree(signedContent)
  const attrs = attributesOf(lpf, '<lpf>', ['vendor', 'generated', 'expiration', 'grace'])
  onlyChildren(lpf, '<lpf>', ['flr', 'packs'])
  const expiration = required(attrs, 'expiration', '<lpf>', 'use expiration="never" for a license that does not expire')
  const hosts = hostsOf(lpf)
  const plan: LicensePlan = {
    vendor: vendorOf(attrs),
    generated: generatedOf(attrs),
    expiration,
    expiresAt: expiresAtOf(expiration),
    hostId: hosts[0]!.hostId,
    port: hosts[0]!.port,
    hosts,
    grace: graceOf(attrs.grace, FIX),
    packs: Object.freeze(packsOf(lpf, licensesSlices(signedContent))),
    digest,
  }
  return Object.freeze(plan)
}

function parseTree(content: string): XmlNode {
  let tree: XmlNode
  try {
    tree = parser.parse(content) as XmlNode
  } catch (e) {
    throw malformed(`the signed content is not readable XML (${e instanceof Error ? e.message : String(e)})`)
  }
  const lpf = tree.lpf
  if (!isNode(lpf)) throw malformed('the signed content has no <lpf> element')
  return lpf
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

/** [LPF-2] [HA-2] one <flr hostId port/>, or two to five with distinct host ids */
function hostsOf(lpf: XmlNode): readonly HostPlan[] {
  const all = (lpf.flr ?? []) as unknown[]
  checkHostCount(all.length, FIX)
  const hosts = all.map((f) => hostOf(asNode(f, '<flr>')))
  checkDistinctHosts(hosts, FIX)
  return Object.freeze(hosts)
}

function hostOf(flr: XmlNode): HostPlan {
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
function packsOf(lpf: XmlNode, slices: string[][]): PackPlan[] {
  const containers = (lpf.packs ?? []) as unknown[]
  if (containers.length !== 1) throw malformed(`an LPF has exactly one <packs> element (it may be empty), this one has ${containers.length}; ${FIX}`)
  const packs = asNode(containers[0], '<packs>')
  attributesOf(packs, '<packs>', [])
  onlyChildren(packs, '<packs>', ['pack'])
  const list = (packs.pack ?? []) as unknown[]
  if (list.length !== slices.length) throw malformed('the <pack> elements could not be matched to the signed text')
  const seen = new Set<string>()
  return list.map((p, i) => {
    const pack = packOf(asNode(p, '<pack>'), slices[i]!)
    if (seen.has(pack.name)) throw malformed(`pack name "${pack.name}" appears more than once; pack names are unique in an LPF; ${FIX}`)
    seen.add(pack.name)
    return pack
  })
}

function packOf(node: XmlNode, licenses: string[]): PackPlan {
  const attrs = attributesOf(node, '<pack>', ['name', 'limit'])
  onlyChildren(node, '<pack>', ['licenses'])
  const name = required(attrs, 'name', '<pack>', 'clients lease a pack by its name')
  if (!PACK_NAME.test(name)) {
    throw malformed(`pack name "${name}" must be 1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-'; ${FIX}`)
  }
  const limit = integerIn(required(attrs, 'limit', `pack "${name}"`, 'it is the number of seats'), 0, MAX_LIMIT)
  if (limit === null) throw malformed(`pack "${name}": limit "${attrs.limit}" is not an integer from 0 to 1,000,000; ${FIX}`)
  const count = ((node.licenses ?? []) as unknown[]).length
  if (count !== 1 || licenses.length !== 1) {
    throw malformed(`pack "${name}" has ${count} <licenses> elements; each pack has exactly one; ${FIX}`)
  }
  return Object.freeze({ name, limit, licenses: licenses[0]! })
}

/**
 * [LPF-3] For each <pack> under lpf/packs, the text of its <licenses> children, cut from the
 * canonical content. Exclusive c14n output has no comments, processing instructions, CDATA or
 * empty-element tags, attribute values are double-quoted with `"` escaped and text has `<`
 * escaped, so tags are found exactly by this pattern.
 */
function licensesSlices(content: string): string[][] {
  const TAG = /<(\/?)([^\s>/"]+)(?: [^\s=>"]+="[^"]*")*>/g
  const path: string[] = []
  const packs: string[][] = []
  let start = -1
  for (const m of content.matchAll(TAG)) {
    const inPack = path.length >= 2 && path[1] === 'packs' && path[2] === 'pack'
    if (m[1] === '') {
      path.push(m[2]!)
      if (path.length === 3 && path[1] === 'packs' && m[2] === 'pack') packs.push([])
      if (path.length === 4 && inPack && m[2] === 'licenses') start = m.index
    } else {
      if (path.length === 4 && inPack && m[2] === 'licenses') packs.at(-1)!.push(content.slice(start, m.index + m[0].length))
      path.pop()
    }
  }
  return packs
}

function attributesOf(node: XmlNode, where: string, allowed: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(node)) {
    if (!key.startsWith('@_')) continue
    const name = key.slice(2)
    if (!allowed.includes(name)) {
      throw malformed(`${where} has an unknown attribute "${name}"${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}; ${FIX}`)
    }
    out[name] = decodeEntities(String(value))
  }
  return out
}

function onlyChildren(node: XmlNode, where: string, allowed: readonly string[]): void {
  for (const key of Object.keys(node)) {
    if (key.startsWith('@_')) continue
    if (key === '#text' && String(node[key]).trim() === '') continue
    if (key === '#text') throw malformed(`${where} contains text; only elements belong there; ${FIX}`)
    if (!allowed.includes(key)) {
      throw malformed(`${where} has an unknown element <${key}>${allowed.length ? ` (allowed: ${allowed.map((a) => `<${a}>`).join(', ')})` : ''}; ${FIX}`)
    }
  }
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

function asNode(value: unknown, where: string): XmlNode {
  // an element with neither attributes nor child elements comes back as its (blank) text
  if (typeof value === 'string' && value.trim() === '') return {}
  if (!isNode(value)) throw malformed(`${where} contains text; only elements belong there; ${FIX}`)
  return value
}

function isNode(value: unknown): value is XmlNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
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
