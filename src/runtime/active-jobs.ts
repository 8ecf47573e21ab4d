/**
 * The jobs a worker process is running: what a shutdown waits for, and what it names when it
 * runs out of time (BALLAST_SHUTDOWN_TIMEOUT).
 */
export interface ActiveJob {
  readonly jobId: string;
  readonly job: string;
  readonly runId?: string;
  readonly portfolioId?: string;
  /** When this attempt began (ISO 8601). */
  readonly since: string;
}

export class ActiveJobs {
  readonly #jobs = new Set<ActiveJob>();
  #waiters: (() => void)[] = [];

  /** Runs `work` as the active job `entry`. */
  async run<T>(entry: ActiveJob, work: () => Promise<T>): Promise<T> {
    this.#jobs.add(entry);
    try {
      return await work();
    } finally {
      this.#jobs.delete(entry);
      if (this.#jobs.size === 0) for (const wake of this.#waiters.splice(0)) wake();
    }
  }

  get size(): number {
    return this.#jobs.size;
  }

  list(): ActiveJob[] {
    return [...this.#jobs];
  }

  /** Resolves as soon as no job is running. */
  idle(): Promise<void> {
    if (this.#jobs.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
