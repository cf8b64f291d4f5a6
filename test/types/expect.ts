// Type-level assertions: expectType<Equal<A, B>>() compiles only when A and B are the same
// type (not merely assignable: `any` and unions that are too wide fail too).
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;

export function expectType<T extends true>(): void {
  // Only the type argument matters.
}
