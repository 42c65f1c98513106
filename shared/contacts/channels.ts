export const channelTypes = ['email', 'sms', 'mobilepush', 'webpush', 'viber', 'telegram'] as const;
export type ChannelType = (typeof channelTypes)[number];

/** Channels of one type a contact may hold. */
export const MAX_CHANNELS_PER_TYPE = 2;

export interface NormalizedChannel {
  readonly type: ChannelType;
  readonly value: string;
  /** What matching compares: lower-cased email, digits-only phone, the token as given. */
  readonly normalized: string;
  /** 0 for the first channel of its type, 1 for the second. */
  readonly position: number;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Lower-cased email, or undefined when it is not one. */
export function normalizeEmail(value: string): string | undefined {
  const email = value.trim().toLowerCase();
  return email.length <= 254 && EMAIL.test(email) ? email : undefined;
}

/**
 * E.164-style digits ("+38 (095) 649-09-55" → "380956490955"), or undefined when what is
 * left is not 7–15 digits. Separators are dropped; letters make it invalid.
 */
export function normalizePhone(value: string): string | undefined {
  const trimmed = value.trim();
  if (!/^\+?[\d\s().-]+$/.test(trimmed)) return undefined;
  const digits = trimmed.replace(/\D/g, '');
  return digits.length >= 7 && digits.length <= 15 ? digits : undefined;
}

/** The matching form of a channel value, or undefined when the value is not valid for the type. */
export function normalizeChannelValue(type: ChannelType, value: string): string | undefined {
  switch (type) {
    case 'email':
      return normalizeEmail(value);
    case 'sms':
    case 'viber':
      return normalizePhone(value);
    default: {
      const token = value.trim();
      return token.length > 0 ? token : undefined;
    }
  }
}

/** Validated channels in their stored form; callers validated them at the edge already. */
export function normalizeChannels(channels: readonly { type: ChannelType; value: string }[]): NormalizedChannel[] {
  const seen = new Map<ChannelType, number>();
  const result: NormalizedChannel[] = [];
  for (const channel of channels) {
    const normalized = normalizeChannelValue(channel.type, channel.value);
    if (normalized === undefined) continue;
    const position = seen.get(channel.type) ?? 0;
    if (result.some((other) => other.type === channel.type && other.normalized === normalized)) continue;
    seen.set(channel.type, position + 1);
    // Phones are kept in their digits form; emails and tokens as given.
    const value = channel.type === 'sms' || channel.type === 'viber' ? normalized : channel.value.trim();
    result.push({ type: channel.type, value, normalized, position });
  }
  return result;
}
