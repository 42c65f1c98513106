import type { Route } from '../../../shared/http/route';

export const webhooksRoutes: readonly Route[] = [];
