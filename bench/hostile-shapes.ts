// Hostile LPF contents of about `bytes` bytes ([LPF-6]), for bench/hostile-lpf.ts and the
// tests: each is the content of one <licenses> element.
import { MAX_ATTRIBUTES_PER_ELEMENT, MAX_NAMESPACES_IN_SCOPE } from '../lib/lpf/ns-scope.js'
import { MAX_DEPTH } from '../lib/lpf/wellformed.js'

export interface HostileShape {
  name: string
  /** whether the screen lets it through (within every bound) */
  admitted: boolean
  licenses: string
}

function repeatTo(bytes: number, unit: string): string {
  return unit.repeat(Math.max(1, Math.floor(bytes / unit.length)))
}

/** `depth` nested elements, each declaring a namespace of its own */
export function nestedNamespaces(depth: number): string {
  let open = ''
  for (let k = 0; k < depth; k++) open += `<n xmlns:p${k}="urn:p${k}">`
  return open + '</n>'.repeat(depth)
}

export function hostileLpfShapes(bytes: number): HostileShape[] {
  const within = Math.min(MAX_DEPTH - 8, MAX_NAMESPACES_IN_SCOPE)
  const attrs = (n: number) => Array.from({ length: n }, (_, k) => ` a${k}=""`).join('')
  const oneNestedTree = nestedNamespaces(40_000)
  return [
    { name: 'nested namespace declarations, 40,000 deep', admitted: false, licenses: oneNestedTree },
    { name: `nested namespace declarations, ${within} deep, repeated`, admitted: true, licenses: repeatTo(bytes, nestedNamespaces(within)) },
    { name: 'nested elements, 1,000,000 deep', admitted: false, licenses: '<x>'.repeat(500_000) + '</x>'.repeat(500_000) },
    { name: `nested elements, ${MAX_DEPTH - 8} deep, repeated`, admitted: true, licenses: repeatTo(bytes, '<x>'.repeat(MAX_DEPTH - 8) + '</x>'.repeat(MAX_DEPTH - 8)) },
    { name: 'one element with 300,000 attributes', admitted: false, licenses: `<x${attrs(300_000)}/>` },
    { name: `elements with ${MAX_ATTRIBUTES_PER_ELEMENT} attributes each`, admitted: true, licenses: repeatTo(bytes, `<x${attrs(MAX_ATTRIBUTES_PER_ELEMENT)}/>`) },
  ]
}
