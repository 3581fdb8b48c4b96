/**
 * Text from files, state and plugins is untrusted when printed: an ANSI escape can rewrite
 * the terminal, a right-to-left override (U+202E) can make a message read backwards, a C1
 * control can act as an escape on some terminals. These are shown as visible escapes instead.
 */

/** C0 controls but tab and newline, DEL, C1 controls, bidi embeddings/overrides/isolates, line separators. */

const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const UNSAFE_OR_NEWLINE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function visible(c: string): string {
  const n = c.codePointAt(0)!;
  return n < 0x100
    ? `\\x${n.toString(16).toUpperCase().padStart(2, '0')}`
    : `\\u${n.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Escapes unsafe characters; newlines and tabs stay unless `oneLine`. */
export function escapeControls(text: string, oneLine = false): string {
  return text.replace(oneLine ? UNSAFE_OR_NEWLINE : UNSAFE, visible);
}

/** JSON text with the characters JSON.stringify leaves raw (C1, bidi) written as \u escapes. */
export function jsonSafe(json: string): string {
  return json.replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`,
  );
}
