/**
 * Strict standard base64 (RFC 4648 §4, padded), as kombu writes with `base64.b64encode`.
 * Node's decoder silently skips characters outside the alphabet; checking the decoded length
 * against the one the text implies catches every skipped character without a per-character
 * loop or a regex (hot path: every Redis event message goes through here).
 */

/** The decoded bytes, or null when `text` is not padded standard base64. */
export function decodeBase64Strict(text: string): Buffer | null {
  const length = text.length;
  if (length % 4 !== 0) return null;
  let padding = 0;
  if (length > 0 && text.charCodeAt(length - 1) === 61 /* = */) {
    padding = text.charCodeAt(length - 2) === 61 ? 2 : 1;
  }
  // Node also accepts the URL-safe alphabet in 'base64' mode; kombu never writes it.
  if (text.indexOf('-') !== -1 || text.indexOf('_') !== -1) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === (length / 4) * 3 - padding ? bytes : null;
}
