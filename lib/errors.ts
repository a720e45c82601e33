// The one registry of error codes (fastify style). Every code the server can send or a
// command can print is here with the sentence a person reads; test/errors.test.ts checks
// that each one is documented in docs/errors.md and that docs/errors.md documents no other.

export const ERRORS = {
  // [LPF-8] rejections of a License Pack File
  LPF_MALFORMED: 'the license pack file is not a well-formed LPF',
  LPF_TOO_LARGE: 'the license pack file is larger than 4 MiB',
  LPF_SIGNATURE_INVALID: 'the license pack file signature does not verify',
  LPF_UNTRUSTED_KEY: 'the license pack file is not signed by a configured vendor key',
  LPF_WRONG_HOST: 'the license pack file is issued for another host',
  LPF_EXPIRED: 'the license pack file has expired',
  // [HA-2] a cluster LPF needs a store its nodes share
  LPF_NEEDS_SHARED_STORE: 'a cluster license pack file is served only with a shared store (--store postgres://…)',
  // [SRV-1] [SRV-3] status reasons (not rejections of a file)
  LPF_MISSING: 'there is no license pack file for this host in the license directory',
  // [WIRE-3] faults that end a connection
  FRAME_TOO_LARGE: 'frame length over 65,536 bytes',
  BAD_FRAME: 'frame is not one MessagePack map',
  // [WIRE-3] [WIRE-4] request faults that keep the connection
  BAD_REQUEST: 'a field is missing or has the wrong type',
  UNKNOWN_OP: 'unknown op',
  HELLO_REQUIRED: 'send hello first',
  PROTOCOL_UNSUPPORTED: 'this server speaks protocol 1',
  // [WIRE-5] [WIRE-6] leasing
  NOT_SERVING: 'the server has no valid license pack file in force',
  PACK_UNKNOWN: 'no such pack in the license pack file in force',
  PACK_EXHAUSTED: 'every seat of the pack is leased',
  WAIT_TIMEOUT: 'no seat became free within the wait',
  LEASE_UNKNOWN: 'no such lease (expired, released, revoked or never granted)',
  // [WIRE-8] admin
  AUTH_REQUIRED: 'this op needs an admin connection: send auth first',
  AUTH_FAILED: 'wrong admin password',
  LOCKED_OUT: 'too many wrong admin passwords; try again later',
  ADMIN_PASSWORD_NOT_SET: 'no admin password is set: run flr set-password on the server host',
  PASSWORD_RULES: 'the password does not meet the rules',
  // [TLS-3] the admin password never crosses a network in clear
  TLS_REQUIRED: 'admin login over plaintext is accepted only from the server host: connect over TLS',
  // [TLS-1] [TLS-2] certificates
  TLS_CERT_INVALID: 'the TLS certificate or key cannot be used',
  TLS_UNTRUSTED: 'the server\'s TLS certificate failed verification: no request was sent',
  // client authentication (docs/security.md): a site token in hello
  CLIENT_TOKEN_REQUIRED: 'this server requires a client token for lease operations',
  HOLDER_TAKEN: 'this holder\'s lease belongs to another client identity',
  // [WIRE-10] resources
  SERVER_BUSY: 'the server is at --max-connections or --max-connections-per-address',
  TOO_MANY_WAITING: 'this connection already has 1,000 lease requests waiting for a seat',
  // HTTP shim (section 7)
  BODY_TOO_LARGE: 'request body over 16 KiB',
  UNSUPPORTED_MEDIA_TYPE: 'send Content-Type: application/json',
  NOT_FOUND: 'no such route',
  METHOD_NOT_ALLOWED: 'method not allowed on this route',
  // [LEASE-9] [SRV-7] the state directory and the daemon
  STORE_WRONG_HOST: 'the state directory belongs to another host',
  STORE_DAMAGED: 'the lease store is damaged',
  // [HA-1] a PostgreSQL store whose schema a newer flr wrote
  STORE_NEWER: 'the lease store was written by a newer flr',
  STATE_LOCKED: 'another flr serve is using this state directory',
  PORT_IN_USE: 'the port is held by another process',
  // [LEASE-10] the store cannot write: grants and releases are refused until it can
  STORE_UNAVAILABLE: 'the lease store cannot write; grants and releases resume by themselves once it can',
  // [HA-3] [HA-4] this node does not lead the cluster (a fenced write, or a standby's answer)
  NOT_LEADER: 'this node is not the leader of its cluster',
  // the client library and CLI
  INTERNAL: 'the server failed to handle the request; its log says why',
  CONNECTION_LOST: 'the connection to the server was lost',
  USAGE: 'invalid command line',
  FAILED: 'the command failed; the message says why',
} as const

export type ErrorCode = keyof typeof ERRORS

/** An error with a stable code; `details` travel with it on the wire (e.g. limit, inUse). */
export class FlrError extends Error {
  readonly code: ErrorCode
  readonly details: Readonly<Record<string, unknown>>

  constructor(code: ErrorCode, message?: string, details: Record<string, unknown> = {}) {
    super(message ?? ERRORS[code])
    this.name = 'FlrError'
    this.code = code
    this.details = details
  }

  /** The `error` object of a reply: `{code, message, ...details}` ([WIRE-2]). */
  toWire(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.details }
  }
}

export function isFlrError(e: unknown, code?: ErrorCode): e is FlrError {
  return e instanceof FlrError && (code === undefined || e.code === code)
}
