import type { Migration } from '../migrate';

/** Versions 800–899 belong to this capability (issue #8). */
export const oauthMigrations: readonly Migration[] = [];
