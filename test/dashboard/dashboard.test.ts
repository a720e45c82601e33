// [OBS-4] The dashboard in a real headless Chromium against a real daemon: it loads without a
// console error, asks nothing of any other origin, shows the LPF and every pack with its numbers,
// follows a lease taken meanwhile, draws its charts, fits a phone, and shows no holder. With
// FLR_UPDATE_SCREENSHOT=1 it saves docs/dashboard.png.
import t from 'tap'
import { join } from 'node:path'
import type { Page } from 'puppeteer-core'
import { ROOT, dropLpf, freePort, makeDirs, servePacks, startDaemon } from '../helpers/server.js'
import { RawPeer } from '../helpers/wire.js'
import { hasChromium, launchChromium, NEEDS_CHROMIUM, watchedPage } from './browser.js'
import { writeWeek } from './history.js'

const HOUR_MS = 3_600_000

const PACKS = [
  { name: 'station', limit: 2 },
  { name: 'wb', limit: 2 },
  { name: 'cad.suite-2026', limit: 1 },
]
const HOLDERS = ['alice', 'bob', 'carol']
const skip = hasChromium() ? false : NEEDS_CHROMIUM

interface Row {
  name: string
  limit: number
  inUse: number
  available: number
  waiting: number
}

function tableRows(page: Page): Promise<Row[]> {
  return page.$$eval('#packs tbody tr', (trs) =>
    trs.map((tr) => {
      const cell = (c: string) => tr.querySelector(`td.${c}`)!.textContent!
      return { name: cell('name'), limit: Number(cell('limit')), inUse: Number(cell('in-use')), available: Number(cell('available')), waiting: Number(cell('waiting')) }
    }),
  )
}

/** How many pixels of the chart's canvas uPlot painted (not transparent). */
function paintedPixels(page: Page, chart: string): Promise<number> {
  return page.$eval(`#${chart} canvas`, (canvas) => {
    const c = canvas as HTMLCanvasElement
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data
    let painted = 0
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted++
    return painted
  })
}

t.test('[OBS-4] the dashboard in Chromium: no console error, the LPF, every pack and its numbers, live updates, charts drawn, nothing from elsewhere, no holder', { skip }, async (t) => {
  const dirs = makeDirs(t)
  const port = await freePort()
  dropLpf(dirs.licenseDir, { port, packs: PACKS })
  const week = await writeWeek(dirs.stateDir, PACKS)
  const daemon = await startDaemon(t, dirs, { httpPort: 0 })
  const base = `http://127.0.0.1:${daemon.httpPort}`
  const peer = await RawPeer.hello(t, port, 'dashboard-client')
  await peer.call('lease', { pack: 'station', holder: HOLDERS[0] })
  await peer.call('lease', { pack: 'cad.suite-2026', holder: HOLDERS[1] })
  t.match(await peer.call('lease', { pack: 'cad.suite-2026', holder: HOLDERS[2] }), { ok: false, error: { code: 'PACK_EXHAUSTED' } })

  const browser = await launchChromium(t)
  const { page, errors, requests } = await watchedPage(browser)
  await page.goto(`${base}/?refresh=300`, { waitUntil: 'load' })
  await page.waitForFunction(() => Number(document.body.dataset.polls) >= 1)
  await page.waitForFunction(() => Number(document.body.dataset.charts) >= 1)

  t.same(await tableRows(page), [
    { name: 'station', limit: 2, inUse: 1, available: 1, waiting: 0 },
    { name: 'wb', limit: 2, inUse: 0, available: 2, waiting: 0 },
    { name: 'cad.suite-2026', limit: 1, inUse: 1, available: 0, waiting: 0 },
  ], 'every pack, with limit, in use, available and waiting')
  t.equal(await page.$eval('#serving', (e) => e.textContent), 'Serving')
  t.equal(await page.$eval('#lpf-expiration', (e) => e.textContent), '2099-12-31', 'the LPF and its expiry')
  t.match(await page.$eval('#lpf-left', (e) => e.textContent), /^in \d+ days$/, 'the days left')
  t.equal(await page.$eval('#role', (e) => (e as HTMLElement).hidden), true, 'no cluster role on a single node')

  // a lease taken now shows without a reload
  await peer.call('lease', { pack: 'wb', holder: 'dave' })
  await page.waitForFunction(() => document.querySelector('#packs tr[data-pack="wb"] td.in-use')?.textContent === '1')
  t.match((await tableRows(page))[1], { name: 'wb', inUse: 1, available: 1 }, 'updated live')

  for (const chart of ['peak-chart', 'denials-chart']) {
    t.equal(await page.$$eval(`#${chart} canvas`, (c) => c.length), 1, `${chart}: one canvas`)
    t.ok((await paintedPixels(page, chart)) > 500, `${chart}: drawn (axes, grid and data)`)
  }
  // the charts show the report: station's denials of the week written before the start
  const thisHour = Math.floor(Date.now() / HOUR_MS) * HOUR_MS
  const denied = (hours: number) => week.denialsAt('station').filter((at) => at >= thisHour - (hours - 1) * HOUR_MS).length
  t.ok(denied(7 * 24) > 0, 'the week has denials to show')
  t.match(await page.$eval('#denials-title', (e) => e.textContent), `last 24 hours (${denied(24)} in all)`, 'the day chart counts the last 24 hours')
  for (const [range, expected] of [['week', `last 7 days (${denied(7 * 24)} in all)`], ['month', 'last 30 days']] as const) {
    const loads = await page.$eval('body', (b) => Number(b.dataset.charts))
    await page.click(`#ranges button[data-range="${range}"]`)
    await page.waitForFunction((n) => Number(document.body.dataset.charts) > n, {}, loads)
    t.ok((await paintedPixels(page, 'peak-chart')) > 500, `the ${range} chart is drawn`)
    t.match(await page.$eval('#denials-title', (e) => e.textContent), expected, `the ${range} chart counts its period`)
  }

  const text = await page.$eval('body', (b) => b.innerText)
  for (const who of [...HOLDERS, 'dave', 'dashboard-client']) t.notOk(text.includes(who), `${who} is nowhere on the page`)
  t.same(errors, [], 'no console error, page error or failed request')
  t.same(requests.filter((r) => !r.url.startsWith(`${base}/`) && !r.url.startsWith('data:')), [], 'nothing asked of another origin')
  t.same([...new Set(requests.map((r) => r.method))], ['GET'], 'read-only: GET only')

  if (process.env.FLR_UPDATE_SCREENSHOT === '1') {
    const loads = await page.$eval('body', (b) => Number(b.dataset.charts))
    await page.click('#ranges button[data-range="week"]')
    await page.waitForFunction((n) => Number(document.body.dataset.charts) > n, {}, loads)
    await page.screenshot({ path: join(ROOT, 'docs/dashboard.png'), fullPage: true })
  }
})

t.test('[OBS-4] on a phone: one column, nothing wider than the screen', { skip }, async (t) => {
  const { daemon } = await servePacks(t, PACKS, { httpPort: 0 })
  const browser = await launchChromium(t)
  const { page, errors } = await watchedPage(browser, { width: 390, height: 844 })
  await page.goto(`http://127.0.0.1:${daemon.httpPort}/`, { waitUntil: 'load' })
  await page.waitForFunction(() => Number(document.body.dataset.polls) >= 1 && Number(document.body.dataset.charts) >= 1)
  const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, screen: document.documentElement.clientWidth }))
  t.ok(widths.page <= widths.screen, `the page is no wider than the screen (${widths.page} ≤ ${widths.screen})`)
  const lefts = await page.$$eval('main > section', (s) => s.map((e) => Math.round(e.getBoundingClientRect().left)))
  t.equal(new Set(lefts).size, 1, 'the cards stack in one column')
  t.equal((await tableRows(page)).length, PACKS.length, 'every pack')
  const rightmost = await page.$$eval('#packs td.waiting', (tds) => Math.max(...tds.map((td) => td.getBoundingClientRect().right)))
  t.ok(rightmost <= widths.screen, `every pack's numbers in view without scrolling (${Math.round(rightmost)} ≤ ${widths.screen})`)
  t.same(errors, [])
})

t.test('[OBS-4] read-only and self-contained: the dashboard routes take GET and HEAD only, with a strict Content-Security-Policy; status names no holder', async (t) => {
  const { port, daemon } = await servePacks(t, PACKS, { httpPort: 0 })
  const base = `http://127.0.0.1:${daemon.httpPort}`
  const page = await fetch(`${base}/`)
  t.equal(page.status, 200)
  t.match(page.headers.get('content-type'), /^text\/html/)
  t.match(page.headers.get('content-security-policy'), /default-src 'none'.*script-src 'self'.*connect-src 'self'/)
  const html = await page.text()
  t.notMatch(html, /https?:\/\//, 'the page names no other site')
  for (const asset of ['/dashboard/app.js', '/dashboard/charts.js', '/dashboard/style.css', '/dashboard/uplot.js', '/dashboard/uplot.css']) {
    const res = await fetch(base + asset)
    t.equal(res.status, 200, `${asset} is served`)
    t.ok((await res.arrayBuffer()).byteLength > 500, `${asset} has its content`)
  }
  for (const method of ['POST', 'PUT', 'DELETE']) {
    const res = await fetch(`${base}/`, { method })
    t.equal(res.status, 405, `${method} / is refused`)
    t.equal(res.headers.get('allow'), 'GET, HEAD')
  }
  t.equal((await fetch(`${base}/dashboard/../package.json`)).status, 404, 'no file outside the dashboard')
  const peer = await RawPeer.hello(t, port, 'dashboard-client')
  await peer.call('lease', { pack: 'station', holder: 'alice' })
  const status = await fetch(`${base}/api/1.0/status`).then((r) => r.text())
  t.match(JSON.parse(status), { serving: true, packs: [{ name: 'station', inUse: 1 }] })
  t.notOk(/alice|dashboard-client|127\.0\.0\.1/.test(status), 'no holder, client or address in the status the dashboard reads')
})
