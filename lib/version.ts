import { readFileSync } from 'node:fs'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
/** the package version; dist/lib/version.js sits two folders below package.json */
export const VERSION: string = pkg.version
