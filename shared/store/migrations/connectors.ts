import type { Migration } from '../migrate';

/** Versions 400–499 belong to this capability (issue #4). */
export const connectorsMigrations: readonly Migration[] = [];
