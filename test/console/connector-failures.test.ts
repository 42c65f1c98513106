import { connectorFailureText } from '../../console/src/connector-failures';
import { connectorErrorCodes } from '../../shared/connectors/errors';

it('the console words every cause of a failed connection the server can name', () => {
  expect(connectorErrorCodes.filter((code) => !connectorFailureText[code])).toEqual([]);
});
