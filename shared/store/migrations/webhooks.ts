import type { Migration } from '../migrate';

/** Versions 700–799 belong to this capability (issue #7). */
export const webhooksMigrations: readonly Migration[] = [];
