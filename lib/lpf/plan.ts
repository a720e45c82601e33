// The LicensePlan: what a verified LPF says, read only from the signed content ([LPF-6]).

export interface PackPlan {
  /** [LPF-3] ^[A-Za-z0-9._-]{1,64}$, unique in the file */
  readonly name: string
  /** [LPF-3] 0..1,000,000 */
  readonly limit: number
  /** [LPF-3] the `<licenses>` element as XML text, handed verbatim to holders */
  readonly licenses: string
}

/** [LPF-2] [HA-2] one `<flr hostId port/>`: a host that may serve the LPF, and the port it binds */
export interface HostPlan {
  readonly hostId: string
  readonly port: number
}

export interface LicensePlan {
  readonly vendor: string
  /** `YYYY-MM-DD` or null when absent */
  readonly generated: string | null
  /** as written: `YYYY-MM-DD`, an ISO 8601 UTC timestamp, or `never` ([LPF-1]) */
  readonly expiration: string
  /** the instant the LPF stops being valid, epoch ms; null for `never` */
  readonly expiresAt: number | null
  /**
   * [LPF-7] this server's host id; the main (first) host's when the file was loaded without a
   * host to check (flr sign, flr inspect)
   */
  readonly hostId: string
  /** [LPF-2] [HA-2] the port of that host's `<flr>` element */
  readonly port: number
  /** [LPF-2] [HA-2] every `<flr>` in file order: one for a plain LPF, 2–5 for a cluster LPF; the first is the main */
  readonly hosts: readonly HostPlan[]
  /** [LPF-2] the longest grace period the vendor allows, ms (`grace`; 7 days when absent, at most 30) */
  readonly grace: number
  readonly packs: readonly PackPlan[]
  /** SHA-256 (hex) of the file's bytes: tells a changed file from a re-saved one */
  readonly digest: string
}
