import { ok, route, type Route } from '../../../shared/http/route';

const version = (path: string): Route =>
  route({
    method: 'GET',
    path,
    access: 'general',
    handle: async ({ platform }) => ok({ version: platform.config.version, protocolVersion: 'v1' }),
  });

export const systemRoutes: readonly Route[] = [version('/api/v1/version'), version('/api/v2/version')];
