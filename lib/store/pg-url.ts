// [HA-1] The database URL carries a password that must never reach a log, an error message, a
// status answer or a support bundle. Everything flr says about the database goes through
// here: the URL with its password masked, or just where the database is (host:port/db), and
// the text of a driver error with the password scrubbed out in case a driver ever echoes it.

/** The URL with its password replaced by `***` (`postgres://user:***@host:5432/db`); a URL that does not parse is hidden whole. */
export function redactUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return 'postgres://(a URL that does not parse)'
  }
  if (parsed.password !== '') parsed.password = '***'
  // a password may also ride in the query string (?password=…)
  for (const key of [...parsed.searchParams.keys()]) {
    if (/pass/i.test(key)) parsed.searchParams.set(key, '***')
  }
  return parsed.toString()
}

/** Where the database is, for messages: `host:port/db` (no user, no password). */
export function describeDatabase(url: string): string {
  try {
    const parsed = new URL(url)
    const host = parsed.hostname || process.env.PGHOST || 'localhost'
    const port = parsed.port || process.env.PGPORT || '5432'
    const db = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || process.env.PGDATABASE || parsed.username || 'postgres'
    return `${host}:${port}/${db}`
  } catch {
    return 'the database (its URL does not parse)'
  }
}

/** The secrets a URL holds (its password, plain and percent-encoded), longest first. */
function secretsOf(url: string): string[] {
  const secrets = new Set<string>()
  try {
    const parsed = new URL(url)
    if (parsed.password) {
      secrets.add(parsed.password)
      secrets.add(decodeURIComponent(parsed.password))
    }
    for (const [key, value] of parsed.searchParams) if (/pass/i.test(key) && value) secrets.add(value)
  } catch {
    // an unparsable URL: hide it whole wherever it appears
    secrets.add(url)
  }
  return [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length)
}

/** `text` with every secret of `url` (and the URL itself) replaced by `***`. */
export function scrubSecrets(text: string, url: string): string {
  let out = text.split(url).join(redactUrl(url))
  for (const secret of secretsOf(url)) out = out.split(secret).join('***')
  return out
}

/** The message of a driver error, scrubbed ([HA-1]). */
export function causeText(cause: unknown, url: string): string {
  const text = cause instanceof Error ? cause.message || cause.name : String(cause)
  const code = (cause as { code?: unknown } | null)?.code
  const withCode = typeof code === 'string' && code !== '' && !text.includes(code) ? `${text} [${code}]` : text
  return scrubSecrets(withCode, url)
}
