// The LicensePlan: what a verified LPF says, read only from the signed content ([LPF-6]).

export interface PackPlan {
  /** [LPF-3] ^[A-Za-z0-9._-]{1,64}$, unique in the file */
  readonly name: string
  /** [LPF-3] 0..1,000,000 */
  readonly limit: number
  /** [LPF-3] the `<licenses>` element as XML text, handed verbatim to holders */
  readonly licenses: string
}

export interface LicensePlan {
  readonly vendor: string
  /** `YYYY-MM-DD` or null when absent */
  readonly generated: string | null
  /** as written: `YYYY-MM-DD`, an ISO 8601 UTC timestamp, or `never` ([LPF-1]) */
  readonly expiration: string
  /** the instant the LPF stops being valid, epoch ms; null for `never` */
  readonly expiresAt: number | null
  readonly hostId: string
  readonly port: number
  readonly packs: readonly PackPlan[]
  /** SHA-256 (hex) of the file's bytes: tells a changed file from a re-saved one */
  readonly digest: string
}
