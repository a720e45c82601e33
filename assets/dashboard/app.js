// [OBS-4] flr's dashboard: polls GET /api/1.0/status (the LPF, serving state, cluster role, every
// pack's limit, in use and waiting) and draws usage from GET /api/1.0/report. Read-only: it only
// ever GETs. Server text goes into the page as text (textContent), never as markup.
'use strict'
;(function () {
  const params = new URLSearchParams(location.search)
  /** how often the status is polled; ?refresh=<ms> changes it (at least 250 ms) */
  const REFRESH_MS = Math.max(250, Number(params.get('refresh')) || 2000)
  /** the charts follow the history more slowly: a report is a heavier query than a status */
  const CHART_REFRESH_MS = 60000
  const $ = (id) => document.getElementById(id)
  const state = { packs: [], pack: params.get('pack') || undefined, range: 'day', polls: 0, chartLoads: 0, historyMissing: false }

  async function getJson(url) {
    const res = await fetch(url, { headers: { accept: 'application/json' }, cache: 'no-store' })
    if (!res.ok) {
      const error = new Error(`${url} answered ${res.status}`)
      error.status = res.status
      throw error
    }
    return res.json()
  }

  function el(tag, text, className) {
    const e = document.createElement(tag)
    if (text !== undefined) e.textContent = String(text)
    if (className) e.className = className
    return e
  }

  function badge(node, text, kind) {
    node.textContent = text
    node.className = `badge ${kind}`
    node.hidden = false
  }

  // ---- status ----

  function renderServing(s) {
    if (s.serving) badge($('serving'), 'Serving', 'ok')
    else badge($('serving'), `Not serving${s.reason ? `: ${s.reason.code}` : ''}`, 'bad')
    // [HA-*] a cluster's role, in whichever shape the status carries it; a single node shows none
    const cluster = s.cluster || (s.role ? s : undefined)
    if (cluster && cluster.role && cluster.role !== 'single') {
      const leader = cluster.role === 'leader' ? 'leader' : `${cluster.role}${cluster.leader ? ` (leader: ${cluster.leader})` : ''}`
      badge($('role'), leader, cluster.role === 'leader' ? 'info' : 'warn')
    } else $('role').hidden = true
  }

  function renderLpf(s) {
    const lpf = s.lpf
    $('lpf-vendor').textContent = lpf ? lpf.vendor : 'no LPF loaded'
    $('lpf-expiration').textContent = lpf ? lpf.expiration : '—'
    $('lpf-host').textContent = lpf ? lpf.hostId : '—'
    $('lpf-port').textContent = lpf ? String(lpf.port) : '—'
    $('lpf-loaded').textContent = lpf && lpf.loadedAt ? new Date(lpf.loadedAt).toLocaleString() : '—'
    const days = lpf ? lpf.expiresInDays : undefined
    // [OBS-5] the days left, coloured as the shipped alerts judge them (21 and 3 days)
    if (days === undefined) $('lpf-left').hidden = true
    else badge($('lpf-left'), days < 0 ? 'expired' : days === 0 ? 'expires today' : `in ${days} day${days === 1 ? '' : 's'}`, days < 3 ? 'bad' : days < 21 ? 'warn' : 'ok')
    const problems = [s.reason, s.pendingError, s.portError, s.storeError].filter(Boolean).map((p) => `${p.code}: ${p.message}`)
    $('problems').textContent = problems.join(' · ')
    $('problems').hidden = problems.length === 0
  }

  function renderPacks(packs) {
    const body = $('packs').tBodies[0]
    const rows = packs.map((p) => {
      const tr = el('tr')
      tr.dataset.pack = p.name
      if (p.inUse >= p.limit) tr.classList.add('full')
      if (p.waiting > 0) tr.classList.add('waiting')
      tr.append(el('td', p.name, 'name'), el('td', p.limit, 'num limit'), el('td', p.inUse, 'num in-use'), el('td', Math.max(0, p.limit - p.inUse), 'num available'), el('td', p.waiting, 'num waiting'))
      const bar = el('div', undefined, p.inUse >= p.limit ? 'bar full' : 'bar')
      const fill = el('div')
      fill.style.width = `${p.limit > 0 ? Math.min(100, (100 * p.inUse) / p.limit) : 0}%`
      bar.append(fill)
      const cell = el('td', undefined, 'bar-col')
      cell.append(bar)
      tr.append(cell)
      return tr
    })
    body.replaceChildren(...rows)
    $('no-packs').hidden = packs.length > 0
  }

  function renderPackChoice(packs) {
    const names = packs.map((p) => p.name)
    if (names.join('\n') === state.packs.join('\n')) return
    state.packs = names
    $('pack-select').replaceChildren(...names.map((n) => el('option', n)))
    if (!names.includes(state.pack)) state.pack = names[0]
    if (state.pack !== undefined) $('pack-select').value = state.pack
    void loadCharts()
  }

  async function poll() {
    try {
      const s = await getJson('/api/1.0/status')
      renderServing(s)
      renderLpf(s)
      renderPacks(s.packs || [])
      renderPackChoice(s.packs || [])
      $('updated').textContent = `updated ${new Date().toLocaleTimeString()}`
      document.body.dataset.polls = String(++state.polls)
      markRendered()
    } catch (e) {
      badge($('serving'), 'Server unreachable', 'bad')
      $('updated').textContent = `last try ${new Date().toLocaleTimeString()}`
    } finally {
      setTimeout(poll, REFRESH_MS)
    }
  }

  // ---- charts ----

  function isoDate(ms) {
    return new Date(ms).toISOString().slice(0, 10)
  }

  async function loadCharts() {
    const { range, pack } = state
    if (pack === undefined) return
    const spec = window.FlrCharts.RANGES[range]
    const now = Date.now()
    // whole UTC days from the range's start to tomorrow: the charts cut the periods themselves
    const query = new URLSearchParams({ from: isoDate(now - spec.span * 1000), to: isoDate(now + 86400000), by: spec.by, pack })
    let rows = []
    try {
      if (!state.historyMissing) rows = (await getJson(`/api/1.0/report?${query}`)).rows.filter((r) => r.pack === pack)
      $('history-note').hidden = !state.historyMissing
    } catch (e) {
      // a server without usage history ([OBS-2]): say so once, and stop asking
      if (e.status === 404) state.historyMissing = true
      $('history-note').textContent = e.status === 404 ? 'This server keeps no usage history: the charts are empty.' : `Usage history could not be read (${e.message}).`
      $('history-note').hidden = false
    }
    if (state.range !== range || state.pack !== pack) return // a newer choice is being drawn
    window.FlrCharts.draw(rows, range, now)
    document.body.dataset.charts = String(++state.chartLoads)
    markRendered()
  }

  /** The first time the table and the charts are both drawn: what bench/metrics.ts times. */
  function markRendered() {
    if (state.polls > 0 && state.chartLoads > 0 && performance.getEntriesByName('flr:rendered').length === 0) performance.mark('flr:rendered')
  }

  function setup() {
    for (const button of document.querySelectorAll('#ranges button')) {
      button.addEventListener('click', () => {
        state.range = button.dataset.range
        for (const b of document.querySelectorAll('#ranges button')) b.setAttribute('aria-pressed', String(b === button))
        void loadCharts()
      })
    }
    $('pack-select').addEventListener('change', () => {
      state.pack = $('pack-select').value
      void loadCharts()
    })
    setInterval(() => void loadCharts(), CHART_REFRESH_MS)
    void poll()
  }

  setup()
})()
