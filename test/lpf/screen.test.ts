import t, { type Test } from 'tap'
import { readFileSync, statSync } from 'node:fs'
import { MAX_LPF_BYTES, screenLpf } from '../../lib/lpf/screen.js'
import { isFlrError, type ErrorCode } from '../../lib/errors.js'
import { loadLpf } from '../../lib/lpf/load.js'
import { writeOversizedLpf } from '../../fixtures/oversize.js'
import { NOW, TEST_HOST, VENDOR_KEY_PEM, valid, vendorPub } from './helpers.js'

const LPF = '<lpf vendor="Acme"></lpf>'

function refused(t: Test, input: string | Buffer, code: ErrorCode, message: RegExp) {
  try {
    screenLpf(typeof input === 'string' ? Buffer.from(input, 'utf8') : input)
    t.fail('screening accepted it')
  } catch (e) {
    t.ok(isFlrError(e, code), `refused with ${code}`)
    t.match((e as Error).message, message)
  }
}

t.test('[LPF-6] a file over 4 MiB is refused with LPF_TOO_LARGE before anything is decoded', async (t) => {
  refused(t, Buffer.alloc(MAX_LPF_BYTES + 1, 0xff), 'LPF_TOO_LARGE', /over the 4 MiB limit/)
  t.equal(MAX_LPF_BYTES, 4 * 1024 * 1024)
})

t.test('[LPF-6] exactly 4 MiB is not too large (the limit is inclusive)', async (t) => {
  const text = LPF + ' '.repeat(MAX_LPF_BYTES - LPF.length)
  t.equal(screenLpf(Buffer.from(text)).length, MAX_LPF_BYTES)
})

t.test('[LPF-6] [LPF-8] a vendor-signed LPF one byte over 4 MiB is refused by loadLpf with LPF_TOO_LARGE', async (t) => {
  const dir = t.testdir()
  const path = writeOversizedLpf(dir, VENDOR_KEY_PEM, { fileName: `${TEST_HOST}.lp` })
  t.equal(statSync(path).size, MAX_LPF_BYTES + 1)
  t.throws(() => loadLpf(readFileSync(path), { vendorKeys: [vendorPub], hostId: TEST_HOST, now: NOW }), { code: 'LPF_TOO_LARGE' })
  // the same file at exactly the limit is only padded, so it loads: size is the only reason
  const atLimit = writeOversizedLpf(dir, VENDOR_KEY_PEM, { over: 0, fileName: 'at-limit.lp' })
  t.equal(loadLpf(readFileSync(atLimit), { vendorKeys: [vendorPub], now: NOW }).packs.length, 3)
})

t.test('[LPF-1] [LPF-6] bytes that are not UTF-8 are refused', async (t) => {
  refused(t, Buffer.from([0x3c, 0x6c, 0x70, 0x66, 0xc3, 0x28, 0x3e]), 'LPF_MALFORMED', /not valid UTF-8/)
  refused(t, Buffer.from('<lpf vendor="Acmé"/>', 'latin1'), 'LPF_MALFORMED', /not valid UTF-8/)
})

t.test('[LPF-1] UTF-8 with a byte order mark is accepted and the mark dropped', async (t) => {
  t.equal(screenLpf(Buffer.from('\uFEFF' + LPF, 'utf8')), LPF)
})

t.test('[LPF-1] characters XML forbids (NUL, as in UTF-16 text) are refused', async (t) => {
  refused(t, Buffer.from('<lpf vendor="A\u0000"/>', 'utf8'), 'LPF_MALFORMED', /U\+0000 at offset 14/)
  refused(t, Buffer.from('<lpf vendor="\u0007"/>', 'utf8'), 'LPF_MALFORMED', /U\+0007/)
})

t.test('[LPF-6] a DOCTYPE is refused, in any case and anywhere', async (t) => {
  refused(t, '<!DOCTYPE lpf>' + LPF, 'LPF_MALFORMED', /DOCTYPE at offset 0/)
  refused(t, '<?xml version="1.0"?>\n<!doctype lpf SYSTEM "http://evil.example/x.dtd">' + LPF, 'LPF_MALFORMED', /DOCTYPE/)
  refused(t, '<lpf><!-- <!DOCTYPE --></lpf>', 'LPF_MALFORMED', /DOCTYPE/)
})

t.test('[LPF-6] an entity declaration is refused', async (t) => {
  refused(t, '<lpf><!-- <!ENTITY x "y"> --></lpf>', 'LPF_MALFORMED', /entity declaration/)
})

t.test('[LPF-6] one leading XML declaration is the only processing instruction allowed', async (t) => {
  const decl = '<?xml version="1.0" encoding="UTF-8"?>\n'
  t.equal(screenLpf(Buffer.from(decl + LPF)), decl + LPF)
  t.equal(screenLpf(Buffer.from("<?xml version='1.0' encoding='utf-8' standalone='yes'?>" + LPF)).endsWith(LPF), true)
  refused(t, decl + '<?xml-stylesheet href="x.xsl"?>' + LPF, 'LPF_MALFORMED', /<\?xml-stylesheet at offset 39/)
  refused(t, '<lpf><pack><?php echo 1 ?></pack></lpf>', 'LPF_MALFORMED', /<\?php/)
  refused(t, decl + decl + LPF, 'LPF_MALFORMED', /only as the very first thing/)
  refused(t, '\n' + decl + LPF, 'LPF_MALFORMED', /<\?xml at offset 1/)
  refused(t, LPF + '<?pi?>', 'LPF_MALFORMED', /processing instruction/)
})

t.test('[LPF-1] an XML declaration naming another encoding is refused', async (t) => {
  refused(t, '<?xml version="1.0" encoding="ISO-8859-1"?>' + LPF, 'LPF_MALFORMED', /declares encoding "ISO-8859-1"; an LPF must be UTF-8/)
})

t.test('[LPF-6] a valid fixture passes screening unchanged', async (t) => {
  const bytes = valid('niagara.lp')
  t.equal(screenLpf(bytes), bytes.toString('utf8'))
})
