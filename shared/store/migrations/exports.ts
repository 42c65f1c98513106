import type { Migration } from '../migrate';

/** Versions 600–699 belong to this capability (issue #6). */
export const exportsMigrations: readonly Migration[] = [];
