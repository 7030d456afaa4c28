import { Worker } from 'node:worker_threads';
import type { PanelHelpers, PanelsFn } from './runtime.js';

/**
 * Helper threads that split the rows kernel's products by panels on tfjs's threaded build.
 *
 * On more than one thread the backend runs its own ops on XNNPACK's pthread pool, but the rows kernel
 * (rows-matmul.wat) is ours and runs on the calling thread alone, so products of many rows (prompts, training)
 * would be faster on XNNPACK's pool than on it; split over helpers it is faster than the pool again.
 * The threaded build's heap is a shared memory: helper worker threads instantiate the same kernel on it,
 * and for a large product each computes the columns of its share of the panels while the calling thread
 * computes the first share. Every column's sums are computed exactly as in the one-thread product, so the
 * results are bitwise the same.
 *
 * A product is handed over through a small shared control block: the caller writes the arguments, bumps a
 * sequence number and wakes the helpers (`Atomics.notify`), computes its own share, then waits until every
 * helper has counted itself done. Idle helpers sleep in `Atomics.wait` and do not keep Node alive.
 */

/** Control block slots (Int32). */
const SEQ = 0;
const DONE = 1;
const FAILED = 2;
/** x, w, y, rows, k, n, panels, shares: the product's arguments. */
const ARGS = 3;
const SLOTS = ARGS + 8;

/**
 * How long the caller spins for its helpers before it sleeps: their shares end about when the caller's does.
 * (Helpers themselves sleep at once when idle: spinning there held the core XNNPACK's pool thread needs.)
 */
const SPIN_MS = 1;

/** How long the caller waits for its helpers before it reports them stuck (a bug, not a slow product). */
const STUCK_MS = 60_000;

/**
 * The helper's code (run with `eval`): instantiate the kernel on the shared heap, then serve products until
 * the process ends. A trap, or a kernel that could not be instantiated, is reported through FAILED so that the
 * caller raises it instead of waiting.
 */
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { memory, module, control, index } = workerData;
const ctl = new Int32Array(control);
// A kernel that cannot be instantiated here fails every product (the caller raises at once, never waits).
let panels;
try {
  panels = new WebAssembly.Instance(module, { env: { memory } }).exports.panels;
} catch {
  panels = undefined;
}
// The caller may post a product before this thread has started: start from the block's first sequence number.
let seen = 0;
for (;;) {
  Atomics.wait(ctl, ${SEQ}, seen);
  seen = Atomics.load(ctl, ${SEQ});
  const a = ctl.slice(${ARGS}, ${ARGS + 8});
  const total = a[6], shares = a[7];
  try {
    if (index < shares) panels(a[0], a[1], a[2], a[3], a[4], a[5], Math.floor((total * index) / shares), Math.floor((total * (index + 1)) / shares));
  } catch {
    Atomics.store(ctl, ${FAILED}, 1);
  }
  Atomics.add(ctl, ${DONE}, 1);
  Atomics.notify(ctl, ${DONE});
}
`;


/** Helper threads for one shared heap and one compiled kernel module. */
export class RowsHelpers implements PanelHelpers {
  /** Products split so far in this process or worker thread (tests check the helpers ran). */
  static splitProducts = 0;
  private readonly control = new Int32Array(new SharedArrayBuffer(SLOTS * 4));

  /** `helpers` threads (the backend's threads minus the caller) on `memory`, each instantiating `module`. */
  constructor(memory: object, module: object, readonly helpers: number) {
    for (let i = 1; i <= helpers; i++) {
      new Worker(HELPER_SOURCE, { eval: true, workerData: { memory, module, control: this.control.buffer, index: i } }).unref();
    }
  }

  /**
   * `y [rows, n] = x [rows, k] · W` over `panels` packed panels, split in `helpers + 1` shares of panels;
   * `own` computes the caller's share (panels p0 .. p1-1) on the calling thread.
   */
  run(own: PanelsFn, x: number, w: number, y: number, rows: number, k: number, n: number, panels: number): void {
    const ctl = this.control;
    const shares = Math.min(this.helpers + 1, panels);
    const args = [x, w, y, rows, k, n, panels, shares];
    for (let i = 0; i < args.length; i++) ctl[ARGS + i] = args[i];
    // Int32 counters wrap; so does `| 0`.
    const done = (Atomics.load(ctl, DONE) + this.helpers) | 0;
    Atomics.add(ctl, SEQ, 1);
    Atomics.notify(ctl, SEQ);
    own(x, w, y, rows, k, n, 0, Math.floor(panels / shares));
    const start = performance.now();
    while (Atomics.load(ctl, DONE) !== done && performance.now() - start < SPIN_MS);
    for (let now = Atomics.load(ctl, DONE); now !== done; now = Atomics.load(ctl, DONE)) {
      if (Atomics.wait(ctl, DONE, now, STUCK_MS) === 'timed-out' && performance.now() - start >= STUCK_MS) {
        throw new Error(`rows kernel: helper threads did not finish a [${rows}, ${k}] · [${k}, ${n}] product in ${STUCK_MS / 1000} s`);
      }
    }
    RowsHelpers.splitProducts++;
    if (Atomics.exchange(ctl, FAILED, 0)) throw new Error(`rows kernel: a helper thread failed on a [${rows}, ${k}] · [${k}, ${n}] product`);
  }
}
