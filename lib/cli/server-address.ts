// Section 9: --server defaults to FLR_SERVER, else the local server's real port (its state
// directory's record, local-server.ts), else 127.0.0.1:19110; [HA-6] either may be a
// comma-separated list of servers, tried in order.
import { CommandFailed } from './io.js'
import { parseAddress } from '../client/servers.js'
import { localServerAddress } from './local-server.js'

export const DEFAULT_SERVER = '127.0.0.1:19110'

export function serverAddress(flag: string | undefined, env: NodeJS.ProcessEnv, stateDir?: string): { servers: string[] } {
  const text = flag ?? env.FLR_SERVER ?? localServerAddress(env, stateDir) ?? DEFAULT_SERVER
  const servers = text.split(',').map((s) => s.trim())
  for (const server of servers) {
    if (!parseAddress(server)) throw new CommandFailed(`--server "${text}" is not HOST:PORT or a list HOST:PORT,HOST:PORT (e.g. ${DEFAULT_SERVER})`, 2)
  }
  return { servers }
}

export const SERVER_OPTION_HELP = `flr server as HOST:PORT, or several as HOST:PORT,HOST:PORT tried in order (default: FLR_SERVER, else the local server's port from its state directory, else ${DEFAULT_SERVER})`
