import { Logger } from '@aws-lambda-powertools/logger';

/** JSON logs everywhere; each request or job logs through a child carrying its ids. */
export const logger = new Logger({ serviceName: 'satellite' });
export type { Logger };
