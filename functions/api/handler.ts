import { createApiHandler, type ApiHandler } from '../../shared/http/api-handler';
import { resolveAccessToken } from '../../shared/oauth/access-tokens';
import { platformFromEnvironment, type Platform } from '../../shared/platform';
import { apiRoutes } from './routes';
import { withLambdaContext } from '../../shared/logger';

/** The HTTP API for a given platform; the local runtime and tests call this with theirs. */
export function createHandler(platform: () => Promise<Platform>): ApiHandler {
  return createApiHandler({ platform, routes: apiRoutes, resolveBearer: resolveAccessToken });
}

export const handler = withLambdaContext(createHandler(platformFromEnvironment));
