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
