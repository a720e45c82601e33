// What an application embeds: the client library and the error codes it may see.
export { FlrClient, Lease, type ClientOptions, type Hello, type LeaseOptions } from './client/client.js'
export { FlrError, ERRORS, isFlrError, type ErrorCode } from './errors.js'
