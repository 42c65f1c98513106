/**
 * A person at a browser, as far as the authorize page can tell: real HTTP requests that keep
 * cookies, read the forms' hidden fields (CSRF token) and submit them. Redirects are not
 * followed, so each step's answer can be looked at.
 */
export class Browser {
  private readonly cookies = new Map<string, string>();

  constructor(private readonly baseUrl: string) {}

  async get(pathOrUrl: string): Promise<Page> {
    return this.send('GET', pathOrUrl);
  }

  /** Submits the page's form with its hidden fields plus `fields`. */
  async submit(page: Page, fields: Record<string, string>): Promise<Page> {
    const action = /<form method="post" action="([^"]+)"/.exec(page.html)?.[1];
    if (!action) throw new Error(`no form on the page (status ${page.status}): ${page.html.slice(0, 300)}`);
    const hidden = Object.fromEntries(
      [...page.html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((match) => [match[1]!, unescapeHtml(match[2]!)]),
    );
    return this.send('POST', unescapeHtml(action), new URLSearchParams({ ...hidden, ...fields }).toString());
  }

  /** Logs in on the login page, follows the redirect back, and returns the consent page. */
  async logIn(loginPage: Page, email: string, password: string): Promise<Page> {
    const answer = await this.submit(loginPage, { email, password });
    if (answer.status !== 303 || !answer.location) throw new Error(`login failed with ${answer.status}: ${answer.html.slice(0, 500)}`);
    return this.get(answer.location);
  }

  forgetCookies(): void {
    this.cookies.clear();
  }

  private async send(method: string, pathOrUrl: string, form?: string): Promise<Page> {
    const url = new URL(pathOrUrl, this.baseUrl);
    const response = await fetch(url, {
      method,
      redirect: 'manual',
      headers: {
        ...(this.cookies.size ? { cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ') } : {}),
        ...(form !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form,
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const index = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, index), pair!.slice(index + 1));
    }
    return {
      status: response.status,
      html: await response.text(),
      location: response.headers.get('location') ?? undefined,
      headers: response.headers,
    };
  }
}

export interface Page {
  readonly status: number;
  readonly html: string;
  readonly location: string | undefined;
  readonly headers: Headers;
}

function unescapeHtml(value: string): string {
  return value.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
}
