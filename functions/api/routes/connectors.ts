import type { Route } from '../../../shared/http/route';

export const connectorsRoutes: readonly Route[] = [];
