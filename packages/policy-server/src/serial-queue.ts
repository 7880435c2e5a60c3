// Runs async jobs one at a time, in arrival order. TensorFlow.js work from many connections must
// not interleave (one backend, one set of weights), and a failed job must not stall the queue.
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  get size(): number {
    return this.pending;
  }

  run<T>(job: () => Promise<T> | T): Promise<T> {
    this.pending++;
    const result = this.tail.then(job);
    this.tail = result.then(
      () => {
        this.pending--;
      },
      () => {
        this.pending--;
      },
    );
    return result;
  }

  /** Resolves once every job queued so far has settled. */
  async drain(): Promise<void> {
    while (this.pending > 0) await this.tail;
  }
}
