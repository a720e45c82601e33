// The HTTP shim's plumbing for one exchange: reading a /request body (16 KiB at most, JSON in
// strict UTF-8, [HTTP-2]) and sending an answer. Split from http.ts (issue 12) so the routes
// read apart from the byte handling; nothing here knows the engine or a route.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { FlrError } from '../errors.js'

export const MAX_BODY_BYTES = 16 * 1024

/** One answer of the shim: a status, a JSON body if any, and the Allow header of a 405. */
export interface Reply {
  status: number
  body?: unknown
  allow?: string
  /** a body that is not JSON (text/csv, [OBS-3]): sent as it is, with its content type */
  raw?: { type: string; text: string }
}

/**
 * UTF-8 strictly: Buffer#toString would turn bad bytes into U+FFFD, so two different byte strings
 * would name the same holder, and an agent's bug would take a seat under a name it never sent.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true })

export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  checkContentType(req.headers['content-type'])
  const body = await readBody(req)
  let text: string
  try {
    text = UTF8.decode(body)
  } catch {
    throw new FlrError('BAD_REQUEST', 'the body is not valid UTF-8: send JSON encoded as UTF-8')
  }
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new FlrError('BAD_REQUEST', 'the body is not valid JSON')
  }
}

function checkContentType(header: string | undefined): void {
  const [type = '', ...params] = (header ?? '').toLowerCase().split(';').map((s) => s.trim())
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '')
  if (type !== 'application/json' || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
    throw new FlrError('UNSUPPORTED_MEDIA_TYPE', `send Content-Type: application/json (got ${header === undefined ? 'none' : JSON.stringify(header)})`)
  }
}

/** The body up to 16 KiB; beyond that it stops reading at once and keeps nothing more. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > MAX_BODY_BYTES) return Promise.reject(tooLarge())
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk)
      done()
      req.pause()
      reject(tooLarge())
    }
    const onEnd = () => {
      done()
      resolve(Buffer.concat(chunks, size))
    }
    const onAborted = () => {
      done()
      reject(new FlrError('BAD_REQUEST', 'the request body ended early'))
    }
    const done = () => {
      req.off('data', onData).off('end', onEnd).off('error', onAborted).off('close', onAborted)
    }
    // 'close' before 'end': the client went away mid-body; without it the promise would hang
    req.on('data', onData).on('end', onEnd).on('error', onAborted).on('close', onAborted)
  })
}

function tooLarge(): FlrError {
  return new FlrError('BODY_TOO_LARGE', `the body is over ${MAX_BODY_BYTES} bytes; a /request body is a small JSON object`)
}

export function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return
  const text = reply.raw ? reply.raw.text : reply.body === undefined ? undefined : JSON.stringify(reply.body)
  const headers: Record<string, string | number> = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }
  if (text !== undefined) {
    headers['content-type'] = reply.raw?.type ?? 'application/json; charset=utf-8'
    headers['content-length'] = Buffer.byteLength(text)
  }
  if (reply.allow !== undefined) headers.allow = reply.allow
  // a body left unread (too large, wrong type, wrong route) is not read to its end to keep the
  // connection: the connection is closed instead
  if (hasBody(req) && !req.complete) headers.connection = 'close'
  res.writeHead(reply.status, headers)
  res.end(text)
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0
}
