/** A clock the test moves by hand, so time-based rules are tested without waiting. */
export class TestClock {
  constructor(public ms = Date.parse('2026-05-04T10:00:00Z')) {}
  readonly now = () => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}
