// The record of a run beside its checkpoint: every step's training numbers and every
// validation as JSON Lines, and the loss curve drawn from them. Both are rewritten whole
// (atomically) with each checkpoint, so they always describe the run up to that checkpoint.
import * as fs from 'fs';
import { writeFileAtomic } from '../io/atomic';
import { lossCurveSvg } from './svg';

export interface TrainRow {
  kind: 'train';
  step: number;
  epoch: number;
  loss: number;
  gradNorm: number;
  lr: number;
  tokensPerSecond: number;
  elapsedMs: number;
}

export interface ValidationRow {
  kind: 'validation';
  step: number;
  epoch: number;
  loss: number;
  bpc: number;
  /** Set when this validation improved on every earlier one: the best checkpoint written then. */
  bestCheckpoint?: string;
}

export type MetricsRow = TrainRow | ValidationRow;

/**
 * The files beside a checkpoint: names.safetensors → names.metrics.jsonl, names.loss.svg, and
 * names.best.safetensors (the weights of the lowest validation loss so far).
 */
export function companionPaths(checkpoint: string): { metrics: string; svg: string; best: string } {
  const stem = checkpoint.replace(/\.safetensors$/i, '');
  return { metrics: `${stem}.metrics.jsonl`, svg: `${stem}.loss.svg`, best: `${stem}.best.safetensors` };
}

function isRow(v: unknown): v is MetricsRow {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (r.kind === 'train' || r.kind === 'validation') && typeof r.step === 'number' && typeof r.loss === 'number';
}

/**
 * The rows of a run up to `upToStep`, from the metrics file beside a checkpoint being resumed:
 * rows logged after that checkpoint was written belong to steps the resumed run will redo.
 * A missing or unreadable file gives no rows (the record is a convenience, not state).
 */
export function readMetrics(file: string, upToStep: number): MetricsRow[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const rows: MetricsRow[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const row: unknown = JSON.parse(line);
      if (isRow(row) && row.step <= upToStep) rows.push(row);
    } catch {
      // a torn last line of a crashed writer's file; the rest is still good
    }
  }
  return rows;
}

/** Writes the metrics (JSON Lines) and the loss curve (SVG) beside `checkpoint`. */
export async function writeRecord(checkpoint: string, rows: readonly MetricsRow[], baseline: number | null, title: string): Promise<{ metrics: string; svg: string }> {
  const paths = companionPaths(checkpoint);
  await writeFileAtomic(paths.metrics, rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length > 0 ? '\n' : ''));
  const train = rows.filter((r): r is TrainRow => r.kind === 'train').map((r) => [r.step, r.loss] as const);
  const validation = rows.filter((r): r is ValidationRow => r.kind === 'validation').map((r) => [r.step, r.loss] as const);
  await writeFileAtomic(paths.svg, lossCurveSvg({ train, validation, baseline, title }));
  return paths;
}
