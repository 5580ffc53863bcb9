/**
 * Type tests of `fromClient`, checked by `tsc` (`npm run typecheck`, which covers test/): what a parent
 * machine built with `setup({ actors: { ws: fromClient() } })` may give as input, send to the child,
 * and receive from it. A wrong `expectTypeOf` or an unused `@ts-expect-error` fails the typecheck.
 */
import { describe, expectTypeOf, it } from 'vitest';
import {
  type ActorRefFrom,
  type InputFrom,
  type EventFromLogic,
  type SnapshotFrom,
  createActor,
  sendTo,
  setup,
  type EmittedFrom,
} from 'xstate';
import {
  type FromClientCommand,
  type FromClientEvent,
  type FromClientInput,
  type FromClientSnapshot,
  type Message,
  type WsClient,
  type WsmError,
  type ClientState,
  type CloseClass,
  clientOf,
  fromClient,
} from '../../src/index.js';
import { fromClient as fromClientNode } from '../../src/node.js';

describe('fromClient types', () => {
  it('input is the client options (+ forwardMessages); url is required unless the defaults have it', () => {
    expectTypeOf<InputFrom<ReturnType<typeof fromClient>>>().toEqualTypeOf<FromClientInput>();
    const withUrl = fromClient({ url: 'ws://x' });
    expectTypeOf<InputFrom<typeof withUrl>>().toEqualTypeOf<Partial<FromClientInput> | undefined>();
    expectTypeOf<FromClientInput['forwardMessages']>().toEqualTypeOf<boolean | undefined>();

    setup({ actors: { ws: fromClient() } }).createMachine({
      invoke: { src: 'ws', input: { url: 'ws://x', forwardMessages: true, reconnect: { baseDelayMs: 0 } } },
    });
    setup({ actors: { ws: fromClient() } }).createMachine({
      // @ts-expect-error url is required without defaults
      invoke: { src: 'ws', input: { heartbeat: false } },
    });
    setup({ actors: { ws: fromClient() } }).createMachine({
      // @ts-expect-error openTimeoutMs is a number
      invoke: { src: 'ws', input: { url: 'ws://x', openTimeoutMs: '10s' } },
    });
    setup({ actors: { ws: withUrl } }).createMachine({ invoke: { src: 'ws', input: { heartbeat: false } } });
  });

  it('the events it accepts and the events it sends are exported unions', () => {
    expectTypeOf<EventFromLogic<ReturnType<typeof fromClient>>>().toEqualTypeOf<FromClientCommand>();
    expectTypeOf<EmittedFrom<ReturnType<typeof fromClient>>>().toEqualTypeOf<FromClientEvent>();
    expectTypeOf<FromClientEvent['type']>().toEqualTypeOf<
      | 'wsmachine.open'
      | 'wsmachine.close'
      | 'wsmachine.reconnecting'
      | 'wsmachine.error'
      | 'wsmachine.stopped'
      | 'wsmachine.message'
      | 'wsmachine.subscription'
      | 'wsmachine.subscription.message'
      | 'wsmachine.response'
      | 'wsmachine.requestFailed'
    >();
    expectTypeOf<FromClientCommand['type']>().toEqualTypeOf<
      'wsmachine.send' | 'wsmachine.request' | 'wsmachine.restart'
    >();
    expectTypeOf<Extract<FromClientEvent, { type: 'wsmachine.open' }>>().toEqualTypeOf<{
      type: 'wsmachine.open';
      sessionId: number;
      restarting: boolean;
    }>();
    expectTypeOf<
      Extract<FromClientEvent, { type: 'wsmachine.close' }>['class']
    >().toEqualTypeOf<CloseClass>();
    expectTypeOf<Extract<FromClientEvent, { type: 'wsmachine.error' }>['error']>().toEqualTypeOf<WsmError>();
    expectTypeOf<
      Extract<FromClientEvent, { type: 'wsmachine.message' }>['message']
    >().toEqualTypeOf<Message>();
    expectTypeOf<Extract<FromClientEvent, { type: 'wsmachine.response' }>['id']>().toEqualTypeOf<
      string | number | undefined
    >();
  });

  it('a parent handles the events with typed payloads and sends typed commands', () => {
    const app = setup({
      types: { events: {} as FromClientEvent | { type: 'quote' } },
      actors: { ws: fromClient() },
    }).createMachine({
      invoke: { id: 'ws', src: 'ws', input: { url: 'ws://x' } },
      on: {
        'wsmachine.open': {
          actions: ({ event }) => {
            expectTypeOf(event.sessionId).toEqualTypeOf<number>();
            expectTypeOf(event.restarting).toEqualTypeOf<boolean>();
          },
        },
        'wsmachine.reconnecting': {
          actions: ({ event }) => expectTypeOf(event.delayMs).toEqualTypeOf<number>(),
        },
        quote: { actions: sendTo('ws', { type: 'wsmachine.request', data: '{"op":"quote"}', id: 'q1' }) },
      },
    });
    const actor = createActor(app).start();
    const child = actor.getSnapshot().children.ws;
    expectTypeOf(child!.getSnapshot()).toEqualTypeOf<FromClientSnapshot>();
    expectTypeOf(child!.getSnapshot().state).toEqualTypeOf<ClientState>();
    child!.send({ type: 'wsmachine.send', data: 'hi' });
    // @ts-expect-error data must be a string or bytes
    child!.send({ type: 'wsmachine.send', data: { hi: 1 } });
    // @ts-expect-error not a command of this actor
    child!.send({ type: 'wsmachine.sned', data: 'hi' });
    expectTypeOf(clientOf(child)).toEqualTypeOf<WsClient | undefined>();
  });

  it('wsmachine and wsmachine/node export the same fromClient type', () => {
    expectTypeOf(fromClientNode).toEqualTypeOf(fromClient);
    type Ref = ActorRefFrom<ReturnType<typeof fromClient>>;
    expectTypeOf<SnapshotFrom<Ref>>().toEqualTypeOf<FromClientSnapshot>();
  });
});
