import { AppError, ValidationFailed } from '../errors';

export const MAX_LOGO_BYTES = 1024 * 1024;

export type LogoType = 'image/png' | 'image/gif' | 'image/jpeg';

/** The image type by its first bytes; a file's name or declared type proves nothing. */
export function detectLogoType(bytes: Buffer): LogoType | undefined {
  if (bytes.length >= 8 && bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  const head = bytes.subarray(0, 6).toString('latin1');
  if (head === 'GIF87a' || head === 'GIF89a') return 'image/gif';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  return undefined;
}

export function checkLogo(bytes: Buffer): LogoType {
  if (bytes.length === 0) throw new ValidationFailed('send the image as the request body', undefined, 'LOGO_REQUIRED');
  if (bytes.length > MAX_LOGO_BYTES) throw new AppError('too_large', 'LOGO_TOO_LARGE', `the logo may be at most ${MAX_LOGO_BYTES} bytes (1 MB)`);
  const type = detectLogoType(bytes);
  if (!type) throw new AppError('unsupported_media_type', 'LOGO_TYPE_UNSUPPORTED', 'the logo must be a JPG, GIF or PNG image');
  return type;
}
