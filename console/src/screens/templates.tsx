import { useEffect, useState } from 'preact/hooks';
import { ApiError, call } from '../api';
import { contactLabel, listContacts } from '../contacts';
import { LoadState, Select, sentence, useLoad } from '../ui';

/** How long typing must pause before the preview asks the server: fast enough to feel live, without a request per key. */
const PREVIEW_DEBOUNCE_MS = 400;

type Rendered = { output: string } | { problem: string } | undefined;

export function TemplatesScreen() {
  const contacts = useLoad(() => listContacts());
  const [subject, setSubject] = useState('Hello, $!contact.firstName!');
  const [body, setBody] = useState("<p>Your code: $!data.get('promo').get(0).get('code')</p>");
  const [contactId, setContactId] = useState('');
  const [jsonParam, setJsonParam] = useState('');
  const [preview, setPreview] = useState<{ subject: Rendered; body: Rendered; pending: boolean }>({
    subject: undefined,
    body: undefined,
    pending: false,
  });

  useEffect(() => {
    setPreview((current) => ({ ...current, pending: true }));
    let current = true;
    const timer = setTimeout(() => {
      const render = (template: string): Promise<Rendered> =>
        call<{ output: string }>('POST', '/api/v1/templates/render', {
          template,
          ...(contactId ? { contactId: Number(contactId) } : {}),
          ...(jsonParam.trim() ? { jsonParam } : {}),
        }).then(
          (answer) => ({ output: answer.output }),
          (error: unknown) => ({ problem: problemText(error) }),
        );
      void Promise.all([render(subject), render(body)]).then(([renderedSubject, renderedBody]) => {
        if (current) setPreview({ subject: renderedSubject, body: renderedBody, pending: false });
      });
    }, PREVIEW_DEBOUNCE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [subject, body, contactId, jsonParam]);

  return (
    <section aria-labelledby="templates-title">
      <h1 id="templates-title">Template editor</h1>
      <p class="lead">
        Write a message in Velocity: <code>$!contact.firstName</code>, <code>$!data.get('&lt;source&gt;')</code>, <code>#if</code>,{' '}
        <code>#foreach</code>. The preview renders it as you type.
      </p>
      <div class="columns">
        <div>
          <div class="field">
            <label for="template-subject">Subject</label>
            <input id="template-subject" value={subject} onInput={(event) => setSubject((event.currentTarget as HTMLInputElement).value)} />
          </div>
          <div class="field">
            <label for="template-body">Body</label>
            <textarea id="template-body" class="code" value={body} onInput={(event) => setBody((event.currentTarget as HTMLTextAreaElement).value)} />
          </div>
          <LoadState loaded={contacts} what="contacts">
            {({ contacts: list }) => (
              <Select
                label="Preview for contact"
                value={contactId}
                onChange={setContactId}
                options={[['', 'No contact'], ...list.map((contact) => [String(contact.id), contactLabel(contact)] as const)]}
              />
            )}
          </LoadState>
          <div class="field">
            <label for="json-param">jsonParam (data of an event, as JSON)</label>
            <textarea
              id="json-param"
              class="code"
              rows={4}
              value={jsonParam}
              aria-describedby="json-param-hint"
              onInput={(event) => setJsonParam((event.currentTarget as HTMLTextAreaElement).value)}
            />
            <p class="hint" id="json-param-hint">
              Optional: becomes $data, as the event that triggers the message would carry it.
            </p>
          </div>
        </div>
        <div>
          <h2>Preview</h2>
          <p role="status" class="hint">
            {preview.pending ? 'Rendering…' : 'Up to date.'}
          </p>
          <RenderedPart label="Rendered subject" rendered={preview.subject} />
          <RenderedPart label="Rendered body" rendered={preview.body} />
        </div>
      </div>
    </section>
  );
}

function RenderedPart(props: { label: string; rendered: Rendered }) {
  const id = `preview-${props.label.toLowerCase().replace(/\W+/g, '-')}`;
  return (
    <>
      <h3 id={id}>{props.label}</h3>
      {/* Shown as text, never as HTML: a template is the user's, but the data it reads is not. */}
      <div class="preview" role="region" aria-labelledby={id}>
        {props.rendered === undefined ? '' : 'output' in props.rendered ? props.rendered.output : <p class="field-error">{props.rendered.problem}</p>}
      </div>
    </>
  );
}

function problemText(error: unknown): string {
  if (!(error instanceof ApiError)) return 'The preview is not available right now.';
  const detail = error.details.find((item) => item.path === 'body.template');
  if (detail) return sentence(detail.message);
  return sentence(error.message);
}
