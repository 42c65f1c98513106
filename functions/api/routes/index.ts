import type { Route } from '../../../shared/http/route';
import { accountInfoRoutes } from './account-info';
import { accountsRoutes } from './accounts';
import { connectorsRoutes } from './connectors';
import { contactListsRoutes } from './contact-lists';
import { contactsRoutes } from './contacts';
import { emailRoutes } from './email';
import { exportsRoutes } from './exports';
import { instantMessagesRoutes } from './instant-messages';
import { messagingRoutes } from './messaging';
import { oauthRoutes } from './oauth';
import { pastEventsRoutes } from './past-events';
import { systemRoutes } from './system';
import { textMessagesRoutes } from './text-messages';
import { webhooksRoutes } from './webhooks';

/** Every route of the HTTP API, by capability. */
export const apiRoutes: readonly Route[] = [
  ...systemRoutes,
  ...accountsRoutes,
  ...accountInfoRoutes,
  ...contactsRoutes,
  ...contactListsRoutes,
  ...pastEventsRoutes,
  ...connectorsRoutes,
  ...messagingRoutes,
  ...instantMessagesRoutes,
  ...textMessagesRoutes,
  ...exportsRoutes,
  ...webhooksRoutes,
  ...oauthRoutes,
  ...emailRoutes,
];
