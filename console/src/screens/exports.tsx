export function ExportsScreen() {
  return (
    <section>
      <h1>Data export</h1>
    </section>
  );
}
