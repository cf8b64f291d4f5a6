// The recurrent cells the command line offers, in one place: `--cell` of every command checks
// against this list, so adding a cell to the library means adding its name here.
import { CliError } from './errors';

/** Cells this version builds (the model's cell option takes these names). */
export const AVAILABLE_CELLS = ['rnn'] as const;
export type CellName = (typeof AVAILABLE_CELLS)[number];

/** Cells people ask for that a later version brings; they get "not available" rather than "unknown". */
const PLANNED_CELLS = ['lstm', 'gru'];

export function checkCell(value: string): CellName {
  if ((AVAILABLE_CELLS as readonly string[]).includes(value)) return value as CellName;
  const have = AVAILABLE_CELLS.join(', ');
  if (PLANNED_CELLS.includes(value)) throw new CliError(`--cell ${value} is not available in this version (available: ${have})`);
  throw new CliError(`--cell ${JSON.stringify(value)} is not a cell this version knows (available: ${have})`);
}
