/**
 * The socket actor: the thin callback actor that binds the machine to one socket. It turns adapter
 * events into machine events (opened, closed) and machine commands (close, ping) into socket calls.
 * Incoming data messages do not pass through it into the machine: the service hands them to the
 * dispatcher directly (ARCHITECTURE.md §1).
 *
 * The actor's cleanup (run when the machine leaves `session` by any path) terminates the socket and
 * aborts a pending URL/headers resolution, so no socket outlives its session.
 */
import { fromCallback, fromPromise } from 'xstate';
import type { CloseHookOutput } from '../../machines/connection.machine.js';
import type {
  ConnectionEvent,
  HookActorInput,
  SocketActorInput,
  SocketCommand,
} from '../../machines/connection.types.js';

/** One live link between the machine and a socket. */
export interface SocketLink {
  command(command: SocketCommand): void;
  dispose(): void;
}

/** What the actors need from the service that owns the adapter, the hooks and the dispatcher. */
export interface SessionRuntime {
  connectSocket(input: SocketActorInput, sendBack: (event: ConnectionEvent) => void): SocketLink;
  runOpenHook(input: HookActorInput): Promise<void>;
  runCloseHook(input: HookActorInput): Promise<CloseHookOutput>;
}

/** The real socket actor, provided to the machine once per module by the client. */
export const socketActor = fromCallback<SocketCommand, SocketActorInput>(({ input, sendBack, receive }) => {
  const link = (input.runtime as SessionRuntime).connectSocket(
    input,
    sendBack as (event: ConnectionEvent) => void,
  );
  receive((command) => link.command(command));
  return () => link.dispose();
});

/** Runs the user's `onOpen` hook for a session. */
export const openHookActor = fromPromise<void, HookActorInput>(({ input }) =>
  (input.runtime as SessionRuntime).runOpenHook(input),
);

/** Runs the user's `onClose` hook for a session and returns the close frame it picked. */
export const closeHookActor = fromPromise<CloseHookOutput, HookActorInput>(({ input }) =>
  (input.runtime as SessionRuntime).runCloseHook(input),
);
