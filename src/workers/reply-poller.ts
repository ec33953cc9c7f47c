/**
 * Adaptive busy-polling of the event loop while a worker's reply is due.
 *
 * Waking a sleeping process costs tens of microseconds on virtual machines, once per hop. While a
 * request is with a worker, the front end would sleep in epoll and pay that wake-up when the reply
 * comes. Instead, for up to `budgetUs`, a chain of setImmediate callbacks keeps libuv polling with
 * a zero timeout. It only spins while the recent average reply time is shorter than the budget, so
 * slow applications never cause spinning, and a busy front end (which never sleeps) loses nothing.
 */
export class ReplyPoller {
  private readonly budgetMs: number;
  private awaiting = 0;
  private spinning = false;
  private deadline = 0;
  private averageMs = 0;

  constructor(budgetUs: number) {
    this.budgetMs = budgetUs / 1000;
  }

  /** A request was sent; its reply is due. Returns the send time, for replied(). */
  sent(): number {
    const now = performance.now();
    this.awaiting++;
    if (this.budgetMs > 0 && this.averageMs < this.budgetMs) {
      this.deadline = now + this.budgetMs;
      if (!this.spinning) {
        this.spinning = true;
        setImmediate(this.tick);
      }
    }
    return now;
  }

  /** The reply (or the request's end) arrived. */
  replied(sentAt: number): void {
    this.awaiting--;
    this.averageMs += (performance.now() - sentAt - this.averageMs) * 0.25;
  }

  private readonly tick = (): void => {
    if (this.awaiting > 0 && performance.now() < this.deadline) setImmediate(this.tick);
    else this.spinning = false;
  };
}
