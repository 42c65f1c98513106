export function SourcesScreen() {
  return (
    <section>
      <h1>Data sources</h1>
    </section>
  );
}
