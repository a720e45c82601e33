// [OBS-4] The dashboard's two charts, drawn with uPlot (served from the package, no CDN): peak
// seats in use against the limit, and denials by code, per hour or per day, from the report API
// (GET /api/1.0/report, [OBS-3]). A period the report has no row for, or no denial in, is a gap.
'use strict'
;(function () {
  const HOUR = 3600
  const DAY = 86400
  /** day and week: per hour; month: per day */
  const RANGES = {
    day: { span: DAY, step: HOUR, by: 'hour', label: 'per hour, last 24 hours' },
    week: { span: 7 * DAY, step: HOUR, by: 'hour', label: 'per hour, last 7 days' },
    month: { span: 30 * DAY, step: DAY, by: 'day', label: 'per day, last 30 days' },
  }
  /** seats and denials are whole numbers: no tick at 0.25 */
  const WHOLE = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000, 1000000]
  const COLORS = { peak: '#2f6fde', limit: '#98a2b3', exhausted: '#c62828', timeout: '#e08a00' }
  const charts = {}

  /** Every period start (Unix seconds) from now - span to now, UTC-aligned like the report's. */
  function periods(range, nowMs) {
    const { span, step } = RANGES[range]
    const now = Math.floor(nowMs / 1000)
    const last = now - (now % step)
    const xs = []
    for (let t = last - Math.ceil(span / step) * step + step; t <= last; t += step) xs.push(t)
    return xs
  }

  /** The report's rows of one pack laid on the periods: [x, peak, limit] and [x, exhausted, timeout]. */
  function series(rows, range, nowMs) {
    const xs = periods(range, nowMs)
    const at = new Map(xs.map((x, i) => [x, i]))
    const peak = xs.map(() => null)
    const limit = xs.map(() => null)
    // no bar (rather than a flat one) where nobody was turned away
    const exhausted = xs.map(() => null)
    const timeout = xs.map(() => null)
    let total = 0
    for (const row of rows) {
      const i = at.get(Math.floor(Date.parse(row.period) / 1000))
      if (i === undefined) continue
      peak[i] = row.peakInUse
      limit[i] = row.limit
      const denials = row.denials || {}
      exhausted[i] = denials.PACK_EXHAUSTED || null
      timeout[i] = denials.WAIT_TIMEOUT || null
      total += (exhausted[i] || 0) + (timeout[i] || 0)
    }
    // the limit is known for periods without a row too: carry the nearest one
    let known = limit.find((v) => v !== null) ?? null
    for (let i = 0; i < limit.length; i++) known = limit[i] = limit[i] ?? known
    // the end of the last period: a step drawn from a period's start to the next one's, the
    // current period included, instead of a lone point at the right edge
    xs.push(xs[xs.length - 1] + RANGES[range].step)
    peak.push(peak[peak.length - 1])
    limit.push(limit[limit.length - 1])
    exhausted.push(null)
    timeout.push(null)
    return { peak: [xs, peak, limit], denials: [xs, exhausted, timeout], total }
  }

  function sizeOf(el) {
    const width = Math.max(200, Math.floor(el.clientWidth))
    return { width, height: window.innerWidth < 600 ? 160 : 200 }
  }

  const zeroBased = (_u, _min, max) => [0, Math.max(1, Math.ceil((max || 0) * 1.15))]

  function peakOptions(el) {
    return {
      ...sizeOf(el),
      scales: { x: { time: true }, y: { range: zeroBased } },
      axes: [{}, { label: 'seats', size: 50, incrs: WHOLE }],
      series: [
        {},
        { label: 'Peak in use', stroke: COLORS.peak, width: 2, fill: 'rgba(47,111,222,0.15)', paths: uPlot.paths.stepped({ align: 1 }), spanGaps: false },
        { label: 'Limit', stroke: COLORS.limit, width: 1.5, dash: [6, 4], paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } },
      ],
    }
  }

  function denialOptions(el) {
    return {
      ...sizeOf(el),
      scales: { x: { time: true }, y: { range: zeroBased } },
      axes: [{}, { label: 'denials', size: 50, incrs: WHOLE }],
      series: [
        {},
        { label: 'PACK_EXHAUSTED', stroke: COLORS.exhausted, fill: 'rgba(198,40,40,0.6)', paths: uPlot.paths.bars({ size: [0.45, 24], align: -1 }), points: { show: false } },
        { label: 'WAIT_TIMEOUT', stroke: COLORS.timeout, fill: 'rgba(224,138,0,0.6)', paths: uPlot.paths.bars({ size: [0.45, 24], align: 1 }), points: { show: false } },
      ],
    }
  }

  /** Draws (or redraws) one chart in `el`: made once, its data replaced afterwards. */
  function plot(key, el, range, options, data) {
    const chart = charts[key]
    if (chart && chart.range === range) {
      chart.u.setData(data)
      return
    }
    if (chart) chart.u.destroy()
    charts[key] = { u: new uPlot(options, data, el), range, el }
  }

  /** The charts of `rows` (the report's rows of one pack) over `range` ('day', 'week', 'month'). */
  function draw(rows, range, nowMs) {
    const s = series(rows, range, nowMs)
    const peakEl = document.getElementById('peak-chart')
    const denialEl = document.getElementById('denials-chart')
    plot('peak', peakEl, range, peakOptions(peakEl), s.peak)
    plot('denials', denialEl, range, denialOptions(denialEl), s.denials)
    document.getElementById('peak-title').textContent = `Peak in use, ${RANGES[range].label}`
    document.getElementById('denials-title').textContent = `Denials, ${RANGES[range].label} (${s.total} in all)`
  }

  function resize() {
    for (const chart of Object.values(charts)) chart.u.setSize(sizeOf(chart.el))
  }
  let pending
  window.addEventListener('resize', () => {
    clearTimeout(pending)
    pending = setTimeout(resize, 100)
  })

  window.FlrCharts = { RANGES, draw }
})()
