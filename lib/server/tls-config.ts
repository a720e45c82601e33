// [TLS-1] The server's one certificate configuration, shared by the lease port and the HTTPS
// shim: PEM files given by --tls-cert/--tls-key, or `auto` (a self-signed certificate for this
// host kept in the state directory, renewed before it expires). Files replaced on disk are
// picked up without a restart: every listener is handed the new pair (setSecureContext).
import { createSecureContext } from 'node:tls'
import { readFileSync, statSync } from 'node:fs'
import { hostname, networkInterfaces } from 'node:os'
import { join } from 'node:path'
import { FlrError } from '../errors.js'
import { certificateFacts, makeCertificate, type CertificateFacts } from './tls-cert.js'
import { writePrivateFile } from '../util/private-files.js'
import type { Logger } from './logger.js'

/** --tls-cert F --tls-key F, or --tls-cert auto; `checkMs`: how often files are looked at (tests shorten it) */
export type TlsSetting = ({ certFile: string; keyFile: string } | { auto: true }) & { checkMs?: number }

export interface TlsPair {
  cert: string
  key: string
}

/** the files `auto` keeps in the state directory */
export const AUTO_CERT = 'tls-cert.pem'
export const AUTO_KEY = 'tls-key.pem'
/** an `auto` certificate lives a year and is renewed once less than 30 days are left */
const AUTO_DAYS = 365
const RENEW_BEFORE_MS = 30 * 86_400_000
/** how often the files are looked at for a replacement (and `auto` for its renewal) */
export const TLS_CHECK_MS = 5_000
/** TLS 1.2 or newer ([TLS-1]) */
export const MIN_VERSION = 'TLSv1.2'

export interface ServerTlsOptions {
  setting: TlsSetting
  stateDir: string
  log: Logger
  checkMs?: number
}

export class ServerTls {
  private current: TlsPair
  private facts: CertificateFacts
  private stamp: string
  private readonly listeners = new Set<(pair: TlsPair) => void>()
  private timer: NodeJS.Timeout | undefined

  private constructor(private readonly opts: ServerTlsOptions) {
    if ('auto' in opts.setting) ensureAuto(opts.stateDir, opts.log)
    this.stamp = this.fileStamp()
    this.current = this.read()
    this.facts = certificateFacts(this.current.cert)
    this.logFacts('TLS certificate in force')
  }

  /** Loads the certificate (making the `auto` one if need be); throws TLS_CERT_INVALID with what to fix. */
  static open(opts: ServerTlsOptions): ServerTls {
    const tls = new ServerTls(opts)
    tls.timer = setInterval(() => tls.check(), opts.checkMs ?? opts.setting.checkMs ?? TLS_CHECK_MS)
    tls.timer.unref()
    return tls
  }

  get pair(): TlsPair {
    return this.current
  }

  /** [TLS-1] subject, fingerprint and validity, for the log and `status` */
  get certificate(): CertificateFacts {
    return this.facts
  }

  /** Called with the new pair each time the certificate changes. */
  onChange(listener: (pair: TlsPair) => void): void {
    this.listeners.add(listener)
  }

  close(): void {
    clearInterval(this.timer)
  }

  private get files(): { cert: string; key: string } {
    const s = this.opts.setting
    return 'auto' in s ? { cert: join(this.opts.stateDir, AUTO_CERT), key: join(this.opts.stateDir, AUTO_KEY) } : { cert: s.certFile, key: s.keyFile }
  }

  /** A replaced file (or an `auto` certificate near its end) becomes the one in force. */
  check(): void {
    try {
      if ('auto' in this.opts.setting && Date.parse(this.facts.validTo) - Date.now() < RENEW_BEFORE_MS) ensureAuto(this.opts.stateDir, this.opts.log)
      const stamp = this.fileStamp()
      if (stamp === this.stamp) return
      const pair = this.read()
      this.stamp = stamp
      if (pair.cert === this.current.cert && pair.key === this.current.key) return
      this.current = pair
      this.facts = certificateFacts(pair.cert)
      for (const listener of this.listeners) listener(pair)
      this.logFacts('TLS certificate replaced on disk: new connections get the new one')
    } catch (e) {
      // half-written, or a key that does not match yet: the certificate in force stays; tried again next time
      this.opts.log.error({ code: (e as FlrError).code }, `TLS certificate not replaced: ${(e as Error).message}`)
    }
  }

  private fileStamp(): string {
    const { cert, key } = this.files
    return [cert, key].map((f) => {
      try {
        const s = statSync(f)
        return `${s.ino}/${s.size}/${s.mtimeMs}`
      } catch {
        return 'missing'
      }
    }).join('|')
  }

  private read(): TlsPair {
    const { cert: certFile, key: keyFile } = this.files
    let pair: TlsPair
    try {
      pair = { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') }
    } catch (e) {
      throw new FlrError('TLS_CERT_INVALID', `cannot read the TLS certificate or key (${(e as Error).message}): check --tls-cert and --tls-key`)
    }
    try {
      // the pair must make a context: a key that is not the certificate's is refused here, not at the first handshake
      createSecureContext({ ...pair, minVersion: MIN_VERSION })
      certificateFacts(pair.cert)
    } catch (e) {
      throw new FlrError('TLS_CERT_INVALID', `the TLS certificate ${certFile} and key ${keyFile} cannot be used (${(e as Error).message}): give a PEM certificate and its PEM private key`)
    }
    return pair
  }

  private logFacts(msg: string): void {
    const { subject, fingerprint, validTo } = this.facts
    this.opts.log.info({ subject, fingerprint, validTo, certFile: this.files.cert }, `${msg}: SHA-256 fingerprint ${fingerprint} (clients: --tls-fingerprint ${fingerprint})`)
  }
}

/** [TLS-1] `auto`: the state directory's certificate, made when missing, unreadable or within 30 days of its end. */
function ensureAuto(stateDir: string, log: Logger): void {
  const certFile = join(stateDir, AUTO_CERT)
  const keyFile = join(stateDir, AUTO_KEY)
  try {
    const facts = certificateFacts(readFileSync(certFile, 'utf8'))
    readFileSync(keyFile)
    if (Date.parse(facts.validTo) - Date.now() >= RENEW_BEFORE_MS) return
    log.info({ validTo: facts.validTo }, 'the auto TLS certificate ends within 30 days: making a new one')
  } catch {
    // none yet (or damaged): make one
  }
  const host = hostname()
  const made = makeCertificate({ commonName: host, altNames: [...new Set([host, 'localhost', ...localAddresses()])], validDays: AUTO_DAYS })
  // key first: a certificate on disk always has its key
  writePrivateFile(keyFile, made.key)
  writePrivateFile(certFile, made.cert)
  log.info({ certFile, keyFile }, 'made a self-signed TLS certificate for this host (--tls-cert auto)')
}

function localAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address.replace(/%.*$/, '')))
}
