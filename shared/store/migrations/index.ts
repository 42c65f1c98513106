import type { Migration } from '../migrate';
import { connectorsMigrations } from './connectors';
import { consoleMigrations } from './console';
import { contactsMigrations } from './contacts';
import { deliveryMigrations } from './delivery';
import { esputnikApiMigrations } from './esputnik-api';
import { exportsMigrations } from './exports';
import { foundationMigrations } from './foundation';
import { messagingMigrations } from './messaging';
import { oauthMigrations } from './oauth';
import { operationsMigrations } from './operations';
import { webhooksMigrations } from './webhooks';

/**
 * Every migration, by capability. Versions are numbered per capability in blocks of 100
 * (foundation 1–99, contacts 300–399, connectors 400–499, …) so capabilities can add
 * migrations without renumbering each other's. Forward only: never edit an applied one.
 */
export const migrations: readonly Migration[] = [
  ...foundationMigrations,
  ...contactsMigrations,
  ...connectorsMigrations,
  ...messagingMigrations,
  ...exportsMigrations,
  ...webhooksMigrations,
  ...oauthMigrations,
  ...consoleMigrations,
  ...operationsMigrations,
  ...deliveryMigrations,
  ...esputnikApiMigrations,
].sort((a, b) => a.version - b.version);
