import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ServerAvailability } from '../../src/contract/definitions';
import { AvailabilityRouter } from '../../src/workflows/availability-router';
import { assertProperty } from '../support/generated-cases';

const STATUSES: ServerAvailability['status'][] = ['NotAuthorized', 'OK', 'Error', 'Deleted'];

/** What each of two or three servers said, change after change (its sequence is its index), and the order in which the messages reach one workflow. */
const deliveries = fc
  .uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), { minLength: 2, maxLength: 3 })
  .chain((servers) =>
    fc.record({
      servers: fc.constant(servers),
      histories: fc.tuple(...servers.map(() => fc.array(fc.constantFrom(...STATUSES), { minLength: 1, maxLength: 8 }))),
      // Any order, any message any number of times (late, repeated), each under some spelling of its server's name.
      delivered: fc.array(fc.record({ server: fc.nat(), sequence: fc.nat(), spelling: fc.constantFrom('as-is', 'upper', 'mixed') }), { maxLength: 40 }),
    }),
  )
  .map(({ servers, histories, delivered }) => ({
    servers,
    messages: delivered.map(({ server, sequence, spelling }): ServerAvailability => {
      const index = server % servers.length;
      const name = servers[index] ?? '';
      const history = histories[index] ?? [];
      const at = sequence % history.length;
      const spelt = spelling === 'upper' ? name.toUpperCase() : spelling === 'mixed' ? name.replace(/^./, (first) => first.toUpperCase()) : name;
      return { server: spelt, status: history[at] ?? 'OK', sequence: at };
    }),
  }));

describe('availability messages of several servers in one workflow', () => {
  it('each server ends holding its own newest message, whatever the order, repeats and spelling of names', () => {
    assertProperty(
      fc.property(deliveries, ({ servers, messages }) => {
        const router = new AvailabilityRouter();
        for (const message of messages) assert.equal(router.deliver(message), undefined);
        for (const server of servers) {
          const own = messages.filter((message) => message.server.toLowerCase() === server);
          const newest = own.reduce<ServerAvailability | undefined>((best, message) => (!best || message.sequence > best.sequence ? message : best), undefined);
          const held = router.newestOf(server);
          assert.equal(held?.sequence, newest?.sequence, `${server} holds another server's message or a stale one`);
          assert.equal(held?.status, newest?.status);
          assert.equal(held && router.newestOf(server.toUpperCase()), held);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('drops a malformed message, names its field, and keeps what the server said before', () => {
    const router = new AvailabilityRouter();
    const ok: ServerAvailability = { server: 'crm', status: 'OK', sequence: 3 };
    router.deliver(ok);
    const malformed: Array<[string, unknown]> = [
      ['message', null],
      ['message', 'OK'],
      ['server', { status: 'Error', sequence: 4 }],
      ['server', { server: '  ', status: 'Error', sequence: 4 }],
      ['status', { server: 'crm', status: 'Paused', sequence: 4 }],
      ['sequence', { server: 'crm', status: 'Error', sequence: '4' }],
      ['sequence', { server: 'crm', status: 'Error', sequence: 4.5 }],
      ['disabledReason', { server: 'crm', status: 'Error', sequence: 4, disabledReason: 'down' }],
    ];
    for (const [field, message] of malformed) assert.equal(router.deliver(message), field, JSON.stringify(message));
    assert.equal(router.newestOf('CRM'), ok);
  });
});
