// `kiln rm`: remove containers (record, writable snapshot, lease); -f kills a running one first.
import { parseArgs } from 'node:util';
import type { Command, CliIO } from '../command.js';
import { UsageError } from '../errors.js';
import { openStore, rootUsage, storeFlagOptions } from '../store-flags.js';
import { openSnapshotter } from '../../snapshotter/open-snapshotter.js';
import { destroyContainer } from '../../runner/container-create.js';
import { signalContainer, waitStopped } from '../../runner/container-signal.js';
import { ContainerStore } from '../../runner/containers.js';
import { ContainerStateError } from '../../runner/errors.js';
import { sweepCgroups } from '../../runner/cgroups.js';

const usage = `Usage: kiln rm [OPTIONS] CONTAINER [CONTAINER...]

Remove one or more containers

Options:
  -f, --force   Kill a running container before removing it
${rootUsage}`;

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { force: { type: 'boolean', short: 'f' }, ...storeFlagOptions },
    allowPositionals: true,
  });
  if (positionals.length === 0) throw new UsageError('rm needs at least one container', usage);
  const store = await openStore(values, io);
  const snapshotter = await openSnapshotter(store.root);
  const containers = new ContainerStore(store.root);
  for (const ref of positionals) {
    const rec = await containers.get(ref);
    if (rec.state.status === 'running') {
      if (!values.force) throw new ContainerStateError(ref, "is running: stop it first ('kiln stop') or use 'kiln rm -f'");
      signalContainer(rec, 'SIGKILL');
      // The supervisor records the exit and lets go of the snapshot before it can be removed.
      if (!(await waitStopped(containers, rec, 20_000, true))) throw new ContainerStateError(ref, 'did not stop within 20 seconds');
    }
    // Stopped now; a supervisor killed with SIGKILL left its cgroups for us.
    await sweepCgroups([rec.config.id]);
    // An `--rm` container's supervisor may have removed it meanwhile.
    if ((await containers.list()).some((r) => r.config.id === rec.config.id)) await destroyContainer(store, snapshotter, rec.config);
    io.stdout.write(ref + '\n');
  }
  return 0;
}

export const rm: Command = { usage, run };
