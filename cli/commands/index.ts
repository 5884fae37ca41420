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
import { runCommand } from './run.js';
import { ps } from './ps.js';
import { logs } from './logs.js';
import { execCommand } from './exec.js';
import { stop } from './stop.js';
import { kill } from './kill.js';
import { rm } from './rm.js';
import { commit } from './commit.js';

export const commands: Command[] = [buildCommand, debugLlb, importCommand, loadCommand, saveCommand, diffCommand, images, tag, rmi, history, inspect, prune, runCommand, ps, logs, execCommand, stop, kill, rm, commit];
