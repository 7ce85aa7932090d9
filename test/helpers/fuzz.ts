// Arbitraries for fuzzing the ERP CSV source, shared by the in-process and the binary's fuzz tests.
import fc from 'fast-check';

/** Fields an export could hold, good and bad: numbers in several spellings, quotes, separators, controls, non-ASCII. */
export const csvField = fc.oneof(
  fc.constantFrom(
    '',
    '0',
    '7',
    '12',
    '-3',
    '1.000',
    '12.500',
    '1,5',
    '12.0',
    '1e3',
    ' 4 ',
    'WH-A',
    'WH-B',
    'SKU-1',
    'SKU-1',
    'CAFE\u0301',
    '"',
    '""',
    ';',
    ',',
    '\t',
    '\u0000',
    '\r\n',
    '\uFEFF',
  ),
  fc.string({ maxLength: 12 }),
  fc.nat({ max: 2_000_000_000 }).map(String),
  fc.string({ unit: 'binary', maxLength: 6 }),
);

const header = fc.constantFrom(
  'sku,warehouse,on_hand,reserved',
  'sku;warehouse;on_hand;reserved;safety_stock',
  'sku\twarehouse\ton_hand',
  'SKU,Warehouse,On Hand,category',
  'sku,on_hand',
);

/** Text shaped like an export: a plausible header, then rows of random fields joined by a random delimiter. */
export const csvText = fc
  .tuple(
    header,
    fc.constantFrom(',', ';', '\t'),
    fc.array(
      fc.array(
        fc.oneof(
          csvField,
          csvField.map((f) => `"${f.replace(/"/g, '""')}"`),
        ),
        { minLength: 1, maxLength: 6 },
      ),
      { maxLength: 8 },
    ),
    fc.constantFrom('\n', '\r\n'),
  )
  .map(([head, delimiter, rows, eol]) => [head, ...rows.map((fields) => fields.join(delimiter))].join(eol) + eol);

export const randomBytes = fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes));
