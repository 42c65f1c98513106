import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { apiRoutes } from '../../functions/api/routes';
import { withInputLimits } from '../../shared/http/input-limits';

/** `npm run docs:limits`: rewrites the input-limits table of docs/api-conventions.md from the routes' schemas. */
const file = path.join(__dirname, '..', '..', 'docs', 'api-conventions.md');
writeFileSync(file, withInputLimits(readFileSync(file, 'utf8'), apiRoutes));
