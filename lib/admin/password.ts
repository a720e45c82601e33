// The admin password: its rules ([ADM-1]) and its salted scrypt hash in the state directory ([ADM-2]).
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { FlrError } from '../errors.js'

export const PASSWORD_FILE = 'admin-password.json'

/** What the state directory holds: parameters, salt and hash, never the password ([ADM-2]). */
export interface PasswordFile {
  algo: 'scrypt'
  N: number
  r: number
  p: number
  /** base64 */
  salt: string
  /** base64 */
  hash: string
}

export type PasswordCheck = 'ok' | 'wrong' | 'not-set'

// OWASP's scrypt floor (2^17, 8, 1): about 0.4 s and 128 MiB per hash on the reference machine.
// Parameters are stored with the hash, so raising them later keeps old files verifiable.
const NEW_PARAMS = { N: 2 ** 17, r: 8, p: 1 }
const KEY_BYTES = 32
const SALT_BYTES = 16
// A file asking for more than this is damaged or hostile: never let it make us allocate gigabytes.
const MAX_N = 2 ** 20
const MAX_R = 16
const MAX_P = 4

const RULES: { test: (pw: string) => boolean; rule: string }[] = [
  { test: (pw) => [...pw].length >= 8, rule: 'at least 8 characters' },
  { test: (pw) => [...pw].length <= 30, rule: 'at most 30 characters' },
  { test: (pw) => /\p{Ll}/u.test(pw), rule: 'at least one lowercase letter' },
  { test: (pw) => /\p{Lu}/u.test(pw), rule: 'at least one uppercase letter' },
  { test: (pw) => /\p{Nd}/u.test(pw), rule: 'at least one digit' },
  { test: (pw) => /[^\p{L}\p{M}\p{N}\s\p{Cc}'"\\]/u.test(pw), rule: 'at least one symbol (such as ! # % + - . : = ? @ _)' },
  { test: (pw) => !/['"\\]/.test(pw), rule: 'no \' " or \\' },
  // a space is the spec's rule; other blanks and control characters cannot be typed at a prompt reliably
  { test: (pw) => !/[\s\p{Cc}]/u.test(pw), rule: 'no space, tab or control character' },
]

/** [ADM-1] Throws PASSWORD_RULES naming every rule the password breaks. */
export function checkPasswordRules(pw: string): void {
  const broken = RULES.filter((r) => !r.test(pw)).map((r) => r.rule)
  if (broken.length > 0) {
    throw new FlrError('PASSWORD_RULES', `the password must have ${broken.join('; ')}`, { rules: broken })
  }
}

/** [ADM-1] [ADM-2] Checks the rules, then replaces the stored hash atomically (file mode 0600). */
export async function setPassword(stateDir: string, newPw: string): Promise<void> {
  checkPasswordRules(newPw)
  const salt = randomBytes(SALT_BYTES)
  const hash = await scrypt(newPw, salt, KEY_BYTES, NEW_PARAMS)
  const file: PasswordFile = { algo: 'scrypt', ...NEW_PARAMS, salt: salt.toString('base64'), hash: hash.toString('base64') }
  await mkdir(stateDir, { recursive: true, mode: 0o700 })
  await writeAtomically(join(stateDir, PASSWORD_FILE), JSON.stringify(file) + '\n')
}

/**
 * [ADM-2] Reads the file on every call, so a password set while the server runs is in force at the next
 * check. A damaged file fails closed with ADMIN_PASSWORD_NOT_SET and says how to recover.
 */
export async function verifyPassword(stateDir: string, pw: string): Promise<PasswordCheck> {
  const stored = await readPasswordFile(stateDir)
  if (stored === undefined) return 'not-set'
  const expected = Buffer.from(stored.hash, 'base64')
  const actual = await scrypt(pw, Buffer.from(stored.salt, 'base64'), expected.length, stored)
  return timingSafeEqual(actual, expected) ? 'ok' : 'wrong'
}

/** Whether a password is set (and readable); for `flr set-password`, which then asks for it. */
export async function isPasswordSet(stateDir: string): Promise<boolean> {
  return (await readPasswordFile(stateDir)) !== undefined
}

async function readPasswordFile(stateDir: string): Promise<PasswordFile | undefined> {
  const path = join(stateDir, PASSWORD_FILE)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
  const parsed = parsePasswordFile(text)
  if (parsed === undefined) {
    throw new FlrError(
      'ADMIN_PASSWORD_NOT_SET',
      `the admin password file ${path} is damaged: delete it and run flr set-password on the server host`,
    )
  }
  return parsed
}

function parsePasswordFile(text: string): PasswordFile | undefined {
  let v: Partial<PasswordFile>
  try {
    v = JSON.parse(text) as Partial<PasswordFile>
  } catch {
    return undefined
  }
  const ok =
    typeof v === 'object' && v !== null &&
    v.algo === 'scrypt' &&
    isPowerOfTwo(v.N) && v.N <= MAX_N &&
    Number.isInteger(v.r) && v.r! >= 1 && v.r! <= MAX_R &&
    Number.isInteger(v.p) && v.p! >= 1 && v.p! <= MAX_P &&
    isBase64(v.salt, 8) && isBase64(v.hash, 16)
  return ok ? (v as PasswordFile) : undefined
}

function isPowerOfTwo(n: unknown): n is number {
  return Number.isInteger(n) && (n as number) >= 2 && ((n as number) & ((n as number) - 1)) === 0
}

function isBase64(s: unknown, minBytes: number): s is string {
  return typeof s === 'string' && /^[A-Za-z0-9+/]+={0,2}$/.test(s) && Buffer.from(s, 'base64').length >= minBytes
}

function scrypt(pw: string, salt: Buffer, keylen: number, params: { N: number; r: number; p: number }): Promise<Buffer> {
  // NFC: the same password typed on two terminals that compose accents differently is the same password
  const opts: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 }
  return new Promise((resolve, reject) => {
    scryptCb(pw.normalize('NFC'), salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key)))
  })
}

/** Write to a 0600 temporary file, sync, rename over: a crash leaves the old file or the new one, never half. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  const fh = await open(tmp, 'w', 0o600)
  try {
    await fh.chmod(0o600) // the umask could only narrow it; an old leftover .tmp could be wider
    await fh.writeFile(text)
    await fh.sync()
  } catch (e) {
    await fh.close()
    await unlink(tmp).catch(() => {})
    throw e
  }
  await fh.close()
  await rename(tmp, path)
  const dir = await open(join(path, '..'), 'r')
  try {
    await dir.sync()
  } finally {
    await dir.close()
  }
}
