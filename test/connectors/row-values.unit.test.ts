import { isoFromDate, isoFromPostgresTimestamp, stringFromBigQuery } from '../../shared/sources/row-values';
import { quoteBigQueryIdentifier, quotePostgresIdentifier } from '../../shared/sources/lookup';

describe('external row values as strings', () => {
  it.each([
    ['2020-09-02 00:00:00+00', '2020-09-02T00:00:00Z'],
    ['2021-10-08 08:11:02.500000+00', '2021-10-08T08:11:02.5Z'],
    ['2021-10-08 11:11:02', '2021-10-08T11:11:02Z'],
    ['2021-10-08 11:11:02+03', '2021-10-08T08:11:02Z'],
    ['infinity', 'infinity'],
  ])('turns the PostgreSQL timestamp %s into %s', (text, iso) => {
    expect(isoFromPostgresTimestamp(text)).toBe(iso);
  });

  it('turns a date into midnight UTC, as the seed shows a birthday', () => {
    expect(isoFromDate('2020-09-02')).toBe('2020-09-02T00:00:00Z');
  });

  it('serialises BigQuery values', () => {
    expect(stringFromBigQuery(2)).toBe('2');
    expect(stringFromBigQuery(null)).toBeNull();
    expect(stringFromBigQuery(false)).toBe('false');
    expect(stringFromBigQuery(Buffer.from('hi'))).toBe('aGk=');
  });

  it('quotes identifiers and refuses what BigQuery cannot quote', () => {
    expect(quotePostgresIdentifier('Mixed "Case"')).toBe('"Mixed ""Case"""');
    expect(quoteBigQueryIdentifier('promo_codes')).toBe('`promo_codes`');
    expect(() => quoteBigQueryIdentifier('a`; DROP TABLE x; --')).toThrow();
  });
});
