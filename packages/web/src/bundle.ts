import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The page's sources (page/) and where its bundle goes (dist/page/). */
const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PAGE_SOURCES = path.join(packageRoot, 'page');
export const PAGE_BUNDLE = path.join(packageRoot, 'dist', 'page');

/**
 * Bundles the page (app.js) and its worker (worker.js) with esbuild for browsers: the `browser` export condition
 * picks each @cope package's browser entry, so a Node built-in reaching the bundle fails the build, naming it.
 */
export async function bundlePage(outDir = PAGE_BUNDLE): Promise<string> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: { app: path.join(PAGE_SOURCES, 'main.ts'), worker: path.join(PAGE_SOURCES, 'worker.ts') },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    logLevel: 'warning',
  });
  await copyFile(path.join(PAGE_SOURCES, 'index.html'), path.join(outDir, 'index.html'));
  return outDir;
}
