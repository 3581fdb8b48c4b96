/**
 * A minimal terminal: plays raw output (text, CR, LF and the CSI sequences log-update and
 * colours use) onto a grid of lines, so a test can assert what an operator's screen shows at
 * the end, not only what bytes went by. Unknown sequences are ignored.
 */
export function screenOf(raw: string): string[] {
  const lines: string[] = [''];
  let row = 0;
  let col = 0;
  const put = (text: string) => {
    const line = lines[row]!.padEnd(col, ' ');
    lines[row] = line.slice(0, col) + text + line.slice(col + text.length);
    col += text.length;
  };
  const re = /\u001b\[([0-9;?]*)([A-Za-z])|\u001b[()][A-Z0-9]|\r|\n|[^\u001b\r\n]+/g;
  for (const m of raw.matchAll(re)) {
    const s = m[0];
    if (s === '\r') col = 0;
    else if (s === '\n') {
      row++;
      col = 0;
      while (lines.length <= row) lines.push('');
    } else if (m[2] !== undefined) {
      const n = m[1] === '' || m[1]!.startsWith('?') ? null : Number(m[1]!.split(';')[0]);
      switch (m[2]) {
        case 'A':
          row = Math.max(0, row - (n ?? 1));
          break;
        case 'B':
          row += n ?? 1;
          while (lines.length <= row) lines.push('');
          break;
        case 'G':
          col = (n ?? 1) - 1;
          break;
        case 'K':
          if ((n ?? 0) === 2) lines[row] = '';
          else if ((n ?? 0) === 0) lines[row] = lines[row]!.slice(0, col);
          break;
        case 'J':
          lines[row] = lines[row]!.slice(0, col);
          lines.length = row + 1;
          break;
        default:
          break; // colours (m), cursor show/hide (h/l)
      }
    } else if (!s.startsWith('\u001b')) put(s);
  }
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  return lines.map((l) => l.trimEnd());
}
