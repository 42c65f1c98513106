import { isInternalAddress, resolveDestination } from '../../shared/net/destination-guard';

describe('destination guard', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.20.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
  ])('treats %s as internal', (address) => expect(isInternalAddress(address)).toBe(true));

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111'])('treats %s as public', (address) => expect(isInternalAddress(address)).toBe(false));

  it('refuses loopback hosts in production and allows them locally', async () => {
    await expect(resolveDestination('localhost', { allowInternal: false })).rejects.toMatchObject({ code: 'DESTINATION_NOT_ALLOWED' });
    await expect(resolveDestination('127.0.0.1', { allowInternal: false })).rejects.toMatchObject({ code: 'DESTINATION_NOT_ALLOWED' });
    await expect(resolveDestination('127.0.0.1', { allowInternal: true })).resolves.toMatchObject({ address: '127.0.0.1', family: 4 });
  });

  it('reports a name that does not resolve', async () => {
    await expect(resolveDestination('no-such-host.invalid', { allowInternal: true })).rejects.toMatchObject({ code: 'DNS_NOT_FOUND' });
  });
});
