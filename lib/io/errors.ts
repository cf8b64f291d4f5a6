// Errors for malformed checkpoint files. A file is data from outside the process: anything
// wrong in it is a CheckpointError with a machine-readable code, never a TypeError from deep
// inside a parser or a crash.

export type CheckpointErrorCode =
  /** the file ends before the header length, the header, or a tensor */
  | 'TRUNCATED'
  /** the header length is over the reader's bound */
  | 'HEADER_TOO_LARGE'
  /** the header bytes are not valid UTF-8 */
  | 'BAD_UTF8'
  /** the header is not valid JSON */
  | 'BAD_JSON'
  /** the header or a tensor entry has the wrong structure (not an object, missing/unknown field) */
  | 'BAD_HEADER'
  /** a key appears twice in one JSON object (tensor names included) */
  | 'DUPLICATE_NAME'
  /** a dtype this reader does not know */
  | 'BAD_DTYPE'
  /** a shape that is not an array of non-negative safe integers, or whose size overflows */
  | 'BAD_SHAPE'
  /** data_offsets that are not two integers, are reversed, or point past the data */
  | 'BAD_OFFSETS'
  /** shape × itemsize disagrees with end − begin */
  | 'SIZE_MISMATCH'
  /** two tensors share bytes */
  | 'OVERLAP'
  /** bytes between tensors that no tensor covers */
  | 'HOLE'
  /** bytes after the last tensor that no tensor covers */
  | 'TRAILING_DATA'
  /** __metadata__ is not an object of strings */
  | 'BAD_METADATA'
  /** a tensor the model needs is absent (checkpoint layer) */
  | 'MISSING_TENSOR'
  /** a tensor or metadata value is well-formed but wrong for the model (checkpoint layer) */
  | 'BAD_VALUE';

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';

  constructor(readonly code: CheckpointErrorCode, message: string) {
    super(message);
  }
}
