export function TemplatesScreen() {
  return (
    <section>
      <h1>Template editor</h1>
    </section>
  );
}
