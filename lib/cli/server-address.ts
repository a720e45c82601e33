// Section 9: --server defaults to FLR_SERVER, else 127.0.0.1:19110.
import { CommandFailed } from './io.js'

export const DEFAULT_SERVER = '127.0.0.1:19110'

export function serverAddress(flag: string | undefined, env: NodeJS.ProcessEnv): { host: string; port: number } {
  const text = flag ?? env.FLR_SERVER ?? DEFAULT_SERVER
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text)
  const port = m ? Number(m[3]) : NaN
  if (!m || port < 1 || port > 65535) throw new CommandFailed(`--server "${text}" is not HOST:PORT (e.g. ${DEFAULT_SERVER})`, 2)
  return { host: m[1] ?? m[2]!, port }
}

export const SERVER_OPTION_HELP = `flr server as HOST:PORT (default: FLR_SERVER, else ${DEFAULT_SERVER})`
