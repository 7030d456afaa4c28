import { readFileSync } from 'node:fs';
import { generatedSources } from '../wasm/build.js';

describe('embedded WebAssembly kernels', () => {
  it('each committed *-binary.ts is the compiled form of its .wat source (run `pnpm gen:wasm` after editing one)', async () => {
    const all = await generatedSources();
    expect(all.length).toBeGreaterThan(0);
    for (const g of all) expect(readFileSync(g.target, 'utf8')).toBe(g.text);
  });
});
