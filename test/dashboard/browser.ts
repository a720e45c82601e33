// Debian's Chromium, driven by puppeteer-core (nothing downloads a browser). A test that needs it
// is skipped with the exact reason below when it is missing, so `npm test` says how to get it.
import { existsSync } from 'node:fs'
import puppeteer, { type Browser, type Page } from 'puppeteer-core'
import type { TestContext } from '../helpers/server.js'

export const CHROMIUM = '/usr/bin/chromium'
export const NEEDS_CHROMIUM = 'needs Chromium: apt-get install chromium'

export function hasChromium(): boolean {
  return existsSync(CHROMIUM)
}

/** A headless Chromium, closed at teardown. */
export async function launchChromium(t: TestContext): Promise<Browser> {
  const args = ['--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check']
  // Chromium refuses to run as root with its sandbox on
  if (process.getuid?.() === 0) args.push('--no-sandbox')
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args, protocolTimeout: 120_000 })
  t.teardown(() => browser.close())
  return browser
}

export interface Watched {
  page: Page
  /** console errors, page errors and failed requests, as text */
  errors: string[]
  /** every request the page made: method and URL */
  requests: { method: string; url: string }[]
}

/** A page that records what would show in the browser's console as an error, and every request. */
export async function watchedPage(browser: Browser, viewport = { width: 1280, height: 900 }): Promise<Watched> {
  const page = await browser.newPage()
  await page.setViewport(viewport)
  page.setDefaultTimeout(60_000)
  const errors: string[] = []
  const requests: { method: string; url: string }[] = []
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()} (${msg.location().url ?? ''})`)
  })
  page.on('pageerror', (err) => errors.push(`page error: ${err instanceof Error ? err.message : String(err)}`))
  page.on('requestfailed', (req) => errors.push(`request failed: ${req.method()} ${req.url()} ${req.failure()?.errorText ?? ''}`))
  page.on('request', (req) => void requests.push({ method: req.method(), url: req.url() }))
  return { page, errors, requests }
}
