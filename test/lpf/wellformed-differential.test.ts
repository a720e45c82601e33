import t from 'tap'
import { isFlrError } from '../../lib/errors.js'
import { screenLpf } from '../../lib/lpf/screen.js'
import { generateDocument } from './wellformed-corpus.js'
import { requireTool, xmllintJudge } from './libxml2.js'

// flr's own refusals ([LPF-1] [LPF-6] policy and bounds), which libxml2 may accept: every other
// verdict must be libxml2's
const POLICY = /DOCTYPE|entity declaration|processing instruction|declares encoding|flr's bound/

function flrJudge(doc: string | Buffer): { refused: string | null; policy: boolean } {
  try {
    screenLpf(Buffer.isBuffer(doc) ? doc : Buffer.from(doc, 'utf8'))
    return { refused: null, policy: false }
  } catch (e) {
    if (!isFlrError(e)) throw e
    return { refused: e.message, policy: POLICY.test(e.message) }
  }
}

const DOCS = Number(process.env.FLR_WF_DOCS ?? 6000)
// another seed range explores other documents (the default is the one CI runs)
const FIRST_SEED = Number(process.env.FLR_WF_SEED ?? 0)

t.test(`[LPF-6] well-formedness is libxml2's: flr and xmllint --noout agree on ${DOCS} generated and mutated documents`, async (t) => {
  if (!requireTool(t, 'xmllint')) return
  const docs = Array.from({ length: DOCS }, (_, k) => generateDocument(FIRST_SEED + k))
  const libxml2 = xmllintJudge(docs)
  const differences: string[] = []
  let refused = 0
  for (const [k, doc] of docs.entries()) {
    const flr = flrJudge(doc)
    const theirs = libxml2[k]
    if (theirs !== null) refused++
    if (theirs !== null && flr.refused === null) differences.push(`#${k} libxml2 refuses (${theirs}), flr accepts: ${JSON.stringify(doc.toString().slice(0, 300))}`)
    if (theirs === null && flr.refused !== null && !flr.policy) differences.push(`#${k} flr refuses (${flr.refused}), libxml2 accepts: ${JSON.stringify(doc.toString().slice(0, 300))}`)
  }
  t.same(differences.slice(0, 20), [], `${differences.length} differences`)
  // the corpus is near the boundary: both verdicts are common
  t.ok(refused > DOCS / 5 && refused < (DOCS * 4) / 5, `libxml2 refuses ${refused} of ${DOCS}`)
})
