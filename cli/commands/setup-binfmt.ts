// `kiln setup binfmt [--install PLATFORMS|all] [--uninstall PLATFORMS]`: QEMU handlers for foreign
// RUN steps, as tonistiigi/binfmt does: one line per change, then what the machine runs as JSON.
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { parsePlatforms } from '../../api/index.js';
import { setupBinfmt } from '../../api/binfmt.js';

const usage = `Usage: kiln setup binfmt [OPTIONS]

Register QEMU (Debian's qemu-user-static) with binfmt_misc so RUN steps and containers of other
architectures run here; without options, print what this machine runs. Needs root.

Options:
      --install P     platforms or architectures to register (arm64,linux/riscv64), or all
      --uninstall P   platforms or architectures whose handlers to remove`;

export const setupBinfmtCommand: Command = {
  usage,
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { install: { type: 'string' }, uninstall: { type: 'string' } },
    });
    if (positionals.length > 0) throw new UsageError(`setup binfmt takes no arguments, got ${positionals.join(' ')}`, usage);
    const result = await setupBinfmt({
      ...(values.install !== undefined ? { install: values.install === 'all' ? 'all' : parsePlatforms(values.install) } : {}),
      ...(values.uninstall !== undefined ? { uninstall: parsePlatforms(values.uninstall) } : {}),
    });
    for (const u of result.uninstalled) io.stdout.write(`uninstalling: ${u.arch} ${u.handlers.length > 0 ? `OK (${u.handlers.join(', ')})` : 'not registered'}\n`);
    for (const i of result.installed) {
      const how = i.status === 'installed' ? `OK (${i.handler})` : i.status === 'present' ? `already registered (${i.handler})` : 'runs natively';
      io.stdout.write(`installing: ${i.arch} ${how}\n`);
    }
    io.stdout.write(`${JSON.stringify(result.status, null, 2)}\n`);
    return 0;
  },
};
