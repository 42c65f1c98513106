/** A clock the test moves by hand. */
export class FakeClock {
  constructor(private current = Date.now()) {}
  now(): Date {
    return new Date(this.current);
  }
  advanceSeconds(seconds: number): void {
    this.current += seconds * 1000;
  }
}
