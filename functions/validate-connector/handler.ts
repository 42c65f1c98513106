import { createApiHandler, type ApiHandler } from '../../shared/http/api-handler';
import { resolveAccessToken } from '../../shared/oauth/access-tokens';
import { platformFromEnvironment, type Platform } from '../../shared/platform';
import { connectorValidationRoutes } from '../api/routes/connectors';
import { withLambdaContext } from '../../shared/logger';

/**
 * "Check connection" as its own Lambda: the HTTP API routes `POST /api/v1/connectors/validate`
 * and `POST /api/v1/connectors/{id}/validate` here, so only this function needs egress to
 * customers' databases for the check, with the same authentication and error model as the API.
 */
export function createHandler(platform: () => Promise<Platform>): ApiHandler {
  return createApiHandler({ platform, routes: connectorValidationRoutes, resolveBearer: resolveAccessToken });
}

export const handler = withLambdaContext(createHandler(platformFromEnvironment));
