import type { Route } from '../../../shared/http/route';

export const messagingRoutes: readonly Route[] = [];
