// An error the user can fix from the command line (a bad flag, a file that does not fit the
// checkpoint): main prints its message alone, without a stack, and exits nonzero.
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}
