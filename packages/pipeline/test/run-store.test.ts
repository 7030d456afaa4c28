import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tempDir } from '#testing/temp';
import { RunStore, checkRunConfig, type RunConfig } from '@cope/pipeline';

async function configFor(runDir: string, extra: Record<string, unknown> = {}): Promise<RunConfig> {
  const checked = checkRunConfig({ dataDir: 'data', model: 'model', runDir, ...extra });
  if ('issue' in checked) throw new Error(checked.issue.message);
  return checked.config;
}
const lockRunFolder = (dir: string) => new RunStore(dir).lock();
const checkStageSettings = (config: RunConfig, stages: Parameters<RunStore['checkStageSettings']>[1], redo?: boolean) => new RunStore(config.runDir).checkStageSettings(config, stages, redo);

describe('run folder lock', () => {
  test('a second run on the folder is refused, naming the holder; after release the folder is free', async () => {
    const dir = tempDir('cope-lock-');
    const lock = await lockRunFolder(dir);
    await expect(lockRunFolder(dir)).rejects.toThrow(new RegExp(`in use by process ${process.pid} on ${os.hostname()}`));
    await lock.release();
    expect(existsSync(path.join(dir, '.lock'))).toBe(false);
    await (await lockRunFolder(dir)).release();
  });

  test('a lock left by a process of this machine that is gone (kill -9) is taken over; one from another machine is not', async () => {
    const dir = tempDir('cope-lock-');
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(path.join(dir, '.lock'), JSON.stringify({ pid: Number(gone.stdout), host: os.hostname(), started: 'earlier' }));
    const lock = await lockRunFolder(dir);
    expect(JSON.parse(readFileSync(lock.file, 'utf8')).pid).toBe(process.pid);
    await lock.release();
    writeFileSync(path.join(dir, '.lock'), JSON.stringify({ pid: Number(gone.stdout), host: 'elsewhere', started: 'earlier' }));
    await expect(lockRunFolder(dir)).rejects.toThrow(/in use by process \d+ on elsewhere since earlier .*delete the file if it is gone/);
  });
});

describe('stage settings of a run folder', () => {
  test('results made with other settings are refused, naming each key; unaffected stages run; --redo deletes what depends on the change', async () => {
    const runDir = tempDir('cope-stages-');
    await checkStageSettings(await configFor(runDir), ['tam', 'sft', 'negatives', 'score', 'dpo', 'decode', 'eval']);
    const made = ['ckpt/TAM/news_headline/adapter_config.json', 'ckpt/OPPU_SFT/news_headline/user_0/adapter_config.json', 'ckpt/OPPU_SFT+DPO/news_headline/user_0/adapter_config.json',
      'data/news_headline/user_top_100_history_with_pseudo_negatives.json', 'output/news_headline/CoPe.json'];
    for (const f of made) {
      mkdirSync(path.dirname(path.join(runDir, f)), { recursive: true });
      writeFileSync(path.join(runDir, f), '{}');
    }
    const changed = await configFor(runDir, { oppu: { learningRate: 0.001 }, seed: 42 });
    await expect(checkStageSettings(changed, ['dpo'])).rejects.toThrow(/news_headline sft: oppu\.learningRate: was unset, now 0\.001[\s\S]*--redo/);
    // TAM and the negatives do not read OPPU: they may run again as they are.
    await checkStageSettings(changed, ['tam', 'negatives']);
    await expect(checkStageSettings(await configFor(runDir, { seed: 7 }), ['tam'])).rejects.toThrow(/news_headline tam: seed: was 42, now 7/);
    await checkStageSettings(changed, ['sft'], true);
    expect(made.map((f) => existsSync(path.join(runDir, f)))).toEqual([true, false, false, true, false]);
    const record = JSON.parse(readFileSync(path.join(runDir, 'stages.json'), 'utf8')).news_headline;
    expect(record.sft.oppu).toEqual({ learningRate: 0.001 });
    expect(Object.keys(record).sort()).toEqual(['negatives', 'sft', 'tam']);
    await checkStageSettings(changed, ['dpo', 'decode']);
  });
});

describe('manifest', () => {
  test('records every invocation, oldest first, keeping a manifest from before the history', async () => {
    const dir = tempDir('cope-manifest-');
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ config: { seed: 1 }, backend: 'wasm' }));
    await new RunStore(dir).appendManifest({ config: { seed: 2 }, backend: 'native' });
    await new RunStore(dir).appendManifest({ config: { seed: 3 }, backend: 'native' });
    const { invocations } = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    expect(invocations.map((i: { config: { seed: number } }) => i.config.seed)).toEqual([1, 2, 3]);
    expect(invocations[2].at).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});

describe('per-user parts', () => {
  test('written atomically, found per user, assembled in user order; missing users are named', async () => {
    const dir = tempDir('cope-parts-');
    const store = new RunStore(dir).task('news_headline');
    const parts = store.layout.negativesParts;
    for (const i of [2, 0, 3, 1]) await store.writePart({ kind: 'negatives' }, i, { i });
    expect(readdirSync(parts).sort()).toEqual(['user_0.json', 'user_1.json', 'user_2.json', 'user_3.json']);
    expect(await store.hasParts(parts, [0, 1, 2, 3])).toBe(true);
    expect(await store.hasParts(parts, [3, 4])).toBe(false);
    expect(await store.assemble(parts, 4)).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }, { i: 3 }]);
    await expect(store.assemble(parts, 6)).rejects.toThrow(/missing results for users 4, 5/);
  });

  test('a trainer\'s folder counts as trained only when its trainer_state.json says finished', async () => {
    const store = new RunStore(tempDir('cope-trained-')).task('news_headline');
    const dir = store.layout.oppu(0);
    expect(await store.isTrained('oppu', 0)).toBe(false);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'trainer_state.json'), JSON.stringify({ finished: false, step: 3 }));
    expect(await store.isTrained('oppu', 0)).toBe(false);
    writeFileSync(path.join(dir, 'trainer_state.json'), JSON.stringify({ finished: true, step: 8 }));
    expect(await store.isTrained('oppu', 0)).toBe(true);
  });
});
