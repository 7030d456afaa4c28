/** A training-loss plot on a canvas: one line per series (OPPU, DPO), each step appended, redrawn to fit. */
export class LossPlot {
  private readonly series: number[][] = [[], []];
  private static readonly COLORS = ['#1f6feb', '#d9730d'];

  constructor(private readonly canvas: HTMLCanvasElement) {}

  clear(): void {
    for (const s of this.series) s.length = 0;
    this.draw();
  }

  add(series: number, loss: number): void {
    this.series[series].push(loss);
    this.draw();
  }

  private draw(): void {
    const g = this.canvas.getContext('2d');
    if (!g) return;
    const { width: w, height: h } = this.canvas;
    g.clearRect(0, 0, w, h);
    const all = this.series.flat();
    if (!all.length) return;
    const lo = Math.min(...all);
    const hi = Math.max(...all);
    const steps = this.series[0].length + this.series[1].length;
    const x = (k: number) => 30 + ((w - 40) * k) / Math.max(1, steps - 1);
    const y = (v: number) => 10 + (h - 30) * (hi === lo ? 0.5 : (hi - v) / (hi - lo));
    g.fillStyle = '#5a6570';
    g.font = '11px system-ui';
    g.fillText(hi.toFixed(2), 2, 14);
    g.fillText(lo.toFixed(2), 2, h - 18);
    let offset = 0;
    this.series.forEach((s, k) => {
      g.strokeStyle = LossPlot.COLORS[k];
      g.lineWidth = 1.5;
      g.beginPath();
      s.forEach((v, i) => (i ? g.lineTo(x(offset + i), y(v)) : g.moveTo(x(offset + i), y(v))));
      g.stroke();
      offset += s.length;
    });
  }
}
