import type { Db } from '../../store/db.js';

/**
 * Writes of the batches in flight, committed together: each is queued, and the queue runs as one
 * transaction once the current turn of the event loop is over. A caller waits for the commit, so an
 * attempt is durable before it is sent, as before; a hundred batches answered at once cost one commit,
 * not a hundred (the commits were a third of a million-change apply's CPU). One write that throws fails
 * its whole group: the apply stops, and resumes from what was committed.
 */
export class GroupWriter {
  private queue: { write: () => void; settle: (error?: Error) => void }[] = [];

  constructor(private readonly db: Db) {}

  run(write: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) setImmediate(() => this.flush());
      this.queue.push({ write, settle: (error) => (error === undefined ? resolve() : reject(error)) });
    });
  }

  private flush(): void {
    const group = this.queue;
    this.queue = [];
    try {
      this.db.transaction(() => {
        for (const entry of group) entry.write();
      })();
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const entry of group) entry.settle(failure);
      return;
    }
    for (const entry of group) entry.settle();
  }
}
