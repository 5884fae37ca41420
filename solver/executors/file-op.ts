// The file op: its actions applied in order, each on the base its `input` names (an op input, an
// earlier action's result, or scratch), in snapshots prepared, mounted, written and committed.
import type { FileAction } from '../llb/types.js';
import type { OpExecutor, OpResult, VertexInfo } from '../types.js';
import { copyAction } from './file-copy.js';
import { mkdirAction, mkfileAction, rmAction, symlinkAction } from './file-actions.js';
import { SnapshotWork } from './snapshot-work.js';

/** An action's result while the op runs: still mounted and writable, or committed. */
type State = { active: { key: string; dir: string } } | { committed: string | null };

export const fileOp: OpExecutor = {
  async run(v, inputs, env) {
    const actions = v.op.file?.actions ?? [];
    const n = inputs.length;
    const work = new SnapshotWork(env.snapshotter, v.digest);
    const states: (State | undefined)[] = [];
    // How often each action's result is read later, to write in place when only the next action uses it.
    const uses = actions.map((_a, j) => actions.filter((b) => (b.input ?? 0) === n + j || (b.copy && b.secondaryInput === n + j)).length);
    const keep = new Set<string>();
    try {
      const committedOf = async (idx: number): Promise<string | null> => {
        if (idx < 0) return null;
        if (idx < n) return inputs[idx]!.snapshot;
        const s = states[idx - n]!;
        if ('committed' in s) return s.committed;
        const name = await work.commit(s.active.key);
        states[idx - n] = { committed: name };
        return name;
      };
      for (let i = 0; i < actions.length; i++) {
        env.signal.throwIfAborted();
        const a = actions[i]!;
        const idx = a.input ?? 0;
        const prior = idx >= n ? states[idx - n] : undefined;
        let target: { key: string; dir: string };
        if (prior && 'active' in prior && uses[idx - n] === 1 && (actions[idx - n]!.output ?? 0) < 0) {
          target = prior.active;
          states[idx - n] = undefined;
        } else {
          target = await work.active(await committedOf(idx));
        }
        await applyAction(v, a, target.dir, inputs, states, work);
        states[i] = { active: target };
      }
      const results: OpResult[] = [];
      for (let i = 0; i < actions.length; i++) {
        const out = actions[i]!.output ?? 0;
        if (out < 0) continue;
        const snapshot = await committedOf(n + i);
        if (snapshot !== null) keep.add(snapshot);
        results[out] = { snapshot };
      }
      return results;
    } finally {
      // Intermediate commits that a kept result stacks on cannot be removed; the snapshotter refuses, which is what we want.
      await work.cleanup(keep);
    }
  },
};

async function applyAction(
  v: VertexInfo,
  a: FileAction,
  dir: string,
  inputs: OpResult[],
  states: (State | undefined)[],
  work: SnapshotWork,
): Promise<void> {
  if (a.copy) {
    const si = a.secondaryInput ?? 0;
    let srcRoot: string;
    if (si >= inputs.length && states[si - inputs.length] && 'active' in states[si - inputs.length]!) {
      srcRoot = (states[si - inputs.length] as { active: { dir: string } }).active.dir;
    } else {
      const s = si < 0 ? null : si < inputs.length ? inputs[si]!.snapshot : (states[si - inputs.length] as { committed: string | null }).committed;
      srcRoot = await work.view(s);
    }
    await copyAction({ step: v.name, srcRoot, destRoot: dir }, a.copy);
  } else if (a.mkdir) await mkdirAction(v.name, dir, a.mkdir);
  else if (a.mkfile) await mkfileAction(v.name, dir, a.mkfile);
  else if (a.rm) await rmAction(v.name, dir, a.rm);
  else if (a.symlink) await symlinkAction(v.name, dir, a.symlink);
}
