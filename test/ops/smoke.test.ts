/** The post-deploy smoke test, run here against the local stack with a real account's key. */
import { runSmoke } from '../../ops/smoke';
import { startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack.stop());

describe('npm run smoke', () => {
  it("passes every check of the seeds' main paths against a healthy stack", async () => {
    const account = await stack.createAccount();
    const checks = await runSmoke(stack.url, account.apiKey);
    expect(checks.filter((check) => !check.ok)).toEqual([]);
    expect(checks.length).toBeGreaterThanOrEqual(11);
  });

  it('fails, naming the check, with a key the stack does not know', async () => {
    const checks = await runSmoke(stack.url, 'sk_unknown');
    expect(checks.find((check) => !check.ok)?.name).toMatch(/^GET \/api\/v1\/version/);
  });
});
