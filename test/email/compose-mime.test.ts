import { simpleParser } from 'mailparser';
import { composeMime } from '../../shared/adapters/mime/compose-mime';

/** The MIME both channels send, read back by a real mail parser. */
describe('composeMime', () => {
  it('round-trips Ukrainian names and subjects, long HTML lines and the extra headers', async () => {
    const longLine = `<p>${'Промокод AAAA-BBBB-DDDD для Діни Козак. '.repeat(60)}</p>`;
    const raw = await composeMime(
      {
        sendId: 7,
        accountId: 3,
        from: { address: 'news@shop.example.com', name: 'Магазин "Козак"' },
        replyTo: 'care@shop.example.com',
        to: 'kozak@example.com',
        subject: 'Ваш промокод, Діно: AAAA-BBBB-DDDD — дійсний до неділі, не пропустіть цю пропозицію',
        html: longLine,
        text: 'Промокод: AAAA-BBBB-DDDD',
        messageId: '<send-7.3@shop.example.com>',
        headers: {
          'List-Unsubscribe': '<https://api.example.com/t/unsubscribe/3.7.abcdefghijklmnopqrstuv>',
          'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        },
      },
      new Date('2026-12-06T10:00:00Z'),
    );
    expect(
      raw
        .toString('utf8')
        .split('\r\n')
        .every((line) => line.length <= 998),
    ).toBe(true);
    const parsed = await simpleParser(raw);
    expect(parsed.from?.value).toEqual([{ address: 'news@shop.example.com', name: 'Магазин "Козак"' }]);
    expect(parsed.subject).toBe('Ваш промокод, Діно: AAAA-BBBB-DDDD — дійсний до неділі, не пропустіть цю пропозицію');
    expect(parsed.html).toBe(longLine);
    expect(parsed.text).toBe('Промокод: AAAA-BBBB-DDDD');
    expect(parsed.messageId).toBe('<send-7.3@shop.example.com>');
    expect(parsed.date?.toISOString()).toBe('2026-12-06T10:00:00.000Z');
    const line = (name: string) => parsed.headerLines.find((header) => header.key === name)?.line.replace(/\r?\n[ \t]+/g, ' ');
    expect(line('list-unsubscribe')).toBe('List-Unsubscribe: <https://api.example.com/t/unsubscribe/3.7.abcdefghijklmnopqrstuv>');
    expect(line('list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(parsed.replyTo?.text).toBe('care@shop.example.com');
  });
});
