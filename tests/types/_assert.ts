/**
 * Type-level assertions for the fixtures in tests/types/pass/. They do nothing at run time; a
 * wrong type is a compile error (`Type 'false' does not satisfy the constraint 'true'`), which
 * tests/types/types_test.ts reports.
 */

/**
 * `true` when `A` and `B` are the same type (not merely assignable to each other: `any`, optional
 * and readonly properties all count), else `false`.
 */
export type IsExact<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2)
  ? true
  : false;

/**
 * Compiles only when its type argument is `true`: `assertType<IsExact<typeof x, string>>()`.
 *
 * @returns Nothing.
 */
export function assertType<_Check extends true>(): void {}
