// Section 9: --server defaults to FLR_SERVER, else 127.0.0.1:19110.
import { CommandFailed } from './io.js'
import { localServerAddress } from './local-server.js'

export const DEFAULT_SERVER = '127.0.0.1:19110'

export function serverAddress(flag: string | undefined, env: NodeJS.ProcessEnv, stateDir?: string): { host: string; port: number } {
  // the local server's real port (its state directory's record, local-server.ts) before the fixed default
  const text = flag ?? env.FLR_SERVER ?? localServerAddress(env, stateDir) ?? DEFAULT_SERVER
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text)
  const port = m ? Number(m[3]) : NaN
  if (!m || port < 1 || port > 65535) throw new CommandFailed(`--server "${text}" is not HOST:PORT (e.g. ${DEFAULT_SERVER})`, 2)
  return { host: m[1] ?? m[2]!, port }
}

export const SERVER_OPTION_HELP = `flr server as HOST:PORT (default: FLR_SERVER, else the local server's port from its state directory, else ${DEFAULT_SERVER})`
