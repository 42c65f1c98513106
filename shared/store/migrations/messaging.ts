import type { Migration } from '../migrate';

/** Versions 500–599 belong to this capability (issue #5). */
export const messagingMigrations: readonly Migration[] = [];
