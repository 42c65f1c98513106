export function WebhooksScreen() {
  return (
    <section>
      <h1>Webhooks</h1>
    </section>
  );
}
