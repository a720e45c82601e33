// A LeaseStore whose writes become durable when the test says so, recording every call.

import type { LeaseRecord, LeaseStore } from '../../lib/engine/types.js'

export interface StoreCall {
  readonly op: 'put' | 'remove'
  readonly lease: string
  readonly record?: LeaseRecord
  state: 'pending' | 'durable' | 'failed'
  resolve(): void
  fail(error: Error): void
}

export class ManualStore implements LeaseStore {
  readonly calls: StoreCall[] = []
  /** what the store holds if it applies writes in call order, as the engine relies on */
  readonly held = new Map<string, LeaseRecord>()
  /** runs synchronously inside each call, after `held` is updated */
  onCall: (call: StoreCall) => void = () => {}
  /** [LEASE-10] while set, the store says it cannot write (what LmdbLeaseStore.unavailable() does) */
  down: Error | undefined

  unavailable(): Error | undefined {
    return this.down
  }

  /** `auto`: every write is durable at once (the answer still comes in a later microtask). */
  constructor(private readonly auto = false) {}

  put(given: LeaseRecord): Promise<void> {
    // what a real store writes: the record's fields at the time of the call, nothing else
    const { lease, pack, holder, client, address, grantedAt } = given
    const record = { lease, pack, holder, client, address, grantedAt }
    this.held.set(lease, record)
    return this.call('put', lease, record)
  }

  remove(lease: string): Promise<void> {
    this.held.delete(lease)
    return this.call('remove', lease)
  }

  /** e.g. ['put L1', 'remove L1', 'put L2'] */
  log(): string[] {
    return this.calls.map((call) => `${call.op} ${call.lease}`)
  }

  pending(): StoreCall[] {
    return this.calls.filter((call) => call.state === 'pending')
  }

  resolveAll(): void {
    for (const call of this.pending()) call.resolve()
  }

  heldIn(pack: string): LeaseRecord[] {
    return [...this.held.values()].filter((record) => record.pack === pack)
  }

  private call(op: 'put' | 'remove', lease: string, record?: LeaseRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const call: StoreCall = {
        op,
        lease,
        record,
        state: 'pending',
        resolve: () => {
          if (call.state !== 'pending') return
          call.state = 'durable'
          resolve()
        },
        fail: (error) => {
          if (call.state !== 'pending') return
          call.state = 'failed'
          reject(error)
        },
      }
      this.calls.push(call)
      this.onCall(call)
      if (this.auto) call.resolve()
    })
  }
}
