/**
 * Which serializations a monitor accepts: JSON in UTF-8, nothing else. Pickle (the
 * `application/x-python-serialize` of a `pickle`-configured app), YAML, msgpack, … are refused
 * by their labels, before a single body byte is looked at.
 */

/**
 * Null when `contentType`/`contentEncoding` describe UTF-8 JSON, else a human-readable reason.
 * Accepted content types: absent or empty (Celery always sets one; kombu treats none as raw
 * data, a monitor assumes JSON and lets the parser decide), or `application/json` in any case,
 * with optional parameters (`; charset=utf-8`; a `charset` other than UTF-8 is refused).
 * Accepted content encodings: absent, empty, `utf-8` or `utf8` in any case.
 */
export function unsupportedContentReason(contentType: string | null, contentEncoding: string | null): string | null {
  if (contentType !== null && contentType !== '' && contentType !== 'application/json') {
    const problem = checkContentType(contentType);
    if (problem !== null) return problem;
  }
  if (contentEncoding !== null && contentEncoding !== '' && contentEncoding !== 'utf-8' && !isUtf8Label(contentEncoding)) {
    return `unsupported content encoding ${JSON.stringify(contentEncoding)} (only utf-8 is accepted)`;
  }
  return null;
}

function checkContentType(contentType: string): string | null {
  const semicolon = contentType.indexOf(';');
  const mediaType = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  if (mediaType !== 'application/json' && mediaType !== '') {
    const hint = mediaType === 'application/x-python-serialize' ? ' (pickle is never deserialized)' : '';
    return `unsupported content type ${JSON.stringify(contentType)}${hint}; only application/json is accepted`;
  }
  if (semicolon === -1) return null;
  for (const param of contentType.slice(semicolon + 1).split(';')) {
    const eq = param.indexOf('=');
    if (eq === -1) continue;
    if (param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    const charset = param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    if (!isUtf8Label(charset)) {
      return `unsupported charset in content type ${JSON.stringify(contentType)} (only utf-8 is accepted)`;
    }
  }
  return null;
}

function isUtf8Label(label: string): boolean {
  const l = label.trim().toLowerCase();
  return l === 'utf-8' || l === 'utf8';
}
