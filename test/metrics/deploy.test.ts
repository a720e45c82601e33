// [OBS-1] The shipped alert rules and Grafana dashboard: promtool accepts the rules, and every
// metric they name exists in a real daemon's scrape (the cluster-only leader metrics are declared
// there, with no sample on a single node). A renamed metric breaks this test, not an admin's pager.
import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, servePacks } from '../helpers/server.js'
import { RawPeer } from '../helpers/wire.js'
import { sampleNames, type Family } from './exposition.js'
import { hasPromtool, NEEDS_PROMTOOL, promtool, scrape } from './scrape.js'

const RULES = join(ROOT, 'deploy/prometheus/flr-alerts.yml')
const GRAFANA = join(ROOT, 'deploy/grafana/flr-dashboard.json')
/** Exist only on the nodes of a cluster ([HA-*]); the metrics' help says so. */
const CLUSTER_ONLY = ['flr_leader', 'flr_leader_term']
/** What Prometheus itself makes for every target. */
const PROMETHEUS_OWN = ['up']
const METRIC = /\b(?:flr|process|nodejs)_[a-z0-9_]+\b|\bup\b(?=\{)/g

/** Every PromQL expression of the rules file (`expr:` lines: the file keeps each on one line). */
function ruleExprs(): string[] {
  return [...readFileSync(RULES, 'utf8').matchAll(/^\s*expr:\s*(.+)$/gm)].map((m) => m[1]!)
}

/** Every expression and query of the Grafana dashboard, wherever it sits in the JSON. */
function grafanaExprs(): string[] {
  const found: string[] = []
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk)
    if (typeof v !== 'object' || v === null) return
    for (const [k, x] of Object.entries(v)) {
      if ((k === 'expr' || k === 'query' || k === 'definition') && typeof x === 'string') found.push(x)
      else walk(x)
    }
  }
  walk(JSON.parse(readFileSync(GRAFANA, 'utf8')))
  return found
}

function namesIn(exprs: string[]): Set<string> {
  return new Set(exprs.flatMap((e) => [...e.matchAll(METRIC)].map((m) => m[0])))
}

/** A scrape with every kind of sample in it: a grant, a denial, a release, a request of each transport. */
async function fullScrape(t: Test): Promise<Map<string, Family>> {
  const { port, daemon } = await servePacks(t, [{ name: 'station', limit: 1 }], { httpPort: 0 })
  const peer = await RawPeer.hello(t, port, 'deploy-client')
  const lease = await peer.call('lease', { pack: 'station', holder: 'alice' })
  await peer.call('lease', { pack: 'station', holder: 'bob' })
  await peer.call('release', { lease: lease.lease })
  await fetch(`http://127.0.0.1:${daemon.httpPort}/api/1.0/health`).then((r) => r.text())
  return (await scrape(daemon.httpPort!)).families
}

t.test('[OBS-1] promtool check rules accepts flr-alerts.yml', { skip: hasPromtool() ? false : NEEDS_PROMTOOL }, async (t) => {
  const { code, output } = await promtool(['check', 'rules', RULES])
  t.equal(code, 0, output.trim())
  t.match(output, /SUCCESS: 9 rules found/)
})

t.test('[OBS-1] the rules cover what an admin pages on: exhaustion, denials, not serving, LPF expiry at 21 and 3 days, leader missing or flapping', async (t) => {
  const text = readFileSync(RULES, 'utf8')
  for (const alert of ['FlrDown', 'FlrNotServing', 'FlrPackNearExhaustion', 'FlrPackExhausted', 'FlrDenials', 'FlrLpfExpiresIn21Days', 'FlrLpfExpiresIn3Days', 'FlrNoLeader', 'FlrLeaderFlapping']) {
    t.match(text, new RegExp(`- alert: ${alert}\\n`), alert)
  }
  t.match(text, /expr: flr_lpf_expiry_timestamp_seconds - time\(\) < 21 \* 86400/)
  t.match(text, /expr: flr_lpf_expiry_timestamp_seconds - time\(\) < 3 \* 86400/)
})

t.test('[OBS-1] every metric the rules and the Grafana dashboard name exists in a real scrape', async (t) => {
  const families = await fullScrape(t)
  const samples = sampleNames(families)
  const rules = namesIn(ruleExprs())
  const grafana = namesIn(grafanaExprs())
  t.ok(rules.size >= 6 && grafana.size >= 12, `the expressions were read (${rules.size} names in the rules, ${grafana.size} in Grafana)`)
  for (const [where, names] of [['flr-alerts.yml', rules], ['flr-dashboard.json', grafana]] as const) {
    for (const name of names) {
      if (PROMETHEUS_OWN.includes(name)) continue
      if (CLUSTER_ONLY.includes(name)) {
        t.ok(families.has(name), `${where}: ${name} is declared (cluster only: no sample on a single node)`)
        t.match(families.get(name)?.help, /cluster/i, `${name}'s help says it is for a cluster`)
      } else t.ok(samples.has(name), `${where}: ${name} is in the scrape`)
    }
  }
})
