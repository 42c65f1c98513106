import type { Route } from '../../../shared/http/route';

export const oauthRoutes: readonly Route[] = [];
