/**
 * What JSON.parse lets through silently: a key given twice in one object (the last one wins, so
 * `{"weight": 0.1, "weight": 0.9}` is a 0.9 nobody sees), and bytes that are not UTF-8 (replaced
 * by U+FFFD). Both are refused by the API's body parser and the file readers.
 */

export interface DuplicateKey {
  /** The key, decoded ("\u0061" and "a" are the same key). */
  readonly key: string;
  /** Where its second occurrence starts, as a UTF-16 offset into the text. */
  readonly offset: number;
}

/**
 * The first key that appears twice in one object of `text`, or null. `text` must be valid JSON
 * (call after JSON.parse succeeded): the scan trusts its structure. One pass, no allocation but
 * one set of keys per open object.
 */
export function findDuplicateKey(text: string): DuplicateKey | null {
  // One entry per open container: a set of keys for an object, null for an array.
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) {
          escaped = true;
          i++;
        } else if (d === 0x22) break;
      }
      const keys = stack[stack.length - 1];
      if (expectKey && keys) {
        const raw = text.slice(start + 1, i);
        const key = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : raw;
        if (keys.has(key)) return { key, offset: start };
        keys.add(key);
        expectKey = false;
      }
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] != null;
    }
  }
  return null;
}

/**
 * The same answer as findDuplicateKey for a `text` that JSON.parse turned into `value`, found by
 * counting instead of keeping sets of keys: a duplicate makes the text hold more keys than the
 * parsed objects do (the last one wins), and equal counts mean there is none. The counts are two
 * light passes; only when they differ does findDuplicateKey run, to say which key and where.
 */
export function findDuplicateKeyIn(text: string, value: unknown): DuplicateKey | null {
  if (typeof value !== 'object' || value === null) return null;
  return countKeyTokens(text) === countParsedKeys(value) ? null : findDuplicateKey(text);
}

/** Strings followed by a colon: the keys of every object of `text` (valid JSON), repeats included. */
function countKeyTokens(text: string): number {
  let count = 0;
  let start = text.indexOf('"');
  while (start >= 0) {
    let end = text.indexOf('"', start + 1);
    // A quote preceded by an odd number of backslashes is inside the string.
    for (;;) {
      if (end < 0) return count; // not valid JSON: not for this function
      let backslashes = 0;
      while (text.charCodeAt(end - 1 - backslashes) === 0x5c /* \ */) backslashes++;
      if (backslashes % 2 === 0) break;
      end = text.indexOf('"', end + 1);
    }
    let next = end + 1;
    let c = text.charCodeAt(next);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++next);
    if (c === 0x3a /* : */) count++;
    start = text.indexOf('"', next);
  }
  return count;
}

/** Own keys of every object in a parsed JSON value; iterative, so deep nesting is no stack overflow. */
function countParsedKeys(value: object): number {
  let count = 0;
  // Made only for a nested value: an NDJSON line of metrics is one flat object.
  let stack: object[] | undefined;
  for (let item: object | undefined = value; item !== undefined; item = stack?.pop()) {
    if (Array.isArray(item)) {
      for (let i = 0; i < item.length; i++) {
        const child: unknown = item[i];
        if (typeof child === 'object' && child !== null) {
          stack ??= [];
          stack.push(child);
        }
      }
      continue;
    }
    const record = item as Record<string, unknown>;
    for (const key in record) {
      count++;
      const child = record[key];
      if (typeof child === 'object' && child !== null) {
        stack ??= [];
        stack.push(child);
      }
    }
  }
  return count;
}

const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The bytes as UTF-8, or null when they are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return fatal.decode(bytes);
  } catch {
    return null;
  }
}

/** A decoder for UTF-8 arriving in chunks that throws on the first invalid sequence. */
export function strictUtf8Decoder(): InstanceType<typeof TextDecoder> {
  return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
}
