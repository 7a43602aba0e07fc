// Errors of the package. Argument problems are the built-in TypeError and
// RangeError (thrown by validation, naming the argument); these classes cover
// what is specific to a native package.

/** The native addon could not be loaded; `attempts` says what was tried. */
export class NativeLoadError extends Error {
  readonly attempts: string[];
  constructor(message: string, attempts: string[]) {
    super(message);
    this.name = 'NativeLoadError';
    this.attempts = attempts;
  }
}
