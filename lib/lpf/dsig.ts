// The XML-DSig profile of an LPF ([LPF-4]): the only algorithms a signature may name.

export const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#'

export const ENVELOPED_SIGNATURE = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature'
export const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#'

/** [LPF-4] the transforms of the one Reference, in this order */
export const REFERENCE_TRANSFORMS = [ENVELOPED_SIGNATURE, EXC_C14N] as const

export type HashName = 'sha256' | 'sha512'

/** [LPF-4] DigestMethod → the hash node:crypto computes */
export const DIGEST_METHODS: Readonly<Record<string, HashName>> = {
  'http://www.w3.org/2001/04/xmlenc#sha256': 'sha256',
  'http://www.w3.org/2001/04/xmlenc#sha512': 'sha512',
}

/** [LPF-4] SignatureMethod → the hash of the RSA PKCS#1 v1.5 signature */
export const SIGNATURE_METHODS: Readonly<Record<string, HashName>> = {
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256': 'sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512': 'sha512',
}

export function digestMethodUri(hash: HashName): string {
  return hash === 'sha512' ? 'http://www.w3.org/2001/04/xmlenc#sha512' : 'http://www.w3.org/2001/04/xmlenc#sha256'
}

export function signatureMethodUri(hash: HashName): string {
  return hash === 'sha512' ? 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512' : 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'
}
