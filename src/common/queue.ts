// A queue whose consumer awaits the next item; failing it rejects every waiting and future take.

export class AsyncQueue<T> {
  private readonly items: T[] = [];
  private readonly waiters: Array<{ resolve: (v: T) => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;

  push(item: T): void {
    const w = this.waiters.shift();
    if (w) w.resolve(item);
    else this.items.push(item);
  }

  take(): Promise<T> {
    if (this.items.length) return Promise.resolve(this.items.shift()!);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiters.splice(0)) w.reject(this.failure);
  }

  get length(): number {
    return this.items.length;
  }
}
