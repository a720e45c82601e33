// [OBS-4] The dashboard's files: served from the package itself, never from a CDN, so the page
// works on a network that reaches nothing but the server. The page, its script and its style
// are in assets/dashboard/ (shipped by package.json `files`); uPlot is the `uplot` dependency's
// own minified build, read from where npm installed it. Each file is read once, on first use.
import { readFileSync, existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

export interface Asset {
  contentType: string
  body: Buffer
}

// this module runs from the source tree (tests: lib/server/) and from dist/lib/server/ (the CLI)
const ASSET_DIRS = ['../../assets/dashboard/', '../../../assets/dashboard/'].map((p) => new URL(p, import.meta.url))

function ownFile(name: string): string {
  const dir = ASSET_DIRS.find((u) => existsSync(new URL(name, u)))
  if (!dir) throw new Error(`flr: the dashboard file ${name} is missing from assets/dashboard/ (a damaged install?)`)
  return fileURLToPath(new URL(name, dir))
}

function uplotFile(name: string): string {
  return createRequire(import.meta.url).resolve(`uplot/dist/${name}`)
}

const HTML = 'text/html; charset=utf-8'
const JS = 'text/javascript; charset=utf-8'
const CSS = 'text/css; charset=utf-8'

/** Every path the dashboard serves, and where its bytes come from: nothing else is ever read. */
const FILES: Record<string, { type: string; path: () => string }> = {
  '/': { type: HTML, path: () => ownFile('index.html') },
  '/dashboard/app.js': { type: JS, path: () => ownFile('app.js') },
  '/dashboard/charts.js': { type: JS, path: () => ownFile('charts.js') },
  '/dashboard/style.css': { type: CSS, path: () => ownFile('style.css') },
  '/dashboard/uplot.js': { type: JS, path: () => uplotFile('uPlot.iife.min.js') },
  '/dashboard/uplot.css': { type: CSS, path: () => uplotFile('uPlot.min.css') },
}

const cache = new Map<string, Asset>()

/** Whether `path` is one of the dashboard's files. */
export function isDashboardPath(path: string): boolean {
  return Object.hasOwn(FILES, path)
}

/** The file at `path` (one of isDashboardPath's); read from disk the first time only. */
export function dashboardAsset(path: string): Asset {
  let asset = cache.get(path)
  if (!asset) {
    const file = FILES[path]!
    asset = { contentType: file.type, body: readFileSync(file.path()) }
    cache.set(path, asset)
  }
  return asset
}

/**
 * Read-only and self-contained: scripts, styles and requests only from the server itself, no
 * frames, no forms. uPlot sizes its elements through the CSSOM, which style-src does not govern.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')
