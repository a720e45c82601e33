// What the docs tests read of Markdown: headings and their GitHub anchors, and links, with
// fenced code blocks and inline code left out (a link or a heading shown as code is not one).
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const DOCS = join(ROOT, 'docs')

/** README.md and every page of docs/, as paths relative to the repository. */
export function docFiles(): string[] {
  return ['README.md', ...readdirSync(DOCS).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)]
}

export function read(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8')
}

/** The lines outside fenced code blocks. */
export function proseLines(text: string): string[] {
  const lines: string[] = []
  let fence: string | undefined
  for (const line of text.split('\n')) {
    const m = /^\s*(`{3,}|~{3,})/.exec(line)
    if (m) {
      if (fence === undefined) fence = m[1]![0]!
      else if (m[1]![0] === fence) fence = undefined
      continue
    }
    if (fence === undefined) lines.push(line)
  }
  return lines
}

/** Heading texts (after the #s), in order. */
export function headings(text: string): string[] {
  return proseLines(text).flatMap((line) => {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    return m ? [m[1]!] : []
  })
}

/**
 * GitHub's anchor for a heading (github-slugger): the rendered text, lower-cased, with
 * every character that is not a letter, digit, mark, space, hyphen or underscore dropped,
 * and spaces made hyphens; a repeated heading gets -1, -2, ….
 */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  for (const h of headings(text)) {
    const rendered = h.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '')
    const base = rendered.toLowerCase().replace(/[^\p{L}\p{N}\p{M}\p{Pc} -]/gu, '').replace(/ /g, '-')
    const n = seen.get(base)
    seen.set(base, (n ?? -1) + 1)
    out.add(n === undefined ? base : `${base}-${n + 1}`)
  }
  return out
}

/** Link targets in prose: `[text](target)`, inline code removed first. */
export function links(text: string): string[] {
  const out: string[] = []
  for (const line of proseLines(text)) {
    const prose = line.replace(/(`+)[\s\S]*?\1/g, '')
    for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push(m[1]!)
  }
  return out
}
