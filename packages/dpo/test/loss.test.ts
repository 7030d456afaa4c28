import { initBackend, tf, type Tensor1D } from '@cope/model';
import { dpoLoss } from '@cope/dpo';

beforeAll(async () => {
  await initBackend(process.env.COPE_BACKEND ?? 'wasm');
});

const pc = [-10, -4];
const pr = [-12, -3];
const rc = [-11, -5];
const rr = [-11, -2];
// h = (pc − rc) − (pr − rr) = [1 − (−1), 1 − (−1)] = [2, 2]
const h = [2, 2];
const logSig = (x: number) => -Math.log1p(Math.exp(-x));

function run(cfg: Parameters<typeof dpoLoss>[4]) {
  const ts = [pc, pr, rc, rr].map((x) => tf.variable(tf.tensor1d(x)));
  const g = tf.variableGrads(() => dpoLoss(ts[0] as unknown as Tensor1D, ts[1] as unknown as Tensor1D, ts[2] as unknown as Tensor1D, ts[3] as unknown as Tensor1D, cfg).loss, [ts[0], ts[1]]);
  const out = { loss: g.value.dataSync()[0], dChosen: Array.from(g.grads[ts[0].name].dataSync()), dRejected: Array.from(g.grads[ts[1].name].dataSync()) };
  tf.dispose([g.value, ...Object.values(g.grads), ...ts]);
  return out;
}

describe('DPO losses equal their closed forms on hand values', () => {
  test('sigmoid with label smoothing, and its gradient', () => {
    const beta = 0.5;
    const eps = 0.1;
    const r = run({ beta, lossType: 'sigmoid', labelSmoothing: eps });
    const per = (x: number) => -(1 - eps) * logSig(beta * x) - eps * logSig(-beta * x);
    expect(r.loss).toBeCloseTo((per(h[0]) + per(h[1])) / 2, 6);
    // dL/dh = (−(1−ε)·σ(−βh) + ε·σ(βh))·β, averaged over 2; dh/dpc = 1, dh/dpr = −1.
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    const d = ((-(1 - eps) * sig(-beta * 2) + eps * sig(beta * 2)) * beta) / 2;
    r.dChosen.forEach((x) => expect(x).toBeCloseTo(d, 6));
    r.dRejected.forEach((x) => expect(x).toBeCloseTo(-d, 6));
  });
  test('ipo', () => {
    const beta = 0.25;
    const r = run({ beta, lossType: 'ipo' });
    expect(r.loss).toBeCloseTo((2 - 1 / (2 * beta)) ** 2, 6);
    r.dChosen.forEach((x) => expect(x).toBeCloseTo((2 * (2 - 2)) / 2, 6));
  });
  test('hinge', () => {
    const r = run({ beta: 0.1, lossType: 'hinge' });
    expect(r.loss).toBeCloseTo(1 - 0.2, 6);
    r.dChosen.forEach((x) => expect(x).toBeCloseTo(-0.1 / 2, 6));
  });
  test('rewards are β·log-ratios; default β is 0.01', () => {
    const t = [pc, pr, rc, rr].map((x) => tf.tensor1d(x) as Tensor1D);
    const out = dpoLoss(t[0], t[1], t[2], t[3]);
    expect(Array.from(out.chosenRewards.dataSync())).toEqual([0.01, 0.01].map((x) => expect.closeTo(x, 8)) as any);
    expect(out.loss.dataSync()[0]).toBeCloseTo(-logSig(0.01 * 2), 7);
    tf.dispose([...t, out.loss, out.chosenRewards, out.rejectedRewards]);
  });
});
