// How a client reaches a server: the socket under a Channel. One seam, so that the way a
// connection is made (plain TCP, or TLS verified by a CA or a pinned fingerprint, [TLS-2])
// is decided in one place, apart from framing and failover.
import { connect, isIP, type Socket } from 'node:net'
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate, type TLSSocket } from 'node:tls'
import { FlrError } from '../errors.js'

/**
 * [TLS-2] How the server is verified. `ca` (PEM) trusts that CA; `fingerprint` trusts exactly
 * the certificate with that SHA-256 fingerprint (as the server prints it, AB:CD:…; case and
 * colons do not matter); neither: the system's CAs. No option turns verification off.
 */
export interface TlsClientOptions {
  ca?: string | Buffer
  fingerprint?: string
}

export interface TransportOptions {
  host: string
  port: number
  /** how long the connection (and any handshake) may take */
  timeoutMs: number
  /** [TLS-2] TLS with verification; plain TCP when absent */
  tls?: TlsClientOptions
}

/** Opens a connected (and, with `tls`, verified) socket, or rejects CONNECTION_LOST / TLS_UNTRUSTED saying what to do. */
export function openTransport(opts: TransportOptions): Promise<Socket> {
  const { host, port, timeoutMs, tls } = opts
  const pin = tls?.fingerprint === undefined ? undefined : normalizeFingerprint(tls.fingerprint)
  return new Promise((resolve, reject) => {
    // verification is done below, once the handshake is over and before anything is written:
    // so a refusal can name the certificate the server showed ([TLS-2])
    const socket: Socket = tls
      ? tlsConnect({ host, port, ca: tls.ca, rejectUnauthorized: false, minVersion: 'TLSv1.2', ...(isIP(host) ? {} : { servername: host }) }).setNoDelay(true)
      : connect({ host, port, noDelay: true })
    const timer = setTimeout(() => socket.destroy(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs)
    socket.once('error', (err) => {
      clearTimeout(timer)
      if (isFlrError(err)) return reject(err)
      // [SRV-1] the lease port is the LPF's and is bound only while an LPF is loaded: say so
      const why = (err as NodeJS.ErrnoException).code ?? err.message
      const tlsHint = tls ? '; with TLS, check that the server was started with --tls-cert (a plaintext server ends a TLS handshake)' : ''
      reject(new FlrError('CONNECTION_LOST', `cannot reach flr at ${host}:${port} (${why}): check that flr serve runs there with a valid LPF whose port is ${port}${tlsHint}`))
    })
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer)
      const refusal = tls ? verify(socket as TLSSocket, host, port, pin) : undefined
      if (refusal) {
        socket.removeAllListeners('error')
        socket.on('error', () => {})
        socket.destroy()
        return reject(refusal)
      }
      socket.removeAllListeners('error')
      resolve(socket)
    })
  })
}

function isFlrError(e: unknown): e is FlrError {
  return e instanceof FlrError
}

/** The SHA-256 fingerprint in one form: 64 lowercase hex digits. Throws USAGE if it is not one. */
export function normalizeFingerprint(text: string): string {
  const hex = text.trim().replace(/^sha-?256[:=\s]*/i, '').replace(/[:\s-]/g, '').toLowerCase()
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new FlrError('USAGE', `"${text}" is not a SHA-256 fingerprint: give the 64 hex digits the server logs and shows in flr status (AB:CD:… as printed)`)
  }
  return hex
}

/** [TLS-2] undefined when the server is trusted; otherwise the TLS_UNTRUSTED to reject with. */
function verify(socket: TLSSocket, host: string, port: number, pin: string | undefined): FlrError | undefined {
  const cert = socket.getPeerCertificate()
  const shown = cert?.fingerprint256 ?? '(none)'
  const trust = `to trust this certificate, run with --tls-fingerprint ${shown} (or FLR_TLS_FINGERPRINT), after checking that it is the one flr serve logs on ${host}`
  if (pin !== undefined) {
    if (cert?.fingerprint256 && normalizeFingerprint(cert.fingerprint256) === pin) return undefined
    return new FlrError('TLS_UNTRUSTED', `the server at ${host}:${port} showed a certificate with SHA-256 fingerprint ${shown}, not the pinned one; ${trust}`, { fingerprint: shown })
  }
  // Node checks the name as part of `authorized`; a CA-signed certificate for another name is told apart
  const mismatch = socket.authorized || String(socket.authorizationError) === 'ERR_TLS_CERT_ALTNAME_INVALID' ? checkServerIdentity(host, cert as PeerCertificate) : undefined
  if (mismatch) {
    return new FlrError('TLS_UNTRUSTED', `the server's certificate is not for ${host} (${mismatch.message}; fingerprint ${shown}): connect by a name or address the certificate lists, or ${trust}`, { fingerprint: shown })
  }
  if (!socket.authorized) {
    const why = String(socket.authorizationError ?? 'unverified')
    return new FlrError('TLS_UNTRUSTED', `the server at ${host}:${port} showed a certificate that its CA does not vouch for (${why}; fingerprint ${shown}): give the CA that signed it with --tls-ca FILE (or FLR_TLS_CA), or ${trust}`, { fingerprint: shown, reason: why })
  }
  return undefined
}
