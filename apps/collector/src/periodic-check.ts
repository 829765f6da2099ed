/**
 * Runs a policy's check every `intervalMs`, never two at once. stop() marks the check stopped at
 * once (a check in progress reads `stopped` before each verdict) and resolves when the check in
 * progress, if any, has ended.
 */
export class PeriodicCheck {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private halted = false;

  constructor(
    private readonly intervalMs: number,
    private readonly check: () => Promise<unknown>,
  ) {}

  /** True from stop() on: nothing must be judged any more. */
  get stopped(): boolean {
    return this.halted;
  }

  start(): void {
    this.halted = false;
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.check().then(() => undefined).finally(() => (this.running = null));
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    this.halted = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
