// The table of `kiln` commands, in the order `kiln --help` lists them.
import type { Command } from '../command.js';
import { buildCommand } from './build.js';
import { debugLlb } from './debug-llb.js';
import { importCommand } from './import.js';
import { loadCommand } from './load.js';
import { saveCommand } from './save.js';
import { diffCommand } from './diff.js';
import { images } from './images.js';
import { tag } from './tag.js';
import { rmi } from './rmi.js';
import { history } from './history.js';
import { inspect } from './inspect.js';
import { prune } from './prune.js';

export const commands: Command[] = [buildCommand, debugLlb, importCommand, loadCommand, saveCommand, diffCommand, images, tag, rmi, history, inspect, prune];
