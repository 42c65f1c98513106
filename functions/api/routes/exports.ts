import type { Route } from '../../../shared/http/route';

export const exportsRoutes: readonly Route[] = [];
