/** An output stream that keeps what was written; `isTTY` makes it pose as a terminal. */
import type { OutputStream } from '../../cli/kit/context.ts';

export class CapturedStream implements OutputStream {
  text = '';
  constructor(
    readonly isTTY = false,
    readonly columns = 120,
  ) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}
