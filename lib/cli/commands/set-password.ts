// `flr set-password`: sets the admin password in the state directory ([ADM-1], [ADM-2]).
// Passwords come from -p/-n (with a warning, [ADM-3]), else a prompt, else the environment;
// the same order as the admin commands. Nothing here prints a password or its hash.
import type { Command } from 'commander'
import { CommandFailed, type CliIO } from '../io.js'
import { checkPasswordRules, isPasswordSet, setPassword, verifyPassword } from '../../admin/password.js'
import { FlrError } from '../../errors.js'

interface SetPasswordOptions {
  stateDir: string
  password?: string
  newPassword?: string
}

const RULES_HELP = '8-30 characters with a lowercase and an uppercase letter, a digit and a symbol; no \' " \\ or space'

export function register(program: Command, io: CliIO): void {
  program
    .command('set-password')
    .description('set the admin password (run on the server host); asks for the current one when one is set')
    .requiredOption('--state-dir <dir>', 'the state directory of the server')
    .option('-p, --password <current>', 'the current admin password (prefer the prompt or FLR_ADMIN_PASSWORD: shells record command lines)')
    .option('-n, --new-password <new>', 'the new admin password (prefer the prompt or FLR_ADMIN_NEW_PASSWORD: shells record command lines)')
    .addHelpText(
      'after',
      `\nRules: ${RULES_HELP}.\n` +
        'Without a terminal, give the current password in FLR_ADMIN_PASSWORD and the new one in FLR_ADMIN_NEW_PASSWORD.\n' +
        'A running server uses the new password from its next admin login; no restart is needed.\n\n' +
        'Example:\n  flr set-password --state-dir /var/lib/flr',
    )
    .action(async (opts: SetPasswordOptions) => run(opts, io))
}

async function run(opts: SetPasswordOptions, io: CliIO): Promise<void> {
  warnAboutCommandLine(opts, io)
  if (await isPasswordSet(opts.stateDir)) {
    const current = await currentPassword(opts, io)
    if ((await verifyPassword(opts.stateDir, current)) !== 'ok') {
      throw new FlrError('AUTH_FAILED', 'the current admin password is wrong; the password is unchanged')
    }
  }
  const next = await newPassword(opts, io)
  await setPassword(opts.stateDir, next)
  io.out('Admin password set. A running server uses it from its next admin login.')
}

function warnAboutCommandLine(opts: SetPasswordOptions, io: CliIO): void {
  const flags = [opts.password !== undefined && '-p', opts.newPassword !== undefined && '-n'].filter(Boolean)
  if (flags.length === 0) return
  io.err(
    `warning: ${flags.join(' and ')} ${flags.length > 1 ? 'put' : 'puts'} a password on the command line, which shells record and other users can see; ` +
      'prefer the prompt, or FLR_ADMIN_PASSWORD / FLR_ADMIN_NEW_PASSWORD',
  )
}

async function currentPassword(opts: SetPasswordOptions, io: CliIO): Promise<string> {
  if (opts.password !== undefined) return opts.password
  if (io.prompt) return io.prompt('Current admin password: ')
  if (io.env.FLR_ADMIN_PASSWORD) return io.env.FLR_ADMIN_PASSWORD
  throw new CommandFailed(
    'an admin password is set, so the current one is needed: run in a terminal to be prompted, or set FLR_ADMIN_PASSWORD (or pass -p)',
    2,
  )
}

async function newPassword(opts: SetPasswordOptions, io: CliIO): Promise<string> {
  if (opts.newPassword !== undefined) return checked(opts.newPassword)
  if (io.prompt) {
    const first = checked(await io.prompt(`New admin password (${RULES_HELP}): `))
    const again = await io.prompt('New admin password again: ')
    if (again !== first) throw new CommandFailed('the two new passwords differ; the password is unchanged')
    return first
  }
  if (io.env.FLR_ADMIN_NEW_PASSWORD) return checked(io.env.FLR_ADMIN_NEW_PASSWORD)
  throw new CommandFailed('no new password: run in a terminal to be prompted, or set FLR_ADMIN_NEW_PASSWORD (or pass -n)', 2)
}

/** Fails before the confirmation prompt, naming the rules broken ([ADM-1]). */
function checked(pw: string): string {
  checkPasswordRules(pw)
  return pw
}
