// [TLS-2] How every client command verifies a TLS server: --tls-ca F / FLR_TLS_CA (that CA),
// --tls-fingerprint / FLR_TLS_FINGERPRINT (exactly that certificate, in the form flr serve
// prints it), or --tls alone (the system's CAs). None of them: plain TCP. A flag wins over
// its variable. There is no option to skip verification.
import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { CommandFailed } from './io.js'
import { normalizeFingerprint, type TlsClientOptions } from '../client/transport.js'
import { isFlrError } from '../errors.js'

export interface TlsFlags {
  tls?: boolean
  tlsCa?: string
  tlsFingerprint?: string
}

export function tlsOptions(command: Command): Command {
  return command
    .option('--tls', "connect over TLS, verifying the server by the system's CAs (implied by --tls-ca and --tls-fingerprint)")
    .option('--tls-ca <file>', 'connect over TLS, trusting the CA in this PEM file (default: FLR_TLS_CA)')
    .option('--tls-fingerprint <sha256>', "connect over TLS, trusting exactly the certificate with this SHA-256 fingerprint, as flr serve logs it (default: FLR_TLS_FINGERPRINT)")
}

/** The client library's TLS options for these flags and environment; undefined: plain TCP. */
export function tlsFrom(flags: TlsFlags, env: NodeJS.ProcessEnv): TlsClientOptions | undefined {
  const caFile = flags.tlsCa ?? nonEmpty(env.FLR_TLS_CA)
  const fingerprint = flags.tlsFingerprint ?? nonEmpty(env.FLR_TLS_FINGERPRINT)
  if (caFile === undefined && fingerprint === undefined) return flags.tls ? {} : undefined
  const out: TlsClientOptions = {}
  if (fingerprint !== undefined) {
    try {
      normalizeFingerprint(fingerprint)
    } catch (e) {
      throw isFlrError(e) ? new CommandFailed(`--tls-fingerprint: ${e.message}`, 2) : e
    }
    out.fingerprint = fingerprint
  }
  if (caFile !== undefined) {
    try {
      out.ca = readFileSync(caFile)
    } catch (e) {
      throw new CommandFailed(`--tls-ca: cannot read ${caFile} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 2)
    }
  }
  return out
}

/** The site's client token for hello (docs/security.md), from FLR_CLIENT_TOKEN. */
export function clientToken(env: NodeJS.ProcessEnv): { token?: string } {
  const token = nonEmpty(env.FLR_CLIENT_TOKEN)
  return token === undefined ? {} : { token }
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v
}
