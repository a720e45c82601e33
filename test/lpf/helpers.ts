// Shared by test/lpf and the LPF commands' tests in test/cli: fixture paths, keys, an in-process CLI.
import { createPublicKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ErrorCode } from '../../lib/errors.js'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const FIXTURES = join(ROOT, 'fixtures')
export const KEYS = join(FIXTURES, 'keys')
export const VALID_DIR = join(FIXTURES, 'lpf', 'valid')
export const HOSTILE_DIR = join(FIXTURES, 'lpf', 'hostile')
export const TEST_HOST = 'Lnx-TEST-TEST-TEST-TEST'
/** a fixed "now" between the fixtures' expired (≤ 2024) and valid (2099) dates */
export const NOW = Date.UTC(2026, 10, 22, 12, 0, 0)

export const VENDOR_KEY_PEM = readFileSync(join(KEYS, 'vendor.key.pem'), 'utf8')
export const VENDOR_PUB_PATH = join(KEYS, 'vendor.pub.pem')
export const OTHER_PUB_PATH = join(KEYS, 'other.pub.pem')
export const vendorPub: KeyObject = createPublicKey(readFileSync(VENDOR_PUB_PATH, 'utf8'))
export const otherPub: KeyObject = createPublicKey(readFileSync(OTHER_PUB_PATH, 'utf8'))

export interface HostileCase {
  file: string
  code: ErrorCode
  why: string
}

export interface ValidCase {
  file: string
  why: string
}

export const hostileCases: HostileCase[] = JSON.parse(readFileSync(join(HOSTILE_DIR, 'manifest.json'), 'utf8'))
export const validCases: ValidCase[] = JSON.parse(readFileSync(join(VALID_DIR, 'manifest.json'), 'utf8'))

export function hostile(file: string): Buffer {
  return readFileSync(join(HOSTILE_DIR, file))
}

export function valid(file: string): Buffer {
  return readFileSync(join(VALID_DIR, file))
}

export { terminal, type Terminal } from '../helpers/terminal.js'
