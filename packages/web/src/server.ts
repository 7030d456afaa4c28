import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { TASK_NAMES, readTargetUsers, type TaskName } from '@cope/data';
import { RunStore } from '@cope/pipeline';
import { ROUTES } from './routes.js';
import { PAGE_BUNDLE } from './bundle.js';
import { runMethodSettings } from './settings.js';

export interface PageServerOptions {
  /** The base model folder (config.json, model.safetensors, tokenizer.json). */
  model: string;
  /** The data folder (`<task>/user_top_100_history.json`). */
  data: string;
  /** A `cope run` folder: the tasks' TAM adapters and the method settings. */
  run: string;
  /** 0: any free port. */
  port?: number;
  /** The bundled page (dist/page). */
  page?: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.map': 'application/json', '.json': 'application/json',
  '.wasm': 'application/wasm', '.safetensors': 'application/octet-stream',
};

/**
 * Cross-origin isolation (the wasm backend's threads need SharedArrayBuffer), and nothing cached: a page reloaded
 * after a new run reads the new TAM.
 */
const HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

const wasmDist = () => path.join(path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');

/** `name` inside `dir`, or null when it would leave it. */
function inside(dir: string, name: string): string | null {
  const file = path.resolve(dir, decodeURIComponent(name));
  return file.startsWith(path.resolve(dir) + path.sep) ? file : null;
}

/**
 * Serves the page, its worker, tfjs-backend-wasm's binaries and the page's inputs (model, TAM, users, settings) on
 * localhost only. Returns the page's URL and a way to stop.
 */
export async function servePage(opts: PageServerOptions): Promise<{ url: string; close(): Promise<void> }> {
  const page = opts.page ?? PAGE_BUNDLE;
  const settings = await runMethodSettings(opts.run);
  const run = new RunStore(opts.run);
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { ...HEADERS, 'Content-Type': type });
      res.end(body);
    };
    const file = async (p: string | null) => {
      if (!p || !(await stat(p).then((s) => s.isFile(), () => false))) return send(404, `not found: ${url.pathname}`);
      res.writeHead(200, { ...HEADERS, 'Content-Type': TYPES[path.extname(p)] ?? 'application/octet-stream' });
      createReadStream(p).pipe(res);
    };
    try {
      const p = url.pathname;
      if (p === '/' || p === '/index.html') return await file(path.join(page, 'index.html'));
      if (p === ROUTES.settings) return send(200, JSON.stringify(settings), TYPES['.json']);
      if (p.startsWith(ROUTES.wasm)) return await file(inside(wasmDist(), p.slice(ROUTES.wasm.length)));
      if (p.startsWith(ROUTES.model)) return await file(inside(opts.model, p.slice(ROUTES.model.length)));
      if (p.startsWith(ROUTES.tam) || p.startsWith(ROUTES.users)) {
        const [task, name] = p.slice(p.startsWith(ROUTES.tam) ? ROUTES.tam.length : ROUTES.users.length).split('/');
        if (!(TASK_NAMES as readonly string[]).includes(task)) return send(404, `unknown task "${task}" (expected one of ${TASK_NAMES.join(', ')})`);
        if (p.startsWith(ROUTES.users)) {
          const { users } = await readTargetUsers(path.join(opts.data, task), task as TaskName);
          return send(200, JSON.stringify(users), TYPES['.json']);
        }
        return await file(inside(run.task(task as TaskName).layout.tam, name ?? ''));
      }
      return await file(inside(page, p.slice(1)));
    } catch (e) {
      send(500, (e as Error).message);
    }
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
