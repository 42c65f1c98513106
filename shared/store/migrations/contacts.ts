import type { Migration } from '../migrate';

/** Versions 300–399 belong to this capability (issue #3). */
export const contactsMigrations: readonly Migration[] = [];
