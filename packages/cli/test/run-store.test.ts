import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tempDir } from '#testing/temp';
import { loadRunConfig } from '../src/pipeline/config.js';
import { appendManifest, checkStageSettings, lockRunFolder } from '../src/pipeline/run-store.js';

const configFor = (runDir: string, extra: Record<string, unknown> = {}) => loadRunConfig(undefined, { dataDir: 'data', model: 'model', runDir, ...extra });

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
    await appendManifest(dir, { config: { seed: 2 }, backend: 'native' });
    await appendManifest(dir, { config: { seed: 3 }, backend: 'native' });
    const { invocations } = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    expect(invocations.map((i: { config: { seed: number } }) => i.config.seed)).toEqual([1, 2, 3]);
    expect(invocations[2].at).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});
