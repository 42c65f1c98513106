import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * The reference page's files: Swagger UI from its npm package (no CDN), and our own start
 * script (a file, not inline, so the page's CSP can refuse every inline script).
 */
export const referenceAssets = {
  'swagger-ui-bundle.js': { file: 'swagger-ui-bundle.js', contentType: 'text/javascript; charset=utf-8' },
  'swagger-ui.css': { file: 'swagger-ui.css', contentType: 'text/css; charset=utf-8' },
  'oauth2-redirect.html': { file: 'oauth2-redirect.html', contentType: 'text/html; charset=utf-8' },
  'oauth2-redirect.js': { file: 'oauth2-redirect.js', contentType: 'text/javascript; charset=utf-8' },
} as const;
export type ReferenceAssetName = keyof typeof referenceAssets;

/** Where the Lambda bundle carries Swagger UI's files (infra/constructs/api.ts copies them there). */
export const BUNDLED_ASSET_DIR = 'swagger-ui';

const loaded = new Map<ReferenceAssetName, Buffer>();

/** Beside the bundled handler in Lambda; in the npm package when run from the source tree. */
function assetDirectory(): string {
  const bundled = path.join(__dirname, BUNDLED_ASSET_DIR);
  if (existsSync(bundled)) return bundled;
  // Resolved at run time, not by the bundler: in Lambda the files are copied, not bundled.
  return path.dirname(createRequire(__filename).resolve('swagger-ui-dist/package.json'));
}

/** Read once per process: a warm Lambda serves the 1.8 MB bundle from memory. */
export function referenceAsset(name: ReferenceAssetName): Buffer {
  let content = loaded.get(name);
  if (!content) {
    content = readFileSync(path.join(assetDirectory(), referenceAssets[name].file));
    loaded.set(name, content);
  }
  return content;
}
