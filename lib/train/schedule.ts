// Learning-rate schedules: a factor of the base rate as a function of the step (counted
// from 0), with an optional linear warm-up in front of any of them.
import { invalidRange, invalidType } from '../backend/errors';
import { checkKnownKeys, isNonNegativeInt } from '../nn/predicates';

export type ScheduleSpec =
  | { kind: 'constant'; warmup?: number }
  | { kind: 'step'; stepSize: number; gamma?: number; warmup?: number }
  | { kind: 'cosine'; totalSteps: number; minFactor?: number; warmup?: number };

export type Schedule = (step: number) => number;

/** The keys each kind of spec reads. */
const SPEC_KEYS: Record<string, readonly string[]> = {
  constant: ['kind', 'warmup'],
  step: ['kind', 'stepSize', 'gamma', 'warmup'],
  cosine: ['kind', 'totalSteps', 'minFactor', 'warmup'],
};

function nonNegInt(name: string, v: unknown): number {
  if (!isNonNegativeInt(v)) throw invalidRange('schedule', name, 'a non-negative integer', v);
  return v;
}

export function createSchedule(spec: ScheduleSpec | Schedule | undefined): Schedule {
  if (spec === undefined) return () => 1;
  if (typeof spec === 'function') return spec;
  if (typeof spec !== 'object' || spec === null) throw invalidType('schedule', 'schedule', 'a schedule spec or function', spec);
  // An unknown kind is reported below, by name; a known one reads only its own keys.
  const keys = Object.prototype.hasOwnProperty.call(SPEC_KEYS, spec.kind) ? SPEC_KEYS[spec.kind] : null;
  if (keys !== null) checkKnownKeys(`schedule '${spec.kind}'`, spec, keys);
  const warmup = nonNegInt('warmup', spec.warmup ?? 0);
  let base: Schedule;
  switch (spec.kind) {
    case 'constant':
      base = () => 1;
      break;
    case 'step': {
      const size = nonNegInt('stepSize', spec.stepSize);
      if (size < 1) throw invalidRange('schedule', 'stepSize', 'a positive integer', size);
      const gamma = spec.gamma ?? 0.1;
      if (!(gamma > 0) || !Number.isFinite(gamma)) throw invalidRange('schedule', 'gamma', 'a positive number', gamma);
      base = (s) => gamma ** Math.floor(s / size);
      break;
    }
    case 'cosine': {
      const total = nonNegInt('totalSteps', spec.totalSteps);
      if (total < 1) throw invalidRange('schedule', 'totalSteps', 'a positive integer', total);
      const min = spec.minFactor ?? 0;
      if (!(min >= 0 && min <= 1)) throw invalidRange('schedule', 'minFactor', 'in [0, 1]', min);
      // Cosine annealing from 1 to minFactor over totalSteps (after the warm-up).
      base = (s) => {
        const t = Math.min(1, Math.max(0, s - warmup) / Math.max(1, total - warmup));
        return min + (1 - min) * 0.5 * (1 + Math.cos(Math.PI * t));
      };
      break;
    }
    default:
      throw invalidType('schedule', 'kind', "'constant', 'step' or 'cosine'", (spec as { kind: unknown }).kind);
  }
  if (warmup === 0) return base;
  return (s) => (s < warmup ? (s + 1) / warmup : 1) * base(s);
}
