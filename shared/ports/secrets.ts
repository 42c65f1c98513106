/** Where credentials live: AWS Secrets Manager in the stack, an encrypted table locally. */
export interface Secrets {
  /** Creates or replaces the secret and returns its reference (an ARN or a local id). */
  put(name: string, value: string): Promise<string>;
  get(reference: string): Promise<string>;
  delete(reference: string): Promise<void>;
}
