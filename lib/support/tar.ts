// A minimal ustar writer: enough for a support bundle of a few regular files, without a dependency.
import { gzipSync } from 'node:zlib'

export interface TarEntry {
  name: string
  data: Buffer
  mtime?: Date
}

const BLOCK = 512

export function tarGz(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = []
  for (const e of entries) {
    parts.push(header(e), e.data, Buffer.alloc((BLOCK - (e.data.length % BLOCK)) % BLOCK))
  }
  parts.push(Buffer.alloc(2 * BLOCK))
  return gzipSync(Buffer.concat(parts))
}

function header(e: TarEntry): Buffer {
  if (Buffer.byteLength(e.name) > 99) throw new Error(`tar entry name too long: ${e.name}`)
  const h = Buffer.alloc(BLOCK)
  const field = (offset: number, length: number, value: string) => h.write(value, offset, length, 'utf8')
  const octal = (offset: number, length: number, n: number) => field(offset, length, n.toString(8).padStart(length - 1, '0') + '\0')
  field(0, 100, e.name)
  octal(100, 8, 0o644)
  octal(108, 8, 0)
  octal(116, 8, 0)
  octal(124, 12, e.data.length)
  octal(136, 12, Math.floor((e.mtime ?? new Date()).getTime() / 1000))
  field(148, 8, '        ')
  field(156, 1, '0')
  field(257, 6, 'ustar\0')
  field(263, 2, '00')
  let sum = 0
  for (const byte of h) sum += byte
  field(148, 8, sum.toString(8).padStart(6, '0') + '\0 ')
  return h
}
