import type { Route } from '../../../shared/http/route';

export const contactsRoutes: readonly Route[] = [];
