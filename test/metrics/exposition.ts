// A strict reader of the Prometheus text exposition format 0.0.4, written for the tests so that
// they check the bytes a scraper reads, not prom-client's own objects. It refuses what
// Prometheus would: a sample before its TYPE, a sample of no declared family, a malformed
// label set, a bad escape, a duplicate series, histogram buckets that are not cumulative.
// https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface Family {
  name: string
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'
  help: string
  samples: Sample[]
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])
const SUFFIXES: Record<string, string[]> = {
  counter: [''],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
}

export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>()
  const series = new Set<string>()
  const lines = text.split('\n')
  if (lines.at(-1) !== '') throw new Error('the exposition must end with a newline')
  for (const [i, line] of lines.slice(0, -1).entries()) {
    const where = `line ${i + 1}: ${line.slice(0, 120)}`
    if (line.trim() === '') continue
    if (line.startsWith('#')) {
      readComment(line, families, where)
      continue
    }
    const sample = readSample(line, where)
    const family = familyOf(sample.name, families)
    if (!family) throw new Error(`${where}: sample of no declared family (a TYPE line must come first)`)
    const key = `${sample.name}{${Object.entries(sample.labels).sort().map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`
    if (series.has(key)) throw new Error(`${where}: duplicate series ${key}`)
    series.add(key)
    family.samples.push(sample)
  }
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family)
  return families
}

function readComment(line: string, families: Map<string, Family>, where: string): void {
  const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
  if (!m) return // any other comment is allowed
  const [, kind, name, rest] = m as unknown as [string, string, string, string]
  if (!NAME.test(name)) throw new Error(`${where}: bad metric name`)
  let family = families.get(name)
  if (kind === 'TYPE') {
    if (!TYPES.has(rest)) throw new Error(`${where}: unknown type ${rest}`)
    if (family?.samples.length) throw new Error(`${where}: TYPE after samples`)
    if (family && family.type !== 'untyped') throw new Error(`${where}: second TYPE`)
    family ??= { name, type: 'untyped', help: '', samples: [] }
    family.type = rest as Family['type']
  } else {
    family ??= { name, type: 'untyped', help: '', samples: [] }
    family.help = unescape(rest, false, where)
  }
  families.set(name, family)
}

function readSample(line: string, where: string): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)( -?\d+)?$/.exec(line)
  if (!m) throw new Error(`${where}: not a sample line`)
  return { name: m[1]!, labels: m[2] ? readLabels(m[2], where) : {}, value: readValue(m[3]!, where) }
}

/** `{a="x",b="y\"z"}`, scanned character by character: a value may hold `,`, `}` and escaped quotes. */
function readLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {}
  let i = 1
  while (i < text.length - 1) {
    const eq = text.indexOf('=', i)
    const name = text.slice(i, eq)
    if (eq === -1 || !LABEL.test(name)) throw new Error(`${where}: bad label name ${JSON.stringify(name)}`)
    if (Object.hasOwn(labels, name)) throw new Error(`${where}: label ${name} twice`)
    if (text[eq + 1] !== '"') throw new Error(`${where}: label ${name} has no quoted value`)
    let j = eq + 2
    let raw = ''
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') raw += text[j++]!
      raw += text[j]!
    }
    if (j >= text.length) throw new Error(`${where}: unterminated value of ${name}`)
    labels[name] = unescape(raw, true, where)
    i = j + 1
    if (text[i] === ',') i++
    else if (i !== text.length - 1) throw new Error(`${where}: expected , or } after label ${name}`)
  }
  return labels
}

function unescape(raw: string, quoted: boolean, where: string): string {
  return raw.replace(/\\(.)/g, (_, c: string) => {
    if (c === 'n') return '\n'
    if (c === '\\') return '\\'
    if (c === '"' && quoted) return '"'
    throw new Error(`${where}: bad escape \\${c}`)
  })
}

/** A value as Prometheus reads it (Go's strconv.ParseFloat): NaN and Inf in any case; prom-client writes `Nan`. */
function readValue(text: string, where: string): number {
  if (/^nan$/i.test(text)) return NaN
  const inf = /^([-+]?)inf(inity)?$/i.exec(text)
  if (inf) return inf[1] === '-' ? -Infinity : Infinity
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: bad value ${text}`)
  return Number(text)
}

function familyOf(sampleName: string, families: Map<string, Family>): Family | undefined {
  for (const family of families.values()) {
    if (SUFFIXES[family.type]!.some((s) => family.name + s === sampleName)) return family
  }
  return undefined
}

/** Buckets cumulative in `le`, one +Inf bucket equal to _count, per label set. */
function checkHistogram(family: Family): void {
  const byLabels = new Map<string, Sample[]>()
  for (const s of family.samples.filter((s) => s.name.endsWith('_bucket'))) {
    const { le, ...rest } = s.labels
    if (le === undefined) throw new Error(`${family.name}: a bucket without le`)
    const key = JSON.stringify(Object.entries(rest).sort())
    byLabels.set(key, [...(byLabels.get(key) ?? []), s])
  }
  for (const [key, buckets] of byLabels) {
    const sorted = [...buckets].sort((a, b) => readValue(a.labels.le!, 'le') - readValue(b.labels.le!, 'le'))
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]!.value < sorted[i - 1]!.value) throw new Error(`${family.name} ${key}: buckets are not cumulative`)
    }
    const inf = sorted.at(-1)!
    if (inf.labels.le !== '+Inf') throw new Error(`${family.name} ${key}: no +Inf bucket`)
    const count = family.samples.find((s) => s.name === `${family.name}_count` && JSON.stringify(Object.entries(s.labels).sort()) === key)
    if (!count || count.value !== inf.value) throw new Error(`${family.name} ${key}: _count differs from the +Inf bucket`)
  }
}

/** The value of the one sample named `name` whose labels include `labels`; undefined when none. */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const family of families.values()) {
    for (const s of family.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value
    }
  }
  return undefined
}

/** Every sample name in the scrape (a histogram gives its _bucket, _sum and _count). */
export function sampleNames(families: Map<string, Family>): Set<string> {
  return new Set([...families.values()].flatMap((f) => [f.name, ...f.samples.map((s) => s.name)]))
}
