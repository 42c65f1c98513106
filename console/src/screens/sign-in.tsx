import { useState } from 'preact/hooks';
import { signIn, type Session } from '../api';
import { Field, Notice, problemOf } from '../ui';

export function SignIn(props: { ended: boolean; onSignedIn: (session: Session) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  return (
    <main id="main" class="sign-in">
      <h1>Sign in to Satellite</h1>
      {props.ended && !problem && <Notice kind="info">Your session has ended. Sign in again to continue.</Notice>}
      {problem && <Notice kind="error">{problem}</Notice>}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setBusy(true);
          setProblem(undefined);
          signIn(email, password).then(props.onSignedIn, (error: unknown) => {
            setProblem(problemOf(error));
            setBusy(false);
          });
        }}
      >
        <Field label="Email" type="email" value={email} onInput={setEmail} required autoComplete="username" />
        <Field label="Password" type="password" value={password} onInput={setPassword} required autoComplete="current-password" />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
