import type { Metrics } from '../ports/metrics';
import type { RenderedMessage } from './render-message';

/** Counts a message render, and a render a sandbox limit stopped (a template looping or growing too far). */
export function countRender(metrics: Metrics, rendered: RenderedMessage): RenderedMessage {
  metrics.add('TemplateRenders', 1);
  if (!rendered.ok && rendered.error.code === 'TEMPLATE_LIMIT_EXCEEDED') metrics.add('TemplateLimitHits', 1);
  return rendered;
}
