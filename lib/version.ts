import { existsSync, readFileSync } from 'node:fs'

// lib/version.ts runs from the source tree (tests) and from dist/lib/ (the CLI): take the nearest package.json
const candidates = ['../package.json', '../../package.json'].map((p) => new URL(p, import.meta.url))
const pkgUrl = candidates.find((u) => existsSync(u))
if (!pkgUrl) throw new Error('flr: package.json not found beside lib/ or dist/lib/')
export const VERSION: string = (JSON.parse(readFileSync(pkgUrl, 'utf8')) as { version: string }).version
