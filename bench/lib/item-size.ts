import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * The size DynamoDB bills an item's storage by, from its attributes as the low-level API returns
 * them ("DynamoDB item sizes and formats", Amazon DynamoDB Developer Guide): the UTF-8 bytes of
 * each attribute name plus its value (strings: their UTF-8 bytes; numbers: about one byte per two
 * significant digits, plus one; binary: raw bytes; null and Boolean: one byte; lists and maps:
 * three bytes plus one byte per element plus the elements; sets: their members), plus the 100
 * bytes of storage overhead DynamoDB adds to every item for indexing.
 */

export const ITEM_STORAGE_OVERHEAD_BYTES = 100;

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/** About one byte per two significant digits, plus one (leading and trailing zeros trimmed). */
function numberBytes(text: string): number {
  const digits = text
    .replace(/^[-+]/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}

export function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + utf8(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + numberBytes(n), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + b.byteLength, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((sum, element) => sum + 1 + valueBytes(element), 0);
  if (value.M !== undefined) {
    return (
      3 + Object.entries(value.M).reduce((sum, [name, inner]) => sum + 1 + utf8(name) + valueBytes(inner), 0)
    );
  }
  throw new Error(`unknown attribute value type: ${Object.keys(value).join(', ')}`);
}

/** The item's size as DynamoDB counts it, without the storage overhead. */
export function itemBytes(item: Readonly<Record<string, AttributeValue>>): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + valueBytes(value), 0);
}
