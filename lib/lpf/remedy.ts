// The LPF's refusals are written for the customer's admin, who reads them in the server's log and
// status: "ask the vendor for a new file". `flr sign`, `flr inspect` and `flr keygen` are the
// vendor's tools, and the vendor must not be told to ask the vendor (issue 17): forVendor turns
// each admin remedy into what the vendor does. test/cli/vendor-wording.test.ts runs the tools over
// every hostile fixture and refused source and checks that none of them says "ask the vendor".

/** [admin remedy, vendor remedy]: the admin's wording as lib/lpf writes it, longest first */
const REMEDIES: readonly [RegExp, string][] = [
  [/ask the vendor for an LPF issued to (\S+)/g, 'sign an LPF that lists $1 in a <flr hostId> (`flr sign`)'],
  [/ask the vendor for a renewed LPF/g, 'sign a renewed LPF with a later expiration (`flr sign`)'],
  [/ask the vendor to re-issue the file/g, 'sign the file again from its source (`flr sign`)'],
  [/never edit an LPF: ask the vendor for a new one/g, 'never edit a signed LPF: change its source and sign it again (`flr sign`)'],
  [/ask the vendor for a new file/g, 'correct the source and sign it again (`flr sign`)'],
  [/ask the vendor for an LPF that lists only this host/g, 'sign an LPF that lists only this host'],
  [/the vendor must correct the LPF source and sign it again/g, 'correct the LPF source and sign it again (`flr sign`)'],
  [/check that it is the \.lp file the vendor sent/g, 'check that it is an LPF source (see lpf-samples/niagara.xml)'],
  [/ask the vendor/g, 'correct the source and sign it again (`flr sign`)'],
]

/** An LPF refusal's message, as the vendor's tools print it. */
export function forVendor(message: string): string {
  return REMEDIES.reduce((text, [admin, vendor]) => text.replace(admin, vendor), message)
}
