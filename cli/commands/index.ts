// The table of `kiln` commands, in the order `kiln --help` lists them.
import type { Command } from '../command.js';
import { debugLlb } from './debug-llb.js';

export const commands: Command[] = [debugLlb];
