import * as z from 'zod';
import { json } from '../../../shared/http/answers';
import { ok, route, type Route } from '../../../shared/http/route';

const versionAnswer = z.object({ version: z.string(), protocolVersion: z.literal('v1') });

const version = (path: string): Route =>
  route({
    method: 'GET',
    path,
    access: 'general',
    docs: {
      summary: 'Version of the API',
      description: 'A cheap authenticated call: checks a key or token works.',
      responses: { 200: json('The version.', versionAnswer, { version: '1.0.0', protocolVersion: 'v1' }) },
    },
    handle: async ({ platform }) => ok({ version: platform.config.version, protocolVersion: 'v1' }),
  });

export const systemRoutes: readonly Route[] = [version('/api/v1/version'), version('/api/v2/version')];
