/** Reads PNGs attached to emails in tests: a file that decodes, of the size it says. */
import { inflateSync } from 'node:zlib';
import { expect } from 'vitest';

export interface Png {
  readonly width: number;
  readonly height: number;
  readonly pixelBytes: number;
}

/** Reads a PNG's header and inflates its image data: a file that decodes, of the size it says. */
export function decodePng(bytes: Buffer): Png {
  expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  let offset = 8;
  let width = 0;
  let height = 0;
  const data: Buffer[] = [];
  while (offset < bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('ascii', offset + 4, offset + 8);
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') [width, height] = [body.readUInt32BE(0), body.readUInt32BE(4)];
    if (type === 'IDAT') data.push(body);
    offset += 12 + length;
  }
  return { width, height, pixelBytes: inflateSync(Buffer.concat(data)).length };
}
