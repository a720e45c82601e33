// TLS test material made in the test ([TLS-1]): a small CA, a server certificate it signs with
// an IP SAN for 127.0.0.1, written as PEM files; and a TLS daemon serving one pack.
import { writeFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { makeCertificate, certificateFacts, type MadeCertificate } from '../../lib/server/tls-cert.js'
import { FlrError } from '../../lib/errors.js'
import { dropLpf, freePort, makeDirs, startDaemon, type TestContext } from '../helpers/server.js'
import type { DaemonConfig } from '../../lib/server/daemon.js'

export interface Pki {
  ca: MadeCertificate
  server: MadeCertificate
  fingerprint: string
  certFile: string
  keyFile: string
  caFile: string
}

export function makePki(dir: string, altNames = ['127.0.0.1', 'localhost']): Pki {
  const ca = makeCertificate({ commonName: 'flr test CA', ca: true, validDays: 30 })
  const server = makeCertificate({ commonName: 'flr test server', altNames, validDays: 30, issuer: ca })
  const pki = { ca, server, fingerprint: certificateFacts(server.cert).fingerprint, certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key'), caFile: join(dir, 'ca.pem') }
  writeFileSync(pki.caFile, ca.cert)
  writeFileSync(pki.certFile, server.cert)
  writeFileSync(pki.keyFile, server.key, { mode: 0o600 })
  return pki
}

/** Replaces a file the way an admin's `mv` does. */
export function replaceFile(path: string, text: string): void {
  writeFileSync(`${path}.new`, text)
  renameSync(`${path}.new`, path)
}

export async function serveTls(t: TestContext, extra: Partial<DaemonConfig> = {}, packs = [{ name: 'station', limit: 5 }]) {
  const dirs = makeDirs(t)
  const pki = makePki(dirs.root)
  const port = await freePort()
  dropLpf(dirs.licenseDir, { port, packs })
  const daemon = await startDaemon(t, dirs, { tls: { certFile: pki.certFile, keyFile: pki.keyFile, checkMs: 200 }, ...extra })
  return { port, dirs, daemon, pki }
}

export async function codeOf(p: Promise<unknown>): Promise<FlrError> {
  try {
    await p
  } catch (e) {
    if (e instanceof FlrError) return e
    throw e
  }
  throw new Error('expected a refusal')
}
