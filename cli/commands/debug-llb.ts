// `kiln debug llb`: compiles a Dockerfile and prints its LLB (JSON for people, pb for tools).
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { buildFlagOptions, readBuildFlags } from '../build-flags.js';
import { compileBuild, definitionBytes, definitionJson } from '../../api/index.js';

const usage = `Usage: kiln debug llb [OPTIONS] CONTEXT

Compile a Dockerfile to LLB and print it with the resulting image config.

Options:
  -f, --file PATH          Dockerfile (default: CONTEXT/Dockerfile)
      --target STAGE       build this stage (default: the last)
      --build-arg K=V      set a build-time variable (repeatable)
      --platform P         target platform, e.g. linux/arm64
      --format json|pb     json (default) or the binary pb.Definition buildctl reads`;

export const debugLlb: Command = {
  usage,
  async run(argv, io) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...buildFlagOptions, format: { type: 'string', default: 'json' } } });
    const format = values.format;
    if (format !== 'json' && format !== 'pb') throw new UsageError(`--format=${format}: use json or pb`, usage);
    const flags = readBuildFlags(values, positionals, io.env, usage);
    if (flags.platforms.length !== 1) throw new UsageError('debug llb compiles for one platform at a time', usage);
    const result = await compileBuild({
      context: flags.context,
      cwd: io.cwd,
      ...(flags.file !== undefined ? { file: flags.file } : {}),
      ...(flags.target !== undefined ? { target: flags.target } : {}),
      buildArgs: flags.buildArgs,
      platform: flags.platforms[0]!,
      noCache: flags.noCache,
    });
    for (const w of result.warnings) io.stderr.write(`warning: ${w}\n`);
    if (format === 'pb') {
      io.stdout.write(definitionBytes(result.definition));
      return 0;
    }
    const out = { target: result.target, platform: result.platform, llb: definitionJson(result.definition), config: result.config };
    io.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return 0;
  },
};
