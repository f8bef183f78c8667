/**
 * The rate-card CSV format: a header `category,market,unit_price,from_count` then one row per
 * price. `unit_price` is a decimal in the currency's major unit (`0.0044`), read exactly into
 * micros; `from_count` is empty (or 0) for the base price, else the first message of the month
 * a volume tier applies to. Columns may come in any order; `from_count` may be left out.
 * Export writes the canonical form (rows sorted, shortest decimals), so export → import →
 * export gives the same bytes.
 */
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { formatMicros } from './money.js';
import type { RateRow, RawRateRow, RowError } from './rate-cards.model.js';
import { sortRows } from './rate-cards.model.js';

export const CSV_COLUMNS = ['category', 'market', 'unit_price', 'from_count'] as const;
const REQUIRED = ['category', 'market', 'unit_price'];

export function parseRateCardCsv(text: string): { rows: RawRateRow[]; errors: RowError[] } {
  let records: string[][];
  try {
    records = parse(text, {
      bom: true,
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
      relax_column_count: true,
      trim: true,
    });
  } catch (e: unknown) {
    const line =
      typeof e === 'object' && e !== null && 'lines' in e && typeof e.lines === 'number' ? e.lines : 0;
    return {
      rows: [],
      errors: [{ line, message: `not valid CSV: ${e instanceof Error ? e.message : String(e)}` }],
    };
  }
  const [header, ...body] = records;
  if (!header) return { rows: [], errors: [{ line: 1, message: 'empty file: expected a header line' }] };
  const columns = header.map((h) => h.toLowerCase());
  const errors: RowError[] = [];
  const unknown = columns.filter((c) => !(CSV_COLUMNS as readonly string[]).includes(c));
  const missing = REQUIRED.filter((c) => !columns.includes(c));
  if (unknown.length > 0 || missing.length > 0 || new Set(columns).size !== columns.length) {
    errors.push({
      line: 1,
      message: `the header must be ${CSV_COLUMNS.join(',')} (from_count optional)${
        unknown.length > 0 ? `; unknown: ${unknown.join(', ')}` : ''
      }${missing.length > 0 ? `; missing: ${missing.join(', ')}` : ''}`,
    });
    return { rows: [], errors };
  }
  // Line numbers: csv-parse skipped empty lines, so count them from the text itself.
  const lines = dataLineNumbers(text);
  const rows: RawRateRow[] = [];
  body.forEach((cells, i) => {
    const line = lines[i + 1] ?? i + 2;
    if (cells.length !== columns.length) {
      errors.push({ line, message: `expected ${columns.length} fields, found ${cells.length}` });
      return;
    }
    const value = (name: string) => cells[columns.indexOf(name)];
    rows.push({
      line,
      category: value('category'),
      market: value('market'),
      unit_price: value('unit_price'),
      from_count: columns.includes('from_count') ? value('from_count') : undefined,
    });
  });
  return { rows, errors };
}

/**
 * The 1-based line where each non-empty record starts. Rate-card fields never hold line breaks
 * (quoted or not), so a record is a line; lines of only blanks and commas hold no record.
 */
function dataLineNumbers(text: string): number[] {
  const out: number[] = [];
  text.split(/\r\n|\n|\r/).forEach((l, i) => {
    if (!/^[\s,"]*$/.test(l)) out.push(i + 1);
  });
  return out;
}

export function rateCardToCsv(rows: RateRow[]): string {
  return stringify(
    sortRows(rows).map((r) => [
      r.category,
      r.market,
      formatMicros(r.unitPriceMicros),
      r.fromCount === 0 ? '' : String(r.fromCount),
    ]),
    { header: true, columns: [...CSV_COLUMNS] },
  );
}
