// [HA-6] Leases held through the client library (lib/client) while the cluster fails over under
// it: the library is given every node, follows NOT_LEADER and moving, and renews by id on the new
// leader. What it must never do: report a lease not `usable`, or emit `lost` (or `revoked`).
import type { Test } from 'tap'
import { FlrClient, type Lease } from '../../lib/client/client.js'
import type { Cluster } from './cluster-harness.js'

export class LibraryHolders {
  readonly events: string[] = []
  private readonly leases: Lease[] = []
  private readonly clients: FlrClient[] = []
  private sampler: NodeJS.Timeout | undefined
  samples = 0
  unusable = 0
  renewals = 0

  private constructor() {}

  /** `count` leases of `pack`, each by a client of its own given every node's address. */
  static async hold(t: Test, cluster: Cluster, pack: string, count: number): Promise<LibraryHolders> {
    const holders = new LibraryHolders()
    t.teardown(() => holders.close())
    const servers = cluster.nodes.map((n) => n.address)
    for (let i = 0; i < count; i++) {
      const client = await FlrClient.connect({
        servers,
        client: `lib-${i}`,
        requestTimeoutMs: 2_000,
        pingIntervalMs: 500,
        connectTimeoutMs: 1_000,
        backoffMinMs: 20,
        backoffMaxMs: 300,
      })
      holders.clients.push(client)
      const lease = await client.lease(pack)
      lease.on('lost', (e: unknown) => holders.events.push(`lost ${lease.id}: ${(e as Error).message}`))
      lease.on('revoked', (r: unknown) => holders.events.push(`revoked ${lease.id}: ${String(r)}`))
      lease.on('renewed', () => holders.renewals++)
      holders.leases.push(lease)
    }
    holders.sampler = setInterval(() => {
      for (const lease of holders.leases) {
        holders.samples++
        if (!lease.usable) holders.unusable++
      }
    }, 25)
    return holders
  }

  get ids(): string[] {
    return this.leases.map((l) => l.id)
  }

  /** What went wrong, if anything: every lease usable at every sample, none lost or revoked. */
  problems(): string[] {
    const problems = [...this.events]
    if (this.unusable > 0) problems.push(`[HA-6] a library lease was not usable at ${this.unusable} of ${this.samples} samples`)
    return problems
  }

  close(): void {
    clearInterval(this.sampler)
    for (const c of this.clients) c.close()
  }
}
