/** What a route or a page answers, before the edge turns it into an API Gateway result. */
export interface Reply {
  readonly status: number;
  /** Serialised as JSON unless it is a string or a Buffer (then sent as is, with `headers` naming its type). */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly cookies?: readonly string[];
}
