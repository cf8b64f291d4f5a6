// Errors for training text that cannot be used as given. Each names the file and, where one
// exists, the byte offset of the first offending byte, so the user can find it with a hex viewer.

export type TextDataErrorCode =
  /** no bytes, or nothing but whitespace */
  | 'EMPTY'
  /** NUL bytes or many control characters: not text */
  | 'BINARY'
  /** bytes that are not well-formed UTF-8 */
  | 'INVALID_UTF8';

export class TextDataError extends Error {
  override readonly name = 'TextDataError';

  constructor(
    readonly code: TextDataErrorCode,
    /** the file (or label) the text came from */
    readonly source: string,
    message: string,
    /** byte offset of the first offending byte, when there is one */
    readonly offset?: number,
  ) {
    super(`${source}: ${message}`);
  }
}
