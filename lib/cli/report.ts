// What `train` prints while it runs, in one of three forms:
//   bar   — a cli-progress bar (stdout is a terminal): loss, validation loss, tokens/s, ETA,
//           with messages printed above it;
//   lines — plain periodic lines (stdout is a pipe or file), readable in a log;
//   json  — one JSON object per report (--json), for scripts: {"event": "step", ...}.
import { MultiBar, Presets, type SingleBar } from 'cli-progress';

export type ReportMode = 'bar' | 'lines' | 'json';

export interface StepReport {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  gradNorm: number;
  lr: number;
  tokensPerSecond: number;
  /** the last validation loss, or null before the first */
  validationLoss: number | null;
  etaSeconds: number;
}

export type JsonEvent = { event: string } & Record<string, unknown>;

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Numbers in JSON: NaN and ±Infinity become null rather than invalid JSON. */
function jsonLine(value: JsonEvent): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
}

export class Reporter {
  readonly mode: ReportMode;
  private readonly logEvery: number;
  private multibar: MultiBar | null = null;
  private bar: SingleBar | null = null;

  constructor(mode: ReportMode, logEvery: number) {
    this.mode = mode;
    this.logEvery = logEvery;
  }

  /** A JSON event (json mode only). */
  event(value: JsonEvent): void {
    if (this.mode === 'json') process.stdout.write(jsonLine(value) + '\n');
  }

  /** A line for people (bar and lines modes), above the bar when there is one. */
  say(text: string): void {
    if (this.mode === 'json') return;
    if (this.multibar) this.multibar.log(text + '\n');
    else process.stdout.write(text + '\n');
  }

  /** Both: the line for people, or the event for scripts. */
  note(text: string, value: JsonEvent): void {
    if (this.mode === 'json') this.event(value);
    else this.say(text);
  }

  begin(startStep: number, totalSteps: number): void {
    if (this.mode !== 'bar') return;
    this.multibar = new MultiBar({
      // Kept under 80 columns: cli-progress cuts the line at the terminal's width.
      format: ' {bar} {value}/{total}  loss {loss}  val {val}  {speed} tok/s  ETA {remaining}',
      hideCursor: true, clearOnComplete: false, stopOnComplete: false, stream: process.stdout, barsize: 16, fps: 8,
    }, Presets.shades_classic);
    this.bar = this.multibar.create(totalSteps, startStep, { loss: '-', val: '-', speed: '-', remaining: '?' });
  }

  step(r: StepReport): void {
    const val = r.validationLoss === null ? '-' : r.validationLoss.toFixed(4);
    if (this.mode === 'bar') {
      this.bar?.update(r.step, { loss: r.loss.toFixed(4), val, speed: Math.round(r.tokensPerSecond).toLocaleString('en-US'), remaining: duration(r.etaSeconds) });
      return;
    }
    if (r.step !== 1 && r.step % this.logEvery !== 0 && r.step !== r.totalSteps) return;
    if (this.mode === 'json') {
      this.event({ event: 'step', step: r.step, totalSteps: r.totalSteps, epoch: r.epoch, loss: r.loss, gradNorm: r.gradNorm,
        lr: r.lr, tokensPerSecond: r.tokensPerSecond, validationLoss: r.validationLoss, etaSeconds: r.etaSeconds });
    } else {
      const width = String(r.totalSteps).length;
      process.stdout.write(`step ${String(r.step).padStart(width)}/${r.totalSteps}  epoch ${r.epoch}  loss ${r.loss.toFixed(4)}  ` +
        `val ${val}  ${Math.round(r.tokensPerSecond).toLocaleString('en-US')} tok/s  eta ${duration(r.etaSeconds)}\n`);
    }
  }

  end(): void {
    this.multibar?.stop();
    this.multibar = null;
    this.bar = null;
  }
}

export { duration };
