// `kiln login [-u USER] [-p PASSWORD | --password-stdin] [SERVER]` and `kiln logout [SERVER]`:
// credentials checked against the registry and kept as docker keeps them.
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { insecureOption, registryFlagOptions, registryUsage } from '../registry-flags.js';
import { login, logout, registryHost } from '../../api/index.js';

const loginUsage = `Usage: kiln login [OPTIONS] [SERVER]

Check credentials against a registry and store them (~/.docker/config.json, or its credential helper)

Options:
  -u, --username USER   the user name
  -p, --password PASS   the password (visible to other users of the machine: prefer --password-stdin)
      --password-stdin  read the password from stdin
${registryUsage}`;

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export const loginCommand: Command = {
  usage: loginUsage,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { username: { type: 'string', short: 'u' }, password: { type: 'string', short: 'p' }, 'password-stdin': { type: 'boolean' }, ...registryFlagOptions },
    });
    if (positionals.length > 1) throw new UsageError(`login takes at most one server, got ${positionals.length}`, loginUsage);
    if (values.password !== undefined && values['password-stdin']) throw new UsageError('--password and --password-stdin are mutually exclusive', loginUsage);
    if (values.username === undefined) throw new UsageError('give the user name with -u (kiln does not prompt)', loginUsage);
    if (values.password === undefined && !values['password-stdin']) throw new UsageError('give the password with --password-stdin (or -p)', loginUsage);
    const password = values.password ?? (await readStdin(io.stdin));
    if (password === '') throw new UsageError('the password is empty', loginUsage);
    const where = await login(positionals[0], { username: values.username, password }, { env: io.env, ...insecureOption(values) });
    io.stdout.write(`Login Succeeded (${registryHost(positionals[0])}, stored in ${where === 'config' ? 'the docker config' : where})\n`);
    return 0;
  },
};

const logoutUsage = `Usage: kiln logout [SERVER]

Remove the stored credentials of a registry (default: Docker Hub)`;

export const logoutCommand: Command = {
  usage: logoutUsage,
  async run(argv, io) {
    const { positionals } = parseArgs({ args: argv, allowPositionals: true, options: {} });
    if (positionals.length > 1) throw new UsageError(`logout takes at most one server, got ${positionals.length}`, logoutUsage);
    const host = registryHost(positionals[0]);
    const removed = await logout(positionals[0], io.env);
    io.stdout.write(removed ? `Removing login credentials for ${host}\n` : `Not logged in to ${host}\n`);
    return 0;
  },
};
