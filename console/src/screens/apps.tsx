export function AppsScreen() {
  return (
    <section>
      <h1>Apps</h1>
    </section>
  );
}
