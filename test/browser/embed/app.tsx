import { useMachine, useSelector } from '@xstate/react';
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { fromClient, type FromClientEvent } from 'wsmachine';
import { assign, sendTo, setup } from 'xstate';

const url = new URLSearchParams(location.search).get('ws') ?? `wss://${location.host}/chat`;

export const appMachine = setup({
  types: {
    context: {} as { messages: Array<{ key: number; text: string }> },
    events: {} as FromClientEvent | { type: 'say'; text: string } | { type: 'leave' } | { type: 'join' },
  },
  actors: { ws: fromClient({ reconnect: { baseDelayMs: 250, maxDelayMs: 2_000 } }) },
}).createMachine({
  id: 'app',
  context: { messages: [] },
  initial: 'chat',
  states: {
    chat: {
      // The connection lives exactly as long as this state: entering opens it, leaving closes it.
      invoke: { id: 'ws', src: 'ws', input: { url, forwardMessages: true }, onError: 'failed' },
      initial: 'connecting',
      states: {
        connecting: { on: { 'wsmachine.open': 'connected' } },
        connected: { on: { 'wsmachine.close': 'reconnecting' } },
        reconnecting: { on: { 'wsmachine.open': 'connected' } },
      },
      on: {
        'wsmachine.message': {
          actions: assign({
            messages: ({ context: { messages }, event }) => [
              ...messages,
              { key: messages.length, text: String(event.message.data) },
            ],
          }),
        },
        say: { actions: sendTo('ws', ({ event }) => ({ type: 'wsmachine.send', data: event.text })) },
        leave: 'lobby',
      },
    },
    lobby: { on: { join: 'chat' } },
    // The client gave up (a first start that failed, or the reconnect policy stopped it).
    failed: { on: { join: 'chat' } },
  },
});

function App() {
  const [snapshot, send] = useMachine(appMachine);
  const [text, setText] = useState('');
  const status = typeof snapshot.value === 'string' ? snapshot.value : snapshot.value.chat;
  // The child's own snapshot: the client's state and attempt, live.
  const client = useSelector(snapshot.children.ws, (s) => (s ? `${s.state}, attempt ${s.attempt}` : 'none'));
  return (
    <main>
      <p>
        Status: <strong data-testid="status">{status}</strong> <small>(client: {client})</small>
      </p>
      {snapshot.matches('chat') ? (
        <>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              send({ type: 'say', text });
              setText('');
            }}
          >
            <input aria-label="message" value={text} onChange={(e) => setText(e.target.value)} />
            <button type="submit">Send</button>
          </form>
          <button type="button" onClick={() => send({ type: 'leave' })}>
            Leave
          </button>
        </>
      ) : (
        <button type="button" onClick={() => send({ type: 'join' })}>
          Join
        </button>
      )}
      <ul>
        {snapshot.context.messages.map((m) => (
          <li key={m.key}>{m.text}</li>
        ))}
      </ul>
    </main>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
