// The recurrent cells the command line offers: the registered cell kinds (lib/nn/cells/registry.ts),
// so a kind added to the library is a --cell choice of every command at once.
import { cellNames } from '../nn/cells/registry';
import { CliError } from './errors';

export type CellName = string;

/** Cells this version builds (the model's cell option takes these names). */
export function availableCells(): string[] {
  return cellNames();
}

export function checkCell(value: string): CellName {
  if (cellNames().includes(value)) return value;
  throw new CliError(`--cell ${JSON.stringify(value)} is not a cell this version knows (available: ${cellNames().join(', ')})`);
}
