import t from 'tap'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { checkPasswordRules, isPasswordSet, PASSWORD_FILE, setPassword, verifyPassword } from '../../lib/admin/password.js'
import { FlrError } from '../../lib/errors.js'

const GOOD = 'Corr3ct-Horse'

function brokenRules(pw: string): string[] {
  try {
    checkPasswordRules(pw)
    return []
  } catch (e) {
    if (!(e instanceof FlrError) || e.code !== 'PASSWORD_RULES') throw e
    return e.details.rules as string[]
  }
}

t.test('[ADM-1] passwords that meet every rule are accepted', async (t) => {
  for (const pw of ['Abcdef1!', 'a'.repeat(26) + 'B2#x', 'Zz9_zzzz', 'Ünïcödé1!', 'P@ssw0rd-with.dots']) {
    t.same(brokenRules(pw), [], JSON.stringify(pw))
  }
})

t.test('[ADM-1] each rule is enforced and named in the message', async (t) => {
  const table: [string, RegExp][] = [
    ['Ab1!xyz', /at least 8 characters/],
    ['Ab1!' + 'x'.repeat(27), /at most 30 characters/],
    ['ABCDEF1!', /lowercase/],
    ['abcdef1!', /uppercase/],
    ['Abcdefg!', /digit/],
    ['Abcdefg1', /symbol/],
    ["Abcdef1!'", /no ' " or \\/],
    ['Abcdef1!"', /no ' " or \\/],
    ['Abcdef1!\\', /no ' " or \\/],
    ['Abc def1!', /no space/],
    ['Abc\tdef1!', /no space, tab/],
  ]
  for (const [pw, rule] of table) {
    const e = t.throws(() => checkPasswordRules(pw), JSON.stringify(pw)) as FlrError
    t.equal(e.code, 'PASSWORD_RULES')
    t.match(e.message, rule, JSON.stringify(pw))
    t.notMatch(e.message, pw, 'the message never repeats the password')
  }
})

t.test('[ADM-1] a quote is not a symbol: a password whose only symbol is forbidden breaks both rules', async (t) => {
  t.same(brokenRules("Abcdefg1'"), ['at least one symbol (such as ! # % + - . : = ? @ _)', 'no \' " or \\'])
})

t.test('[ADM-1] every broken rule is listed at once', async (t) => {
  const rules = brokenRules('abc')
  t.equal(rules.length, 4)
  t.match(rules.join('\n'), /at least 8 characters[\s\S]*uppercase[\s\S]*digit[\s\S]*symbol/)
})

t.test('[ADM-2] the password is stored as a salted scrypt hash in a 0600 file, never in clear', async (t) => {
  const dir = t.testdir()
  t.equal(await isPasswordSet(dir), false)
  await setPassword(dir, GOOD)
  const path = join(dir, PASSWORD_FILE)
  t.equal((await stat(path)).mode & 0o777, 0o600)
  const text = await readFile(path, 'utf8')
  t.notMatch(text, GOOD)
  const file = JSON.parse(text)
  t.same(Object.keys(file).sort(), ['N', 'algo', 'hash', 'p', 'r', 'salt'])
  t.equal(file.algo, 'scrypt')
  t.ok(file.N >= 2 ** 17, 'scrypt cost at OWASP floor or above')
  t.equal(Buffer.from(file.salt, 'base64').length, 16)
  t.equal(Buffer.from(file.hash, 'base64').length, 32)
  t.equal(await isPasswordSet(dir), true)

  await setPassword(dir, GOOD)
  const again = JSON.parse(await readFile(path, 'utf8'))
  t.not(again.salt, file.salt, 'a fresh salt each time')
  t.not(again.hash, file.hash, 'so the same password hashes differently')
})

t.test('[ADM-2] verifyPassword: ok, wrong, not-set', async (t) => {
  const dir = t.testdir()
  t.equal(await verifyPassword(dir, GOOD), 'not-set')
  await setPassword(dir, GOOD)
  t.equal(await verifyPassword(dir, GOOD), 'ok')
  t.equal(await verifyPassword(dir, GOOD.toLowerCase()), 'wrong')
  t.equal(await verifyPassword(dir, ''), 'wrong')
})

t.test('[ADM-2] a new password is in force at the next check (the file is read each time)', async (t) => {
  const dir = t.testdir()
  await setPassword(dir, GOOD)
  t.equal(await verifyPassword(dir, GOOD), 'ok')
  await setPassword(dir, 'N3w+Secret')
  t.equal(await verifyPassword(dir, GOOD), 'wrong')
  t.equal(await verifyPassword(dir, 'N3w+Secret'), 'ok')
})

t.test('[ADM-1] setPassword refuses a password that breaks a rule and keeps the old one', async (t) => {
  const dir = t.testdir()
  await setPassword(dir, GOOD)
  await t.rejects(setPassword(dir, 'short'), { code: 'PASSWORD_RULES' })
  t.equal(await verifyPassword(dir, GOOD), 'ok')
})

t.test('[ADM-2] setPassword creates a missing state directory', async (t) => {
  const dir = join(t.testdir(), 'state', 'nested')
  await setPassword(dir, GOOD)
  t.equal(await verifyPassword(dir, GOOD), 'ok')
})

t.test('[ADM-2] a damaged or hostile password file fails closed and says how to recover', async (t) => {
  const valid = { algo: 'scrypt', N: 16384, r: 8, p: 1, salt: Buffer.alloc(16, 1).toString('base64'), hash: Buffer.alloc(32, 2).toString('base64') }
  const cases: [string, string][] = [
    ['not JSON', '{oops'],
    ['other algorithm', JSON.stringify({ ...valid, algo: 'md5' })],
    ['N not a power of two', JSON.stringify({ ...valid, N: 1000 })],
    ['N asking for gigabytes', JSON.stringify({ ...valid, N: 2 ** 30 })],
    ['missing hash', JSON.stringify({ ...valid, hash: undefined })],
    ['JSON null', 'null'],
  ]
  for (const [name, text] of cases) {
    const dir = t.testdir()
    await writeFile(join(dir, PASSWORD_FILE), text)
    await t.rejects(verifyPassword(dir, GOOD), { code: 'ADMIN_PASSWORD_NOT_SET', message: /damaged: delete it and run flr set-password/ }, name)
  }
})

t.test('[ADM-2] a file written with other scrypt parameters still verifies', async (t) => {
  // parameters travel with the hash, so a later raise of the cost keeps old files valid
  const { scryptSync } = await import('node:crypto')
  const dir = t.testdir()
  const salt = Buffer.alloc(16, 7)
  const hash = scryptSync(GOOD, salt, 32, { N: 16384, r: 8, p: 1 })
  await writeFile(join(dir, PASSWORD_FILE), JSON.stringify({ algo: 'scrypt', N: 16384, r: 8, p: 1, salt: salt.toString('base64'), hash: hash.toString('base64') }))
  t.equal(await verifyPassword(dir, GOOD), 'ok')
  t.equal(await verifyPassword(dir, 'Wrong-Pass1'), 'wrong')
})
