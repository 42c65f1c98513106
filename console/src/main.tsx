import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { adoptSession, currentSession, signOut, type Session } from './api';
import { AppsScreen } from './screens/apps';
import { ConnectorsScreen } from './screens/connectors';
import { ExportsScreen } from './screens/exports';
import { ImportScreen } from './screens/import';
import { SegmentsScreen } from './screens/segments';
import { SignIn } from './screens/sign-in';
import { SourcesScreen } from './screens/sources';
import { TemplatesScreen } from './screens/templates';
import { WebhooksScreen } from './screens/webhooks';
import './styles.css';

const screens = [
  { path: 'connectors', title: 'Connectors', Screen: ConnectorsScreen },
  { path: 'sources', title: 'Data sources', Screen: SourcesScreen },
  { path: 'exports', title: 'Data export', Screen: ExportsScreen },
  { path: 'webhooks', title: 'Webhooks', Screen: WebhooksScreen },
  { path: 'apps', title: 'Apps', Screen: AppsScreen },
  { path: 'import', title: 'Import contacts', Screen: ImportScreen },
  { path: 'segments', title: 'Segments', Screen: SegmentsScreen },
  { path: 'templates', title: 'Template editor', Screen: TemplatesScreen },
] as const;

function currentPath(): string {
  return location.hash.replace(/^#\/?/, '') || 'connectors';
}

function App() {
  const [session, setSession] = useState<Session | undefined>();
  const [checked, setChecked] = useState(false);
  const [ended, setEnded] = useState(false);
  const [path, setPath] = useState(currentPath());

  adoptSession(session, () => {
    setSession(undefined);
    setEnded(true);
  });

  useEffect(() => {
    currentSession()
      .then(setSession, () => undefined)
      .finally(() => setChecked(true));
    const onHash = () => setPath(currentPath());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  const screen = screens.find((candidate) => candidate.path === path) ?? screens[0];
  useEffect(() => {
    document.title = session ? `${screen.title} · Satellite` : 'Sign in · Satellite';
  }, [session, screen]);

  if (!checked) return <p role="status">Loading…</p>;
  if (!session) {
    return (
      <SignIn
        ended={ended}
        onSignedIn={(signedIn) => {
          setEnded(false);
          setSession(signedIn);
        }}
      />
    );
  }
  const Screen = screen.Screen;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Satellite</span>
        <nav aria-label="Account settings">
          <ul>
            {screens.map((candidate) => (
              <li key={candidate.path}>
                <a href={`#/${candidate.path}`} aria-current={candidate.path === screen.path ? 'page' : undefined}>
                  {candidate.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="account">
          <span class="who">{session.email}</span>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              void signOut().finally(() => {
                setEnded(false);
                setSession(undefined);
              });
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Screen key={screen.path} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
