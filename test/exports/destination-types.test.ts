import { acceptsValuesOf } from '../../shared/exports/postgres-destination';

describe('a column of an existing table', () => {
  it.each([
    ['text', 'varchar(50)', true],
    ['character varying', 'varchar(50)', true],
    ['character varying(100)', 'varchar(50)', true],
    ['character varying(50)', 'varchar(50)', true],
    ['character varying(10)', 'varchar(50)', false],
    ['character varying(250)', 'varchar', false],
    ['text', 'varchar', true],
    ['integer', 'int', true],
    ['bigint', 'int', true],
    ['numeric', 'int', true],
    ['numeric(12,2)', 'int', true],
    ['numeric(10,2)', 'int', false],
    ['smallint', 'int', false],
    ['integer', 'bigint', false],
    ['numeric(20,0)', 'bigint', true],
    ['numeric(10,2)', 'numeric', true],
    ['double precision', 'numeric', true],
    ['text', 'numeric', false],
    ['timestamp without time zone', 'timestamp', true],
    ['timestamp with time zone', 'timestamp', true],
    ['date', 'timestamp', false],
    ['text', 'timestamp', false],
  ])('of type %s takes what Satellite writes as %s: %s', (existing, ours, accepted) => {
    expect(acceptsValuesOf(existing, ours)).toBe(accepted);
  });
});
