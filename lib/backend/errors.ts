// One error factory for every argument check, so messages read the same everywhere:
//   "<function>: <argument> must be <expected>, got <actual>"
// TypeError when the kind of value is wrong, RangeError when its size or value is.

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') {
    if (Object.is(value, -0)) return '-0';
    return String(value);
  }
  if (typeof value === 'string') return `the string '${value.length > 40 ? value.slice(0, 40) + '...' : value}'`;
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'bigint') return 'a bigint';
  if (typeof value === 'function') return 'a function';
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor.name;
    const length = (value as { length?: number }).length;
    return length === undefined ? `a ${name}` : `a ${name} of length ${length}`;
  }
  if (Array.isArray(value)) return 'an Array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export function invalidType(fn: string, name: string, expected: string, actual: unknown): TypeError {
  return new TypeError(`${fn}: ${name} must be ${expected}, got ${describe(actual)}`);
}

export function invalidRange(fn: string, name: string, expected: string, actual: unknown): RangeError {
  return new RangeError(`${fn}: ${name} must be ${expected}, got ${typeof actual === 'string' ? actual : describe(actual)}`);
}

/** The native addon is not built or could not load; says why and what to do. */
export class BackendUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendUnavailableError';
  }
}
