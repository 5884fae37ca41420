// `kiln debug llb`: placeholder replaced below once the frontend lands.
import type { Command } from '../command.js';
export const debugLlb: Command = { name: 'debug llb', summary: 'Print the LLB of a Dockerfile', usage: 'kiln debug llb', run: async () => 0 };
