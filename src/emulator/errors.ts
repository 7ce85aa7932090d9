// The emulator's own error for a bad seed or --generate spec (it imports nothing of the tool; the CLI maps it to
// an input error, exit 1).
export class SeedError extends Error {
  constructor(
    message: string,
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'SeedError';
  }
}
