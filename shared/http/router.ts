import { AppError } from '../errors';
import type { HttpMethod, Route } from './route';

interface CompiledRoute {
  readonly route: Route;
  readonly pattern: RegExp;
  readonly names: readonly string[];
  /** Fewer parameters wins: `/contact/subscribe` before `/contact/{id}`. */
  readonly specificity: number;
}

export interface RouteMatch {
  readonly route: Route;
  readonly params: Record<string, string>;
}

export class MethodNotAllowed extends AppError {
  constructor(allowed: readonly string[]) {
    super('method_not_allowed', 'METHOD_NOT_ALLOWED', 'method not allowed on this path', undefined, { allow: allowed.join(', ') });
  }
}

export class RouteNotFound extends AppError {
  constructor() {
    super('not_found', 'ROUTE_NOT_FOUND', 'no such endpoint');
  }
}

export class Router {
  private readonly compiled: CompiledRoute[];

  constructor(routes: readonly Route[]) {
    this.compiled = routes
      .map((route) => {
        const names: string[] = [];
        const source = route.path
          .split('/')
          .map((segment) => {
            const parameter = /^\{(\w+)\}$/.exec(segment);
            if (!parameter?.[1]) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
            names.push(parameter[1]);
            return '([^/]+)';
          })
          .join('/');
        return { route, pattern: new RegExp(`^${source}/?$`), names, specificity: names.length };
      })
      .sort((a, b) => a.specificity - b.specificity);
    const seen = new Set<string>();
    for (const { route } of this.compiled) {
      const key = `${route.method} ${route.path}`;
      if (seen.has(key)) throw new Error(`route declared twice: ${key}`);
      seen.add(key);
    }
  }

  match(method: string, path: string): RouteMatch {
    const allowed: HttpMethod[] = [];
    for (const candidate of this.compiled) {
      const found = candidate.pattern.exec(path);
      if (!found) continue;
      if (candidate.route.method !== method) {
        allowed.push(candidate.route.method);
        continue;
      }
      const params: Record<string, string> = {};
      candidate.names.forEach((name, index) => {
        params[name] = safeDecode(found[index + 1] ?? '');
      });
      return { route: candidate.route, params };
    }
    if (allowed.length > 0) throw new MethodNotAllowed([...new Set(allowed)]);
    throw new RouteNotFound();
  }
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
